#pragma once
/// \file
/// \brief Float activations times PoT codes decoded to float `±2^e`, accumulated with
/// FMA: `dot_float` over decoded weights and the fused 4-bit `dot_float_packed4_rows`,
/// one body per instruction set (simd/dispatch.hpp): portable (xsimd at the build's
/// flags), AVX2 (two vpermps per 8 codes), AVX-512 (one vpermps per 16 codes), NEON
/// (the fused kernel only, dot_float is xsimd's NEON already: four tbl and eight zips
/// per 16 codes, one per byte of the float and to interleave them). The bodies sum in different orders, so their results differ by float rounding.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "pot/simd/portable/float_dot.hpp"
#if defined(POT_SIMD_X86)
#include "pot/simd/avx2/float_dot.hpp"
#include "pot/simd/avx512/float_dot.hpp"
#endif
#if defined(POT_SIMD_AARCH64)
#include "pot/simd/neon/float_dot.hpp"
#endif

namespace pot::simd {

/// \brief Writes `table[codes[k]]` to `out[k]`: codes decoded to their float values.
template <std::size_t TableSize>
inline void dequantize_codes(std::span<const std::uint8_t> codes, const std::array<float, TableSize>& table,
                             std::span<float> out) noexcept {
  for (std::size_t k = 0; k < codes.size(); ++k) out[k] = table[codes[k]];
}

}  // namespace pot::simd
