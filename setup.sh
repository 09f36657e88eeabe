#!/usr/bin/env bash
# The README's two commands. On a fresh Debian 12 machine, as root:
#   bash setup.sh demo   install what is missing, build, run the demo drill
#   bash setup.sh test   install what is missing, build and briefly run the fuzz
#                        targets, run the unit suite under TSan, build with
#                        ASan+UBSan and -Werror, run ctest
set -euo pipefail
cd "$(dirname "$0")"

PKGS=(build-essential cmake ninja-build pkg-config libcli11-dev libarchive-dev libssl-dev
      doctest-dev libspdlog-dev nlohmann-json3-dev libzstd-dev libdeflate-dev clang
      libclang-rt-14-dev rsync jq spin pandoc groff-base man-db dpkg-dev file openssl
      python3-prometheus-client bsdutils  # cli_ops.sh: the metrics parser, script(1)
      python3-cryptography  # cli_encryption.sh: the independent decryption (ENC-2, ENC-3)
      libcurl4-openssl-dev python3-botocore  # the S3 archive (issue 16): client, golden signatures
      radosgw ceph-mon ceph-osd  # tests/support/rgw.sh: a real Ceph RGW for the S3 tests
      s3cmd  # tests/bench/s3.sh: the peer that copies the same bytes to RGW
      zstd  # tests/cli/lib.sh flip_zstd_byte: a flip that damages a zstd archive's contents
      strace)  # cli_syscall_faults.sh: faults at the system call (FM-139, FM-53)
missing=()
for p in "${PKGS[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if ((${#missing[@]})); then
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing packages 'setup.sh': ${missing[*]}" >&2
    echo "hint: run as root, or: apt-get install ${missing[*]}" >&2
    exit 10
  fi
  echo "setup.sh: installing ${missing[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

