#pragma once
/// \file
/// \brief The AArch64 dot-product body of the PoT GEMM's uint8 x int8 micro-kernel
/// (simd/pot_gemm_kernels.hpp): tiles of 6 activation rows times 16 weight rows by SDOT.
/// Without the dot-product extension the portable body runs (neon_tag inherits it).

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "pot/simd/dispatch.hpp"
#include "pot/simd/gemm_panels.hpp"
#include "pot/simd/target.hpp"

POT_TARGET_NEON_DOTPROD_BEGIN
namespace pot::simd {

/// \brief 6 x 16 tiles (24 accumulators of the 32 vector registers), K in quads.
constexpr pot_gemm_shape u8s8_gemm_shape(neon_dotprod_tag) noexcept { return {16, 6, 4}; }
/// \brief SDOT sums int8 x int8 products exactly in int32: any int8 weight; +128 (range 7)
/// takes the int16 kernel.
constexpr int u8s8_gemm_max_range(neon_dotprod_tag) noexcept { return 6; }

/// \brief The uint8 x int8 tile by SDOT. SDOT multiplies int8 by int8, so each row's four
/// activation bytes are broadcast and flipped to u - 128 (eor 0x80), and the columns get
/// `(128 - zero_point) * weight_sums[n]` back as the tile is stored:
/// `sum (u - z) w = sum (u - 128) w + (128 - z) sum w`. Per quad four 16-byte weight loads
/// (4 columns x 4 k each) and, per row, one broadcast, one eor and four SDOT.
template <std::size_t Rows, int Range>
inline void u8s8_micro_kernel(neon_dotprod_tag, const std::uint8_t* u, std::size_t lda, const std::int8_t* panel,
                              std::size_t quads, std::int32_t zero_point, const std::int32_t* weight_sums,
                              std::int32_t* c, std::size_t ldc, std::size_t cols) noexcept {
  static_assert(Rows >= 1 && Rows <= 6, "pot: a NEON GEMM tile has 1 to 6 rows");
  static_assert(Range <= 6, "pot: the NEON uint8 x int8 GEMM takes exponent ranges up to 6");
  int32x4_t acc[Rows][4];
  for (auto& row : acc)
    for (auto& a : row) a = vdupq_n_s32(0);
  const uint8x16_t flip = vdupq_n_u8(0x80);
  for (std::size_t q = 0; q < quads; ++q, panel += 64) {
    const int8x16_t w0 = vld1q_s8(panel), w1 = vld1q_s8(panel + 16), w2 = vld1q_s8(panel + 32),
                    w3 = vld1q_s8(panel + 48);
#pragma GCC unroll 6
    for (std::size_t m = 0; m < Rows; ++m) {
      std::uint32_t four = 0;
      std::memcpy(&four, u + m * lda + 4 * q, sizeof four);
      const int8x16_t x = vreinterpretq_s8_u8(veorq_u8(vreinterpretq_u8_u32(vdupq_n_u32(four)), flip));
      acc[m][0] = neon_sdot(acc[m][0], x, w0);
      acc[m][1] = neon_sdot(acc[m][1], x, w1);
      acc[m][2] = neon_sdot(acc[m][2], x, w2);
      acc[m][3] = neon_sdot(acc[m][3], x, w3);
    }
  }
  const int32x4_t scale = vdupq_n_s32(128 - zero_point);
  for (std::size_t m = 0; m < Rows; ++m) {
    std::int32_t row[16];
    for (std::size_t j = 0; j < 4; ++j)
      vst1q_s32(row + 4 * j, vmlaq_s32(acc[m][j], scale, vld1q_s32(weight_sums + 4 * j)));
    std::memcpy(c + m * ldc, row, cols * sizeof(std::int32_t));
  }
}

}  // namespace pot::simd
POT_TARGET_END
