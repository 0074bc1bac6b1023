#pragma once
/// \file
/// \brief GEMM over packed PoT weights: `C (M, N) = (A - zp) (M, K) * W (N, K)^T` exactly in
/// int32, with the weights of a panel of rows decoded once to int8 or int16 (or codes for
/// the shift kernel) and reused for every activation row.

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "pot/linalg/execution.hpp"
#include "pot/linalg/parallel_for.hpp"
#include "pot/linalg/pot_gemv.hpp"
#include "pot/linalg/pot_weights.hpp"
#include "pot/simd/code_decoding.hpp"
#include "pot/simd/s16_gemm_micro_kernel.hpp"
#include "pot/simd/u8s8_gemm_micro_kernel.hpp"
#include "pot/simd/shift_accumulate.hpp"

namespace pot::linalg {

namespace detail {

/// Runs `tile(rows, m)` over all M activation rows: full tiles of 6 rows, then one tile
/// of the 1 to 5 rows left (`rows` an integral_constant, for the micro-kernels' Rows).
template <class Tile>
inline void tiles_over_activation_rows(std::size_t M, Tile tile) {
  constexpr std::size_t full = 6;
  static_assert(full == simd::s16_tile_rows && full == simd::u8s8_tile_rows);
  std::size_t m = 0;
  for (; m + full <= M; m += full) tile(std::integral_constant<std::size_t, full>{}, m);
  switch (M - m) {
    case 1: tile(std::integral_constant<std::size_t, 1>{}, m); break;
    case 2: tile(std::integral_constant<std::size_t, 2>{}, m); break;
    case 3: tile(std::integral_constant<std::size_t, 3>{}, m); break;
    case 4: tile(std::integral_constant<std::size_t, 4>{}, m); break;
    case 5: tile(std::integral_constant<std::size_t, 5>{}, m); break;
    default: break;
  }
}

/// Runs the int16 micro-kernel over all M activation rows against one decoded panel.
inline void s16_panel_times_activations(const std::int16_t* a, std::size_t M, std::size_t lda,
                                        const std::int16_t* panel, std::int32_t* c, std::size_t ldc,
                                        std::size_t cols) {
  tiles_over_activation_rows(M, [&](auto rows, std::size_t m) {
    simd::s16_micro_kernel<decltype(rows)::value>(a + m * lda, lda, panel, lda / 2, c + m * ldc, ldc, cols);
  });
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

/// The table kernel for ranges <= 6: uint8 activation codes as they come, weights decoded
/// 16 rows at a time to int8 in the quad-interleaved panel of
/// simd/u8s8_gemm_micro_kernel.hpp, and the zero point applied at the end through each
/// weight row's sum: sum_k w (u - z) = sum_k w u - z sum_k w, all wrapping in int32
/// like the vector sums (the exact result fits by require_exact_int32_depth). Half the
/// bytes of the int16 kernel's operands, and for ranges <= 5 a quarter fewer
/// multiply instructions.
template <pot_type P>
inline void pot_gemm_u8s8(const packed_weights_view<P>& w, centered_activations a, std::size_t M,
                          std::span<std::int32_t> c, execution settings) {
  static constexpr auto table = simd::integer_decode_table<P, std::int8_t>();
  constexpr bool pair_add = shift_range<P> <= 5;
  const std::size_t K = w.cols, N = w.rows;
  const std::size_t lda = (K + simd::u8s8_depth_step - 1) / simd::u8s8_depth_step * simd::u8s8_depth_step;
  std::vector<std::uint8_t> a8(M * lda, 0);  // (M, K rounded up to 8); padding meets zero weights
  for (std::size_t m = 0; m < M; ++m)
    std::copy_n(a.codes.data() + m * K, K, a8.data() + m * lda);
  const std::size_t panels = (N + simd::u8s8_panel_rows - 1) / simd::u8s8_panel_rows;
  parallel_for(0, panels, [&](std::size_t first_panel, std::size_t last_panel) {
    std::vector<std::uint8_t> codes(K);
    std::vector<std::int8_t> weights(simd::u8s8_panel_rows * lda), panel(simd::u8s8_panel_rows * lda);  // (16, lda)
    std::array<std::uint32_t, simd::u8s8_panel_rows> weight_sums{};
    for (std::size_t p = first_panel; p < last_panel; ++p) {
      const std::size_t n0 = p * simd::u8s8_panel_rows;
      const std::size_t rows = std::min(simd::u8s8_panel_rows, N - n0);
      decode_panel_rows<P>(w, n0, rows, lda, table, std::span<std::uint8_t>(codes), std::span<std::int8_t>(weights));
      for (std::size_t n = 0; n < rows; ++n) {
        std::int32_t sum = 0;  // |sum| <= 64 K: no overflow for any K the bound allows
        for (std::size_t k = 0; k < K; ++k) sum += weights[n * lda + k];
        weight_sums[n] = static_cast<std::uint32_t>(sum);
      }
      simd::pack_u8s8_panel(weights.data(), lda, panel.data());
      tiles_over_activation_rows(M, [&](auto tile_rows, std::size_t m) {
        simd::u8s8_micro_kernel<decltype(tile_rows)::value, pair_add>(
            a8.data() + m * lda, lda, panel.data(), lda / simd::u8s8_depth_step, c.data() + m * N + n0, N, rows);
      });
      const auto zero_point = static_cast<std::uint32_t>(a.zero_point);
      for (std::size_t m = 0; m < M; ++m)
        for (std::size_t n = 0; n < rows; ++n) {
          auto& out = c[m * N + n0 + n];
          out = static_cast<std::int32_t>(static_cast<std::uint32_t>(out) - zero_point * weight_sums[n]);
        }
    }
  }, settings);
}

/// The table kernel for ranges <= 14: activations centered and widened to int16 once
/// (K padded to even), weights decoded 16 rows at a time into a pair-interleaved int16
/// panel (simd/s16_gemm_micro_kernel.hpp) that every activation row then reuses; threads
/// take whole panels. A panel of K = 768 takes 24 KiB and stays in L1 (at K <= 4096,
/// 128 KiB in L2) while the activation rows stream past it. Blocking M and K so that a
/// block of activations stays in L2 as well was measured slower at GPT-2 shapes (the
/// hardware prefetcher keeps the six activation streams of a tile ahead, and K blocks
/// add a read-modify-write of C), so the kernel keeps this simpler order.
template <pot_type P>
inline void pot_gemm_s16(const packed_weights_view<P>& w, centered_activations a, std::size_t M,
                         std::span<std::int32_t> c, execution settings) {
  static constexpr auto table = simd::integer_decode_table<P, std::int16_t>();
  const std::size_t K = w.cols, N = w.rows, lda = K + K % 2;
  std::vector<std::int16_t> a16(M * lda, 0);  // (M, K + K % 2)
  for (std::size_t m = 0; m < M; ++m)
    for (std::size_t k = 0; k < K; ++k)
      a16[m * lda + k] = static_cast<std::int16_t>(std::int32_t{a.codes[m * K + k]} - a.zero_point);
  const std::size_t panels = (N + simd::s16_panel_rows - 1) / simd::s16_panel_rows;
  parallel_for(0, panels, [&](std::size_t first_panel, std::size_t last_panel) {
    std::vector<std::uint8_t> codes(K);
    std::vector<std::int16_t> weights(simd::s16_panel_rows * lda), panel(simd::s16_panel_rows * lda);  // (16, lda)
    for (std::size_t p = first_panel; p < last_panel; ++p) {
      const std::size_t n0 = p * simd::s16_panel_rows;
      const std::size_t rows = std::min(simd::s16_panel_rows, N - n0);
      decode_panel_rows<P>(w, n0, rows, lda, table, std::span<std::uint8_t>(codes), std::span<std::int16_t>(weights));
      simd::pack_s16_panel(weights.data(), lda, panel.data());
      s16_panel_times_activations(a16.data(), M, lda, panel.data(), c.data() + n0, N, rows);
    }
  }, settings);
}

/// The shift kernel: codes of a panel of rows unpacked once to int32, then each
/// activation row shift-accumulated against every row of the panel.
template <pot_type P>
inline void pot_gemm_shift(const packed_weights_view<P>& w, centered_activations a, std::size_t M,
                           std::span<std::int32_t> c, execution settings) {
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
          c[m * N + n] = simd::shift_accumulate<P>(std::span<const std::int32_t>(panel).subspan((n - n0) * K, K),
                                                   std::span<const std::int32_t>(a32).subspan(m * K, K));
    }
  }, settings);
}

}  // namespace detail

