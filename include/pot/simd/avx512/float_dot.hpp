#pragma once
/// \file
/// \brief The AVX-512 bodies of the float-activation dot products over PoT codes
/// (simd/float_dot.hpp): FMA on 16 float lanes, 4-bit codes decoded by one vpermps from
/// the 16-entry table held in one register.

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "pot/simd/dispatch.hpp"
#include "pot/simd/packed4_layout.hpp"
#include "pot/simd/target.hpp"

POT_TARGET_AVX512_BEGIN
namespace pot::simd {

namespace detail_avx512 {
inline constexpr std::size_t float_block = 32;  // codes per 16-byte load, widened to 16 lanes twice

/// 16 int8 weights at `p` as floats.
inline __m512 int8_floats(const std::int8_t* p) noexcept {
  return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
}
}  // namespace detail_avx512

/// \brief `sum x[k] * w[k]` in float: FMA on 16 lanes (two chains), then the lanes.
inline float dot_float(avx512_tag, const float* x, const float* w, std::size_t count) noexcept {
  __m512 even = _mm512_setzero_ps(), odd = _mm512_setzero_ps();
  std::size_t k = 0;
  for (; k + 32 <= count; k += 32) {
    even = _mm512_fmadd_ps(_mm512_loadu_ps(x + k), _mm512_loadu_ps(w + k), even);
    odd = _mm512_fmadd_ps(_mm512_loadu_ps(x + k + 16), _mm512_loadu_ps(w + k + 16), odd);
  }
  if (k + 16 <= count) {
    even = _mm512_fmadd_ps(_mm512_loadu_ps(x + k), _mm512_loadu_ps(w + k), even);
    k += 16;
  }
  float total = _mm512_reduce_add_ps(_mm512_add_ps(even, odd));
  for (; k < count; ++k) total = std::fma(x[k], w[k], total);
  return total;
}

/// \brief The AVX-512 order: even codes then odd codes within each whole block of 32
/// (16 packed bytes widened to 16 lanes), unchanged after.
constexpr std::size_t float_packed4_position(avx512_tag, std::size_t k, std::size_t count) noexcept {
  using detail_avx512::float_block;
  return k < count / float_block * float_block ? even_odd_position<float_block>(k) : k;
}

/// \brief `out[r] = sum_k x[k] * table[code_rk]` for `Rows` rows of `count` 4-bit codes,
/// `ordered` holding x in the order of float_packed4_position(): per 32 codes and row one
/// vpmovzxbd of 16 packed bytes, a shift for the odd codes, two vpermps (which read only
/// the low four bits of each lane, so the even codes need no mask) and two FMA.
template <std::size_t Rows>
inline void dot_float_packed4_rows(avx512_tag, const float* ordered, const std::byte* first_row, std::size_t row_stride,
                                   const std::byte* prefetch_rows, const std::array<float, 16>& table,
                                   std::size_t count, float* out) noexcept {
  using detail_avx512::float_block;
  const __m512 lookup = _mm512_loadu_ps(table.data());
  __m512 even_sums[Rows], odd_sums[Rows];
  for (std::size_t r = 0; r < Rows; ++r) even_sums[r] = odd_sums[r] = _mm512_setzero_ps();
  const std::size_t vector_end = count / float_block * float_block;
  std::size_t k = 0;
  for (; k < vector_end; k += float_block) {
    const __m512 x_even = _mm512_loadu_ps(ordered + k), x_odd = _mm512_loadu_ps(ordered + k + 16);
#pragma GCC unroll 8
    for (std::size_t r = 0; r < Rows; ++r) {
      if ((k / 2) % 64 == 0) _mm_prefetch(reinterpret_cast<const char*>(prefetch_rows + r * row_stride + k / 2), _MM_HINT_T0);
      const __m512i codes = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(first_row + r * row_stride + k / 2)));
      even_sums[r] = _mm512_fmadd_ps(x_even, _mm512_permutexvar_ps(codes, lookup), even_sums[r]);
      odd_sums[r] = _mm512_fmadd_ps(x_odd, _mm512_permutexvar_ps(_mm512_srli_epi32(codes, 4), lookup), odd_sums[r]);
    }
  }
  for (std::size_t r = 0; r < Rows; ++r) {
    const std::byte* row = first_row + r * row_stride;
    float total = _mm512_reduce_add_ps(_mm512_add_ps(even_sums[r], odd_sums[r]));
    for (std::size_t i = k; i < count; ++i) total = std::fma(ordered[i], table[packed4_code(row, i)], total);
    out[r] = total;
  }
}

/// \brief `out[r] = sum_k x[k] * w_rk` for `Rows` rows of int8 weights: per 16 weights and
/// row one vpmovsxbd, one vcvtdq2ps and one FMA, two chains per row; the rows share each
/// activation load, and `prefetch_rows` (same stride, read later) are prefetched into L2.
template <std::size_t Rows>
inline void dot_float_int8_rows(avx512_tag, const float* x, const std::int8_t* first_row, std::size_t row_stride,
                                const std::int8_t* prefetch_rows, std::size_t count, float* out) noexcept {
  __m512 even_sums[Rows], odd_sums[Rows];
  for (std::size_t r = 0; r < Rows; ++r) even_sums[r] = odd_sums[r] = _mm512_setzero_ps();
  std::size_t k = 0;
  for (; k + 32 <= count; k += 32) {
    const __m512 x_even = _mm512_loadu_ps(x + k), x_odd = _mm512_loadu_ps(x + k + 16);
#pragma GCC unroll 8
    for (std::size_t r = 0; r < Rows; ++r) {
      if (k % 64 == 0) _mm_prefetch(reinterpret_cast<const char*>(prefetch_rows + r * row_stride + k), _MM_HINT_T1);
      const std::int8_t* row = first_row + r * row_stride + k;
      even_sums[r] = _mm512_fmadd_ps(x_even, detail_avx512::int8_floats(row), even_sums[r]);
      odd_sums[r] = _mm512_fmadd_ps(x_odd, detail_avx512::int8_floats(row + 16), odd_sums[r]);
    }
  }
  for (std::size_t r = 0; r < Rows; ++r) {
    const std::int8_t* row = first_row + r * row_stride;
    float total = _mm512_reduce_add_ps(_mm512_add_ps(even_sums[r], odd_sums[r]));
    for (std::size_t i = k; i < count; ++i) total = std::fma(x[i], static_cast<float>(row[i]), total);
    out[r] = total;
  }
}

}  // namespace pot::simd
POT_TARGET_END
