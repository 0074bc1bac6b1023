#pragma once
/// \file
/// \brief Compiling code for an instruction set the build's flags do not enable: the
/// target regions that every file under simd/avx2/ and simd/avx512/ wraps its kernels in,
/// and the one around the dot-product kernels under simd/neon/.
///
/// Between `POT_TARGET_AVX2_BEGIN` and `POT_TARGET_END` every function (templates, member
/// functions and lambdas included) is compiled for AVX2 + FMA, and between
/// `POT_TARGET_AVX512_BEGIN` and `POT_TARGET_END` for AVX-512 F/BW/DQ/VL/VNNI, whatever
/// `-march` the translation unit has: GCC's `#pragma GCC target`, clang's
/// `#pragma clang attribute`. On AArch64, Advanced SIMD (NEON) is part of the base
/// architecture and needs no region; between `POT_TARGET_NEON_DOTPROD_BEGIN` and
/// `POT_TARGET_END` functions may use the dot-product extension (SDOT/UDOT) through
/// neon_sdot(). Such a function may only run after simd/isa.hpp said the
/// CPU has the instruction set; simd/dispatch.hpp makes that choice.
///
/// Rules for a region, which keep a header-only library ODR-safe: (1) include every
/// header a region needs before opening it, so that no standard or third-party function
/// is first defined inside one and then compiled for an instruction set its other callers
/// may lack; (2) give every function in a region a signature of its own (pot's kernels
/// take the instruction set's tag from simd/dispatch.hpp as their first parameter), so
/// that no inline function is defined with different instruction sets in different
/// translation units; (3) pass no vector register by value across a region's boundary
/// (kernels take pointers and scalars), since the calling conventions for vector types
/// differ between instruction sets. On AArch64 the dot-product extension adds
/// instructions but no registers and leaves the calling convention alone, so the
/// dot-product kernels call the Advanced SIMD helpers defined outside their region.

#include "pot/simd/intrinsics.hpp"

#if defined(__x86_64__) || defined(__i386__)
#if defined(__clang__)
#define POT_TARGET_AVX2_BEGIN \
  _Pragma("clang attribute push(__attribute__((target(\"avx2,fma\"))), apply_to = function)")
#define POT_TARGET_AVX512_BEGIN                                                                            \
  _Pragma(                                                                                                 \
      "clang attribute push(__attribute__((target(\"avx2,fma,avx512f,avx512bw,avx512dq,avx512vl,avx512vnni\"))), apply_to = function)")
#define POT_TARGET_END _Pragma("clang attribute pop")
#elif defined(__GNUC__)
#define POT_TARGET_AVX2_BEGIN _Pragma("GCC push_options") _Pragma("GCC target(\"avx2,fma\")")
#define POT_TARGET_AVX512_BEGIN \
  _Pragma("GCC push_options") _Pragma("GCC target(\"avx2,fma,avx512f,avx512bw,avx512dq,avx512vl,avx512vnni\")")
#define POT_TARGET_END _Pragma("GCC pop_options")
#else
#error "pot: the x86 kernels need GCC or clang (target regions)"
#endif
#endif

#if defined(__aarch64__)
#if defined(__clang__)
#define POT_TARGET_NEON_DOTPROD_BEGIN \
  _Pragma("clang attribute push(__attribute__((target(\"dotprod\"))), apply_to = function)")
#define POT_TARGET_END _Pragma("clang attribute pop")
#elif defined(__GNUC__)
// "arch=armv8.2-a+dotprod", not "+dotprod": GCC 12 does not let a function whose target
// only adds "+dotprod" inline arm_neon.h's vdotq_s32 (target specific option mismatch).
#define POT_TARGET_NEON_DOTPROD_BEGIN _Pragma("GCC push_options") _Pragma("GCC target(\"arch=armv8.2-a+dotprod\")")
#define POT_TARGET_END _Pragma("GCC pop_options")
#else
#error "pot: the AArch64 dot-product kernels need GCC or clang (target regions)"
#endif

POT_TARGET_NEON_DOTPROD_BEGIN
namespace pot::simd {

/// \brief SDOT: adds to each int32 lane of \p sums the four products of the int8 lanes
/// of \p a and \p b at its position; only inside a dot-product region.
///
/// clang 14's arm_neon.h declares vdotq_s32 only when the whole translation unit targets
/// the extension (`__ARM_FEATURE_DOTPROD`), not inside a function that does; the builtin
/// it forwards to (type code 34: int8x16_t operands) is available in both cases.
inline int32x4_t neon_sdot(int32x4_t sums, int8x16_t a, int8x16_t b) noexcept {
#if defined(__clang__) && !defined(__ARM_FEATURE_DOTPROD)
  return vreinterpretq_s32_s8(__builtin_neon_vdotq_v(vreinterpretq_s8_s32(sums), a, b, 34));
#else
  return vdotq_s32(sums, a, b);
#endif
}

}  // namespace pot::simd
POT_TARGET_END
#endif
