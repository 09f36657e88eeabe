# The README's main job runs green from this build.
source "$(dirname "$0")/lib.sh"
test_case "examples/demo.sh"
run bash "$SRC/examples/demo.sh" "$(dirname "$AERODB")"
expect_rc 0
expect_out_contains "demo ok: primary and replica identical at commit 4202"
finish
