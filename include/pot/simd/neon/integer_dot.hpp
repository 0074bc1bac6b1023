#pragma once
/// \file
/// \brief The AArch64 bodies of the integer dot products (simd/integer_dot.hpp): widening
/// multiply-accumulates (smlal) on Advanced SIMD for neon_tag, SDOT for the uint8 kernels
/// of neon_dotprod_tag, and fused 4-bit kernels that decode packed nibbles with tbl.
///
/// Every body is exact for any int8 (or int16) table, the contract of the AVX-512
/// bodies: pot<4, 0, 7>'s ±128 goes to the int16 kernels (linalg/pot_gemv.hpp), whose
/// NEON body is the same for both tags (SDOT multiplies int8 only, and centered int16
/// activations do not fit int8).

#include <array>
#include <cstddef>
#include <cstdint>

#include "pot/simd/dispatch.hpp"
#include "pot/simd/neon/packed4_nibbles.hpp"
#include "pot/simd/packed4_layout.hpp"
#include "pot/simd/target.hpp"

namespace pot::simd {

namespace detail_neon {

/// Adds the products of the eight int16 lanes of `x` and `w` to the four int32 lanes of
/// `sum` (smlal and smlal2): exact, since int16 x int16 fits int32.
inline int32x4_t multiply_accumulate(int32x4_t sum, int16x8_t x, int16x8_t w) noexcept {
  return vmlal_high_s16(vmlal_s16(sum, vget_low_s16(x), vget_low_s16(w)), x, w);
}

/// uint8 lanes minus the zero point as int16 (usubl wraps modulo 2^16, which is the
/// two's-complement int16 of u - zero_point in [-255, 255]).
inline int16x8_t centered_low(uint8x16_t u, uint8x8_t zero_points) noexcept {
  return vreinterpretq_s16_u16(vsubl_u8(vget_low_u8(u), zero_points));
}
inline int16x8_t centered_high(uint8x16_t u, uint8x8_t zero_points) noexcept {
  return vreinterpretq_s16_u16(vsubl_high_u8(u, vcombine_u8(zero_points, zero_points)));
}

/// The int16 4-bit kernel; `SignHighBytes`: every table entry's high byte is its code's
/// sign (high_bytes_are_code_sign()), formed by a compare instead of a second lookup.
template <std::size_t Rows, bool SignHighBytes>
inline void s16_packed4_rows(const std::int16_t* ordered, const std::byte* first_row, std::size_t row_stride,
                             const std::byte* prefetch_rows, const std::array<std::int16_t, 16>& table,
                             std::size_t count, std::int32_t* out) noexcept {
  std::array<std::uint8_t, 16> low_bytes{}, high_bytes{};
  for (std::size_t i = 0; i < 16; ++i) {
    low_bytes[i] = static_cast<std::uint8_t>(static_cast<std::uint16_t>(table[i]) & 0xFFu);
    high_bytes[i] = static_cast<std::uint8_t>(static_cast<std::uint16_t>(table[i]) >> 8);
  }
  const uint8x16_t low_lookup = vld1q_u8(low_bytes.data()), high_lookup = vld1q_u8(high_bytes.data());
  const uint8x16_t largest_positive_code = vdupq_n_u8(7);
  const auto high_byte = [&](uint8x16_t codes) {
    if constexpr (SignHighBytes) return vcgtq_u8(codes, largest_positive_code);
    else return vqtbl1q_u8(high_lookup, codes);
  };
  // Little-endian int16 lanes from interleaved low and high bytes (zip1 / zip2).
  const auto words_low = [](uint8x16_t low, uint8x16_t high) { return vreinterpretq_s16_u8(vzip1q_u8(low, high)); };
  const auto words_high = [](uint8x16_t low, uint8x16_t high) { return vreinterpretq_s16_u8(vzip2q_u8(low, high)); };
  int32x4_t even_sums[Rows], odd_sums[Rows];
  for (std::size_t r = 0; r < Rows; ++r) even_sums[r] = odd_sums[r] = vdupq_n_s32(0);
  std::size_t k = 0;
  for (; k + block <= count; k += block) {
    const int16x8_t x0 = vld1q_s16(ordered + k), x1 = vld1q_s16(ordered + k + 8);
    const int16x8_t x2 = vld1q_s16(ordered + k + 16), x3 = vld1q_s16(ordered + k + 24);
#pragma GCC unroll 8
    for (std::size_t r = 0; r < Rows; ++r) {
      prefetch_line(prefetch_rows + r * row_stride, k / 2);
      const uint8x16_t bytes = load_bytes(first_row + r * row_stride + k / 2);
      const uint8x16_t even = even_codes(bytes), odd = odd_codes(bytes);
      const uint8x16_t even_low = vqtbl1q_u8(low_lookup, even), even_high = high_byte(even);
      const uint8x16_t odd_low = vqtbl1q_u8(low_lookup, odd), odd_high = high_byte(odd);
      even_sums[r] = multiply_accumulate(even_sums[r], x0, words_low(even_low, even_high));
      even_sums[r] = multiply_accumulate(even_sums[r], x1, words_high(even_low, even_high));
      odd_sums[r] = multiply_accumulate(odd_sums[r], x2, words_low(odd_low, odd_high));
      odd_sums[r] = multiply_accumulate(odd_sums[r], x3, words_high(odd_low, odd_high));
    }
  }
  for (std::size_t r = 0; r < Rows; ++r) {
    std::int32_t sum = vaddvq_s32(vaddq_s32(even_sums[r], odd_sums[r]));
    const std::byte* row = first_row + r * row_stride;
    accumulate_tail(k, count, [&](std::size_t i) { return ordered[i]; },
                    [&](std::size_t i) { return table[packed4_code(row, i)]; }, sum);
    out[r] = sum;
  }
}

}  // namespace detail_neon

/// \brief uint8 x int8 dot product over `count` elements (any int8 w): both widened to
/// int16, smlal to int32; the weights summed by sadalp.
inline u8s8_dot dot_u8s8(neon_tag, const std::uint8_t* u, const std::int8_t* w, std::size_t count) noexcept {
  using namespace detail_neon;
  int32x4_t products = vdupq_n_s32(0), weights = vdupq_n_s32(0);
  std::size_t k = 0;
  for (; k + 16 <= count; k += 16) {
    const uint8x16_t uv = vld1q_u8(u + k);
    const int8x16_t wv = vld1q_s8(w + k);
    const int16x8_t w_low = vmovl_s8(vget_low_s8(wv)), w_high = vmovl_high_s8(wv);
    products = multiply_accumulate(products, vreinterpretq_s16_u16(vmovl_u8(vget_low_u8(uv))), w_low);
    products = multiply_accumulate(products, vreinterpretq_s16_u16(vmovl_high_u8(uv)), w_high);
    weights = vpadalq_s16(vpadalq_s16(weights, w_low), w_high);
  }
  u8s8_dot result{vaddvq_s32(products), vaddvq_s32(weights)};
  accumulate_tail(k, count, [u](std::size_t i) { return u[i]; }, [w](std::size_t i) { return w[i]; },
                  result.products, &result.weights);
  return result;
}

/// \brief int16 x int16 dot product over `count` elements (smlal, wrapping int32 sum).
inline std::int32_t dot_s16(neon_tag, const std::int16_t* x, const std::int16_t* w, std::size_t count) noexcept {
  int32x4_t sum = vdupq_n_s32(0);
  std::size_t k = 0;
  for (; k + 8 <= count; k += 8) sum = detail_neon::multiply_accumulate(sum, vld1q_s16(x + k), vld1q_s16(w + k));
  std::int32_t result = vaddvq_s32(sum);
  accumulate_tail(k, count, [x](std::size_t i) { return x[i]; }, [w](std::size_t i) { return w[i]; }, result);
  return result;
}

/// \brief The NEON uint8 order (both tags): in each whole block of 32 codes (16 bytes),
/// the even codes (low nibbles) then the odd ones; unchanged after the last whole block.
constexpr std::size_t packed4_u8_position(neon_tag, std::size_t k, std::size_t count) noexcept {
  return detail_neon::in_whole_block(k, count) ? even_odd_position<detail_neon::block>(k) : k;
}

/// \brief The NEON int16 order: as packed4_u8_position(neon_tag, ...), since zip1 / zip2
/// widen the 16 decoded low and high bytes of each nibble vector to int16 in order.
constexpr std::size_t packed4_s16_position(neon_tag, std::size_t k, std::size_t count) noexcept {
  return detail_neon::in_whole_block(k, count) ? even_odd_position<detail_neon::block>(k) : k;
}

/// \brief The largest exponent range the uint8 x int8 4-bit kernels of the NEON bodies
/// take (int8 weights, no +128 correction).
constexpr int u8_packed4_max_range(neon_tag) noexcept { return 6; }

/// \brief `Rows` uint8 x 4-bit-code dot products with the zero point inside:
/// `out[r] = sum_k (u[k] - zero_point) * weights[code_rk]` (`weight_sums` unused).
///
/// Per 32 weights and row: one 16-byte load, a mask and a shift for the nibbles, two tbl
/// decodes, four sxtl to int16 and eight smlal of the centered activations (usubl, once
/// per block for all rows) into int32. `prefetch_rows` points at rows read later (same
/// stride), whose lines are prefetched.
template <std::size_t Rows, bool CorrectsTop = false>
inline void dot_u8_packed4_rows(neon_tag, const std::uint8_t* ordered, std::int32_t zero_point,
                                const std::int32_t* /*weight_sums*/, const std::byte* first_row, std::size_t row_stride,
                                const std::byte* prefetch_rows, const u8_packed4_tables& tables, std::size_t count,
                                std::int32_t* out) noexcept {
  static_assert(!CorrectsTop, "pot: the NEON uint8 x int8 kernels take exponent ranges up to 6");
  using namespace detail_neon;
  const int8x16_t lookup = vld1q_s8(tables.weights.data());
  const uint8x8_t zero_points = vdup_n_u8(static_cast<std::uint8_t>(zero_point));
  int32x4_t even_sums[Rows], odd_sums[Rows];
  for (std::size_t r = 0; r < Rows; ++r) even_sums[r] = odd_sums[r] = vdupq_n_s32(0);
  std::size_t k = 0;
  for (; k + block <= count; k += block) {
    const uint8x16_t u_even = vld1q_u8(ordered + k), u_odd = vld1q_u8(ordered + k + 16);
    const int16x8_t x0 = centered_low(u_even, zero_points), x1 = centered_high(u_even, zero_points);
    const int16x8_t x2 = centered_low(u_odd, zero_points), x3 = centered_high(u_odd, zero_points);
#pragma GCC unroll 8
    for (std::size_t r = 0; r < Rows; ++r) {
      prefetch_line(prefetch_rows + r * row_stride, k / 2);
      const uint8x16_t bytes = load_bytes(first_row + r * row_stride + k / 2);
      const int8x16_t even = vqtbl1q_s8(lookup, even_codes(bytes)), odd = vqtbl1q_s8(lookup, odd_codes(bytes));
      even_sums[r] = multiply_accumulate(even_sums[r], x0, vmovl_s8(vget_low_s8(even)));
      even_sums[r] = multiply_accumulate(even_sums[r], x1, vmovl_high_s8(even));
      odd_sums[r] = multiply_accumulate(odd_sums[r], x2, vmovl_s8(vget_low_s8(odd)));
      odd_sums[r] = multiply_accumulate(odd_sums[r], x3, vmovl_high_s8(odd));
    }
  }
  for (std::size_t r = 0; r < Rows; ++r) {
    std::int32_t sum = vaddvq_s32(vaddq_s32(even_sums[r], odd_sums[r]));
    const std::byte* row = first_row + r * row_stride;
    accumulate_tail(k, count, [&](std::size_t i) { return std::int32_t{ordered[i]} - zero_point; },
                    [&](std::size_t i) { return tables.weights[packed4_code(row, i)]; }, sum);
    out[r] = sum;
  }
}

/// \brief `Rows` int16 x 4-bit-code dot products sharing one activation vector:
/// `out[r] = sum_k x[k] * table[code_rk]`, `ordered` holding x in the order of
/// packed4_s16_position(), any int16 table.
///
/// Per 32 weights and row: one 16-byte load, a mask and a shift for the nibbles, two tbl
/// for the low bytes of the int16 weights and two more for the high bytes (two cmhi when
/// every high byte is the code's sign, see high_bytes_are_code_sign()), four zip to form
/// them, eight smlal into int32.
template <std::size_t Rows>
inline void dot_s16_packed4_rows(neon_tag, const std::int16_t* ordered, const std::byte* first_row,
                                 std::size_t row_stride, const std::byte* prefetch_rows,
                                 const std::array<std::int16_t, 16>& table, std::size_t count, std::int32_t* out) noexcept {
  if (high_bytes_are_code_sign(table))
    detail_neon::s16_packed4_rows<Rows, true>(ordered, first_row, row_stride, prefetch_rows, table, count, out);
  else
    detail_neon::s16_packed4_rows<Rows, false>(ordered, first_row, row_stride, prefetch_rows, table, count, out);
}

}  // namespace pot::simd

