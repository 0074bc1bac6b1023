#pragma once
/// \file
/// \brief The register-blocked inner kernel of the float/double gemm: a rows x cols tile
/// of C from packed panels of A and B, with one body per instruction set
/// (simd/dispatch.hpp): portable (xsimd at the build's flags), AVX2 (6 x 16 floats) and
/// AVX-512 (12 x 32 floats). `decltype(gemm_micro_kernel_for<T>(tag))` is the kernel of an
/// instruction set: a type with `rows`, `cols`, `alignment` and `run()`.
///
/// Every body sums each C element over k in order with one fused multiply-add per k, so
/// the AVX2 and AVX-512 results are bitwise equal (and equal the portable one wherever
/// its xsimd target has FMA).

#include "pot/simd/gemm_tile.hpp"
#include "pot/simd/portable/gemm_micro_kernel.hpp"
#if defined(POT_SIMD_X86)
#include "pot/simd/avx2/gemm_micro_kernel.hpp"
#include "pot/simd/avx512/gemm_micro_kernel.hpp"
#endif
