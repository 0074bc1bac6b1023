#pragma once
/// \file
/// \brief The AArch64 body of the fused float-activation dot product over 4-bit PoT codes
/// (simd/float_dot.hpp): FMA on 4 float lanes, codes decoded to float by tbl, one lookup
/// per byte of the float, and zips that interleave the four bytes into lanes.

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "pot/simd/dispatch.hpp"
#include "pot/simd/neon/packed4_nibbles.hpp"
#include "pot/simd/packed4_layout.hpp"

namespace pot::simd {

namespace detail_neon {

/// The 16-entry float table as four tbl tables: byte `j` of every entry (little endian).
struct float_byte_planes {
  uint8x16_t byte[4];
};

inline float_byte_planes byte_planes(const std::array<float, 16>& table) noexcept {
  std::array<std::array<std::uint8_t, 16>, 4> planes{};
  for (std::size_t code = 0; code < 16; ++code) {
    std::array<std::uint8_t, 4> bytes{};
    std::memcpy(bytes.data(), &table[code], sizeof(float));
    for (std::size_t j = 0; j < 4; ++j) planes[j][code] = bytes[j];
  }
  return {{vld1q_u8(planes[0].data()), vld1q_u8(planes[1].data()), vld1q_u8(planes[2].data()),
           vld1q_u8(planes[3].data())}};
}

/// Adds `x[i] * table[codes[i]]` for the 16 codes of `codes` to the four lanes of
/// `sums[0]` and `sums[1]`: four tbl give the bytes of the 16 floats, zip of bytes 0|1 and 2|3 the
/// half-words, zip of those half-words the floats in code order, then four FMA.
inline void accumulate_decoded(float32x4_t* sums, const float* x, uint8x16_t codes,
                               const float_byte_planes& planes) noexcept {
  const uint8x16_t b0 = vqtbl1q_u8(planes.byte[0], codes), b1 = vqtbl1q_u8(planes.byte[1], codes);
  const uint8x16_t b2 = vqtbl1q_u8(planes.byte[2], codes), b3 = vqtbl1q_u8(planes.byte[3], codes);
  const uint16x8_t low01 = vreinterpretq_u16_u8(vzip1q_u8(b0, b1)), high01 = vreinterpretq_u16_u8(vzip2q_u8(b0, b1));
  const uint16x8_t low23 = vreinterpretq_u16_u8(vzip1q_u8(b2, b3)), high23 = vreinterpretq_u16_u8(vzip2q_u8(b2, b3));
  sums[0] = vfmaq_f32(sums[0], vld1q_f32(x), vreinterpretq_f32_u16(vzip1q_u16(low01, low23)));
  sums[1] = vfmaq_f32(sums[1], vld1q_f32(x + 4), vreinterpretq_f32_u16(vzip2q_u16(low01, low23)));
  sums[0] = vfmaq_f32(sums[0], vld1q_f32(x + 8), vreinterpretq_f32_u16(vzip1q_u16(high01, high23)));
  sums[1] = vfmaq_f32(sums[1], vld1q_f32(x + 12), vreinterpretq_f32_u16(vzip2q_u16(high01, high23)));
}

}  // namespace detail_neon

/// \brief The NEON order: even codes then odd codes within each whole block of 32 (one
/// 16-byte load), unchanged after; the same as the AVX-512 body's.
constexpr std::size_t float_packed4_position(neon_tag, std::size_t k, std::size_t count) noexcept {
  return detail_neon::in_whole_block(k, count) ? even_odd_position<detail_neon::block>(k) : k;
}

/// \brief `out[r] = sum_k x[k] * table[code_rk]` for `Rows` rows of `count` 4-bit codes,
/// `ordered` holding x in the order of float_packed4_position(), any float table.
///
/// Per 32 codes and row: one 16-byte load, a mask and a shift for the nibbles, then per
/// 16 codes four tbl, four byte zips, four half-word zips and four FMA, into two
/// accumulators per row: eight independent FMA chains over four rows (four per row
/// spilled sums to the stack in GCC 12's code). The activations are read again for each
/// row, from L1.
template <std::size_t Rows>
inline void dot_float_packed4_rows(neon_tag, const float* ordered, const std::byte* first_row, std::size_t row_stride,
                                   const std::byte* prefetch_rows, const std::array<float, 16>& table,
                                   std::size_t count, float* out) noexcept {
  using namespace detail_neon;
  const float_byte_planes planes = byte_planes(table);
  float32x4_t sums[Rows][2];
  for (auto& row_sums : sums)
    for (auto& s : row_sums) s = vdupq_n_f32(0.0f);
  std::size_t k = 0;
  for (; k + block <= count; k += block) {
#pragma GCC unroll 8
    for (std::size_t r = 0; r < Rows; ++r) {
      prefetch_line(prefetch_rows + r * row_stride, k / 2);
      const uint8x16_t bytes = load_bytes(first_row + r * row_stride + k / 2);
      accumulate_decoded(sums[r], ordered + k, even_codes(bytes), planes);
      accumulate_decoded(sums[r], ordered + k + 16, odd_codes(bytes), planes);
    }
  }
  for (std::size_t r = 0; r < Rows; ++r) {
    const std::byte* row = first_row + r * row_stride;
    float total = vaddvq_f32(vaddq_f32(sums[r][0], sums[r][1]));
    for (std::size_t i = k; i < count; ++i) total = std::fma(ordered[i], table[packed4_code(row, i)], total);
    out[r] = total;
  }
}

/// \brief `out[r] = sum_k x[k] * w_rk` for `Rows` rows of int8 weights: per 16 weights and
/// row two sxtl to int16, four sxtl to int32, four scvtf and four FMA into two chains;
/// the rows share each activation load.
template <std::size_t Rows>
inline void dot_float_int8_rows(neon_tag, const float* x, const std::int8_t* first_row, std::size_t row_stride,
                                const std::int8_t* prefetch_rows, std::size_t count, float* out) noexcept {
  float32x4_t even_sums[Rows], odd_sums[Rows];
  for (std::size_t r = 0; r < Rows; ++r) even_sums[r] = odd_sums[r] = vdupq_n_f32(0.0f);
  std::size_t k = 0;
  for (; k + 16 <= count; k += 16) {
    const float32x4_t x0 = vld1q_f32(x + k), x1 = vld1q_f32(x + k + 4), x2 = vld1q_f32(x + k + 8),
                      x3 = vld1q_f32(x + k + 12);
#pragma GCC unroll 8
    for (std::size_t r = 0; r < Rows; ++r) {
      if (k % 64 == 0) __builtin_prefetch(prefetch_rows + r * row_stride + k);
      const int8x16_t bytes = vld1q_s8(first_row + r * row_stride + k);
      const int16x8_t low = vmovl_s8(vget_low_s8(bytes)), high = vmovl_high_s8(bytes);
      even_sums[r] = vfmaq_f32(even_sums[r], x0, vcvtq_f32_s32(vmovl_s16(vget_low_s16(low))));
      odd_sums[r] = vfmaq_f32(odd_sums[r], x1, vcvtq_f32_s32(vmovl_high_s16(low)));
      even_sums[r] = vfmaq_f32(even_sums[r], x2, vcvtq_f32_s32(vmovl_s16(vget_low_s16(high))));
      odd_sums[r] = vfmaq_f32(odd_sums[r], x3, vcvtq_f32_s32(vmovl_high_s16(high)));
    }
  }
  for (std::size_t r = 0; r < Rows; ++r) {
    const std::int8_t* row = first_row + r * row_stride;
    float total = vaddvq_f32(vaddq_f32(even_sums[r], odd_sums[r]));
    for (std::size_t i = k; i < count; ++i) total = std::fma(x[i], static_cast<float>(row[i]), total);
    out[r] = total;
  }
}

}  // namespace pot::simd
