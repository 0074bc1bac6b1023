#pragma once
/// \file
/// \brief The AVX2 bodies of the literal PoT dot product (simd/shift_accumulate.hpp):
/// vpsllvd on int32 lanes (AVX2 has no 16-bit variable shift), the sign applied as
/// `(t ^ m) - m` with an all-ones mask `m` for negative weights.

#include <cstddef>
#include <cstdint>

#include "pot/core/traits.hpp"
#include "pot/simd/dispatch.hpp"
#include "pot/simd/packed4_layout.hpp"
#include "pot/simd/portable/shift_accumulate.hpp"
#include "pot/simd/target.hpp"

POT_TARGET_AVX2_BEGIN
namespace pot::simd {

namespace detail_avx2 {

inline std::int32_t sum_lanes(__m256i v) noexcept {
  const __m128i halves = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  const __m128i pairs = _mm_add_epi32(halves, _mm_shuffle_epi32(halves, 0b01'00'11'10));
  return _mm_cvtsi128_si32(_mm_add_epi32(pairs, _mm_shuffle_epi32(pairs, 0b10'11'00'01)));
}

/// The signed term of 8 lanes: x shifted by each code's exponent index, negated where the
/// sign bit is set, 0 where the index is beyond the exponents (the zero code, or a code
/// no value has). `codes` holds one code per int32 lane (bits above the code ignored).
template <pot_type P>
inline __m256i shifted_terms(__m256i codes, __m256i x) noexcept {
  constexpr int sign_shift = P::bits - 1;
  const __m256i index = _mm256_and_si256(codes, _mm256_set1_epi32((1 << sign_shift) - 1));
  __m256i shifted = _mm256_sllv_epi32(x, index);
  if constexpr ((1 << sign_shift) > P::exponent_count)  // indices beyond the exponents exist
    shifted = _mm256_andnot_si256(_mm256_cmpgt_epi32(index, _mm256_set1_epi32(P::exponent_count - 1)), shifted);
  const __m256i negative = _mm256_srai_epi32(_mm256_slli_epi32(codes, 31 - sign_shift), 31);
  return _mm256_sub_epi32(_mm256_xor_si256(shifted, negative), negative);
}

inline constexpr std::size_t shift_block = 16;  // codes per 8-byte load

}  // namespace detail_avx2

/// \brief `sum_k x[k] * sign_k * 2^(index_k)` over codes stored one per int32.
template <pot_type P>
inline std::int32_t shift_accumulate(avx2_tag, const std::int32_t* codes, const std::int32_t* x,
                                     std::size_t count) noexcept {
  __m256i sum = _mm256_setzero_si256();
  std::size_t k = 0;
  for (; k + 8 <= count; k += 8)
    sum = _mm256_add_epi32(sum, detail_avx2::shifted_terms<P>(
                                    _mm256_loadu_si256(reinterpret_cast<const __m256i*>(codes + k)),
                                    _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + k))));
  auto total = static_cast<std::uint32_t>(detail_avx2::sum_lanes(sum));
  for (; k < count; ++k) total += detail::shifted_term<P>(static_cast<std::uint32_t>(codes[k]), x[k]);
  return static_cast<std::int32_t>(total);
}

/// \brief The AVX2 shift order: even codes then odd codes within each whole block of 16
/// (8 packed bytes widened to 8 int32 lanes), unchanged after.
constexpr std::size_t packed4_shift_position(avx2_tag, std::size_t k, std::size_t count) noexcept {
  return k < count / detail_avx2::shift_block * detail_avx2::shift_block
             ? even_odd_position<detail_avx2::shift_block>(k) : k;
}

/// \brief The fused 4-bit shift kernel on 8 int32 lanes: per 16 codes one vpmovzxbd of 8
/// packed bytes, then for the even codes (bits 0-3 of each lane) and the odd codes (bits
/// 4-7) an index mask, vpsllvd, the sign mask and a conditional negate.
template <pot_type P, std::size_t Rows>
inline void shift_packed4_rows(avx2_tag, const std::int16_t* ordered, const std::byte* first_row,
                               std::size_t row_stride, const std::byte* prefetch_rows, std::size_t count,
                               std::int32_t* out) noexcept {
  static_assert(P::bits == 4, "pot: shift_packed4_rows takes 4-bit codes");
  using detail_avx2::shift_block;
  __m256i acc[Rows];
  for (auto& a : acc) a = _mm256_setzero_si256();
  const std::size_t vector_end = count / shift_block * shift_block;
  std::size_t k = 0;
  for (; k < vector_end; k += shift_block) {
    const __m256i x_even = _mm256_cvtepi16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(ordered + k)));
    const __m256i x_odd = _mm256_cvtepi16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(ordered + k + 8)));
#pragma GCC unroll 8
    for (std::size_t r = 0; r < Rows; ++r) {
      if ((k / 2) % 64 == 0) _mm_prefetch(reinterpret_cast<const char*>(prefetch_rows + r * row_stride + k / 2), _MM_HINT_T0);
      const __m256i bytes =
          _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(first_row + r * row_stride + k / 2)));
      acc[r] = _mm256_add_epi32(acc[r], detail_avx2::shifted_terms<P>(bytes, x_even));
      acc[r] = _mm256_add_epi32(acc[r], detail_avx2::shifted_terms<P>(_mm256_srli_epi32(bytes, 4), x_odd));
    }
  }
  for (std::size_t r = 0; r < Rows; ++r) {
    const std::byte* row = first_row + r * row_stride;
    auto total = static_cast<std::uint32_t>(detail_avx2::sum_lanes(acc[r]));
    for (std::size_t i = k; i < count; ++i) total += detail::shifted_term<P>(packed4_code(row, i), ordered[i]);
    out[r] = static_cast<std::int32_t>(total);
  }
}

}  // namespace pot::simd
POT_TARGET_END
