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

# `install-deps.sh aarch64`: also the AArch64 cross compiler, qemu-user and the arm64
# builds of the libraries (Debian multiarch) for scripts/test.sh's aarch64 stage.
if [ "${1:-}" = aarch64 ]; then
  packages+=(g++-aarch64-linux-gnu qemu-user-static
    libxsimd-dev:arm64 libbenchmark-dev:arm64 libopenblas-dev:arm64)
  if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    if [ "$(id -u)" -eq 0 ]; then dpkg --add-architecture arm64; else sudo dpkg --add-architecture arm64; fi
  fi
fi

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