JOBS=${JOBS:-2}
# Each phase's wall time, so that CI's long poles are visible in its log.
phase_start=$SECONDS
phase_done() { echo "setup.sh: $1 took $((SECONDS - phase_start)) s"; phase_start=$SECONDS; }
# Unity builds (CMake batches the sources of a target into a few translation
# units): each build parses the big headers (CLI11, nlohmann-json, spdlog,
# doctest) a few times instead of once per file; see lib/, cli/ and tests/
# CMakeLists.txt for the files kept apart. Batches of 16 files, not CMake's
# 8: a clean Release build of unit_tests took 115 s instead of 129 s on 2
# cores (2026-12-06). File-local names must then be unique across 16 files.
UNITY="-DCMAKE_UNITY_BUILD=ON -DCMAKE_UNITY_BUILD_BATCH_SIZE=16"
case "${1:-}" in
  demo)
    cmake -S . -B build -G Ninja $UNITY -DCMAKE_BUILD_TYPE=Release -DAERODB_TESTS=OFF >/dev/null
    cmake --build build -j"$JOBS"
    exec bash examples/demo.sh build/cli
    ;;
  test)
    # The tests' temporary directories go on tmpfs when /dev/shm is one with
    # 4 GiB free (AERODB_TEST_TMPDIR overrides; else $TMPDIR or /tmp). The
    # suite is dominated by fsyncs of small files, and what it checks of
    # them (crash and power loss at every durable step, unsynced bytes
    # dropped) is modelled by the fault-injection file system, not asked of
    # the disk: on this VM's disk the Release unit suite took 100 s, on
    # tmpfs 40 s, every test passing on both (2026-12-07). The benchmarks
    # (tests/bench/) measure the real disk.
    if [ -z "${AERODB_TEST_TMPDIR:-}" ] && [ "$(stat -f -c %T /dev/shm 2>/dev/null)" = tmpfs ] &&
       [ "$(df -k --output=avail /dev/shm 2>/dev/null | tail -1)" -gt $((4 * 1024 * 1024)) ]; then
      AERODB_TEST_TMPDIR=$(mktemp -d /dev/shm/aerodb-test.XXXXXX)
      tmp_made=$AERODB_TEST_TMPDIR
    fi
    if [ -n "${AERODB_TEST_TMPDIR:-}" ]; then export TMPDIR=$AERODB_TEST_TMPDIR; fi
    echo "setup.sh: the tests' temporary files go to ${TMPDIR:-/tmp}"
    # The fuzz targets must build (clang + libFuzzer) and survive a short run;
    # their corpora also replay inside ctest under gcc's sanitizers.
    # -O1: fuzzing speed (inputs a second) is what finds bugs; ASan and UBSan stay on.
    cmake -S . -B build-fuzz -G Ninja $UNITY -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang \
      -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_FLAGS_DEBUG="-g1 -O1" -DCMAKE_CXX_FLAGS_DEBUG="-g1 -O1" \
      -DAERODB_FUZZ=ON -DAERODB_SANITIZE=ON >/dev/null
    cmake --build build-fuzz -j"$JOBS" --target record_reader_fuzz archive_reader_fuzz \
      segment_reader_fuzz manifest_fuzz history_file_fuzz node_json_fuzz
    phase_done "the fuzzers' build"
    work=$(mktemp -d); trap 'rm -rf "$work" ${tmp_made:+"$tmp_made"}' EXIT
    # Each fuzzer is one process on one core: two at a time.
    fuzz_one() {
      local target=$1
      cp -r "tests/fuzz/corpus/$target" "$work/$target"
      build-fuzz/tests/${target}_fuzz -max_total_time="${FUZZ_SECONDS:-10}" \
        "$work/$target" 2> "$work/$target.log"
    }
    set -- record_reader archive_reader segment_reader manifest history_file node_json
    while (($#)); do
      pids=() targets=()
      for target in "$1" "${2:-}"; do
        [ -n "$target" ] || continue
        fuzz_one "$target" & pids+=($!) targets+=("$target")
      done
      shift $(( $# >= 2 ? 2 : $# ))
      for i in "${!pids[@]}"; do
        target=${targets[$i]}
        wait "${pids[$i]}" || {
          kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null  # its sibling, before the trap removes $work
          tail -40 "$work/$target.log" >&2; echo "fuzz '$target': the fuzzer found a crash" >&2; exit 1; }
        runs=$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\1 inputs in \2 s/p' "$work/$target.log")
        echo "fuzz $target: ${runs:-? inputs}, $(grep -c . <(ls "$work/$target")) corpus inputs, no crash"
      done
    done

    # The unit suite under ThreadSanitizer (the worker threads: hashing,
    # writing, reading members at their offsets, two segments in flight),
    # and the authority model test (issue 11): 10,000 random sequences from
    # fixed seeds, in a Release build (the sanitized suites run 200). Both
    # built first, then run side by side: each is mostly one core.
    phase_done "fuzzing"
    # -O1 -g1: half the build time of -O2 -g on 2 cores (87 s against 178 s),
    # with the line tables a race report needs.
    cmake -S . -B build-tsan -G Ninja $UNITY -DCMAKE_BUILD_TYPE=RelWithDebInfo -DAERODB_TSAN=ON \
      -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" \
      -DAERODB_WERROR=ON >/dev/null
    cmake --build build-tsan -j"$JOBS" --target unit_tests
    phase_done "the TSan build"
    cmake -S . -B build-model -G Ninja $UNITY -DCMAKE_BUILD_TYPE=Release -DAERODB_WERROR=ON >/dev/null
    cmake --build build-model -j"$JOBS" --target model_tests
    # The TSan suite in two halves by source folder (their summed cases are
    # the whole suite), beside the model test: three processes, two cores.
    phase_done "the model's build"
    halves='*/tests/crash/*,*/tests/model/*,*/tests/s3/*'
    TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" build-tsan/tests/unit_tests -sf="$halves" \
      > "$work/tsan1.log" 2>&1 & tsan1_pid=$!
    TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" build-tsan/tests/unit_tests -sfe="$halves" \
      > "$work/tsan2.log" 2>&1 & tsan2_pid=$!
    MODEL_SEQUENCES=10000 build-model/tests/model_tests > "$work/model.log" 2>&1 & model_pid=$!
    tsan_rc=0 model_rc=0
    wait "$tsan1_pid" || tsan_rc=$?
    wait "$tsan2_pid" || tsan_rc=$?
    wait "$model_pid" || model_rc=$?
    if [ "$tsan_rc" != 0 ]; then
      for half in 1 2; do tail -60 "$work/tsan$half.log" >&2; done
      echo "tsan 'unit_tests': a data race or a failure" >&2; exit 1
    fi
    passed=$(cat "$work/tsan1.log" "$work/tsan2.log" | sed -n 's/.*test cases: *[0-9]* | *\([0-9]*\) passed.*/\1/p' |
             awk '{ s += $1 } END { print s }')
    echo "tsan unit_tests: $passed test cases passed ($(build-tsan/tests/unit_tests -c | sed -n 's/.*unskipped test cases passing the current filters: \([0-9]*\).*/\1/p') in the suite), no race"
    if [ "$model_rc" != 0 ]; then
      tail -60 "$work/model.log" >&2; echo "model 'model_tests': an invariant failed" >&2; exit 1
    fi
    grep -o 'model: .*' "$work/model.log"
    phase_done "TSan and the model"

    # -g1: line tables only, enough for the sanitizers' stack traces, and
    # quicker to build than full debug information.
    cmake -S . -B build-asan -G Ninja $UNITY -DCMAKE_BUILD_TYPE=Debug -DAERODB_SANITIZE=ON \
      -DCMAKE_C_FLAGS_DEBUG=-g1 -DCMAKE_CXX_FLAGS_DEBUG=-g1 -DAERODB_WERROR=ON >/dev/null
    cmake --build build-asan -j"$JOBS"
    phase_done "the ASan build"
    export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
    # Two more jobs than cores: the S3 tests wait on RGW, the drills on their
    # child processes (285 s instead of 329 s at -j2 on 2 cores; 260 s
    # instead of 285 s at -j4, 2026-12-07).
    ctest --test-dir build-asan -j"$((JOBS + 2))" --output-on-failure
    phase_done "ctest"
    ;;
  *)
    echo "usage error 'setup.sh': expected 'demo' or 'test'" >&2
    echo "hint: bash setup.sh demo   or   bash setup.sh test" >&2
    exit 2
    ;;
esac
