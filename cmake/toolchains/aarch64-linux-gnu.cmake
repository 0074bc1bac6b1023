# Cross-compiles for 64-bit ARM Linux with Debian's cross compiler
# (g++-aarch64-linux-gnu) and runs the programs the build tests under user-mode
# emulation (qemu-user-static). Libraries come from Debian multiarch
# (dpkg --add-architecture arm64; libxsimd-dev:arm64 and so on, installed under
# /usr/lib/aarch64-linux-gnu); `bash scripts/install-deps.sh aarch64` installs all of it.
#
#   cmake -S . -B build-aarch64 -G Ninja \
#     -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/aarch64-linux-gnu.cmake -DPOT_NATIVE=OFF
#   QEMU_CPU=max ctest --test-dir build-aarch64 -LE 'slow|emulation_slow'
#
# ctest prefixes every test program with CMAKE_CROSSCOMPILING_EMULATOR. The CPU model
# is not fixed here: qemu reads it from the environment variable QEMU_CPU (`max` has the
# dot-product and i8mm extensions, `cortex-a53` neither; `qemu-aarch64-static -cpu help`
# lists the models), so one build is tested on several CPUs without reconfiguring.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(POT_CROSS_TRIPLET aarch64-linux-gnu)
set(CMAKE_C_COMPILER ${POT_CROSS_TRIPLET}-gcc)
set(CMAKE_CXX_COMPILER ${POT_CROSS_TRIPLET}-g++)
set(CMAKE_LIBRARY_ARCHITECTURE ${POT_CROSS_TRIPLET})

# Multiarch puts the target's libraries beside the build machine's in /usr, so there is
# no separate sysroot to confine the search to: find_package looks in
# /usr/lib/aarch64-linux-gnu/cmake through CMAKE_LIBRARY_ARCHITECTURE, and pkg-config
# is pointed at the target's .pc files only (never at /usr/lib/x86_64-linux-gnu).
set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/${POT_CROSS_TRIPLET}/pkgconfig:/usr/share/pkgconfig")

find_program(POT_QEMU_AARCH64 NAMES qemu-aarch64-static qemu-aarch64)
if(POT_QEMU_AARCH64)
  # -L: where qemu finds the target's dynamic loader. Once multiarch libraries are
  # installed, libc6:arm64 is too, and its libc (in /lib/aarch64-linux-gnu) is what the
  # loader finds first: then the loader must be multiarch's as well (-L /). The cross
  # toolchain's loader in /usr/aarch64-linux-gnu with multiarch's libc, two builds of
  # glibc, hangs in the first pthread_create.
  if(EXISTS /lib/ld-linux-aarch64.so.1)
    set(CMAKE_CROSSCOMPILING_EMULATOR ${POT_QEMU_AARCH64} -L /)
  else()
    set(CMAKE_CROSSCOMPILING_EMULATOR ${POT_QEMU_AARCH64} -L /usr/${POT_CROSS_TRIPLET})
  endif()
endif()
