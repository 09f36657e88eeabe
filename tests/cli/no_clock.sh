# MODEL-5: no decision depends on time. The library and the commands never
# read a clock, sleep or wait for a timeout; benchmarks (tests/bench/) may.
# Three exceptions, neither deciding what is safe: cli/common/clock.cc, read for
# display only (OPS-8: the progress line's rate, the time of a last success),
# and --follow's waiting, in lib/repl/follow.cc (FOLLOW-1). And lib/s3/s3_clock.cc:
# the date SigV4 signs and the waits between an object store's retries (OBJ-6).
source "$(dirname "$0")/lib.sh"
CLOCK='\b(system_clock|steady_clock|high_resolution_clock|gettimeofday|clock_gettime|time\(|localtime|gmtime|strftime|sleep_for|sleep_until|usleep|nanosleep|alarm\(|poll\(|select\(|epoll_wait|timerfd)'
test_case "no clock, sleep or timeout in lib/ and cli/"
hits=$(grep -rnE "$CLOCK" "$SRC/lib" "$SRC/cli" | grep -v "^$SRC/lib/repl/follow.cc:" | grep -v "^$SRC/cli/common/clock.cc:" | grep -v "^$SRC/lib/s3/s3_clock.cc:" || true)
if [ -z "$hits" ]; then pass; else fail "clock use found:"$'\n'"$hits"; fi

test_case "FOLLOW-1 only lib/repl/follow.cc waits, and ShipOptions and ApplyOptions carry no time"
# The exception is real (this check would pass vacuously otherwise) ...
if grep -qE "$CLOCK" "$SRC/lib/repl/follow.cc"; then pass; else fail "lib/repl/follow.cc no longer waits: drop the exception"; fi
# ... and nothing of it reaches a run: the one-shot options hold no time.
hits=$(grep -nE '_ms\b|delay|interval|timeout|chrono|deadline' "$SRC/lib/repl/ship.h" "$SRC/lib/repl/apply.h" || true)
if [ -z "$hits" ]; then pass; else fail "a run's options carry time:"$'\n'"$hits"; fi
finish
