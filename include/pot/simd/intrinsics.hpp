#pragma once
/// \file
/// \brief The compiler's SIMD intrinsics header for the build's architecture
/// (`<immintrin.h>` on x86, `<arm_neon.h>` on AArch64), included once for every pot
/// header that uses intrinsics or xsimd.
///
/// GCC 12 reports `-Wmaybe-uninitialized` and `-Wuninitialized` inside its own AVX-512
/// headers (`avx512fintrin.h`: `__m512 __Y = __Y;` in `_mm512_undefined_ps` and its
/// siblings) wherever an AVX-512 intrinsic that uses them is inlined: GCC bug 105593,
/// fixed in GCC 13. A middle-end warning is checked against the diagnostic state at the
/// line it points to, so silencing the two warnings around the first inclusion of the
/// header silences exactly these lines of the compiler's own header and nothing in
/// pot's code or the user's. It must come before xsimd, which includes the same header.

#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__) || defined(_M_IX86)
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ < 13
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop
#else
#include <immintrin.h>
#endif
#elif defined(__aarch64__) || defined(_M_ARM64)
#include <arm_neon.h>
#endif
