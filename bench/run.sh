#!/usr/bin/env bash
# Builds the benchmarks (Release, -march=native) if needed, runs them with 3 repetitions
# (medians reported), writes their JSON to $BUILD_DIR/bench-results/, and regenerates the
# tables between the <!-- bench:NAME:begin/end --> markers of docs/benchmarks.md.
#
# Usage: bench/run.sh [extra Google Benchmark flags, e.g. --benchmark_filter=...]
# Environment: BUILD_DIR (default build-bench), MIN_TIME (default 0.5 s per benchmark).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build-bench}
min_time=${MIN_TIME:-0.5}
results=$build/bench-results
programs=(shift_vs_multiply pot_gemv pot_gemm gemm_float)

# gemm_float belongs to another part of the suite: run it only where its source exists.
targets=()
for name in "${programs[@]}"; do
  [[ -f $root/bench/$name.bench.cpp ]] && targets+=("bench_$name")
done

if [[ ! -f $build/CMakeCache.txt ]]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DPOT_NATIVE=ON \
    -DPOT_BUILD_TESTS=OFF -DPOT_BUILD_EXAMPLES=OFF -DPOT_BUILD_DOCS=OFF
fi
cmake --build "$build" --target "${targets[@]}"

mkdir -p "$results"
for target in "${targets[@]}"; do
  name=${target#bench_}
  echo "== $target" >&2
  "$build/bench/$target" --benchmark_repetitions=3 --benchmark_report_aggregates_only=true \
    --benchmark_min_time="$min_time" --benchmark_out="$results/$name.json" \
    --benchmark_out_format=json "$@"
done

flags=$(sed -n 's/^CMAKE_CXX_FLAGS_RELEASE:[A-Z]*=//p' "$build/CMakeCache.txt")
python3 "$root/bench/update_benchmarks_doc.py" --results "$results" \
  --doc "$root/docs/benchmarks.md" --flags "$flags -march=native" \
  --command "bench/run.sh $*"
