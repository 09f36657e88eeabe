# The installed package, used from where it was unpacked: cpack builds the
# .deb of this build tree (ASan's in CI: no second build), its control file
# depends on the packages of the shared libraries the binaries link
# (dpkg-shlibdeps) and on libarchive and libcurl (loaded on first use), its files follow
# the install layout (cmake/Packaging.cmake), and from `dpkg -x` of it
# aerodb-repl --version runs, man -l shows an installed page, the bash
# completion completes, the systemd units verify, and the demo runs from PATH.
source "$(dirname "$0")/lib.sh"
: "${BUILD_DIR:?}"
for tool in cpack dpkg-deb dpkg-shlibdeps man; do
  if ! command -v "$tool" >/dev/null; then
    echo "SKIP cli.package: missing tool '$tool' (setup.sh installs dpkg-dev, man-db)"
    exit 77
  fi
done
if ! compgen -G "$BUILD_DIR/man/*.1" >/dev/null; then
  echo "SKIP cli.package: no rendered man pages in $BUILD_DIR/man (pandoc not installed when cmake ran)"
  exit 77
fi

test_case "cpack builds the .deb"
SECONDS=0
run cpack -G DEB --config "$BUILD_DIR/CPackConfig.cmake" -B "$T/pkg"
expect_rc 0
deb=$(ls "$T"/pkg/aerodb-repl_*.deb 2>/dev/null | head -1)
if [ -n "$deb" ]; then pass; else fail "no aerodb-repl_*.deb in $T/pkg: $OUT"; finish; exit 1; fi

test_case "the control file: name, version, section, maintainer, description"
info=$(dpkg-deb -f "$deb")
version=$(sed -nE 's/^project\(aerodb-repl VERSION ([0-9.]+) .*/\1/p' "$SRC/CMakeLists.txt")
for field in "Package: aerodb-repl" "Version: $version" "Section: database" "Architecture: $(dpkg --print-architecture)"; do
  if grep -qx -- "$field" <<<"$info"; then pass; else fail "no '$field' in:"$'\n'"$info"; fi
done
if grep -qE "^Maintainer: .+ <.+@.+>$" <<<"$info"; then pass; else fail "no Maintainer"; fi
# A summary line, then the long description, each of its lines indented once.
description=$(dpkg-deb -f "$deb" Description)
if [[ $(sed -n 1p <<<"$description") == "replicate an AeroDB database "* ]]; then pass; else
  fail "Description's summary: $(sed -n 1p <<<"$description")"; fi
if [[ $(sed -n 2p <<<"$description") == " aerodb-repl ships "* ]] && grep -qx " ." <<<"$description"; then pass; else
  fail "Description's long text:"$'\n'"$description"; fi

