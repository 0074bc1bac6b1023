#!/usr/bin/env bash
# The main job: builds the examples in Release and runs the quickstart, which
# quantizes a vector to 4-bit powers of two and multiplies by shifting.
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
run cmake --build build-release -j "$(nproc)" --target example_quickstart
run build-release/examples/example_quickstart
