#pragma once
/// \file
/// \brief The uint8 x int8 -> int32 GEMM micro-kernel of the PoT-weight GEMM for exponent
/// ranges <= 6: a tile of up to 6 activation rows times 16 decoded weight rows,
/// multiplied with vpmaddubsw and widened to int32 with vpmaddwd (or vpdpbusd with
/// AVX-512 VNNI), in 6 accumulators per half panel.
///
/// Operands (K is processed in groups of 8, padded with zero weights):
/// - activations: row-major uint8 codes u (the zero point is applied by the caller
///   through the weight sums), `lda` bytes per row, a multiple of 8;
/// - a weight panel of 16 rows in quad-interleaved order, `panel[(q * 16 + n) * 4 + i]` =
///   weight (n, 4q + i), so one 32-byte load holds a k quad of 8 rows and vpmaddubsw with
///   a broadcast activation quad yields pair sums for 8 rows at once (an outer product,
///   as in the int16 kernel).
///
/// vpmaddubsw saturates a pair sum at int16: with |w| <= 64 a pair is at most
/// 2 * 255 * 64 = 32640, exact. With |w| <= 32 (`PairAdd`) a pair is at most 16320, so
/// the pair sums of two quads are added in int16 before one vpmaddwd widens them: three
/// multiply-pipe instructions per 64 products instead of four.

#include <array>
#include <cstddef>
#include <cstdint>

#include "pot/simd/intrinsics.hpp"

namespace pot::simd {

/// \brief Weight rows per panel of the uint8 x int8 GEMM micro-kernel (two 8-lane vectors).
inline constexpr std::size_t u8s8_panel_rows = 16;
/// \brief Largest number of activation rows of one uint8 x int8 micro-kernel tile.
inline constexpr std::size_t u8s8_tile_rows = 6;
/// \brief Depth step of the uint8 x int8 micro-kernel: two k quads; K is padded to it.
inline constexpr std::size_t u8s8_depth_step = 8;

/// \brief Writes 16 int8 weight rows, row-major with `lda` (a multiple of 8) elements per
/// row and zero padding, into `panel` in the quad-interleaved order of this file; `panel`
/// must hold `16 * lda` bytes. Moves 4-byte groups, which the compiler keeps in registers.
inline void pack_u8s8_panel(const std::int8_t* rows, std::size_t lda, std::int8_t* panel) noexcept {
  for (std::size_t q = 0; q < lda / 4; ++q)
    for (std::size_t n = 0; n < u8s8_panel_rows; ++n)
      __builtin_memcpy(panel + (q * u8s8_panel_rows + n) * 4, rows + n * lda + 4 * q, 4);
}

/// \brief `c[m * ldc + n] = sum_k u[m * lda + k] * w(n, k)` for m < `Rows` (<= 6) and
/// n < `cols` (<= 16), over `steps` groups of 8 k of the packed `panel`; sums wrap modulo
/// 2^32 like the vector instructions (callers bound K so that the exact results fit).
/// Requires |w| <= 64, and |w| <= 32 when `PairAdd`.
template <std::size_t Rows, bool PairAdd>
inline void u8s8_micro_kernel(const std::uint8_t* u, std::size_t lda, const std::int8_t* panel,
                              std::size_t steps, std::int32_t* c, std::size_t ldc, std::size_t cols) noexcept {
  static_assert(Rows >= 1 && Rows <= u8s8_tile_rows, "pot: a uint8 x int8 GEMM tile has 1 to 6 rows");
  alignas(32) std::array<std::array<std::int32_t, u8s8_panel_rows>, Rows> tile{};
#if defined(__AVX2__)
  const auto quad = [&](std::size_t m, std::size_t q) {
    std::int32_t four = 0;
    __builtin_memcpy(&four, u + m * lda + 4 * q, sizeof four);
    return _mm256_set1_epi32(four);
  };
#if !(defined(__AVX512VNNI__) && defined(__AVX512VL__))
  const __m256i ones = _mm256_set1_epi16(1);
#endif
  // One half of the panel (8 weight rows) at a time: 6 accumulators, 2 weight vectors,
  // 2 broadcasts and 2 pair sums fit the 16 registers, where the whole panel made the
  // compiler reload every weight vector once per activation row.
  for (std::size_t half = 0; half < 2; ++half) {
    __m256i acc[Rows];  // a C array: std::array would drop __m256i's alignment attribute
#pragma GCC unroll 6
    for (auto& a : acc) a = _mm256_setzero_si256();
    const std::int8_t* weights = panel + 8 * half * 4;
    for (std::size_t s = 0; s < steps; ++s, weights += 2 * u8s8_panel_rows * 4) {
      const __m256i w0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(weights));
      const __m256i w1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(weights + u8s8_panel_rows * 4));
      // Unrolled by request so that -O2 too keeps the accumulators in registers.
#pragma GCC unroll 6
      for (std::size_t m = 0; m < Rows; ++m) {
        const __m256i x0 = quad(m, 2 * s), x1 = quad(m, 2 * s + 1);
#if defined(__AVX512VNNI__) && defined(__AVX512VL__)
        acc[m] = _mm256_dpbusd_epi32(_mm256_dpbusd_epi32(acc[m], x0, w0), x1, w1);
#else
        const __m256i p0 = _mm256_maddubs_epi16(x0, w0), p1 = _mm256_maddubs_epi16(x1, w1);
        if constexpr (PairAdd) {
          acc[m] = _mm256_add_epi32(acc[m], _mm256_madd_epi16(_mm256_add_epi16(p0, p1), ones));
        } else {
          acc[m] = _mm256_add_epi32(acc[m], _mm256_madd_epi16(p0, ones));
          acc[m] = _mm256_add_epi32(acc[m], _mm256_madd_epi16(p1, ones));
        }
#endif
      }
    }
#pragma GCC unroll 6
    for (std::size_t m = 0; m < Rows; ++m)
      _mm256_store_si256(reinterpret_cast<__m256i*>(tile[m].data() + 8 * half), acc[m]);
  }
#else
  for (std::size_t q = 0; q < 2 * steps; ++q)
    for (std::size_t m = 0; m < Rows; ++m)
      for (std::size_t n = 0; n < u8s8_panel_rows; ++n) {
        std::uint32_t sum = static_cast<std::uint32_t>(tile[m][n]);
        for (std::size_t i = 0; i < 4; ++i)
          sum += static_cast<std::uint32_t>(std::int32_t{u[m * lda + 4 * q + i]} *
                                            panel[(q * u8s8_panel_rows + n) * 4 + i]);
        tile[m][n] = static_cast<std::int32_t>(sum);
      }
#endif
  for (std::size_t m = 0; m < Rows; ++m)
    for (std::size_t n = 0; n < cols; ++n) c[m * ldc + n] = tile[m][n];
}

}  // namespace pot::simd
