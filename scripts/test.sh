#!/usr/bin/env bash
# The test suite as CI runs it, in stages that each build the project one way and run
# ctest over that build:
#   gcc    g++, warnings are errors, every test but the slow ones (build/)
#   clang  clang++ 14, warnings are errors, unit tests and examples (build-clang/)
#   asan   g++ with AddressSanitizer + UndefinedBehaviorSanitizer (build-asan/)
#   aarch64  cross-built for AArch64 (cmake/toolchains/aarch64-linux-gnu.cmake), tests run
#          under qemu-user twice: CPU model max (dot product, i8mm) and cortex-a53 (neither)
#   fuzz   clang++ libFuzzer targets of the GPT-2 example's parsers (ASan + UBSan), each
#          run for 30 s over a copy of its seeds in tests/fuzz/corpus (build-fuzz/)
# `bash scripts/test.sh gcc asan` runs only the stages named. With CI=true a test that
# ctest reports as skipped, or that lost its program, fails the run: in CI every test
# must have what it needs. The last line sums up every stage in ctest's own format.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
jobs="$(nproc)"
all_stages=(gcc clang asan fuzz aarch64)
stages=("$@")
[ ${#stages[@]} -gt 0 ] || stages=("${all_stages[@]}")

deps_args=()
for name in "${stages[@]}"; do [ "$name" != aarch64 ] || deps_args=(aarch64); done
bash scripts/install-deps.sh "${deps_args[@]}"

run() {
  echo "+ $*"
  "$@"
}

# ctest's summary line, "N% tests passed, F tests failed out of T".
summary_of() {
  grep -E '^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$1" | tail -n 1
}

total_failed=0
total_tests=0
status=0
summaries=()

# stage NAME BUILD_DIR "CTEST_LABEL_SELECTION" CMAKE_ARGS...
# The selection is ctest's label options, e.g. "-LE slow" (all but label slow) or
# "-L fuzz" (only label fuzz). Builds with ninja -k 0: a target that fails to compile is
# reported, and ctest still runs (and counts as failed) the tests that lost their
# program, so one broken file does not hide every other result.
stage() {
  local name="$1" dir="$2"
  local -a selection
  read -r -a selection <<<"$3"
  shift 3
  echo "== stage $name ($dir/) =="
  local build_status=0 test_status=0 log="$dir/ctest-$name.log"
  run cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPOT_WARNINGS_AS_ERRORS=ON "$@" \
    || build_status=$?
  if [ "$build_status" -eq 0 ]; then
    run cmake --build "$dir" -j "$jobs" -- -k 0 || build_status=$?
  fi
  mkdir -p "$dir"
  # --timeout: a test that hangs fails after 15 minutes instead of ctest's 25.
  run ctest --test-dir "$dir" "${selection[@]}" --output-on-failure --timeout 900 -j "$jobs" 2>&1 | tee "$log" \
    || test_status=$?
  local summary failed tests
  summary="$(summary_of "$log" || true)"
  if [ -z "$summary" ]; then
    summaries+=("$name: no ctest summary (status $test_status)")
    status=1
    return
  fi
  read -r failed tests < <(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+)/\1 \2/' <<<"$summary")
  # ctest lists tests it did not run as "NN - name (Skipped)" or "(Not Run)".
  local skipped
  skipped="$(grep -cE '^\s*[0-9]+ - .* \((Skipped|Not Run)\)$' "$log" || true)"
  if [ "${CI:-}" = "true" ] && [ "$skipped" -gt 0 ]; then
    echo "$name: $skipped test(s) skipped, which CI counts as failures:"
    grep -E '^\s*[0-9]+ - .* \((Skipped|Not Run)\)$' "$log" || true
    failed=$((failed + skipped))
  fi
  [ "$build_status" -eq 0 ] || summaries+=("$name: compilation failed (status $build_status)")
  if [ "$build_status" -ne 0 ] || [ "$test_status" -ne 0 ]; then
    status=1
    [ "$failed" -gt 0 ] || failed=1
  fi
  [ "$failed" -eq 0 ] || status=1
  if [ "$skipped" -gt 0 ]; then summary="$summary ($skipped not run)"; fi
  summaries+=("$name: $summary")
  total_failed=$((total_failed + failed))
  total_tests=$((total_tests + tests))
}

for name in "${stages[@]}"; do
  case "$name" in
    gcc) stage gcc build '-LE slow' -DCMAKE_CXX_COMPILER=g++ ;;
    clang) stage clang build-clang '-LE slow|package|docs|python' -DCMAKE_CXX_COMPILER=clang++ ;;
    asan) stage asan build-asan '-LE slow|package|docs' -DCMAKE_CXX_COMPILER=g++ -DPOT_SANITIZE=ON \
      -DPOT_BUILD_BENCHMARKS=OFF ;;
    aarch64)
      # One build, two emulated CPUs (qemu reads QEMU_CPU): with and without the
      # dot-product and i8mm extensions. Consumer builds, docs and Python tests are
      # architecture-independent and run in the native stages.
      for cpu in max cortex-a53; do
        QEMU_CPU="$cpu" stage "aarch64-$cpu" build-aarch64 '-LE slow|package|docs|python' \
          -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/aarch64-linux-gnu.cmake -DPOT_NATIVE=OFF
      done ;;
    fuzz) stage fuzz build-fuzz '-L fuzz' -DCMAKE_CXX_COMPILER=clang++ -DPOT_BUILD_FUZZERS=ON \
      -DPOT_BUILD_TESTS=OFF -DPOT_BUILD_EXAMPLES=OFF -DPOT_BUILD_BENCHMARKS=OFF -DPOT_BUILD_DOCS=OFF ;;
    *) echo "scripts/test.sh: unknown stage '$name' (stages: ${all_stages[*]})" >&2; exit 2 ;;
  esac
done

echo "== summary =="
for line in "${summaries[@]}"; do echo "$line"; done
passed_percent=0
[ "$total_tests" -eq 0 ] || passed_percent=$(( (total_tests - total_failed) * 100 / total_tests ))
echo "${passed_percent}% tests passed, ${total_failed} tests failed out of ${total_tests}"
[ "$status" -eq 0 ]
