#pragma once
/// \file
/// \brief The AVX2 bodies of the float-activation dot products over PoT codes
/// (simd/float_dot.hpp): FMA on 8 float lanes, 4-bit codes decoded by two vpermps.

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "pot/simd/dispatch.hpp"
#include "pot/simd/packed4_layout.hpp"
#include "pot/simd/target.hpp"

POT_TARGET_AVX2_BEGIN
namespace pot::simd {

namespace detail_avx2 {

inline float sum_lanes(__m256 v) noexcept {
  const __m128 halves = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 pairs = _mm_add_ps(halves, _mm_movehl_ps(halves, halves));
  return _mm_cvtss_f32(_mm_add_ss(pairs, _mm_movehdup_ps(pairs)));
}

/// 8 int8 weights at `p` as floats.
inline __m256 int8_floats(const std::int8_t* p) noexcept {
  return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))));
}

}  // namespace detail_avx2

/// \brief `sum x[k] * w[k]` in float: FMA on 8 lanes, then the lanes.
inline float dot_float(avx2_tag, const float* x, const float* w, std::size_t count) noexcept {
  __m256 sum = _mm256_setzero_ps();
  std::size_t k = 0;
  for (; k + 8 <= count; k += 8) sum = _mm256_fmadd_ps(_mm256_loadu_ps(x + k), _mm256_loadu_ps(w + k), sum);
  float total = detail_avx2::sum_lanes(sum);
  for (; k < count; ++k) total = std::fma(x[k], w[k], total);
  return total;
}

/// \brief The AVX2 body reads activations in stream order.
constexpr std::size_t float_packed4_position(avx2_tag, std::size_t k, std::size_t /*count*/) noexcept { return k; }

/// \brief `out[r] = sum_k x[k] * table[code_rk]` for `Rows` rows of `count` 4-bit codes:
/// per 8 codes one broadcast word, vpsrlvd moving nibble j to lane j, two vpermps (one
/// per half of the 16-entry table) and a blend on the code's top bit, one FMA.
template <std::size_t Rows>
inline void dot_float_packed4_rows(avx2_tag, const float* ordered, const std::byte* first_row, std::size_t row_stride,
                                   const std::byte* prefetch_rows, const std::array<float, 16>& table,
                                   std::size_t count, float* out) noexcept {
  const __m256 low_table = _mm256_loadu_ps(table.data());
  const __m256 high_table = _mm256_loadu_ps(table.data() + 8);
  const __m256i nibble_shifts = _mm256_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28);
  const __m256i nibble_mask = _mm256_set1_epi32(0x0F);
  for (std::size_t r = 0; r < Rows; ++r) {
    const std::byte* packed = first_row + r * row_stride;
    __m256 sum = _mm256_setzero_ps();
    std::size_t k = 0;
    for (; k + 8 <= count; k += 8) {
      if ((k / 2) % 64 == 0) _mm_prefetch(reinterpret_cast<const char*>(prefetch_rows + r * row_stride + k / 2), _MM_HINT_T0);
      std::uint32_t word = 0;
      __builtin_memcpy(&word, packed + k / 2, sizeof word);
      const __m256i codes = _mm256_and_si256(
          _mm256_srlv_epi32(_mm256_set1_epi32(static_cast<int>(word)), nibble_shifts), nibble_mask);
      // vpermps uses the low three bits; bit 3 (moved to the sign bit) picks the table half.
      const __m256 w = _mm256_blendv_ps(_mm256_permutevar8x32_ps(low_table, codes),
                                        _mm256_permutevar8x32_ps(high_table, codes),
                                        _mm256_castsi256_ps(_mm256_slli_epi32(codes, 28)));
      sum = _mm256_fmadd_ps(_mm256_loadu_ps(ordered + k), w, sum);
    }
    float total = detail_avx2::sum_lanes(sum);
    for (; k < count; ++k) total = std::fma(ordered[k], table[packed4_code(packed, k)], total);
    out[r] = total;
  }
}

/// \brief `out[r] = sum_k x[k] * w_rk` for `Rows` rows of int8 weights: per 8 weights and
/// row one vpmovsxbd, one vcvtdq2ps and one FMA, two chains per row; the rows share each
/// activation load, and `prefetch_rows` (same stride, read later) are prefetched.
template <std::size_t Rows>
inline void dot_float_int8_rows(avx2_tag, const float* x, const std::int8_t* first_row, std::size_t row_stride,
                                const std::int8_t* prefetch_rows, std::size_t count, float* out) noexcept {
  __m256 even_sums[Rows], odd_sums[Rows];
  for (std::size_t r = 0; r < Rows; ++r) even_sums[r] = odd_sums[r] = _mm256_setzero_ps();
  std::size_t k = 0;
  for (; k + 16 <= count; k += 16) {
    const __m256 x_even = _mm256_loadu_ps(x + k), x_odd = _mm256_loadu_ps(x + k + 8);
#pragma GCC unroll 8
    for (std::size_t r = 0; r < Rows; ++r) {
      if (k % 64 == 0) _mm_prefetch(reinterpret_cast<const char*>(prefetch_rows + r * row_stride + k), _MM_HINT_T0);
      const std::int8_t* row = first_row + r * row_stride + k;
      even_sums[r] = _mm256_fmadd_ps(x_even, detail_avx2::int8_floats(row), even_sums[r]);
      odd_sums[r] = _mm256_fmadd_ps(x_odd, detail_avx2::int8_floats(row + 8), odd_sums[r]);
    }
  }
  for (std::size_t r = 0; r < Rows; ++r) {
    const std::int8_t* row = first_row + r * row_stride;
    float total = detail_avx2::sum_lanes(_mm256_add_ps(even_sums[r], odd_sums[r]));
    for (std::size_t i = k; i < count; ++i) total = std::fma(x[i], static_cast<float>(row[i]), total);
    out[r] = total;
  }
}

}  // namespace pot::simd
POT_TARGET_END
