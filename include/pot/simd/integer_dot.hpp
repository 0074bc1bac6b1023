#pragma once
/// \file
/// \brief Integer dot products over table-decoded PoT weights: uint8 x int8 (vpmaddubsw,
/// or vpdpbusd with AVX-512 VNNI), int16 x int16 (vpmaddwd, or vpdpwssd), and a fused
/// 4-bit variant that decodes packed nibbles with vpshufb in registers.
///
/// The instruction set is chosen at compile time from the target macros; without AVX2
/// the portable loops below are used (and the compiler vectorizes them as it can). Every
/// variant returns the same integer: sums wrap modulo 2^32 as the vector instructions do,
/// and the callers bound K so that the exact result fits in int32.

#include <array>
#include <cstddef>
#include <cstdint>

#if defined(__AVX2__)
#include <immintrin.h>
#endif

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
#endif

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
  for (; k < count; ++k) {
    result.products = detail::wrapping_add(result.products, std::int32_t{u[k]} * w[k]);
    result.weights = detail::wrapping_add(result.weights, w[k]);
  }
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
  for (; k < count; ++k) result = detail::wrapping_add(result, std::int32_t{x[k]} * w[k]);
  return result;
}

/// \brief uint8 x 4-bit-code dot product, each code decoded through `table` (16 int8
/// values, |value| <= 64) in registers; `packed` holds `count` codes, two per byte, low
/// nibble first.
inline u8s8_dot dot_u8_packed4(const std::uint8_t* u, const std::byte* packed,
                               const std::array<std::int8_t, 16>& table, std::size_t count) noexcept {
  std::size_t k = 0;
  u8s8_dot result;
#if defined(__AVX2__)
  const __m256i lookup = _mm256_broadcastsi128_si256(
      _mm_loadu_si128(reinterpret_cast<const __m128i*>(table.data())));
  const __m128i low_nibbles = _mm_set1_epi8(0x0F);
  const __m256i ones = _mm256_set1_epi8(1);
  __m256i products = _mm256_setzero_si256();
  __m256i weights = _mm256_setzero_si256();
  for (; k + 32 <= count; k += 32) {
    const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(packed + k / 2));
    const __m128i low = _mm_and_si128(bytes, low_nibbles);
    const __m128i high = _mm_and_si128(_mm_srli_epi16(bytes, 4), low_nibbles);
    // Codes in stream order: byte i holds codes 2i (low nibble) and 2i+1 (high nibble).
    const __m256i codes = _mm256_set_m128i(_mm_unpackhi_epi8(low, high), _mm_unpacklo_epi8(low, high));
    const __m256i wv = _mm256_shuffle_epi8(lookup, codes);
    products = detail::accumulate_u8s8(products, detail::load256(u + k), wv);
    weights = detail::accumulate_u8s8(weights, ones, wv);
  }
  result.products = detail::horizontal_sum(products);
  result.weights = detail::horizontal_sum(weights);
#endif
  for (; k < count; ++k) {
    const unsigned byte = std::to_integer<unsigned>(packed[k / 2]);
    const std::int8_t wk = table[(k % 2 == 0 ? byte : byte >> 4) & 0x0Fu];
    result.products = detail::wrapping_add(result.products, std::int32_t{u[k]} * wk);
    result.weights = detail::wrapping_add(result.weights, wk);
  }
  return result;
}

/// \brief int16 x 4-bit-code dot product, each code decoded through `table` (16 int16
/// values) in registers: vpshufb looks up the low and the high byte of each weight, and
/// interleaving them gives the int16 weights for vpmaddwd. `packed` holds `count` codes,
/// two per byte, low nibble first.
inline std::int32_t dot_s16_packed4(const std::int16_t* x, const std::byte* packed,
                                    const std::array<std::int16_t, 16>& table, std::size_t count) noexcept {
  std::size_t k = 0;
  std::int32_t result = 0;
#if defined(__AVX2__)
  alignas(16) std::array<std::uint8_t, 16> low_bytes{}, high_bytes{};
  for (std::size_t i = 0; i < 16; ++i) {
    low_bytes[i] = static_cast<std::uint8_t>(static_cast<std::uint16_t>(table[i]) & 0xFFu);
    high_bytes[i] = static_cast<std::uint8_t>(static_cast<std::uint16_t>(table[i]) >> 8);
  }
  const __m256i low_lookup = _mm256_broadcastsi128_si256(_mm_load_si128(reinterpret_cast<const __m128i*>(low_bytes.data())));
  const __m256i high_lookup = _mm256_broadcastsi128_si256(_mm_load_si128(reinterpret_cast<const __m128i*>(high_bytes.data())));
  const __m128i low_nibbles = _mm_set1_epi8(0x0F);
  __m256i sum = _mm256_setzero_si256();
  for (; k + 32 <= count; k += 32) {
    const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(packed + k / 2));
    const __m128i low = _mm_and_si128(bytes, low_nibbles);
    const __m128i high = _mm_and_si128(_mm_srli_epi16(bytes, 4), low_nibbles);
    const __m256i codes = _mm256_set_m128i(_mm_unpackhi_epi8(low, high), _mm_unpacklo_epi8(low, high));
    const __m256i wl = _mm256_shuffle_epi8(low_lookup, codes);
    const __m256i wh = _mm256_shuffle_epi8(high_lookup, codes);
    // Per 128-bit lane: unpacklo gives codes 0..7 | 16..23, unpackhi 8..15 | 24..31.
    const __m256i w_first = _mm256_unpacklo_epi8(wl, wh);
    const __m256i w_second = _mm256_unpackhi_epi8(wl, wh);
    const __m256i x0 = detail::load256(x + k);
    const __m256i x1 = detail::load256(x + k + 16);
    sum = detail::accumulate_s16(sum, _mm256_permute2x128_si256(x0, x1, 0x20), w_first);
    sum = detail::accumulate_s16(sum, _mm256_permute2x128_si256(x0, x1, 0x31), w_second);
  }
  result = detail::horizontal_sum(sum);
#endif
  for (; k < count; ++k) {
    const unsigned byte = std::to_integer<unsigned>(packed[k / 2]);
    result = detail::wrapping_add(result, std::int32_t{x[k]} * table[(k % 2 == 0 ? byte : byte >> 4) & 0x0Fu]);
  }
  return result;
}

}  // namespace pot::simd
