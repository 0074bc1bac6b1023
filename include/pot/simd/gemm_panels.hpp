#pragma once
/// \file
/// \brief The layouts of the decoded weight panels that the PoT GEMM micro-kernels read
/// (simd/pot_gemm_kernels.hpp), and the tile shape each instruction set uses.
///
/// A panel holds `panel_rows` decoded weight rows interleaved along K, so that one vector
/// load gives the same few k of every row and a broadcast of one activation row's few k
/// multiplies them all at once: the tile is an outer product, with no horizontal sums.
/// - int8 panels, in groups of 4 k ("quads"): `panel[(q * panel_rows + n) * 4 + i]` is
///   weight (n, 4q + i), for vpdpbusd / vpmaddubsw;
/// - int16 panels, in pairs of k: `panel[(p * panel_rows + n) * 2 + j]` is weight
///   (n, 2p + j), for vpdpwssd / vpmaddwd.

#include <cstddef>
#include <cstdint>

namespace pot::simd {

/// \brief The shape of one instruction set's PoT GEMM micro-kernels.
struct pot_gemm_shape {
  std::size_t panel_rows;  ///< weight rows per decoded panel (columns of a C tile)
  std::size_t tile_rows;   ///< most activation rows of one tile
  std::size_t depth_step;  ///< K is padded with zero weights to a multiple of this
};

/// \brief The quads of an int8 panel whose weight +128 was stored as -128, which the
/// uint8 x int8 micro-kernels that take an exponent range of 7 correct: `quad_index[j]`
/// for j < `count`, and per listed quad the quad-interleaved 0/1 bytes
/// (`indicators + 4 * panel_rows * j`, 4 per panel column) that mark those weights.
struct u8s8_corrections {
  const std::int8_t* indicators = nullptr;    ///< 4 * panel_rows bytes per listed quad
  const std::uint32_t* quad_index = nullptr;  ///< the listed quads
  std::size_t count = 0;                      ///< how many are listed
};

/// \brief Writes `panel_rows` int8 weight rows, row-major with `lda` (a multiple of 4)
/// elements per row and zero padding, into `panel` in the quad-interleaved order.
inline void pack_quad_panel(const std::int8_t* rows, std::size_t lda, std::size_t panel_rows,
                            std::int8_t* panel) noexcept {
  for (std::size_t q = 0; q < lda / 4; ++q)
    for (std::size_t n = 0; n < panel_rows; ++n) __builtin_memcpy(panel + (q * panel_rows + n) * 4, rows + n * lda + 4 * q, 4);
}

/// \brief Writes `panel_rows` int16 weight rows, row-major with `lda` (even) elements per
/// row and zero padding, into `panel` in the pair-interleaved order.
inline void pack_pair_panel(const std::int16_t* rows, std::size_t lda, std::size_t panel_rows,
                            std::int16_t* panel) noexcept {
  for (std::size_t p = 0; p < lda / 2; ++p)
    for (std::size_t n = 0; n < panel_rows; ++n) __builtin_memcpy(panel + (p * panel_rows + n) * 2, rows + n * lda + 2 * p, 4);
}

}  // namespace pot::simd
