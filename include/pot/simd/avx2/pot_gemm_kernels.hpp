#pragma once
/// \file
/// \brief The AVX2 bodies of the PoT GEMM micro-kernels (simd/pot_gemm_kernels.hpp):
/// tiles of 6 activation rows times 16 weight rows, uint8 x int8 by vpmaddubsw widened
/// with vpmaddwd, int16 by vpmaddwd.

#include <array>
#include <cstddef>
#include <cstdint>

#include "pot/simd/dispatch.hpp"
#include "pot/simd/gemm_panels.hpp"
#include "pot/simd/packed4_layout.hpp"
#include "pot/simd/portable/pot_gemm_kernels.hpp"
#include "pot/simd/target.hpp"

POT_TARGET_AVX2_BEGIN
namespace pot::simd {

/// \brief decode_packed4_row() per 64 codes: one 32-byte load, a mask and a shift for
/// the two nibbles of each byte, vpunpcklbw / vpunpckhbw and two lane permutes to put
/// them back in stream order, two vpshufb through the table. (The AVX-512 tag uses this
/// body: a panel row is decoded once per GEMM and read by every activation row.)
inline void decode_packed4_row(avx2_tag, const std::byte* row, const std::array<std::int8_t, 16>& table,
                               std::size_t count, std::int8_t* out) noexcept {
  const __m256i lookup = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(table.data())));
  const __m256i low_nibbles = _mm256_set1_epi8(0x0F);
  std::size_t k = 0;
  for (; k + 64 <= count; k += 64) {
    const __m256i bytes = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + k / 2));
    const __m256i even = _mm256_and_si256(bytes, low_nibbles);
    const __m256i odd = _mm256_and_si256(_mm256_srli_epi16(bytes, 4), low_nibbles);
    // Per 128-bit lane: codes of bytes 0-7 interleaved, then of bytes 8-15.
    const __m256i first = _mm256_unpacklo_epi8(even, odd), second = _mm256_unpackhi_epi8(even, odd);
    const __m256i codes0 = _mm256_permute2x128_si256(first, second, 0x20);  // codes 0-31
    const __m256i codes1 = _mm256_permute2x128_si256(first, second, 0x31);  // codes 32-63
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + k), _mm256_shuffle_epi8(lookup, codes0));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + k + 32), _mm256_shuffle_epi8(lookup, codes1));
  }
  decode_packed4_row(portable_tag{}, row + k / 2, table, count - k, out + k);
}

/// \brief 6 x 16 tiles; K in steps of two quads, for the pair additions of ranges <= 5.
constexpr pot_gemm_shape u8s8_gemm_shape(avx2_tag) noexcept { return {16, 6, 8}; }
/// \brief 6 x 16 tiles (12 accumulators), K in pairs.
constexpr pot_gemm_shape s16_gemm_shape(avx2_tag) noexcept { return {16, 6, 2}; }
/// \brief vpmaddubsw saturates a pair sum at int16: 2 * 255 * 64 = 32640 is the largest
/// that stays exact, so |w| <= 64.
constexpr int u8s8_gemm_max_range(avx2_tag) noexcept { return 6; }

