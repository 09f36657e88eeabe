# examples/cron-rsync: the cron + rsync pipeline's drill runs green from this build.
source "$(dirname "$0")/lib.sh"
test_case "examples/cron-rsync/run-demo.sh"
if ! command -v rsync >/dev/null; then
  echo "skipped 'examples_cron': rsync is not installed (setup.sh installs it)"
  exit 77
fi
run bash "$SRC/examples/cron-rsync/run-demo.sh" "$(dirname "$AERODB")"
expect_rc 0
expect_out_contains "cron-rsync demo ok: replica at commit "
finish
