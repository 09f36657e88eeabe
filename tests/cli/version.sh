# --version prints the project's version and the version of every file
# format, read here from where they are defined (CMakeLists.txt's project()
# and the formats' constants headers), not typed a second time.
source "$(dirname "$0")/lib.sh"

# constant FILE NAME: the integer value of `constexpr ... NAME = N;` in FILE.
constant() { sed -nE "s/.*constexpr [a-z0-9_:]+ $2 = ([0-9]+);.*/\1/p" "$SRC/$1"; }
version=$(sed -nE 's/^project\(aerodb-repl VERSION ([0-9.]+) .*/\1/p' "$SRC/CMakeLists.txt")
seg=$(constant lib/segment/segment_format.h kSegmentVersion)
snap=$(constant lib/snapshot/archive_format.h kManifestFormat)
digest=$(sed -nE 's/.*kDigestSeedLabel = "[A-Z-]+-V([0-9]+)";.*/\1/p' "$SRC/lib/history/digest.h")
hist=$(constant lib/history/history_file.h kHistoryFormat)
claim=$(constant lib/history/history_file.h kClaimArchiveFormat)
node=$(constant lib/node/layout.h kStateFormat)
enc=$(constant lib/crypto/encrypted_format.h kEncVersion)
sig=$(constant lib/sign/signature_format.h kSignatureFormat)

test_case "every version is found where it is defined"
for v in version seg snap digest hist claim node enc sig; do
  if [[ ${!v} =~ ^[0-9][0-9.]*$ ]]; then pass; else fail "$v: '${!v}' (renamed or moved?)"; fi
done

formats="formats: wal-segment $seg, snapshot-archive $snap, history-digest $digest, history-file $hist, claim-archive $claim, node-layout $node, encrypted-file $enc, signature $sig"
for bin in "$AERODB_REPL" "$AERODB"; do
  name=$(basename "$bin")
  test_case "$name --version: the version, then the formats' versions"
  run "$bin" --version
  expect_rc 0
  expect_out "$name $version"$'\n'"$formats"
  expect_err ""
done

test_case "aerodb-repl(1) documents --version's output"
if grep -qF -- "--version\`: print \`aerodb-repl VERSION\`" "$SRC/man/aerodb-repl.1.md"; then pass; else
  fail "man/aerodb-repl.1.md OPTIONS does not describe --version"; fi

finish
