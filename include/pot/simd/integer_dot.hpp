#pragma once
/// \file
/// \brief Integer dot products over table-decoded PoT weights, the inner loops of the
/// PoT GEMV: uint8 x int8 (`dot_u8s8`), int16 x int16 (`dot_s16`), and fused 4-bit
/// kernels that decode packed nibbles in registers (`dot_u8_packed4_rows`,
/// `dot_s16_packed4_rows`), each with one body per instruction set (simd/dispatch.hpp):
///
/// | body | uint8 x int8 | int16 | 4-bit decode |
/// |---|---|---|---|
/// | portable (simd/portable/) | scalar | scalar | scalar |
/// | avx2 (simd/avx2/) | vpmaddubsw, needs \|w\| <= 64 | vpmaddwd | vpshufb |
/// | avx512 (simd/avx512/) | vpdpbusd | vpdpwssd | vpshufb (int8), vpermw (int16) |
/// | neon (simd/neon/) | smlal | smlal | tbl |
/// | neon_dotprod (simd/neon/) | sdot on u - 128 | smlal (as neon) | tbl |
///
/// Every body returns the same integers (packed4_layout.hpp). The fused kernels read
/// activations in an order of their own, given by `packed4_u8_position(tag, k, count)`
/// and `packed4_s16_position(tag, k, count)`; order them once per call with
/// order_activations().

#include "pot/simd/portable/integer_dot.hpp"
#if defined(POT_SIMD_X86)
#include "pot/simd/avx2/integer_dot.hpp"
#include "pot/simd/avx512/integer_dot.hpp"
#endif
#if defined(POT_SIMD_AARCH64)
#include "pot/simd/neon/integer_dot.hpp"
#endif
