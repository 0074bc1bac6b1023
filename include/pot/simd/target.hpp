#pragma once
/// \file
/// \brief Compiling code for an instruction set the build's flags do not enable: the
/// target regions that every file under simd/avx2/ and simd/avx512/ wraps its kernels in.
///
/// Between `POT_TARGET_AVX2_BEGIN` and `POT_TARGET_END` every function (templates, member
/// functions and lambdas included) is compiled for AVX2 + FMA, and between
/// `POT_TARGET_AVX512_BEGIN` and `POT_TARGET_END` for AVX-512 F/BW/DQ/VL/VNNI, whatever
/// `-march` the translation unit has: GCC's `#pragma GCC target`, clang's
/// `#pragma clang attribute`. Such a function may only run after simd/isa.hpp said the
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
/// differ between instruction sets.

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
