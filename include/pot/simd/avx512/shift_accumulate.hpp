#pragma once
/// \file
/// \brief The AVX-512 bodies of the literal PoT dot product (simd/shift_accumulate.hpp):
/// vpsllvw on 32 int16 lanes for 4-bit codes (|x << e| <= 255 * 2^7 fits int16), vpsllvd
/// on 16 int32 lanes otherwise; negative weights by a masked subtract from zero, the sum
/// widened to int32 by vpdpwssd with ones.

#include <cstddef>
#include <cstdint>

#include "pot/core/traits.hpp"
#include "pot/simd/dispatch.hpp"
#include "pot/simd/packed4_layout.hpp"
#include "pot/simd/portable/shift_accumulate.hpp"
#include "pot/simd/target.hpp"

POT_TARGET_AVX512_BEGIN
namespace pot::simd {

namespace detail_avx512 {

/// Whether a code of `P` can have an exponent index beyond the exponents (the zero code,
/// or a code no value has): then those lanes are set to 0.
template <pot_type P>
inline constexpr bool has_indices_beyond = (1 << (P::bits - 1)) > P::exponent_count;

/// 32 signed int16 terms `±(x << index)` of 4-bit codes whose exponent index is
/// `index` and whose sign lanes are `negative`.
template <pot_type P>
inline __m512i shifted_words(__m512i x, __m512i index, __mmask32 negative) noexcept {
  __m512i shifted = _mm512_sllv_epi16(x, index);
  if constexpr (has_indices_beyond<P>)
    shifted = _mm512_mask_mov_epi16(shifted, _mm512_cmpgt_epi16_mask(index, _mm512_set1_epi16(P::exponent_count - 1)),
                                    _mm512_setzero_si512());
  return _mm512_mask_sub_epi16(shifted, negative, _mm512_setzero_si512(), shifted);
}

inline constexpr std::size_t shift_block = 64;  // codes per 32-byte load, widened to words

}  // namespace detail_avx512

/// \brief `sum_k x[k] * sign_k * 2^(index_k)` over codes stored one per int32 (vpsllvd).
template <pot_type P>
inline std::int32_t shift_accumulate(avx512_tag, const std::int32_t* codes, const std::int32_t* x,
                                     std::size_t count) noexcept {
  constexpr int sign_shift = P::bits - 1;
  const __m512i index_mask = _mm512_set1_epi32((1 << sign_shift) - 1), sign = _mm512_set1_epi32(1 << sign_shift);
  __m512i sum = _mm512_setzero_si512();
  std::size_t k = 0;
  for (; k + 16 <= count; k += 16) {
    const __m512i code = _mm512_loadu_si512(codes + k);
    const __m512i index = _mm512_and_si512(code, index_mask);
    __m512i shifted = _mm512_sllv_epi32(_mm512_loadu_si512(x + k), index);
    if constexpr (detail_avx512::has_indices_beyond<P>)
      shifted = _mm512_maskz_mov_epi32(_mm512_cmplt_epi32_mask(index, _mm512_set1_epi32(P::exponent_count)), shifted);
    sum = _mm512_add_epi32(sum, _mm512_mask_sub_epi32(shifted, _mm512_test_epi32_mask(code, sign),
                                                      _mm512_setzero_si512(), shifted));
  }
  auto total = static_cast<std::uint32_t>(_mm512_reduce_add_epi32(sum));
  for (; k < count; ++k) total += detail::shifted_term<P>(static_cast<std::uint32_t>(codes[k]), x[k]);
  return static_cast<std::int32_t>(total);
}

/// \brief The AVX-512 shift order: even codes then odd codes within each whole block of
/// 64 (32 packed bytes widened to 32 words), unchanged after.
constexpr std::size_t packed4_shift_position(avx512_tag, std::size_t k, std::size_t count) noexcept {
  using detail_avx512::shift_block;
  return k < count / shift_block * shift_block ? even_odd_position<shift_block>(k) : k;
}

/// \brief The fused 4-bit shift kernel on 32 int16 lanes: per 64 codes and row one
/// vpmovzxbw of 32 packed bytes; for the even codes (bits 0-3 of each word) and the odd
/// ones (bits 4-7) an index mask, vpsllvw, a vptestmw of the sign bit and a masked
/// subtract from zero; vpdpwssd by ones adds pairs of terms to int32.
template <pot_type P, std::size_t Rows>
inline void shift_packed4_rows(avx512_tag, const std::int16_t* ordered, const std::byte* first_row,
                               std::size_t row_stride, const std::byte* prefetch_rows, std::size_t count,
                               std::int32_t* out) noexcept {
  static_assert(P::bits == 4, "pot: shift_packed4_rows takes 4-bit codes");
  using detail_avx512::shift_block;
  const __m512i index_mask = _mm512_set1_epi16(7), ones = _mm512_set1_epi16(1);
  const __m512i even_sign = _mm512_set1_epi16(0x08), odd_sign = _mm512_set1_epi16(0x80);
  __m512i even_sums[Rows], odd_sums[Rows];
  for (std::size_t r = 0; r < Rows; ++r) even_sums[r] = odd_sums[r] = _mm512_setzero_si512();
  const std::size_t vector_end = count / shift_block * shift_block;
  std::size_t k = 0;
  for (; k < vector_end; k += shift_block) {
    const __m512i x_even = _mm512_loadu_si512(ordered + k), x_odd = _mm512_loadu_si512(ordered + k + 32);
#pragma GCC unroll 8
    for (std::size_t r = 0; r < Rows; ++r) {
      if ((k / 2) % 64 == 0) _mm_prefetch(reinterpret_cast<const char*>(prefetch_rows + r * row_stride + k / 2), _MM_HINT_T0);
      const __m512i words = _mm512_cvtepu8_epi16(
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(first_row + r * row_stride + k / 2)));
      const __m512i even = detail_avx512::shifted_words<P>(x_even, _mm512_and_si512(words, index_mask),
                                                           _mm512_test_epi16_mask(words, even_sign));
      const __m512i odd = detail_avx512::shifted_words<P>(
          x_odd, _mm512_and_si512(_mm512_srli_epi16(words, 4), index_mask), _mm512_test_epi16_mask(words, odd_sign));
      even_sums[r] = _mm512_dpwssd_epi32(even_sums[r], even, ones);
      odd_sums[r] = _mm512_dpwssd_epi32(odd_sums[r], odd, ones);
    }
  }
  for (std::size_t r = 0; r < Rows; ++r) {
    const std::byte* row = first_row + r * row_stride;
    auto total = static_cast<std::uint32_t>(_mm512_reduce_add_epi32(_mm512_add_epi32(even_sums[r], odd_sums[r])));
    for (std::size_t i = k; i < count; ++i) total += detail::shifted_term<P>(packed4_code(row, i), ordered[i]);
    out[r] = static_cast<std::int32_t>(total);
  }
}

}  // namespace pot::simd
POT_TARGET_END
