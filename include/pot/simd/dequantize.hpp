#pragma once
/// \file
/// \brief Float activations times PoT codes: codes decoded to float `±2^e` in registers
/// (two vpermps lookups for 4-bit codes) and accumulated with FMA.

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>

#include "pot/simd/intrinsics.hpp"  // first: see there
#include "pot/simd/xsimd_compat.hpp"

namespace pot::simd {

/// \brief Writes `table[codes[k]]` to `out[k]`: codes decoded to their float values.
template <std::size_t TableSize>
inline void dequantize_codes(std::span<const std::uint8_t> codes,
                             const std::array<float, TableSize>& table, std::span<float> out) noexcept {
  for (std::size_t k = 0; k < codes.size(); ++k) out[k] = table[codes[k]];
}

/// \brief `sum x[k] * w[k]` in float with FMA, eight partial sums per vector lane.
inline float dot_float(const float* x, const float* w, std::size_t count) noexcept {
  using batch = xsimd::batch<float>;
  const std::size_t vector_end = count - count % batch::size;
  batch sum(0.0f);
  for (std::size_t k = 0; k < vector_end; k += batch::size)
    sum = xsimd::fma(batch::load_unaligned(x + k), batch::load_unaligned(w + k), sum);
  float total = xsimd_compat::reduce_add(sum);
  for (std::size_t k = vector_end; k < count; ++k) total = std::fma(x[k], w[k], total);
  return total;
}

/// \brief `sum x[k] * table[code_k]` over `count` 4-bit codes packed two per byte (low
/// nibble first), decoding in registers where AVX2 is available.
inline float dot_float_packed4(const float* x, const std::byte* packed,
                               const std::array<float, 16>& table, std::size_t count) noexcept {
  std::size_t k = 0;
  float total = 0.0f;
#if defined(__AVX2__) && defined(__FMA__)
  const __m256 low_table = _mm256_loadu_ps(table.data());
  const __m256 high_table = _mm256_loadu_ps(table.data() + 8);
  // Nibble j of a 32-bit word moves to bits 0..3 of lane j (vpsrlvd), so lane j gets code j.
  const __m256i nibble_shifts = _mm256_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28);
  const __m256i nibble_mask = _mm256_set1_epi32(0x0F);
  __m256 sum = _mm256_setzero_ps();
  for (; k + 8 <= count; k += 8) {
    std::uint32_t word = 0;
    __builtin_memcpy(&word, packed + k / 2, sizeof word);
    const __m256i codes = _mm256_and_si256(
        _mm256_srlv_epi32(_mm256_set1_epi32(static_cast<int>(word)), nibble_shifts), nibble_mask);
    // vpermps uses the low three bits; bit 3 (moved to the sign bit) picks the table half.
    const __m256 w = _mm256_blendv_ps(_mm256_permutevar8x32_ps(low_table, codes),
                                      _mm256_permutevar8x32_ps(high_table, codes),
                                      _mm256_castsi256_ps(_mm256_slli_epi32(codes, 28)));
    sum = _mm256_fmadd_ps(_mm256_loadu_ps(x + k), w, sum);
  }
  total = xsimd_compat::reduce_add(xsimd::batch<float, xsimd::avx2>(sum));
#endif
  for (; k < count; ++k) {
    const unsigned byte = std::to_integer<unsigned>(packed[k / 2]);
    total = std::fma(x[k], table[(k % 2 == 0 ? byte : byte >> 4) & 0x0Fu], total);
  }
  return total;
}

}  // namespace pot::simd
