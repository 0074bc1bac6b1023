#pragma once
/// \file
/// \brief The AVX-512 bodies of the PoT GEMM micro-kernels (simd/pot_gemm_kernels.hpp):
/// tiles of up to 12 activation rows times 32 weight rows in 24 zmm accumulators,
/// uint8 x int8 by vpdpbusd (64 multiply-adds per instruction, exact in int32) and
/// int16 by vpdpwssd.
///
/// vpdpbusd multiplies uint8 by int8, and pot<4, 0, 7>'s weight +128 is no int8. The
/// panel holds it as -128 (its int8 bit pattern), and u8s8_correction_kernel() adds the
/// 256 * u that this loses, over only the quads of the panel that hold a +128: exact
/// for every weight, and nearly free when such weights are rare, as they are under a
/// max-based scale (only the largest weights of a tensor round to 2^MaxExp).

#include <cstddef>
#include <cstdint>

#include "pot/simd/dispatch.hpp"
#include "pot/simd/gemm_panels.hpp"
#include "pot/simd/target.hpp"

POT_TARGET_AVX512_BEGIN
namespace pot::simd {

/// \brief 12 x 32 tiles (24 zmm accumulators), K in quads.
constexpr pot_gemm_shape u8s8_gemm_shape(avx512_tag) noexcept { return {32, 12, 4}; }
/// \brief 12 x 32 tiles, K in pairs.
constexpr pot_gemm_shape s16_gemm_shape(avx512_tag) noexcept { return {32, 12, 2}; }
/// \brief vpdpbusd sums exactly: every int8 weight, and +128 through the correction.
constexpr int u8s8_gemm_max_range(avx512_tag) noexcept { return 7; }

namespace detail_avx512 {

/// Stores the accumulators' first `cols` columns into C (masked at the edge), less
/// `zero_point` times the panel's 32 `weight_sums` when given.
template <std::size_t Rows>
inline void store_tile(const __m512i (&acc)[Rows][2], std::int32_t zero_point, const std::int32_t* weight_sums,
                       std::int32_t* c, std::size_t ldc, std::size_t cols) noexcept {
  const __mmask16 low = cols >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << cols) - 1u);
  const __mmask16 high = cols >= 32 ? __mmask16(0xFFFF) : cols <= 16 ? __mmask16(0) : __mmask16((1u << (cols - 16)) - 1u);
  const __m512i minus_zero_point = _mm512_set1_epi32(-zero_point);
  const __m512i offset_low = weight_sums != nullptr ? _mm512_mullo_epi32(minus_zero_point, _mm512_loadu_si512(weight_sums))
                                                    : _mm512_setzero_si512();
  const __m512i offset_high = weight_sums != nullptr
                                  ? _mm512_mullo_epi32(minus_zero_point, _mm512_loadu_si512(weight_sums + 16))
                                  : _mm512_setzero_si512();
#pragma GCC unroll 12
  for (std::size_t m = 0; m < Rows; ++m) {
    std::int32_t* row = c + m * ldc;
    _mm512_mask_storeu_epi32(row, low, _mm512_add_epi32(acc[m][0], offset_low));
    _mm512_mask_storeu_epi32(row + 16, high, _mm512_add_epi32(acc[m][1], offset_high));
  }
}

/// `acc += ` the int32 lane sums of u8 x s8 (vpdpbusd) or int16 x int16 (vpdpwssd)
/// products, accumulated in place. GCC 12 compiles the intrinsics inside a target region
/// (not with -mavx512vnni on the command line) with a register copy and a store to the
/// stack around every accumulation once a tile's 24 accumulators are live, which halved
/// the micro-kernels' rate; the instruction written out keeps each accumulator in its
/// register (docs/kernels.md).
inline void dpbusd_in_place(__m512i& acc, __m512i u, __m512i w) noexcept {
#if defined(__GNUC__) && !defined(__clang__)
  asm("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(u), "v"(w));
#else
  acc = _mm512_dpbusd_epi32(acc, u, w);
#endif
}
inline void dpwssd_in_place(__m512i& acc, __m512i x, __m512i w) noexcept {
#if defined(__GNUC__) && !defined(__clang__)
  asm("vpdpwssd %2, %1, %0" : "+v"(acc) : "v"(x), "v"(w));
#else
  acc = _mm512_dpwssd_epi32(acc, x, w);
#endif
}

inline __m512i broadcast4(const void* p) noexcept {
  std::int32_t four = 0;
  __builtin_memcpy(&four, p, sizeof four);
  return _mm512_set1_epi32(four);
}

}  // namespace detail_avx512

