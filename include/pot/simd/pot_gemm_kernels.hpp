#pragma once
/// \file
/// \brief The micro-kernels of the PoT-weight GEMM (linalg/pot_gemm.hpp): a tile of
/// activation rows times one decoded weight panel (simd/gemm_panels.hpp), uint8 x int8
/// (`u8s8_micro_kernel`) or int16 (`s16_micro_kernel`), each with one body per
/// instruction set (simd/dispatch.hpp) and the tile shape of that body
/// (`u8s8_gemm_shape(tag)`, `s16_gemm_shape(tag)`); and the decode of a 4-bit weight row
/// to int8 for a panel (`decode_packed4_row`: scalar, or vpshufb from AVX2 on):
///
/// | body | tile | uint8 x int8 | int16 |
/// |---|---|---|---|
/// | portable | 6 x 16 | scalar | scalar |
/// | avx2 | 6 x 16 | vpmaddubsw + vpmaddwd (\|w\| <= 64) | vpmaddwd |
/// | avx512 | 12 x 32 | vpdpbusd (any int8, +128 corrected) | vpdpwssd |
/// | neon | as portable | scalar | scalar |
/// | neon_dotprod | 6 x 16 | sdot on u - 128 (any int8) | scalar |
///
/// Sums wrap modulo 2^32 as the instructions do; the callers bound K so that the exact
/// results fit, and every body gives the same integers.

#include "pot/simd/portable/pot_gemm_kernels.hpp"
#if defined(POT_SIMD_X86)
#include "pot/simd/avx2/pot_gemm_kernels.hpp"
#include "pot/simd/avx512/pot_gemm_kernels.hpp"
#endif
#if defined(POT_SIMD_AARCH64)
#include "pot/simd/neon/pot_gemm_kernels.hpp"
#endif