/// \brief Exact integer GEMM: `c[m * N + n] = sum_k (a[m * K + k] - zero_point) *
/// sign_nk * 2^(e_nk - MinExp)` for row-major `a` (M, K) and `c` (M, N), N = w.rows.
///
/// The same integers as pot_gemv() row by row, for every kernel. pot_kernel::table runs
/// the uint8 x int8 micro-kernel for exponent ranges up to 6, the int16 one up to 14 and
/// the shift kernel beyond.
/// Threads take whole panels of weight rows, so the thread count cannot change a result.
/// \throws std::invalid_argument on mismatched sizes, a zero point outside Q's range, or
/// K above max_exact_int32_depth<P>.
template <pot_type P, class Q>
void pot_gemm(const packed_weights_view<P>& w, std::span<const Q> a, std::size_t M,
              std::int32_t zero_point, std::span<std::int32_t> c,
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
    }, settings);
    return;
  }
  if (kernel == pot_kernel::table) {
    if constexpr (detail::table_uses_int8<P>) {
      detail::pot_gemm_u8s8(w, centered, M, c, settings);
      return;
    } else if constexpr (detail::table_uses_int16<P>) {
      detail::pot_gemm_s16(w, centered, M, c, settings);
      return;
    }
  }
  detail::pot_gemm_shift(w, centered, M, c, settings);
}

/// \brief pot_gemm() over all of a packed_matrix.
template <pot_type P, class Q>
void pot_gemm(const packed_matrix<P>& w, std::span<const Q> a, std::size_t M,
              std::int32_t zero_point, std::span<std::int32_t> c,
              pot_kernel kernel = pot_kernel::table, execution settings = {}) {
  pot_gemm<P, Q>(packed_weights_view<P>(w), a, M, zero_point, c, kernel, settings);
}

}  // namespace pot::linalg
