#pragma once
/// \file
/// \brief GEMM over packed PoT weights: `C (M, N) = (A - zp) (M, K) * W (N, K)^T` exactly in
/// int32, with the weights of a panel of rows decoded once to int8 or int16 (or codes for
/// the shift kernel) and reused for every activation row.

#include <algorithm>
#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "pot/linalg/execution.hpp"
#include "pot/linalg/parallel_for.hpp"
#include "pot/linalg/pot_gemv.hpp"
#include "pot/linalg/pot_weights.hpp"
#include "pot/simd/code_decoding.hpp"
#include "pot/simd/dispatch.hpp"
#include "pot/simd/gemm_panels.hpp"
#include "pot/simd/pot_gemm_kernels.hpp"
#include "pot/simd/shift_accumulate.hpp"

namespace pot::linalg {

namespace detail {

/// Calls `f(std::integral_constant<std::size_t, R>{})` for the R in [1, Max] equal to
/// `rows` (which must lie there).
template <std::size_t Max, class F, std::size_t... R>
inline void with_row_count(std::size_t rows, F&& f, std::index_sequence<R...>) {
  ((rows == R + 1 ? (f(std::integral_constant<std::size_t, R + 1>{}), 0) : 0), ...);
}

/// Runs `tile(rows, m)` over all M activation rows: full tiles of `TileRows`, then one
/// tile of the rows left (`rows` an integral_constant, for the micro-kernels' Rows).
template <std::size_t TileRows, class Tile>
inline void tiles_over_activation_rows(std::size_t M, Tile tile) {
  std::size_t m = 0;
  for (; m + TileRows <= M; m += TileRows) tile(std::integral_constant<std::size_t, TileRows>{}, m);
  if (m < M)
    with_row_count<TileRows>(M - m, [&](auto rows) { tile(rows, m); }, std::make_index_sequence<TileRows>{});
}

/// Decodes weight rows [n0, n0 + rows) through `table` into the first rows of `weights`
/// (row-major, `lda` elements per row) and zeroes the rest, the padding the micro-kernels
/// multiply by. `codes` is scratch of K elements.
template <pot_type P, class T, std::size_t Codes>
inline void decode_panel_rows(const packed_weights_view<P>& w, std::size_t n0, std::size_t rows,
                              std::size_t lda, const std::array<T, Codes>& table,
                              std::span<std::uint8_t> codes, std::span<T> weights) {
  std::fill(weights.begin(), weights.end(), T{0});
  for (std::size_t n = 0; n < rows; ++n) {
    simd::unpack_row_codes<P::bits>(w.row(n0 + n), codes);
    for (std::size_t k = 0; k < codes.size(); ++k) weights[n * lda + k] = table[codes[k]];
  }
}

/// The int8 decode table of the uint8 x int8 kernel: the weights themselves, except that
/// +128 (range 7) becomes -128, its int8 bit pattern; the kernel corrects for it.
template <pot_type P>
inline constexpr auto wrapped_int8_table = [] {
  std::array<std::int8_t, code_count<P>> table{};
  for (std::size_t code = 0; code < table.size(); ++code)
    table[code] = static_cast<std::int8_t>(static_cast<std::uint8_t>(integer_table<P, std::int16_t>[code] & 0xFF));
  return table;
}();

/// The table kernel for exponent ranges up to what the instruction set's uint8 x int8
/// kernel takes: uint8 activation codes as they come, weights decoded one panel at a time
/// to int8 in the quad-interleaved layout (simd/gemm_panels.hpp), and the zero point
/// applied through each weight row's sum (its statistics) as the micro-kernel stores a
/// tile: sum_k w (u - z) = sum_k w u - z sum_k w, all wrapping in int32 like the vector
/// sums (the exact result fits by require_exact_int32_depth). For range 7 the weights
/// +128 are stored as -128 and, in the panels whose rows hold one, the quads that do
/// are listed for the micro-kernel to correct (simd::u8s8_corrections).
template <pot_type P, class Isa, class Finish>
inline void pot_gemm_u8s8(Isa isa, const packed_weights_view<P>& w, centered_activations a, std::size_t M,
                          std::span<std::int32_t> c, execution settings, const Finish& finish) {
  constexpr simd::pot_gemm_shape shape = simd::u8s8_gemm_shape(Isa{});
  constexpr bool corrects = shift_range<P> == 7;
  constexpr const auto& table = wrapped_int8_table<P>;
  constexpr const auto& exact = integer_table<P, std::int16_t>;
  const std::size_t K = w.cols, N = w.rows;
  const std::size_t lda = (K + shape.depth_step - 1) / shape.depth_step * shape.depth_step;
  std::vector<packed_row_statistics> found;
  const std::span<const packed_row_statistics> statistics = statistics_of(w, found);
  std::vector<std::uint8_t> a8(M * lda, 0);  // (M, K rounded up); padding meets zero weights
  for (std::size_t m = 0; m < M; ++m) std::copy_n(a.codes.data() + m * K, K, a8.data() + m * lda);
  const std::size_t panels = (N + shape.panel_rows - 1) / shape.panel_rows;
  parallel_for(0, panels, [&](std::size_t first_panel, std::size_t last_panel) {
    std::vector<std::uint8_t> codes(K);
    std::vector<std::int8_t> weights(shape.panel_rows * lda), panel(shape.panel_rows * lda);  // (panel_rows, lda)
    std::vector<std::int8_t> tops;             // (panel_rows, lda): 1 where the weight is +128
    std::vector<std::int8_t> indicators;       // per listed quad: 4 bytes per panel row
    std::vector<std::uint32_t> listed_quads;   // the quads holding a +128
    if constexpr (corrects) tops.resize(shape.panel_rows * lda);
    for (std::size_t p = first_panel; p < last_panel; ++p) {
      const std::size_t n0 = p * shape.panel_rows;
      const std::size_t rows = std::min(shape.panel_rows, N - n0);
      // Only panels with a row that holds a +128 (by the statistics) need the correction.
      bool holds_top = false;
      for (std::size_t n = 0; n < rows && corrects; ++n)
        holds_top = holds_top || statistics[n0 + n].top_positive_count != 0;
      std::fill(weights.begin(), weights.end(), std::int8_t{0});
      if (holds_top) std::fill(tops.begin(), tops.end(), std::int8_t{0});
      listed_quads.clear();
      for (std::size_t n = 0; n < rows; ++n) {
        const bool row_holds_top = holds_top && statistics[n0 + n].top_positive_count != 0;
        if constexpr (P::bits == 4) {
          simd::decode_packed4_row(isa, w.row(n0 + n), table, K, weights.data() + n * lda);
          if (!row_holds_top) continue;
        }
        simd::unpack_row_codes<P::bits>(w.row(n0 + n), std::span<std::uint8_t>(codes));
        if constexpr (P::bits != 4)
          for (std::size_t k = 0; k < K; ++k) weights[n * lda + k] = table[codes[k]];
        if (!row_holds_top) continue;
        for (std::size_t k = 0; k < K; ++k)
          if (exact[codes[k]] == 128) {
            tops[n * lda + k] = 1;
            listed_quads.push_back(static_cast<std::uint32_t>(k / 4));
          }
      }
      // The quads that hold a +128 in some row, each with its 0/1 marks for every row.
      std::sort(listed_quads.begin(), listed_quads.end());
      listed_quads.erase(std::unique(listed_quads.begin(), listed_quads.end()), listed_quads.end());
      indicators.assign(listed_quads.size() * shape.panel_rows * 4, 0);
      for (std::size_t j = 0; j < listed_quads.size(); ++j)
        for (std::size_t n = 0; n < rows; ++n)
          for (std::size_t i = 0; i < 4; ++i)
            indicators[(j * shape.panel_rows + n) * 4 + i] = tops[n * lda + 4 * listed_quads[j] + i];
      simd::pack_quad_panel(weights.data(), lda, shape.panel_rows, panel.data());
      // sum_k w of each column, through which the micro-kernel applies the zero point.
      std::array<std::int32_t, shape.panel_rows> weight_sums{};
      for (std::size_t n = 0; n < rows; ++n) weight_sums[n] = statistics[n0 + n].integer_sum;
      tiles_over_activation_rows<shape.tile_rows>(M, [&](auto tile_rows, std::size_t m) {
        constexpr std::size_t tile = decltype(tile_rows)::value;
        const auto run = [&](auto... corrections) {
          simd::u8s8_micro_kernel<tile, shift_range<P>>(isa, a8.data() + m * lda, lda, panel.data(), lda / 4,
                                                       a.zero_point, weight_sums.data(), c.data() + m * N + n0, N,
                                                       rows, corrections...);
        };
        // Only the instruction sets whose range reaches 7 (AVX-512) take the +128 quads.
        if constexpr (corrects)
          run(simd::u8s8_corrections{indicators.data(), listed_quads.data(), listed_quads.size()});
        else
          run();
      });
      finish(n0, n0 + rows);
    }
  }, settings);
}

/// The table kernel for ranges up to 14: activations centered and widened to int16 once
/// (K padded to even), weights decoded one panel at a time into a pair-interleaved int16
/// panel (simd/gemm_panels.hpp) that every activation row then reuses; threads take whole
/// panels. A panel of K = 768 takes 24 KiB (16 rows) or 48 KiB (32 rows) and stays in L1
/// or L2 while the activation rows stream past it. Blocking M and K so that a block of
/// activations stays in L2 as well was measured slower at GPT-2 shapes on AVX2 (the
/// hardware prefetcher keeps the activation streams of a tile ahead, and K blocks add a
/// read-modify-write of C), so the kernel keeps this simpler order.
template <pot_type P, class Isa, class Finish>
inline void pot_gemm_s16(Isa isa, const packed_weights_view<P>& w, centered_activations a, std::size_t M,
                         std::span<std::int32_t> c, execution settings, const Finish& finish) {
  constexpr simd::pot_gemm_shape shape = simd::s16_gemm_shape(Isa{});
  constexpr const auto& table = integer_table<P, std::int16_t>;
  const std::size_t K = w.cols, N = w.rows, lda = K + K % 2;
  std::vector<std::int16_t> a16(M * lda, 0);  // (M, K + K % 2)
  for (std::size_t m = 0; m < M; ++m)
    for (std::size_t k = 0; k < K; ++k)
      a16[m * lda + k] = static_cast<std::int16_t>(std::int32_t{a.codes[m * K + k]} - a.zero_point);
  const std::size_t panels = (N + shape.panel_rows - 1) / shape.panel_rows;
  parallel_for(0, panels, [&](std::size_t first_panel, std::size_t last_panel) {
    std::vector<std::uint8_t> codes(K);
    std::vector<std::int16_t> weights(shape.panel_rows * lda), panel(shape.panel_rows * lda);  // (panel_rows, lda)
    for (std::size_t p = first_panel; p < last_panel; ++p) {
      const std::size_t n0 = p * shape.panel_rows;
      const std::size_t rows = std::min(shape.panel_rows, N - n0);
      decode_panel_rows<P>(w, n0, rows, lda, table, std::span<std::uint8_t>(codes), std::span<std::int16_t>(weights));
      simd::pack_pair_panel(weights.data(), lda, shape.panel_rows, panel.data());
      tiles_over_activation_rows<shape.tile_rows>(M, [&](auto tile_rows, std::size_t m) {
        simd::s16_micro_kernel<decltype(tile_rows)::value>(isa, a16.data() + m * lda, lda, panel.data(), lda / 2,
                                                           c.data() + m * N + n0, N, rows);
      });
      finish(n0, n0 + rows);
    }
  }, settings);
}

/// The shift kernel: codes of a panel of rows unpacked once to int32, then each
/// activation row shift-accumulated against every row of the panel.
template <pot_type P, class Isa, class Finish>
inline void pot_gemm_shift(Isa isa, const packed_weights_view<P>& w, centered_activations a, std::size_t M,
                           std::span<std::int32_t> c, execution settings, const Finish& finish) {
  constexpr std::size_t panel_rows = 32;  // 32 rows of K <= 4096 int32 codes: 512 KiB at most
  const std::size_t K = w.cols, N = w.rows;
  std::vector<std::int32_t> a32(M * K);
  for (std::size_t i = 0; i < a32.size(); ++i) a32[i] = std::int32_t{a.codes[i]} - a.zero_point;
  const std::size_t panels = (N + panel_rows - 1) / panel_rows;
  parallel_for(0, panels, [&](std::size_t first_panel, std::size_t last_panel) {
    std::vector<std::int32_t> panel(panel_rows * K);
    for (std::size_t p = first_panel; p < last_panel; ++p) {
      const std::size_t n0 = p * panel_rows, n1 = std::min(N, n0 + panel_rows);
      for (std::size_t n = n0; n < n1; ++n)
        simd::unpack_row_codes<P::bits>(w.row(n), std::span<std::int32_t>(panel).subspan((n - n0) * K, K));
      for (std::size_t m = 0; m < M; ++m)
        for (std::size_t n = n0; n < n1; ++n)
          c[m * N + n] = simd::shift_accumulate<P>(isa, panel.data() + (n - n0) * K, a32.data() + m * K, K);
      finish(n0, n1);
    }
  }, settings);
}

}  // namespace detail

/// \brief Exact integer GEMM: `c[m * N + n] = sum_k (a[m * K + k] - zero_point) *
/// sign_nk * 2^(e_nk - MinExp)` for row-major `a` (M, K) and `c` (M, N), N = w.rows.
///
/// The same integers as pot_gemv() row by row, for every kernel and instruction set.
/// pot_kernel::table runs the uint8 x int8 micro-kernel for exponent ranges up to 6 (7
/// with AVX-512: vpdpbusd with the +128 correction), the int16 one up to 14 and the
/// shift kernel beyond.
/// Threads take whole panels of weight rows, so the thread count cannot change a result.
/// Each finished block of columns [first, last) of all M rows of `c` is handed to
/// `finish(first, last)` (e.g. linalg/epilogue.hpp's output stages) on the thread that
/// computed it, while it is still in cache; the blocks cover [0, N) once.
/// \throws std::invalid_argument on mismatched sizes, a zero point outside Q's range, or
/// K above max_exact_int32_depth<P>.
template <pot_type P, class Q, std::invocable<std::size_t, std::size_t> Finish>
void pot_gemm(const packed_weights_view<P>& w, std::span<const Q> a, std::size_t M,
              std::int32_t zero_point, std::span<std::int32_t> c, const Finish& finish,
              pot_kernel kernel = pot_kernel::table, execution settings = {}) {
  static_assert(P::bits <= 8, "pot: packed kernels take codes of at most 8 bits");
  static_assert(detail::fits_int32_kernels<P>,
                "pot: integer kernels need MaxExp - MinExp <= 23 (255 * 2^range must fit int32)");
  const std::size_t K = w.cols, N = w.rows;
  if (a.size() != M * K)
    throw std::invalid_argument("pot: activations hold " + std::to_string(a.size()) +
                                " elements, M x K = " + std::to_string(M * K));
  detail::require_shape(w, K, c.size(), M * N);
  require_exact_int32_depth<P>(K);
  std::vector<std::uint8_t> shifted(a.size());
  const centered_activations centered = center_activations(a, zero_point, shifted);
  if (kernel == pot_kernel::reference) {
    parallel_for(0, N, [&](std::size_t first, std::size_t last) {
      for (std::size_t m = 0; m < M; ++m)
        for (std::size_t n = first; n < last; ++n)
          c[m * N + n] = detail::reference_row_dot<P>(
              w.row(n), {centered.codes.subspan(m * K, K), centered.zero_point});
      finish(first, last);
    }, settings);
    return;
  }
  simd::dispatch([&](auto isa) {
    if (kernel == pot_kernel::table) {
      if constexpr (detail::shift_range<P> <= simd::u8s8_gemm_max_range(decltype(isa){})) {
        detail::pot_gemm_u8s8<P>(isa, w, centered, M, c, settings, finish);
        return;
      } else if constexpr (detail::shift_range<P> <= 14) {
        detail::pot_gemm_s16<P>(isa, w, centered, M, c, settings, finish);
        return;
      }
    }
    detail::pot_gemm_shift<P>(isa, w, centered, M, c, settings, finish);
  });
}

/// \brief pot_gemm() without a finishing stage.
template <pot_type P, class Q>
void pot_gemm(const packed_weights_view<P>& w, std::span<const Q> a, std::size_t M,
              std::int32_t zero_point, std::span<std::int32_t> c,
              pot_kernel kernel = pot_kernel::table, execution settings = {}) {
  pot_gemm<P, Q>(w, a, M, zero_point, c, [](std::size_t, std::size_t) {}, kernel, settings);
}

/// \brief pot_gemm() over all of a packed_matrix.
template <pot_type P, class Q>
void pot_gemm(const packed_matrix<P>& w, std::span<const Q> a, std::size_t M,
              std::int32_t zero_point, std::span<std::int32_t> c,
              pot_kernel kernel = pot_kernel::table, execution settings = {}) {
  pot_gemm<P, Q>(packed_weights_view<P>(w), a, M, zero_point, c, kernel, settings);
}

}  // namespace pot::linalg
