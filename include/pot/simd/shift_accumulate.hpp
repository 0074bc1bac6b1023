#pragma once
/// \file
/// \brief The literal PoT dot product: shift each activation left by its weight's
/// exponent index, negate where the weight is negative, drop it where the weight is zero,
/// and sum in int32 (`shift_accumulate` over codes held one per int32, and the fused
/// 4-bit `shift_packed4_rows`), one body per instruction set (simd/dispatch.hpp):
/// portable loops, AVX2 vpsllvd, AVX-512 vpsllvw (4-bit codes) and vpsllvd.
///
/// Sums wrap modulo 2^32 like the vector lanes; callers bound K so that the exact result
/// fits (linalg/pot_weights.hpp). An exponent index beyond the format's exponents (the
/// zero code, or a code no value has) contributes 0 and is never used as a shift amount.

#include "pot/simd/portable/shift_accumulate.hpp"
#if defined(POT_SIMD_X86)
#include "pot/simd/avx2/shift_accumulate.hpp"
#include "pot/simd/avx512/shift_accumulate.hpp"
#endif