test_case "Depends: the package of every shared library the binaries link, libarchive and libcurl"
depends=$(dpkg-deb -f "$deb" Depends)
# depends_on PKG: PKG, or a name it provides (libspdlog1.10 provides
# libspdlog1.10-fmt9, the name its shlibs file gives), is in Depends.
depends_on() {
  local names want
  names=$(sed 's/([^)]*)//g; s/|/,/g' <<<"$depends" | tr ',' '\n' | awk '{print $1}')
  for want in "$1" $(dpkg-query -W -f='${Provides}' "$1" 2>/dev/null | sed 's/([^)]*)//g' | tr ',' ' '); do
    grep -qxF -- "$want" <<<"$names" && return 0
  done
  return 1
}
# The packages that hold the libraries the built binaries name (NEEDED),
# where ldd finds them.
for bin in "$AERODB_REPL" "$AERODB"; do
  for needed in $(readelf -d "$bin" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p'); do
    lib=$(ldd "$bin" | awk -v n="$needed" '$1 == n && $3 ~ /^\// {print $3}')
    [ -n "$lib" ] || { fail "ldd does not find $needed"; continue; }
    pkg=$(dpkg-query -S "$(readlink -f "$lib")" 2>/dev/null | head -1 | cut -d: -f1)
    [ -z "$pkg" ] && pkg=$(dpkg-query -S "$lib" 2>/dev/null | head -1 | cut -d: -f1)
    [ -n "$pkg" ] || continue
    if depends_on "$pkg"; then pass; else fail "$lib ($pkg) not in Depends: $depends"; fi
  done
done
for pkg in libarchive13 libcurl4 libssl3 libzstd1 libc6; do
  if depends_on "$pkg"; then pass; else fail "$pkg not in Depends: $depends"; fi
done

test_case "libarchive and libcurl are loaded on first use: no binary names them, so no start pays for them"
for bin in "$AERODB_REPL" "$AERODB"; do
  needed=$(readelf -d "$bin" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p')
  if grep -qE '^lib(archive|curl)' <<<"$needed"; then fail "$bin names: $(grep -E '^lib(archive|curl)' <<<"$needed")"; else pass; fi
done

test_case "the layout: bin/, man1 and man5, completion for both, the examples"
files=$(dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|')
for f in /usr/bin/aerodb-repl /usr/bin/aerodb \
         /usr/share/man/man1/aerodb-repl.1 /usr/share/man/man1/aerodb-repl-ship-wal.1 \
         /usr/share/man/man1/aerodb.1 /usr/share/man/man5/aerodb-repl-formats.5 \
         /usr/share/bash-completion/completions/aerodb-repl /usr/share/bash-completion/completions/aerodb \
         /usr/share/doc/aerodb-repl/examples/demo.sh /usr/share/doc/aerodb-repl/examples/cron-rsync/ship.sh \
         /usr/share/doc/aerodb-repl/examples/drills/lib.sh \
         /usr/share/doc/aerodb-repl/examples/systemd/aerodb-repl-ship@.service; do
  if grep -qxF "$f" <<<"$files"; then pass; else fail "the package lacks $f"; fi
done
for src in "$SRC"/man/*.[0-9].md; do
  page=$(basename "$src" .md)
  if grep -qxF "/usr/share/man/man${page##*.}/$page" <<<"$files"; then pass; else fail "the package lacks the page $page"; fi
done

ROOT=$T/root
dpkg -x "$deb" "$ROOT"
export PATH=$ROOT/usr/bin:$PATH

test_case "installed: aerodb-repl --version"
run aerodb-repl --version
expect_rc 0
expect_out_contains "aerodb-repl $version"
expect_out_contains "formats: wal-segment "
if [ "$(command -v aerodb-repl)" = "$ROOT/usr/bin/aerodb-repl" ]; then pass; else fail "PATH finds $(command -v aerodb-repl)"; fi

test_case "installed: man -l shows a page"
run env MANPAGER=cat MANWIDTH=80 man -l "$ROOT/usr/share/man/man1/aerodb-repl-ship-wal.1"
expect_rc 0
expect_out_contains "aerodb-repl-ship-wal - publish the committed WAL"
expect_out_contains "EXIT STATUS"
run env MANPAGER=cat MANWIDTH=80 man -l "$ROOT/usr/share/man/man5/aerodb-repl-formats.5"
expect_rc 0
expect_out_contains "aerodb-repl-formats(5)"
test_case "installed: man finds the pages by name through MANPATH"
run env MANPATH="$ROOT/usr/share/man" MANPAGER=cat MANWIDTH=80 man aerodb-repl-apply-wal
expect_rc 0
expect_out_contains "aerodb-repl-apply-wal - "

test_case "installed: the completion completes"
got=$(bash -c 'source "$1"; COMP_WORDS=(aerodb-repl ship-wal --cl); COMP_CWORD=2; _aerodb_repl; echo "${COMPREPLY[*]}"' \
  _ "$ROOT/usr/share/bash-completion/completions/aerodb-repl")
if [ "$got" = "--claim-archive" ]; then pass; else fail "ship-wal --cl completed to '$got'"; fi

test_case "installed: the systemd units verify"
if command -v systemd-analyze >/dev/null; then
  mkdir "$T/units"
  for u in "$ROOT"/usr/share/doc/aerodb-repl/examples/systemd/*; do
    sed "s|/usr/bin/aerodb-repl|$ROOT/usr/bin/aerodb-repl|" "$u" > "$T/units/$(basename "$u" | sed 's/@\./@main./')"
  done
  run systemd-analyze verify --man=no "$T"/units/*
  expect_rc 0
  expect_err ""
else
  echo "SKIP [installed: the systemd units verify]: no systemd-analyze"
fi

echo "cpack and the checks before the demo: ${SECONDS}s"
test_case "installed: the demo runs from PATH"
run bash "$ROOT/usr/share/doc/aerodb-repl/examples/demo.sh"
expect_rc 0
expect_out_contains "demo ok: primary and replica identical at commit 4202"

finish
