#pragma once
/// \file
/// \brief The AVX2 bodies of the integer dot products (simd/integer_dot.hpp): vpmaddubsw
/// for uint8 x int8, vpmaddwd for int16, and fused 4-bit kernels that decode packed
/// nibbles with vpshufb in registers.

#include <array>
#include <cstddef>
#include <cstdint>

#include "pot/simd/dispatch.hpp"
#include "pot/simd/packed4_layout.hpp"
#include "pot/simd/target.hpp"

POT_TARGET_AVX2_BEGIN
namespace pot::simd {

namespace detail_avx2 {

inline std::int32_t horizontal_sum(__m256i v) noexcept {
  const __m128i halves = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  const __m128i pairs = _mm_add_epi32(halves, _mm_shuffle_epi32(halves, 0b01'00'11'10));
  return _mm_cvtsi128_si32(_mm_add_epi32(pairs, _mm_shuffle_epi32(pairs, 0b10'11'00'01)));
}

/// Adds the uint8 x int8 products of 32 lanes to `sum`, four adjacent lanes per int32.
/// Needs |w| <= 64: vpmaddubsw saturates pairs at int16, and 2 * 255 * 64 = 32640 is the
/// largest pair sum that stays below 32767.
inline __m256i accumulate_u8s8(__m256i sum, __m256i u, __m256i w) noexcept {
  const __m256i pairs = _mm256_maddubs_epi16(u, w);
  return _mm256_add_epi32(sum, _mm256_madd_epi16(pairs, _mm256_set1_epi16(1)));
}

inline __m256i load256(const void* p) noexcept { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }

/// Prefetches the line `ahead` holds at byte `offset` of its row, once per 64 bytes (a
/// cache line) of a row. Rows are read `Rows` at a time, and several interleaved streams
/// are more than the hardware prefetcher keeps ahead of on one core: without this a
/// single thread read the weights at about half the memory bandwidth (Zen 3).
inline void prefetch_line(const std::byte* ahead, std::size_t offset) noexcept {
  if (offset % 64 == 0) _mm_prefetch(reinterpret_cast<const char*>(ahead + offset), _MM_HINT_T0);
}

/// Codes per block of the fused 4-bit kernels: one 32-byte load of packed codes.
inline constexpr std::size_t block = 64;

/// Whether code `k` of `count` lies in a whole block, where the fused kernels read
/// activations in their own order; the tail after the last whole block keeps `k`.
constexpr bool in_whole_block(std::size_t k, std::size_t count) noexcept { return k - k % block + block <= count; }

template <std::size_t Rows, bool SignHighBytes>
inline void s16_packed4_rows(const std::int16_t* ordered, const std::byte* first_row, std::size_t row_stride,
                             const std::byte* prefetch_rows, const std::array<std::int16_t, 16>& table,
                             std::size_t count, std::int32_t* out) noexcept {
  alignas(16) std::array<std::uint8_t, 16> low_bytes{}, high_bytes{};
  for (std::size_t i = 0; i < 16; ++i) {
    low_bytes[i] = static_cast<std::uint8_t>(static_cast<std::uint16_t>(table[i]) & 0xFFu);
    high_bytes[i] = static_cast<std::uint8_t>(static_cast<std::uint16_t>(table[i]) >> 8);
  }
  const __m256i low_lookup = _mm256_broadcastsi128_si256(_mm_load_si128(reinterpret_cast<const __m128i*>(low_bytes.data())));
  const __m256i high_lookup = _mm256_broadcastsi128_si256(_mm_load_si128(reinterpret_cast<const __m128i*>(high_bytes.data())));
  const __m256i low_nibbles = _mm256_set1_epi8(0x0F);
  const __m256i largest_positive_code = _mm256_set1_epi8(7);
  const auto high_byte = [&](__m256i codes) {
    if constexpr (SignHighBytes) return _mm256_cmpgt_epi8(codes, largest_positive_code);
    else return _mm256_shuffle_epi8(high_lookup, codes);
  };
  __m256i acc[Rows];  // a C array: std::array would drop __m256i's alignment attribute
  for (auto& a : acc) a = _mm256_setzero_si256();
  std::size_t k = 0;
  for (; k + block <= count; k += block) {
    const __m256i x0 = load256(ordered + k), x1 = load256(ordered + k + 16);
    const __m256i x2 = load256(ordered + k + 32), x3 = load256(ordered + k + 48);
#pragma GCC unroll 8
    for (std::size_t r = 0; r < Rows; ++r) {
      prefetch_line(prefetch_rows + r * row_stride, k / 2);
      const __m256i bytes = load256(first_row + r * row_stride + k / 2);
      const __m256i even = _mm256_and_si256(bytes, low_nibbles);
      const __m256i odd = _mm256_and_si256(_mm256_srli_epi16(bytes, 4), low_nibbles);
      const __m256i even_low = _mm256_shuffle_epi8(low_lookup, even), even_high = high_byte(even);
      const __m256i odd_low = _mm256_shuffle_epi8(low_lookup, odd), odd_high = high_byte(odd);
      acc[r] = _mm256_add_epi32(acc[r], _mm256_madd_epi16(x0, _mm256_unpacklo_epi8(even_low, even_high)));
      acc[r] = _mm256_add_epi32(acc[r], _mm256_madd_epi16(x1, _mm256_unpackhi_epi8(even_low, even_high)));
      acc[r] = _mm256_add_epi32(acc[r], _mm256_madd_epi16(x2, _mm256_unpacklo_epi8(odd_low, odd_high)));
      acc[r] = _mm256_add_epi32(acc[r], _mm256_madd_epi16(x3, _mm256_unpackhi_epi8(odd_low, odd_high)));
    }
  }
  for (std::size_t r = 0; r < Rows; ++r) {
    std::int32_t sum = horizontal_sum(acc[r]);
    const std::byte* row = first_row + r * row_stride;
    accumulate_tail(k, count, [&](std::size_t i) { return ordered[i]; },
                    [&](std::size_t i) { return table[packed4_code(row, i)]; }, sum);
    out[r] = sum;
  }
}

}  // namespace detail_avx2

/// \brief uint8 x int8 dot product over `count` elements; requires |w[k]| <= 64.
inline u8s8_dot dot_u8s8(avx2_tag, const std::uint8_t* u, const std::int8_t* w, std::size_t count) noexcept {
  using namespace detail_avx2;
  std::size_t k = 0;
  __m256i products = _mm256_setzero_si256();
  __m256i weights = _mm256_setzero_si256();
  const __m256i ones = _mm256_set1_epi8(1);
  for (; k + 32 <= count; k += 32) {
    const __m256i wv = load256(w + k);
    products = accumulate_u8s8(products, load256(u + k), wv);
    weights = accumulate_u8s8(weights, ones, wv);
  }
  u8s8_dot result{horizontal_sum(products), horizontal_sum(weights)};
  accumulate_tail(k, count, [u](std::size_t i) { return u[i]; }, [w](std::size_t i) { return w[i]; },
                  result.products, &result.weights);
  return result;
}

/// \brief int16 x int16 dot product over `count` elements (wrapping int32 sum).
inline std::int32_t dot_s16(avx2_tag, const std::int16_t* x, const std::int16_t* w, std::size_t count) noexcept {
  using namespace detail_avx2;
  std::size_t k = 0;
  __m256i sum = _mm256_setzero_si256();
  for (; k + 16 <= count; k += 16) sum = _mm256_add_epi32(sum, _mm256_madd_epi16(load256(x + k), load256(w + k)));
  std::int32_t result = horizontal_sum(sum);
  accumulate_tail(k, count, [x](std::size_t i) { return x[i]; }, [w](std::size_t i) { return w[i]; }, result);
  return result;
}

/// \brief The AVX2 uint8 order: in each whole block of 64 codes (32 bytes), the even
/// codes (low nibbles) then the odd ones; unchanged after the last whole block.
constexpr std::size_t packed4_u8_position(avx2_tag, std::size_t k, std::size_t count) noexcept {
  return detail_avx2::in_whole_block(k, count) ? even_odd_position<detail_avx2::block>(k) : k;
}

/// \brief The AVX2 int16 order: permuted within each whole block of 64, unchanged after.
///
/// The kernel decodes the low nibbles of 32 bytes (the even codes) and the high nibbles
/// (the odd codes) separately, and vpunpcklbw / vpunpckhbw widen bytes 0-7 | 16-23 and
/// 8-15 | 24-31 of each to int16. Putting the activations in that order once, rather than
/// the weights back in stream order for every row, saves four shuffles per 64 weights.
constexpr std::size_t packed4_s16_position(avx2_tag, std::size_t k, std::size_t count) noexcept {
  if (!detail_avx2::in_whole_block(k, count)) return k;
  const std::size_t code = k % detail_avx2::block;
  const std::size_t byte = code / 2, nibble = code % 2;
  const std::size_t lane = byte / 16, half = (byte % 16) / 8;
  return k - code + (2 * nibble + half) * 16 + lane * 8 + byte % 8;
}

/// \brief The largest exponent range the uint8 x int8 4-bit kernel of this body takes:
/// vpmaddubsw saturates a pair of products beyond 32767, which 2 * 255 * 64 stays below.
constexpr int u8_packed4_max_range(avx2_tag) noexcept { return 6; }

/// \brief `Rows` uint8 x 4-bit-code dot products: `out[r] = sum_k (u[k] - zero_point) *
/// weights[code_rk] = sum_k u[k] weights[code_rk] - zero_point * weight_sums[r]`, for
/// |weight| <= 64.
///
/// Per 64 weights and row: one load, two masks and a shift for the nibbles, two vpshufb
/// decodes, two vpmaddubsw (u times w in int16 pairs, exact because each pair is at
/// most 2 * 255 * 64 = 32640 in magnitude) and two vpmaddwd to int32. The zero point
/// costs one multiply per row through the row's sum of weights. The rows share every
/// activation load; `prefetch_rows` points at rows read later (same stride), whose lines
/// are prefetched.
template <std::size_t Rows, bool CorrectsTop = false>
inline void dot_u8_packed4_rows(avx2_tag, const std::uint8_t* ordered, std::int32_t zero_point,
                                const std::int32_t* weight_sums, const std::byte* first_row, std::size_t row_stride,
                                const std::byte* prefetch_rows, const u8_packed4_tables& tables, std::size_t count,
                                std::int32_t* out) noexcept {
  static_assert(!CorrectsTop, "pot: the AVX2 uint8 x int8 kernel takes exponent ranges up to 6");
  using namespace detail_avx2;
  const __m256i lookup =
      _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(tables.weights.data())));
  const __m256i low_nibbles = _mm256_set1_epi8(0x0F);
  const __m256i ones = _mm256_set1_epi16(1);
  __m256i acc[Rows];  // a C array: std::array would drop __m256i's alignment attribute
  for (auto& a : acc) a = _mm256_setzero_si256();
  std::size_t k = 0;
  for (; k + block <= count; k += block) {
    const __m256i u_even = load256(ordered + k), u_odd = load256(ordered + k + 32);
#pragma GCC unroll 8
    for (std::size_t r = 0; r < Rows; ++r) {
      prefetch_line(prefetch_rows + r * row_stride, k / 2);
      const __m256i bytes = load256(first_row + r * row_stride + k / 2);
      const __m256i even = _mm256_shuffle_epi8(lookup, _mm256_and_si256(bytes, low_nibbles));
      const __m256i odd = _mm256_shuffle_epi8(lookup, _mm256_and_si256(_mm256_srli_epi16(bytes, 4), low_nibbles));
      acc[r] = _mm256_add_epi32(acc[r], _mm256_madd_epi16(_mm256_maddubs_epi16(u_even, even), ones));
      acc[r] = _mm256_add_epi32(acc[r], _mm256_madd_epi16(_mm256_maddubs_epi16(u_odd, odd), ones));
    }
  }
  for (std::size_t r = 0; r < Rows; ++r) {
    // sum u w over every k (the vector part, then the tail), less z times the row's sum.
    std::int32_t sum = wrapping_add(horizontal_sum(acc[r]), -std::int64_t{zero_point} * weight_sums[r]);
    const std::byte* row = first_row + r * row_stride;
    accumulate_tail(k, count, [&](std::size_t i) { return std::int32_t{ordered[i]}; },
                    [&](std::size_t i) { return tables.weights[packed4_code(row, i)]; }, sum);
    out[r] = sum;
  }
}

/// \brief `Rows` int16 x 4-bit-code dot products sharing one activation vector:
/// `out[r] = sum_k x[k] * table[code_rk]`, `ordered` holding x in the order of
/// packed4_s16_position().
///
/// Per 64 weights and row: one 32-byte load, two masks and a shift for the nibbles, two
/// vpshufb for the low bytes of the int16 weights and two more for the high bytes (two
/// vpcmpgtb when every high byte is the code's sign, see high_bytes_are_code_sign(): the
/// compare runs on any ALU port, vpshufb only on the busiest), four vpunpck to form
/// them, four vpmaddwd. Each row keeps its own accumulator, reduced once at the end.
template <std::size_t Rows>
inline void dot_s16_packed4_rows(avx2_tag, const std::int16_t* ordered, const std::byte* first_row,
                                 std::size_t row_stride, const std::byte* prefetch_rows,
                                 const std::array<std::int16_t, 16>& table, std::size_t count, std::int32_t* out) noexcept {
  if (high_bytes_are_code_sign(table))
    detail_avx2::s16_packed4_rows<Rows, true>(ordered, first_row, row_stride, prefetch_rows, table, count, out);
  else
    detail_avx2::s16_packed4_rows<Rows, false>(ordered, first_row, row_stride, prefetch_rows, table, count, out);
}

}  // namespace pot::simd
POT_TARGET_END