/// \brief The uint8 x int8 tile: per quad two 64-byte weight loads, one broadcast of 4
/// activation bytes per row, two vpdpbusd per row. With range 7 the listed quads'
/// `sum u` over the +128 weights (`corrections`) go first into the same accumulators,
/// the same instructions per quad, and are shifted left by 8 (times 256) before the
/// products add to them; the tile is stored once, with the zero point's offsets.
template <std::size_t Rows, int Range>
inline void u8s8_micro_kernel(avx512_tag, const std::uint8_t* u, std::size_t lda, const std::int8_t* panel,
                              std::size_t quads, std::int32_t zero_point, const std::int32_t* weight_sums,
                              std::int32_t* c, std::size_t ldc, std::size_t cols,
                              u8s8_corrections corrections = {}) noexcept {
  static_assert(Rows >= 1 && Rows <= 12, "pot: an AVX-512 GEMM tile has 1 to 12 rows");
  __m512i acc[Rows][2];
#pragma GCC unroll 12
  for (auto& row : acc) row[0] = row[1] = _mm512_setzero_si512();
  if constexpr (Range == 7) {
    if (corrections.count != 0) {
      for (std::size_t j = 0; j < corrections.count; ++j) {
        const std::int8_t* marks = corrections.indicators + 128 * j;
        const __m512i w0 = _mm512_loadu_si512(marks), w1 = _mm512_loadu_si512(marks + 64);
        const std::size_t offset = 4 * std::size_t{corrections.quad_index[j]};
#pragma GCC unroll 12
        for (std::size_t m = 0; m < Rows; ++m) {
          const __m512i x = detail_avx512::broadcast4(u + m * lda + offset);
          detail_avx512::dpbusd_in_place(acc[m][0], x, w0);
          detail_avx512::dpbusd_in_place(acc[m][1], x, w1);
        }
      }
#pragma GCC unroll 12
      for (auto& row : acc) {
        row[0] = _mm512_slli_epi32(row[0], 8);
        row[1] = _mm512_slli_epi32(row[1], 8);
      }
    }
  }
  for (std::size_t q = 0; q < quads; ++q, panel += 128) {
    const __m512i w0 = _mm512_loadu_si512(panel), w1 = _mm512_loadu_si512(panel + 64);
#pragma GCC unroll 12
    for (std::size_t m = 0; m < Rows; ++m) {
      const __m512i x = detail_avx512::broadcast4(u + m * lda + 4 * q);
      detail_avx512::dpbusd_in_place(acc[m][0], x, w0);
      detail_avx512::dpbusd_in_place(acc[m][1], x, w1);
    }
  }
  detail_avx512::store_tile<Rows>(acc, zero_point, weight_sums, c, ldc, cols);
}

/// \brief The int16 tile: per k pair two 64-byte weight loads, one broadcast of an
/// activation pair per row, two vpdpwssd per row.
template <std::size_t Rows>
inline void s16_micro_kernel(avx512_tag, const std::int16_t* a, std::size_t lda, const std::int16_t* panel,
                             std::size_t pairs, std::int32_t* c, std::size_t ldc, std::size_t cols) noexcept {
  static_assert(Rows >= 1 && Rows <= 12, "pot: an AVX-512 GEMM tile has 1 to 12 rows");
  __m512i acc[Rows][2];
#pragma GCC unroll 12
  for (auto& row : acc) row[0] = row[1] = _mm512_setzero_si512();
  for (std::size_t p = 0; p < pairs; ++p, panel += 64) {
    const __m512i w0 = _mm512_loadu_si512(panel), w1 = _mm512_loadu_si512(panel + 32);
#pragma GCC unroll 12
    for (std::size_t m = 0; m < Rows; ++m) {
      const __m512i x = detail_avx512::broadcast4(a + m * lda + 2 * p);
      detail_avx512::dpwssd_in_place(acc[m][0], x, w0);
      detail_avx512::dpwssd_in_place(acc[m][1], x, w1);
    }
  }
  detail_avx512::store_tile<Rows>(acc, 0, nullptr, c, ldc, cols);
}

}  // namespace pot::simd
POT_TARGET_END