/// \brief The uint8 x int8 tile: for each half of the panel (8 weight rows) 6
/// accumulators; per two quads two weight loads, a broadcast of 4 activation bytes per
/// quad and row, vpmaddubsw, and vpmaddwd by ones to int32. With |w| <= 32 (Range <= 5)
/// a pair is at most 16320, so the pair sums of the two quads are added in int16 before
/// one vpmaddwd: three multiply-pipe instructions per 64 products instead of four.
template <std::size_t Rows, int Range>
inline void u8s8_micro_kernel(avx2_tag, const std::uint8_t* u, std::size_t lda, const std::int8_t* panel,
                              std::size_t quads, std::int32_t zero_point, const std::int32_t* weight_sums,
                              std::int32_t* c, std::size_t ldc, std::size_t cols) noexcept {
  static_assert(Rows >= 1 && Rows <= 6, "pot: an AVX2 uint8 x int8 GEMM tile has 1 to 6 rows");
  static_assert(Range <= 6, "pot: vpmaddubsw needs |w| <= 64");
  constexpr bool pair_add = Range <= 5;
  constexpr std::size_t panel_rows = 16;
  alignas(32) std::array<std::array<std::int32_t, panel_rows>, Rows> tile{};
  const auto quad = [&](std::size_t m, std::size_t q) {
    std::int32_t four = 0;
    __builtin_memcpy(&four, u + m * lda + 4 * q, sizeof four);
    return _mm256_set1_epi32(four);
  };
  const __m256i ones = _mm256_set1_epi16(1);
  const std::size_t steps = quads / 2;
  // One half of the panel at a time: 6 accumulators, 2 weight vectors, 2 broadcasts and
  // 2 pair sums fit the 16 registers, where the whole panel made the compiler reload
  // every weight vector once per activation row.
  for (std::size_t half = 0; half < 2; ++half) {
    __m256i acc[Rows];  // a C array: std::array would drop __m256i's alignment attribute
#pragma GCC unroll 6
    for (auto& a : acc) a = _mm256_setzero_si256();
    const std::int8_t* weights = panel + 8 * half * 4;
    for (std::size_t s = 0; s < steps; ++s, weights += 2 * panel_rows * 4) {
      const __m256i w0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(weights));
      const __m256i w1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(weights + panel_rows * 4));
      // Unrolled by request so that -O2 too keeps the accumulators in registers.
#pragma GCC unroll 6
      for (std::size_t m = 0; m < Rows; ++m) {
        const __m256i p0 = _mm256_maddubs_epi16(quad(m, 2 * s), w0), p1 = _mm256_maddubs_epi16(quad(m, 2 * s + 1), w1);
        if constexpr (pair_add) {
          acc[m] = _mm256_add_epi32(acc[m], _mm256_madd_epi16(_mm256_add_epi16(p0, p1), ones));
        } else {
          acc[m] = _mm256_add_epi32(acc[m], _mm256_madd_epi16(p0, ones));
          acc[m] = _mm256_add_epi32(acc[m], _mm256_madd_epi16(p1, ones));
        }
      }
    }
#pragma GCC unroll 6
    for (std::size_t m = 0; m < Rows; ++m)
      _mm256_store_si256(reinterpret_cast<__m256i*>(tile[m].data() + 8 * half), acc[m]);
  }
  for (std::size_t m = 0; m < Rows; ++m)
    for (std::size_t n = 0; n < cols; ++n)
      c[m * ldc + n] = static_cast<std::int32_t>(static_cast<std::uint32_t>(tile[m][n]) -
                                                 static_cast<std::uint32_t>(zero_point) *
                                                     static_cast<std::uint32_t>(weight_sums[n]));
}

/// \brief The int16 tile: 12 accumulators, per k pair two weight loads, one broadcast of
/// an activation pair per row and two vpmaddwd.
template <std::size_t Rows>
inline void s16_micro_kernel(avx2_tag, const std::int16_t* a, std::size_t lda, const std::int16_t* panel,
                             std::size_t pairs, std::int32_t* c, std::size_t ldc, std::size_t cols) noexcept {
  static_assert(Rows >= 1 && Rows <= 6, "pot: an AVX2 int16 GEMM tile has 1 to 6 rows");
  constexpr std::size_t panel_rows = 16;
  alignas(32) std::array<std::array<std::int32_t, panel_rows>, Rows> tile{};
  __m256i acc[Rows][2];
#pragma GCC unroll 6
  for (auto& row : acc) row[0] = row[1] = _mm256_setzero_si256();
  for (std::size_t p = 0; p < pairs; ++p) {
    const __m256i w0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(panel + p * 32));
    const __m256i w1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(panel + p * 32 + 16));
#pragma GCC unroll 6
    for (std::size_t m = 0; m < Rows; ++m) {
      std::int32_t pair = 0;
      __builtin_memcpy(&pair, a + m * lda + 2 * p, sizeof pair);
      const __m256i x = _mm256_set1_epi32(pair);
      acc[m][0] = _mm256_add_epi32(acc[m][0], _mm256_madd_epi16(x, w0));
      acc[m][1] = _mm256_add_epi32(acc[m][1], _mm256_madd_epi16(x, w1));
    }
  }
#pragma GCC unroll 6
  for (std::size_t m = 0; m < Rows; ++m) {
    _mm256_store_si256(reinterpret_cast<__m256i*>(tile[m].data()), acc[m][0]);
    _mm256_store_si256(reinterpret_cast<__m256i*>(tile[m].data() + 8), acc[m][1]);
  }
  for (std::size_t m = 0; m < Rows; ++m)
    for (std::size_t n = 0; n < cols; ++n) c[m * ldc + n] = tile[m][n];
}

}  // namespace pot::simd
POT_TARGET_END
