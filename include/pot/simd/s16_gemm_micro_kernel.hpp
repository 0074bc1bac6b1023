#pragma once
/// \file
/// \brief The int16 x int16 -> int32 GEMM micro-kernel of the PoT-weight GEMM: a tile of
/// up to 6 activation rows times 16 decoded weight rows, accumulated with vpmaddwd (or
/// vpdpwssd with AVX-512 VNNI) in 12 registers.
///
/// Operands (K is processed in pairs; an odd K is padded with a zero pair element):
/// - activations: row-major int16, `lda` elements per row, lda even;
/// - a weight panel of 16 rows in pair-interleaved order, `panel[(p * 16 + n) * 2 + j]` =
///   weight (n, 2p + j), so one 32-byte load holds a k pair of 8 rows and vpmaddwd with a
///   broadcast activation pair yields 8 int32 partial sums at once (the layout that makes
///   the tile an outer product: no horizontal sums at all).

#include <array>
#include <cstddef>
#include <cstdint>

#include "pot/simd/intrinsics.hpp"

namespace pot::simd {

/// \brief Weight rows per panel of the int16 GEMM micro-kernel (two 8-lane vectors).
inline constexpr std::size_t s16_panel_rows = 16;
/// \brief Largest number of activation rows of one micro-kernel tile.
inline constexpr std::size_t s16_tile_rows = 6;

/// \brief Writes 16 int16 weight rows, row-major with `lda` (even) elements per row and
/// zero padding, into `panel` in the pair-interleaved order of this file; `panel` must
/// hold `16 * lda` elements. Moves 4-byte pairs, which the compiler keeps in registers.
inline void pack_s16_panel(const std::int16_t* rows, std::size_t lda, std::int16_t* panel) noexcept {
  for (std::size_t p = 0; p < lda / 2; ++p)
    for (std::size_t n = 0; n < s16_panel_rows; ++n)
      __builtin_memcpy(panel + (p * s16_panel_rows + n) * 2, rows + n * lda + 2 * p, 4);
}

/// \brief `c[m * ldc + n] = sum_k a[m * lda + k] * w(n, k)` for m < `Rows` (<= 6) and
/// n < `cols` (<= 16), over `pairs` k pairs of the packed `panel`; sums wrap modulo 2^32
/// like the vector instructions (callers bound K so that the exact results fit).
template <std::size_t Rows>
inline void s16_micro_kernel(const std::int16_t* a, std::size_t lda, const std::int16_t* panel,
                             std::size_t pairs, std::int32_t* c, std::size_t ldc, std::size_t cols) noexcept {
  static_assert(Rows >= 1 && Rows <= s16_tile_rows, "pot: an int16 GEMM tile has 1 to 6 rows");
  alignas(32) std::array<std::array<std::int32_t, s16_panel_rows>, Rows> tile{};
#if defined(__AVX2__)
  __m256i acc[Rows][2];  // a C array: std::array would drop __m256i's alignment attribute
#pragma GCC unroll 6
  for (auto& row : acc) row[0] = row[1] = _mm256_setzero_si256();
  for (std::size_t p = 0; p < pairs; ++p) {
    const __m256i w0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(panel + p * 32));
    const __m256i w1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(panel + p * 32 + 16));
    // Unrolled by request so that -O2 too keeps the 2 * Rows accumulators in registers.
#pragma GCC unroll 6
    for (std::size_t m = 0; m < Rows; ++m) {
      std::int32_t pair = 0;
      __builtin_memcpy(&pair, a + m * lda + 2 * p, sizeof pair);
      const __m256i x = _mm256_set1_epi32(pair);
#if defined(__AVX512VNNI__) && defined(__AVX512VL__)
      acc[m][0] = _mm256_dpwssd_epi32(acc[m][0], x, w0);
      acc[m][1] = _mm256_dpwssd_epi32(acc[m][1], x, w1);
#else
      acc[m][0] = _mm256_add_epi32(acc[m][0], _mm256_madd_epi16(x, w0));
      acc[m][1] = _mm256_add_epi32(acc[m][1], _mm256_madd_epi16(x, w1));
#endif
    }
  }
#pragma GCC unroll 6
  for (std::size_t m = 0; m < Rows; ++m) {
    _mm256_store_si256(reinterpret_cast<__m256i*>(tile[m].data()), acc[m][0]);
    _mm256_store_si256(reinterpret_cast<__m256i*>(tile[m].data() + 8), acc[m][1]);
  }
#else
  for (std::size_t p = 0; p < pairs; ++p)
    for (std::size_t m = 0; m < Rows; ++m)
      for (std::size_t n = 0; n < s16_panel_rows; ++n) {
        std::uint32_t sum = static_cast<std::uint32_t>(tile[m][n]);
        for (std::size_t j = 0; j < 2; ++j)
          sum += static_cast<std::uint32_t>(std::int32_t{a[m * lda + 2 * p + j]} *
                                            panel[(p * s16_panel_rows + n) * 2 + j]);
        tile[m][n] = static_cast<std::int32_t>(sum);
      }
#endif
  for (std::size_t m = 0; m < Rows; ++m)
    for (std::size_t n = 0; n < cols; ++n) c[m * ldc + n] = tile[m][n];
}

}  // namespace pot::simd
