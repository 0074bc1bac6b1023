#!/usr/bin/env bash
# The main job: builds the examples in Release, runs the quickstart (a vector quantized
# to 4-bit powers of two, multiplied by shifting), then `gpt2 demo`: the paper's nanoGPT
# configuration trained briefly on the fortunes corpus.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

bash scripts/install-deps.sh

run() {
  echo "+ $*"
  "$@"
}

run cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DPOT_BUILD_TESTS=OFF -DPOT_BUILD_BENCHMARKS=OFF -DPOT_BUILD_EXAMPLES=ON
run cmake --build build-release -j "$(nproc)" --target example_quickstart gpt2
run build-release/examples/example_quickstart
run build-release/examples/gpt2/gpt2 demo --out build-release/gpt2-demo
