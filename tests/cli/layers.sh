# The Node split (issue 10, README's layout table): aerodb-repl works on any
# AeroDB data directory through node::Node and never links the reference
# node's storage engine (lib/engine). The reference CLI does link it, which
# shows the check can see an engine symbol when one is there.
source "$(dirname "$0")/lib.sh"
command -v nm >/dev/null || { echo "SKIP cli.layers: nm (binutils) is not installed"; exit 77; }
engine_symbols() { nm -C "$1" | grep -c 'aero::engine::' || true; }

test_case "aerodb-repl holds no symbol of lib/engine"
n=$(engine_symbols "$AERODB_REPL")
if [ "$n" -eq 0 ]; then pass; else fail "$n engine symbols in aerodb-repl:"$'\n'"$(nm -C "$AERODB_REPL" | grep 'aero::engine::' | head -5)"; fi

test_case "aerodb (the reference node) holds the engine"
n=$(engine_symbols "$AERODB")
if [ "$n" -gt 0 ]; then pass; else fail "no aero::engine:: symbol in aerodb: the check above cannot see one"; fi

test_case "no file of lib/ outside lib/engine includes the engine"
hits=$(grep -rln '#include "engine/' "$SRC/lib" | grep -v "^$SRC/lib/engine/" || true)
if [ -z "$hits" ]; then pass; else fail "lib/ includes lib/engine:"$'\n'"$hits"; fi
finish
