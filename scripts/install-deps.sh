#!/usr/bin/env bash
# Installs the Debian 12 packages pot's build, tests, benchmarks and docs need, and
# only those missing: on a machine that has them all, nothing is run.
set -euo pipefail

# clang and its runtime: the clang stage of the tests and the libFuzzer harnesses;
# python3-torch and python3-numpy: the PyTorch parity tests.
packages=(
  build-essential g++ clang libclang-rt-14-dev cmake ninja-build pkg-config git
  libxsimd-dev doctest-dev libbenchmark-dev nlohmann-json3-dev libopenblas-dev
  doxygen fortunes python3 python3-numpy python3-torch
)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$package")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages are installed"
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  as_root=()
else
  as_root=(sudo)
fi
echo "install-deps: installing ${missing[*]}"
"${as_root[@]}" apt-get update
DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
