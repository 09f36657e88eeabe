# MODEL-5: no decision depends on time. The library and the commands never
# read a clock, sleep or wait for a timeout; benchmarks (tests/bench/) may.
# OPS-8: the one exception is cli/common/clock.cc, read for display only
# (the progress line's rate, the time of a last success).
source "$(dirname "$0")/lib.sh"
test_case "no clock, sleep or timeout in lib/ and cli/"
hits=$(grep -rnE '\b(system_clock|steady_clock|high_resolution_clock|gettimeofday|clock_gettime|time\(|localtime|gmtime|strftime|sleep_for|sleep_until|usleep|nanosleep|alarm\()' \
  "$SRC/lib" "$SRC/cli" | grep -v "^$SRC/cli/common/clock.cc:" || true)
if [ -z "$hits" ]; then pass; else fail "clock use found:"$'\n'"$hits"; fi
finish
