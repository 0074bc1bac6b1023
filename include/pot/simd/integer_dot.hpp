#pragma once
/// \file
/// \brief Integer dot products over table-decoded PoT weights: uint8 x int8 (vpmaddubsw,
/// or vpdpbusd with AVX-512 VNNI), int16 x int16 (vpmaddwd, or vpdpwssd), and fused
/// 4-bit variants that decode packed nibbles with vpshufb in registers.
///
/// The instruction set is chosen at compile time from the target macros; without AVX2
/// the portable loops below are used (and the compiler vectorizes them as it can). Every
/// variant returns the same integer: sums wrap modulo 2^32 as the vector instructions do,
/// and the callers bound K so that the exact result fits in int32.

#include <array>
#include <cstddef>
#include <cstdint>

#include "pot/simd/intrinsics.hpp"

namespace pot::simd {

/// \brief `sum u[k] * w[k]` and `sum w[k]` of one uint8 x int8 dot product.
struct u8s8_dot {
  std::int32_t products = 0;  ///< sum of u[k] * w[k]
  std::int32_t weights = 0;   ///< sum of w[k], to subtract zero_point * weights
};

namespace detail {

/// Wrapping int32 addition (two's complement, like vpaddd).
constexpr std::int32_t wrapping_add(std::int32_t a, std::int64_t b) noexcept {
  return static_cast<std::int32_t>(static_cast<std::uint32_t>(a) + static_cast<std::uint32_t>(b));
}

#if defined(__AVX2__)
inline std::int32_t horizontal_sum(__m256i v) noexcept {
  const __m128i halves = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  const __m128i pairs = _mm_add_epi32(halves, _mm_shuffle_epi32(halves, 0b01'00'11'10));
  return _mm_cvtsi128_si32(_mm_add_epi32(pairs, _mm_shuffle_epi32(pairs, 0b10'11'00'01)));
}

/// Adds the uint8 x int8 products of 32 lanes to `sum`, four adjacent lanes per int32.
/// Needs |w| <= 64 without VNNI: vpmaddubsw saturates pairs at int16, and
/// 2 * 255 * 64 = 32640 is the largest pair sum that stays below 32767.
inline __m256i accumulate_u8s8(__m256i sum, __m256i u, __m256i w) noexcept {
#if defined(__AVX512VNNI__) && defined(__AVX512VL__)
  return _mm256_dpbusd_epi32(sum, u, w);
#else
  const __m256i pairs = _mm256_maddubs_epi16(u, w);
  return _mm256_add_epi32(sum, _mm256_madd_epi16(pairs, _mm256_set1_epi16(1)));
#endif
}

inline __m256i accumulate_s16(__m256i sum, __m256i x, __m256i w) noexcept {
#if defined(__AVX512VNNI__) && defined(__AVX512VL__)
  return _mm256_dpwssd_epi32(sum, x, w);
#else
  return _mm256_add_epi32(sum, _mm256_madd_epi16(x, w));
#endif
}

inline __m256i load256(const void* p) noexcept {
  return _mm256_loadu_si256(static_cast<const __m256i*>(p));
}

/// The 32 codes of 16 packed bytes in stream order (byte i holds codes 2i in its low
/// nibble and 2i+1 in its high nibble), one code per byte.
inline __m256i unpack_nibbles(const std::byte* packed) noexcept {
  const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(packed));
  const __m128i low_nibbles = _mm_set1_epi8(0x0F);
  const __m128i low = _mm_and_si128(bytes, low_nibbles);
  const __m128i high = _mm_and_si128(_mm_srli_epi16(bytes, 4), low_nibbles);
  return _mm256_set_m128i(_mm_unpackhi_epi8(low, high), _mm_unpacklo_epi8(low, high));
}
#endif

/// Code `k` of a row of 4-bit codes packed two per byte, low nibble first.
inline unsigned packed4_code(const std::byte* packed, std::size_t k) noexcept {
  const unsigned byte = std::to_integer<unsigned>(packed[k / 2]);
  return (k % 2 == 0 ? byte : byte >> 4) & 0x0Fu;
}

/// The scalar loop every kernel finishes with (and runs whole without AVX2): adds
/// `activation(k) * weight(k)` over [first, count) to `products` and `weight(k)` to
/// `weights` (when given), wrapping like the vector sums.
template <class Activation, class Weight>
inline void accumulate_tail(std::size_t first, std::size_t count, Activation activation,
                            Weight weight, std::int32_t& products,
                            std::int32_t* weights = nullptr) noexcept {
  for (std::size_t k = first; k < count; ++k) {
    const std::int32_t w = weight(k);
    products = wrapping_add(products, std::int64_t{activation(k)} * w);
    if (weights != nullptr) *weights = wrapping_add(*weights, w);
  }
}

}  // namespace detail

/// \brief uint8 x int8 dot product over `count` elements; requires |w[k]| <= 64.
inline u8s8_dot dot_u8s8(const std::uint8_t* u, const std::int8_t* w, std::size_t count) noexcept {
  std::size_t k = 0;
  u8s8_dot result;
#if defined(__AVX2__)
  __m256i products = _mm256_setzero_si256();
  __m256i weights = _mm256_setzero_si256();
  const __m256i ones = _mm256_set1_epi8(1);
  for (; k + 32 <= count; k += 32) {
    const __m256i wv = detail::load256(w + k);
    products = detail::accumulate_u8s8(products, detail::load256(u + k), wv);
    weights = detail::accumulate_u8s8(weights, ones, wv);
  }
  result.products = detail::horizontal_sum(products);
  result.weights = detail::horizontal_sum(weights);
#endif
  detail::accumulate_tail(k, count, [u](std::size_t i) { return u[i]; },
                          [w](std::size_t i) { return w[i]; }, result.products, &result.weights);
  return result;
}

/// \brief int16 x int16 dot product over `count` elements (wrapping int32 sum).
inline std::int32_t dot_s16(const std::int16_t* x, const std::int16_t* w, std::size_t count) noexcept {
  std::size_t k = 0;
  std::int32_t result = 0;
#if defined(__AVX2__)
  __m256i sum = _mm256_setzero_si256();
  for (; k + 16 <= count; k += 16)
    sum = detail::accumulate_s16(sum, detail::load256(x + k), detail::load256(w + k));
  result = detail::horizontal_sum(sum);
#endif
  detail::accumulate_tail(k, count, [x](std::size_t i) { return x[i]; },
                          [w](std::size_t i) { return w[i]; }, result);
  return result;
}

/// \brief Codes per block of the fused 4-bit kernels: one 32-byte load of packed codes.
inline constexpr std::size_t packed4_block = 64;

namespace detail {

/// Whether code `k` of `count` lies in a whole block of 64, where the fused 4-bit kernels
/// read activations in their own order; the tail after the last whole block keeps `k`.
constexpr bool in_whole_packed4_block(std::size_t k, std::size_t count) noexcept {
  return k - k % packed4_block + packed4_block <= count;
}

/// Prefetches the line `ahead` holds at byte `offset` of its row, once per 64 bytes (a
/// cache line) of a row. Rows are read `Rows` at a time, and several interleaved streams
/// are more than the hardware prefetcher keeps ahead of on one core: without this a
/// single thread reads the weights at about half the memory bandwidth.
inline void prefetch_packed4(const std::byte* ahead, std::size_t offset) noexcept {
#if defined(__AVX2__)
  if (offset % 64 == 0) _mm_prefetch(reinterpret_cast<const char*>(ahead + offset), _MM_HINT_T0);
#else
  (void)ahead;
  (void)offset;
#endif
}

}  // namespace detail

/// \brief Where activation `k` of a dot product over `count` 4-bit codes goes in the order
/// dot_u8_packed4_rows() reads: in each whole block of 64, the even codes (low nibbles of
/// the block's 32 bytes) then the odd ones; unchanged after the last whole block.
///
/// The kernel masks the low and the high nibbles of 32 bytes into two vectors of 32
/// codes; ordering the activations the same way once per call spares every row the
/// shuffles that would put the weights back in stream order.
constexpr std::size_t packed4_u8_position(std::size_t k, std::size_t count) noexcept {
  if (!detail::in_whole_packed4_block(k, count)) return k;
  const std::size_t code = k % packed4_block;
  return k - code + (code % 2) * 32 + code / 2;
}

/// \brief `Rows` uint8 x 4-bit-code dot products with the zero point inside:
/// `out[r] = sum_k (u[k] - zero_point) * table[code_rk]` for the rows starting at
/// `first_row + r * row_stride`, each holding `count` codes two per byte, low nibble
/// first; sums wrap modulo 2^32 like the vector instructions.
///
/// `ordered` holds u in the order of packed4_u8_position(); `table` is 16 int8 weights
/// with |value| <= 64 and `zero_point` is in [0, 255]. Per 64 weights and row: one load,
/// two masks and a shift for the nibbles, two vpshufb decodes, then per 32 weights
/// vpmaddubsw(u, w) - vpmaddubsw(zero_point, w), exact in int16 because each pair is
/// at most 2 * 255 * 64 = 32640 in magnitude, and one vpmaddwd to int32. `prefetch_rows`
/// points at rows read later (with the same stride); their lines are prefetched.
template <std::size_t Rows>
inline void dot_u8_packed4_rows(const std::uint8_t* ordered, std::int32_t zero_point,
                                const std::byte* first_row, std::size_t row_stride,
                                const std::byte* prefetch_rows, const std::array<std::int8_t, 16>& table,
                                std::size_t count, std::int32_t* out) noexcept {
  std::size_t k = 0;
  std::array<std::int32_t, Rows> sums{};
#if defined(__AVX2__)
  const __m256i lookup = _mm256_broadcastsi128_si256(
      _mm_loadu_si128(reinterpret_cast<const __m128i*>(table.data())));
  const __m256i low_nibbles = _mm256_set1_epi8(0x0F);
  const __m256i zero_points = _mm256_set1_epi8(static_cast<char>(zero_point));
  const __m256i ones = _mm256_set1_epi16(1);
  __m256i acc[Rows];  // a C array: std::array would drop __m256i's alignment attribute
  for (auto& a : acc) a = _mm256_setzero_si256();
  const auto centered_pairs = [&](__m256i u, __m256i w) {
    return _mm256_sub_epi16(_mm256_maddubs_epi16(u, w), _mm256_maddubs_epi16(zero_points, w));
  };
  for (; k + packed4_block <= count; k += packed4_block) {
    const __m256i u_even = detail::load256(ordered + k), u_odd = detail::load256(ordered + k + 32);
#pragma GCC unroll 8
    for (std::size_t r = 0; r < Rows; ++r) {
      detail::prefetch_packed4(prefetch_rows + r * row_stride, k / 2);
      const __m256i bytes = detail::load256(first_row + r * row_stride + k / 2);
      const __m256i even = _mm256_shuffle_epi8(lookup, _mm256_and_si256(bytes, low_nibbles));
      const __m256i odd = _mm256_shuffle_epi8(lookup, _mm256_and_si256(_mm256_srli_epi16(bytes, 4), low_nibbles));
      acc[r] = _mm256_add_epi32(acc[r], _mm256_madd_epi16(centered_pairs(u_even, even), ones));
      acc[r] = _mm256_add_epi32(acc[r], _mm256_madd_epi16(centered_pairs(u_odd, odd), ones));
    }
  }
  for (std::size_t r = 0; r < Rows; ++r) sums[r] = detail::horizontal_sum(acc[r]);
#else
  (void)prefetch_rows;
#endif
  for (std::size_t r = 0; r < Rows; ++r) {
    const std::byte* row = first_row + r * row_stride;
    detail::accumulate_tail(k, count,
                            [&](std::size_t i) { return std::int32_t{ordered[packed4_u8_position(i, count)]} - zero_point; },
                            [&](std::size_t i) { return table[detail::packed4_code(row, i)]; }, sums[r]);
    out[r] = sums[r];
  }
}

/// \brief Where activation `k` of a dot product over `count` 4-bit codes goes in the order
/// dot_s16_packed4_rows() reads: permuted within each whole block of 64, unchanged after.
///
/// The kernel decodes the low nibbles of 32 bytes (the even codes) and the high nibbles
/// (the odd codes) separately, and vpunpcklbw / vpunpckhbw widen bytes 0-7 | 16-23 and
/// 8-15 | 24-31 of each to int16. Putting the activations in that order once, rather than
/// the weights back in stream order for every row, saves four shuffles per 64 weights.
constexpr std::size_t packed4_s16_position(std::size_t k, std::size_t count) noexcept {
  if (!detail::in_whole_packed4_block(k, count)) return k;
  const std::size_t code = k % packed4_block;
  const std::size_t byte = code / 2, nibble = code % 2;
  const std::size_t lane = byte / 16, half = (byte % 16) / 8;
  return k - code + (2 * nibble + half) * 16 + lane * 8 + byte % 8;
}

/// \brief Whether the high byte of every int16 weight in `table` is the sign of its code,
/// 0xFF for codes 8 to 15 and 0x00 for codes 0 to 7: then dot_s16_packed4_rows() forms
/// high bytes with a compare instead of a second table lookup.
///
/// True for every 4-bit format the int16 kernel serves (range 7: weights ±1 ... ±128,
/// the sign in the code's top bit), false for an arbitrary table.
constexpr bool high_bytes_are_code_sign(const std::array<std::int16_t, 16>& table) noexcept {
  for (std::size_t code = 0; code < table.size(); ++code) {
    const bool negative = code >= 8;
    if (table[code] < (negative ? -256 : 0) || table[code] > (negative ? -1 : 255)) return false;
  }
  return true;
}

/// \brief Writes `x` into `ordered` at the positions `Position(k, count)` gives, where
/// `Position` is packed4_u8_position or packed4_s16_position (a permutation within each
/// whole block of 64, the identity after).
///
/// Whole blocks go through a table of the 64 positions computed at compile time, so the
/// reordering costs a load and a store per element, not the index arithmetic.
template <auto Position, class T>
inline void order_for_packed4(const T* x, std::size_t count, T* ordered) noexcept {
  static constexpr auto block_positions = [] {
    std::array<std::uint8_t, packed4_block> positions{};
    for (std::size_t k = 0; k < packed4_block; ++k)
      positions[k] = static_cast<std::uint8_t>(Position(k, packed4_block));
    return positions;
  }();
  std::size_t first = 0;
  for (; first + packed4_block <= count; first += packed4_block)
    for (std::size_t k = 0; k < packed4_block; ++k) ordered[first + block_positions[k]] = x[first + k];
  for (std::size_t k = first; k < count; ++k) ordered[Position(k, count)] = x[k];
}

/// \brief `Rows` int16 x 4-bit-code dot products sharing one activation vector:
/// `out[r] = sum_k x[k] * table[code_rk]` for the rows starting at `first_row + r *
/// row_stride`, each holding `count` codes two per byte, low nibble first.
///
/// `ordered` holds the activations in the order of packed4_s16_position(). Per 64 weights
/// and row: one 32-byte load, two masks and a shift for the nibbles, two vpshufb for the
/// low bytes of the int16 weights and two more for the high bytes (two vpcmpgtb when
/// `SignHighBytes`: see high_bytes_are_code_sign(), which must then hold), four vpunpck
/// to form them, four vpmaddwd. Several rows per pass reuse each activation load; each
/// row keeps its own accumulator and is reduced once at the end. `prefetch_rows` points
/// at rows read later (with the same stride); their lines are prefetched.
template <std::size_t Rows, bool SignHighBytes = false>
inline void dot_s16_packed4_rows(const std::int16_t* ordered, const std::byte* first_row,
                                 std::size_t row_stride, const std::byte* prefetch_rows,
                                 const std::array<std::int16_t, 16>& table, std::size_t count,
                                 std::int32_t* out) noexcept {
  std::size_t k = 0;
  std::array<std::int32_t, Rows> sums{};
#if defined(__AVX2__)
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
  for (; k + packed4_block <= count; k += packed4_block) {
    const __m256i x0 = detail::load256(ordered + k), x1 = detail::load256(ordered + k + 16);
    const __m256i x2 = detail::load256(ordered + k + 32), x3 = detail::load256(ordered + k + 48);
#pragma GCC unroll 8
    for (std::size_t r = 0; r < Rows; ++r) {
      detail::prefetch_packed4(prefetch_rows + r * row_stride, k / 2);
      const __m256i bytes = detail::load256(first_row + r * row_stride + k / 2);
      const __m256i even = _mm256_and_si256(bytes, low_nibbles);
      const __m256i odd = _mm256_and_si256(_mm256_srli_epi16(bytes, 4), low_nibbles);
      const __m256i even_low = _mm256_shuffle_epi8(low_lookup, even), even_high = high_byte(even);
      const __m256i odd_low = _mm256_shuffle_epi8(low_lookup, odd), odd_high = high_byte(odd);
      acc[r] = detail::accumulate_s16(acc[r], x0, _mm256_unpacklo_epi8(even_low, even_high));
      acc[r] = detail::accumulate_s16(acc[r], x1, _mm256_unpackhi_epi8(even_low, even_high));
      acc[r] = detail::accumulate_s16(acc[r], x2, _mm256_unpacklo_epi8(odd_low, odd_high));
      acc[r] = detail::accumulate_s16(acc[r], x3, _mm256_unpackhi_epi8(odd_low, odd_high));
    }
  }
  for (std::size_t r = 0; r < Rows; ++r) sums[r] = detail::horizontal_sum(acc[r]);
#else
  (void)prefetch_rows;
#endif
  for (std::size_t r = 0; r < Rows; ++r) {
    const std::byte* row = first_row + r * row_stride;
    detail::accumulate_tail(k, count, [&](std::size_t i) { return ordered[packed4_s16_position(i, count)]; },
                            [&](std::size_t i) { return table[detail::packed4_code(row, i)]; }, sums[r]);
    out[r] = sums[r];
  }
}

}  // namespace pot::simd
