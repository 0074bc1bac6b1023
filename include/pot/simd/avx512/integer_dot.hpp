#pragma once
/// \file
/// \brief The AVX-512 bodies of the integer dot products (simd/integer_dot.hpp): vpdpbusd
/// for uint8 x int8 and vpdpwssd for int16 (AVX-512 VNNI) on 512-bit registers, and
/// fused 4-bit kernels that decode packed nibbles in registers: vpshufb to int8 weights,
/// or vpermw, a lookup of 16-bit words, to int16 weights.

#include <array>
#include <cstddef>
#include <cstdint>

#include "pot/simd/dispatch.hpp"
#include "pot/simd/packed4_layout.hpp"
#include "pot/simd/target.hpp"

POT_TARGET_AVX512_BEGIN
namespace pot::simd {

namespace detail_avx512 {

inline __m512i load512(const void* p) noexcept { return _mm512_loadu_si512(p); }
inline __m256i load256(const void* p) noexcept { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }

inline std::int32_t horizontal_sum(__m256i v) noexcept {
  const __m128i halves = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  const __m128i pairs = _mm_add_epi32(halves, _mm_shuffle_epi32(halves, 0b01'00'11'10));
  return _mm_cvtsi128_si32(_mm_add_epi32(pairs, _mm_shuffle_epi32(pairs, 0b10'11'00'01)));
}

/// Prefetches the line at `ahead + offset` into L2 once per line: L2's larger queue of
/// outstanding misses keeps more of a streamed matrix in flight than L1's fill buffers.
inline void prefetch_line(const std::byte* ahead, std::size_t offset) noexcept {
  if (offset % 64 == 0) _mm_prefetch(reinterpret_cast<const char*>(ahead + offset), _MM_HINT_T1);
}

/// The uint8 kernel's blocks: 128 codes (one 64-byte load) while whole ones remain, then
/// at most one block of 64 (a 32-byte load, on ymm registers), then single codes.
inline constexpr std::size_t wide_block = 128, narrow_block = 64;

constexpr std::size_t wide_end(std::size_t count) noexcept { return count / wide_block * wide_block; }
constexpr std::size_t narrow_end(std::size_t count) noexcept {
  return wide_end(count) + (count - wide_end(count)) / narrow_block * narrow_block;
}

}  // namespace detail_avx512

/// \brief uint8 x int8 dot product over `count` elements (vpdpbusd: exact for any int8 w).
inline u8s8_dot dot_u8s8(avx512_tag, const std::uint8_t* u, const std::int8_t* w, std::size_t count) noexcept {
  using namespace detail_avx512;
  std::size_t k = 0;
  __m512i products = _mm512_setzero_si512(), weights = _mm512_setzero_si512();
  const __m512i ones = _mm512_set1_epi8(1);
  for (; k + 64 <= count; k += 64) {
    const __m512i wv = load512(w + k);
    products = _mm512_dpbusd_epi32(products, load512(u + k), wv);
    weights = _mm512_dpbusd_epi32(weights, ones, wv);
  }
  u8s8_dot result{_mm512_reduce_add_epi32(products), _mm512_reduce_add_epi32(weights)};
  accumulate_tail(k, count, [u](std::size_t i) { return u[i]; }, [w](std::size_t i) { return w[i]; },
                  result.products, &result.weights);
  return result;
}

/// \brief int16 x int16 dot product over `count` elements (vpdpwssd, wrapping int32 sum).
inline std::int32_t dot_s16(avx512_tag, const std::int16_t* x, const std::int16_t* w, std::size_t count) noexcept {
  using namespace detail_avx512;
  std::size_t k = 0;
  __m512i sum = _mm512_setzero_si512();
  for (; k + 32 <= count; k += 32) sum = _mm512_dpwssd_epi32(sum, load512(x + k), load512(w + k));
  std::int32_t result = _mm512_reduce_add_epi32(sum);
  accumulate_tail(k, count, [x](std::size_t i) { return x[i]; }, [w](std::size_t i) { return w[i]; }, result);
  return result;
}

/// \brief The AVX-512 uint8 order: even codes then odd codes within each whole block of
/// 128, then within one whole block of 64, then unchanged.
constexpr std::size_t packed4_u8_position(avx512_tag, std::size_t k, std::size_t count) noexcept {
  using namespace detail_avx512;
  if (k < wide_end(count)) return even_odd_position<wide_block>(k);
  if (k < narrow_end(count)) return even_odd_position<narrow_block>(k);
  return k;
}

/// \brief The AVX-512 int16 order: even codes then odd codes within each whole block of
/// 64 (vpmovzxbw widens 32 packed bytes to words in stream order), then unchanged.
constexpr std::size_t packed4_s16_position(avx512_tag, std::size_t k, std::size_t count) noexcept {
  using namespace detail_avx512;
  return k < count / narrow_block * narrow_block ? even_odd_position<narrow_block>(k) : k;
}

/// \brief The largest exponent range the uint8 x int8 4-bit kernel of this body takes:
/// vpdpbusd sums u8 x s8 products exactly in int32, and +128 is corrected.
constexpr int u8_packed4_max_range(avx512_tag) noexcept { return 7; }

/// \brief `Rows` uint8 x 4-bit-code dot products: `out[r] = sum_k (u[k] - zero_point) *
/// w_rk` for the weights w of `tables`, `weight_sums[r]` holding `sum_k w_rk`.
///
/// Per 128 weights and row: one 64-byte load, two masks and a shift for the nibbles, two
/// vpshufb decodes and two vpdpbusd for `sum u w` (vpdpbusd sums u8 x s8 products exactly
/// in int32, so any int8 weight works, unlike vpmaddubsw's saturating pairs); the zero
/// point costs one multiply per row, `- zero_point * weight_sums[r]`. With `CorrectsTop`
/// (rows holding a weight +128, which `tables.weights` stores as -128), two more vpshufb
/// of `tables.top` and two vpdpbusd sum u over those weights, and 256 times that sum is
/// added back. The rows share every activation load; `prefetch_rows` points at rows
/// read later (same stride), whose lines are prefetched into L2.
template <std::size_t Rows, bool CorrectsTop = false>
inline void dot_u8_packed4_rows(avx512_tag, const std::uint8_t* ordered, std::int32_t zero_point,
                                const std::int32_t* weight_sums, const std::byte* first_row, std::size_t row_stride,
                                const std::byte* prefetch_rows, const u8_packed4_tables& tables, std::size_t count,
                                std::int32_t* out) noexcept {
  using namespace detail_avx512;
  const __m128i weights128 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(tables.weights.data()));
  const __m128i top128 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(tables.top.data()));
  const __m512i lookup = _mm512_broadcast_i32x4(weights128), top_lookup = _mm512_broadcast_i32x4(top128);
  const __m512i low_nibbles = _mm512_set1_epi8(0x0F);
  __m512i products[Rows], tops[Rows];
  for (std::size_t r = 0; r < Rows; ++r) products[r] = tops[r] = _mm512_setzero_si512();
  std::size_t k = 0;
  for (; k < wide_end(count); k += wide_block) {
    const __m512i u_even = load512(ordered + k), u_odd = load512(ordered + k + 64);
#pragma GCC unroll 8
    for (std::size_t r = 0; r < Rows; ++r) {
      prefetch_line(prefetch_rows + r * row_stride, k / 2);
      const __m512i bytes = load512(first_row + r * row_stride + k / 2);
      const __m512i low = _mm512_and_si512(bytes, low_nibbles);
      const __m512i high = _mm512_and_si512(_mm512_srli_epi16(bytes, 4), low_nibbles);
      products[r] = _mm512_dpbusd_epi32(products[r], u_even, _mm512_shuffle_epi8(lookup, low));
      products[r] = _mm512_dpbusd_epi32(products[r], u_odd, _mm512_shuffle_epi8(lookup, high));
      if constexpr (CorrectsTop) {
        tops[r] = _mm512_dpbusd_epi32(tops[r], u_even, _mm512_shuffle_epi8(top_lookup, low));
        tops[r] = _mm512_dpbusd_epi32(tops[r], u_odd, _mm512_shuffle_epi8(top_lookup, high));
      }
    }
  }
  if (k < narrow_end(count)) {
    const __m256i lookup256 = _mm256_broadcastsi128_si256(weights128), top256 = _mm256_broadcastsi128_si256(top128);
    const __m256i low256 = _mm256_set1_epi8(0x0F);
    const __m256i u_even = load256(ordered + k), u_odd = load256(ordered + k + 32);
    for (std::size_t r = 0; r < Rows; ++r) {
      const __m256i bytes = load256(first_row + r * row_stride + k / 2);
      const __m256i low = _mm256_and_si256(bytes, low256);
      const __m256i high = _mm256_and_si256(_mm256_srli_epi16(bytes, 4), low256);
      __m256i product = _mm256_dpbusd_epi32(_mm256_setzero_si256(), u_even, _mm256_shuffle_epi8(lookup256, low));
      product = _mm256_dpbusd_epi32(product, u_odd, _mm256_shuffle_epi8(lookup256, high));
      products[r] = _mm512_add_epi32(products[r], _mm512_zextsi256_si512(product));
      if constexpr (CorrectsTop) {
        __m256i top = _mm256_dpbusd_epi32(_mm256_setzero_si256(), u_even, _mm256_shuffle_epi8(top256, low));
        top = _mm256_dpbusd_epi32(top, u_odd, _mm256_shuffle_epi8(top256, high));
        tops[r] = _mm512_add_epi32(tops[r], _mm512_zextsi256_si512(top));
      }
    }
    k += narrow_block;
  }
  for (std::size_t r = 0; r < Rows; ++r) {
    // sum u w over every k (vectors, then the tail with the true weights), plus 256 u per
    // wrapped +128, less z times the row's sum of true weights.
    auto sum = static_cast<std::uint32_t>(_mm512_reduce_add_epi32(products[r]));
    if constexpr (CorrectsTop) sum += 256u * static_cast<std::uint32_t>(_mm512_reduce_add_epi32(tops[r]));
    std::int32_t total = wrapping_add(static_cast<std::int32_t>(sum), -std::int64_t{zero_point} * weight_sums[r]);
    const std::byte* row = first_row + r * row_stride;
    accumulate_tail(k, count, [&](std::size_t i) { return std::int32_t{ordered[i]}; },
                    [&](std::size_t i) {
                      const unsigned code = packed4_code(row, i);
                      return std::int32_t{tables.weights[code]} + 256 * std::int32_t{tables.top[code]};
                    },
                    total);
    out[r] = total;
  }
}

/// \brief `Rows` int16 x 4-bit-code dot products sharing one activation vector:
/// `out[r] = sum_k x[k] * table[code_rk]`, `ordered` holding x in the order of
/// packed4_s16_position().
///
/// Per 64 weights and row: vpmovzxbw widens 32 packed bytes to 32 words (each holding
/// an even code in bits 0-3 and an odd code in bits 4-7), a mask and a shift isolate the
/// two codes, two vpermw look the int16 weights up in the 16-word table (any int16
/// table, the ±128 of pot<4, 0, 7> included), two vpdpwssd multiply and add to int32.
/// Two accumulators per row keep the vpdpwssd chains short.
template <std::size_t Rows>
inline void dot_s16_packed4_rows(avx512_tag, const std::int16_t* ordered, const std::byte* first_row,
                                 std::size_t row_stride, const std::byte* prefetch_rows,
                                 const std::array<std::int16_t, 16>& table, std::size_t count, std::int32_t* out) noexcept {
  using namespace detail_avx512;
  const __m512i lookup = _mm512_broadcast_i64x4(load256(table.data()));  // words 16-31 repeat 0-15
  const __m512i low_nibbles = _mm512_set1_epi16(0x0F);
  __m512i even_sums[Rows], odd_sums[Rows];
  for (std::size_t r = 0; r < Rows; ++r) even_sums[r] = odd_sums[r] = _mm512_setzero_si512();
  const std::size_t vector_end = count / narrow_block * narrow_block;
  std::size_t k = 0;
  for (; k < vector_end; k += narrow_block) {
    const __m512i x_even = load512(ordered + k), x_odd = load512(ordered + k + 32);
#pragma GCC unroll 8
    for (std::size_t r = 0; r < Rows; ++r) {
      prefetch_line(prefetch_rows + r * row_stride, k / 2);
      const __m512i bytes = _mm512_cvtepu8_epi16(load256(first_row + r * row_stride + k / 2));
      const __m512i even = _mm512_permutexvar_epi16(_mm512_and_si512(bytes, low_nibbles), lookup);
      const __m512i odd = _mm512_permutexvar_epi16(_mm512_srli_epi16(bytes, 4), lookup);
      even_sums[r] = _mm512_dpwssd_epi32(even_sums[r], x_even, even);
      odd_sums[r] = _mm512_dpwssd_epi32(odd_sums[r], x_odd, odd);
    }
  }
  for (std::size_t r = 0; r < Rows; ++r) {
    std::int32_t sum = _mm512_reduce_add_epi32(_mm512_add_epi32(even_sums[r], odd_sums[r]));
    const std::byte* row = first_row + r * row_stride;
    accumulate_tail(k, count, [&](std::size_t i) { return ordered[i]; },
                    [&](std::size_t i) { return table[packed4_code(row, i)]; }, sum);
    out[r] = sum;
  }
}

}  // namespace pot::simd
POT_TARGET_END
