#!/usr/bin/env bash
# The test suite as CI runs it: a warnings-as-errors build with every test but the
# slow ones, then an AddressSanitizer+UndefinedBehaviorSanitizer build running the
# unit tests and examples again. The last line sums up both runs.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
jobs="$(nproc)"

bash scripts/install-deps.sh

run() {
  echo "+ $*"
  "$@"
}

# Builds with ninja -k 0: a target that fails to compile is reported, and ctest still
# runs (and counts as failed) the tests that lost their program, so one broken file
# does not hide every other result.
build() {
  run cmake --build "$1" -j "$jobs" -- -k 0
}

# ctest's summary line, "N% tests passed, F tests failed out of T".
summary_of() {
  grep -E '^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$1" | tail -n 1
}

echo "== main build (build/): warnings are errors =="
run cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPOT_WARNINGS_AS_ERRORS=ON
main_build_status=0
build build || main_build_status=$?
main_log="build/ctest-main.log"
main_status=0
run ctest --test-dir build -LE slow --output-on-failure -j "$jobs" 2>&1 | tee "$main_log" || main_status=$?

echo "== sanitizer build (build-asan/): ASan + UBSan =="
run cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DPOT_WARNINGS_AS_ERRORS=ON -DPOT_SANITIZE=ON -DPOT_BUILD_BENCHMARKS=OFF
asan_build_status=0
build build-asan || asan_build_status=$?
asan_log="build-asan/ctest-asan.log"
asan_status=0
run ctest --test-dir build-asan -LE 'slow|package|docs' --output-on-failure -j "$jobs" 2>&1 \
  | tee "$asan_log" || asan_status=$?

main_summary="$(summary_of "$main_log" || true)"
asan_summary="$(summary_of "$asan_log" || true)"
echo "== summary =="
echo "main build:      ${main_summary:-no ctest summary (status $main_status)}"
echo "sanitizer build: ${asan_summary:-no ctest summary (status $asan_status)}"
[ "$main_build_status" -eq 0 ] || echo "main build: compilation failed (status $main_build_status)"
[ "$asan_build_status" -eq 0 ] || echo "sanitizer build: compilation failed (status $asan_build_status)"

# One closing line in ctest's own format, over both runs.
read -r main_failed main_total < <(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+)/\1 \2/' <<<"${main_summary:-0 tests failed out of 0}")
read -r asan_failed asan_total < <(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+)/\1 \2/' <<<"${asan_summary:-0 tests failed out of 0}")
failed=$((main_failed + asan_failed))
total=$((main_total + asan_total))
if [ "$main_status" -ne 0 ] || [ "$asan_status" -ne 0 ] || [ -z "$main_summary" ] \
  || [ -z "$asan_summary" ] || [ "$main_build_status" -ne 0 ] || [ "$asan_build_status" -ne 0 ]; then
  [ "$failed" -gt 0 ] || failed=1
fi
passed_percent=0
[ "$total" -eq 0 ] || passed_percent=$(( (total - failed) * 100 / total ))
echo "${passed_percent}% tests passed, ${failed} tests failed out of ${total}"
[ "$failed" -eq 0 ]