POT_TARGET_NEON_DOTPROD_BEGIN
namespace pot::simd {

/// \brief uint8 x int8 dot product over `count` elements with SDOT (any int8 w).
///
/// SDOT multiplies int8 by int8, so the activations are flipped to u - 128 (eor 0x80)
/// and `128 * sum w` added back: `sum u w = sum (u - 128) w + 128 sum w`, wrapping
/// modulo 2^32 like every other body's sums.
inline u8s8_dot dot_u8s8(neon_dotprod_tag, const std::uint8_t* u, const std::int8_t* w, std::size_t count) noexcept {
  int32x4_t flipped_products = vdupq_n_s32(0), weights = vdupq_n_s32(0);
  const int8x16_t ones = vdupq_n_s8(1);
  const uint8x16_t flip = vdupq_n_u8(0x80);
  std::size_t k = 0;
  for (; k + 16 <= count; k += 16) {
    const int8x16_t wv = vld1q_s8(w + k);
    flipped_products = neon_sdot(flipped_products, vreinterpretq_s8_u8(veorq_u8(vld1q_u8(u + k), flip)), wv);
    weights = neon_sdot(weights, ones, wv);
  }
  const auto weight_sum = static_cast<std::uint32_t>(vaddvq_s32(weights));
  u8s8_dot result{static_cast<std::int32_t>(static_cast<std::uint32_t>(vaddvq_s32(flipped_products)) + 128u * weight_sum),
                  static_cast<std::int32_t>(weight_sum)};
  accumulate_tail(k, count, [u](std::size_t i) { return u[i]; }, [w](std::size_t i) { return w[i]; },
                  result.products, &result.weights);
  return result;
}

/// \brief `Rows` uint8 x 4-bit-code dot products by SDOT: `out[r] = sum_k (u[k] -
/// zero_point) * w_rk`, `weight_sums[r]` holding `sum_k w_rk`.
///
/// The activations are flipped to int8 u - 128 once per block for all rows, and
/// `sum (u - zp) w = sum (u - 128) w + (128 - zp) sum w`, the last term one multiply per
/// row. Per 32 weights and row: one 16-byte load, a mask and a shift, two tbl decodes and
/// two SDOT.
template <std::size_t Rows, bool CorrectsTop = false>
inline void dot_u8_packed4_rows(neon_dotprod_tag, const std::uint8_t* ordered, std::int32_t zero_point,
                                const std::int32_t* weight_sums, const std::byte* first_row, std::size_t row_stride,
                                const std::byte* prefetch_rows, const u8_packed4_tables& tables, std::size_t count,
                                std::int32_t* out) noexcept {
  static_assert(!CorrectsTop, "pot: the NEON uint8 x int8 kernels take exponent ranges up to 6");
  using namespace detail_neon;
  const int8x16_t lookup = vld1q_s8(tables.weights.data());
  const uint8x16_t flip = vdupq_n_u8(0x80);
  int32x4_t products[Rows];
  for (std::size_t r = 0; r < Rows; ++r) products[r] = vdupq_n_s32(0);
  std::size_t k = 0;
  for (; k + block <= count; k += block) {
    const int8x16_t s_even = vreinterpretq_s8_u8(veorq_u8(vld1q_u8(ordered + k), flip));
    const int8x16_t s_odd = vreinterpretq_s8_u8(veorq_u8(vld1q_u8(ordered + k + 16), flip));
#pragma GCC unroll 8
    for (std::size_t r = 0; r < Rows; ++r) {
      prefetch_line(prefetch_rows + r * row_stride, k / 2);
      const uint8x16_t bytes = load_bytes(first_row + r * row_stride + k / 2);
      const int8x16_t even = vqtbl1q_s8(lookup, even_codes(bytes)), odd = vqtbl1q_s8(lookup, odd_codes(bytes));
      products[r] = neon_sdot(neon_sdot(products[r], s_even, even), s_odd, odd);
    }
  }
  for (std::size_t r = 0; r < Rows; ++r) {
    // sum (u - 128) w over the blocks, plus (128 - z) times the row's whole sum of
    // weights; the tail then adds (u - 128) w for its own k, which makes the whole sum.
    std::int32_t sum = wrapping_add(vaddvq_s32(products[r]), std::int64_t{128 - zero_point} * weight_sums[r]);
    const std::byte* row = first_row + r * row_stride;
    accumulate_tail(k, count, [&](std::size_t i) { return std::int32_t{ordered[i]} - 128; },
                    [&](std::size_t i) { return tables.weights[packed4_code(row, i)]; }, sum);
    out[r] = sum;
  }
}

}  // namespace pot::simd
POT_TARGET_END
