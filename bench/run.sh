#!/usr/bin/env bash
# Builds the benchmarks twice (Release): with the compiler's default flags, as a user's
# project builds them (build-bench/), and with -march=native (build-bench-native/). Runs
# every program of the default-flags build with 3 repetitions (medians reported), writes
# their JSON to <build>/bench-results/, then compares the two builds on the dispatched
# cases of the PoT GEMV and GEMM programs: ROUNDS rounds (default 5), each running the
# default-flags program and then the native one once, so that drift of the machine's
# speed over the run reaches both alike (<build>/bench-results/compare/). Regenerates the
# tables between the <!-- bench:NAME:begin/end --> markers of docs/benchmarks.md,
# including the comparison of the two builds (bench:default_vs_native: medians over the
# rounds).
#
# In every program the plain names run the instruction set the kernels choose at run
# time, NAME@ISA the kernels forced to each instruction set the CPU supports, beside
# OpenBLAS. On a CPU with AVX-512 the script sets OPENBLAS_CORETYPE=SkylakeX unless it is
# set: OpenBLAS 0.3.21 takes a Zen 4/5 for Haswell and would run its AVX2 kernels.
#
# Usage: bench/run.sh [extra Google Benchmark flags, e.g. --benchmark_filter=...]
# Environment: BUILD_DIR (default build-bench; the native build goes to BUILD_DIR-native),
# MIN_TIME (default 0.5 s per benchmark), ROUNDS (default 5).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build-bench}
native_build=$build-native
min_time=${MIN_TIME:-0.5}
rounds=${ROUNDS:-5}
programs=(shift_vs_multiply pot_gemv pot_gemm gemm_float)
native_programs=(pot_gemv pot_gemm)

if grep -qw avx512f /proc/cpuinfo 2>/dev/null && [[ -z ${OPENBLAS_CORETYPE:-} ]]; then
  export OPENBLAS_CORETYPE=SkylakeX
  echo "bench/run.sh: AVX-512 CPU: OPENBLAS_CORETYPE=SkylakeX (OpenBLAS's AVX-512 kernels)" >&2
fi

configure() {  # configure DIR NATIVE
  [[ -f $1/CMakeCache.txt ]] && return
  cmake -S "$root" -B "$1" -G Ninja -DCMAKE_BUILD_TYPE=Release -DPOT_NATIVE="$2" \
    -DPOT_BUILD_TESTS=OFF -DPOT_BUILD_EXAMPLES=OFF -DPOT_BUILD_DOCS=OFF
}

run_programs() {  # run_programs DIR NAME...
  local dir=$1
  shift
  mkdir -p "$dir/bench-results"
  for name in "$@"; do
    echo "== $dir: bench_$name" >&2
    "$dir/bench/bench_$name" --benchmark_repetitions=3 --benchmark_report_aggregates_only=true \
      --benchmark_min_time="$min_time" --benchmark_out="$dir/bench-results/$name.json" \
      --benchmark_out_format=json "${extra[@]}"
  done
}

# compare_round ROUND: the dispatched cases (names without "@") of each native program,
# once in the default-flags build and then once in the native one.
compare_round() {
  local name dir
  for name in "${native_programs[@]}"; do
    for dir in "$build" "$native_build"; do
      mkdir -p "$dir/bench-results/compare"
      echo "== $dir: bench_$name, comparison round $1 of $rounds" >&2
      "$dir/bench/bench_$name" --benchmark_filter='^[^@]*$' --benchmark_min_time="$min_time" \
        --benchmark_out="$dir/bench-results/compare/$name-$1.json" --benchmark_out_format=json "${extra[@]}"
    done
  done
}

extra=("$@")
configure "$build" OFF
configure "$native_build" ON
cmake --build "$build" --target "${programs[@]/#/bench_}"
cmake --build "$native_build" --target "${native_programs[@]/#/bench_}"
run_programs "$build" "${programs[@]}"
rm -rf "$build/bench-results/compare" "$native_build/bench-results/compare"
for ((round = 1; round <= rounds; ++round)); do compare_round "$round"; done

flags=$(sed -n 's/^CMAKE_CXX_FLAGS_RELEASE:[A-Z]*=//p' "$build/CMakeCache.txt")
python3 "$root/bench/update_benchmarks_doc.py" --results "$build/bench-results" \
  --compare-results "$build/bench-results/compare" --native-compare-results "$native_build/bench-results/compare" --doc "$root/docs/benchmarks.md" \
  --flags "$flags (default flags; kernels dispatched at run time)" --command "bench/run.sh $*"
