#pragma once
/// \file
/// \brief GEMM over packed PoT weights: `C (M, N) = (A - zp) (M, K) * W (N, K)^T` exactly in
/// int32, with the weights of a panel of rows decoded once to int8 / int16 (or codes for
/// the shift kernel) and reused for every activation row.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "pot/linalg/execution.hpp"
#include "pot/linalg/parallel_for.hpp"
#include "pot/linalg/pot_gemv.hpp"
#include "pot/linalg/pot_weights.hpp"

namespace pot::linalg {

/// \brief Weight rows decoded together: 32 rows of K <= 4096 int8 weights take 128 KiB,
/// so a panel stays in L2 while every activation row streams past it.
inline constexpr std::size_t pot_gemm_panel_rows = 32;

/// \brief Exact integer GEMM: `c[m * N + n] = sum_k (a[m * K + k] - zero_point) *
/// sign_nk * 2^(e_nk - MinExp)` for row-major `a` (M, K) and `c` (M, N), N = w.rows.
///
/// The same integers as pot_gemv() row by row, for every kernel; panels of weight rows
/// are split over `settings.threads` threads, so the thread count cannot change a result.
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
  detail::prepared_activations all{center_activations(a, zero_point, shifted), {}, {}};
  detail::prepare_for<P>(kernel, all);
  const std::size_t panels = (N + pot_gemm_panel_rows - 1) / pot_gemm_panel_rows;
  parallel_for(0, panels, [&](std::size_t first_panel, std::size_t last_panel) {
    detail::row_scratch scratch;
    std::vector<std::int8_t> panel8;
    std::vector<std::int16_t> panel16;
    std::vector<std::int32_t> panel32;
    for (std::size_t panel = first_panel; panel < last_panel; ++panel) {
      const std::size_t n0 = panel * pot_gemm_panel_rows;
      const std::size_t n1 = std::min(N, n0 + pot_gemm_panel_rows);
      if (kernel == pot_kernel::reference) {
        for (std::size_t m = 0; m < M; ++m)
          for (std::size_t n = n0; n < n1; ++n)
            c[m * N + n] = detail::reference_row_dot<P>(
                w.row(n), {all.u8.codes.subspan(m * K, K), all.u8.zero_point});
        continue;
      }
      const bool int8_table = kernel == pot_kernel::table && detail::table_uses_int8<P>;
      const bool int16_table = kernel == pot_kernel::table && detail::table_uses_int16<P>;
      // Decode the panel once.
      std::vector<std::uint8_t> codes(K);
      panel8.resize(int8_table ? (n1 - n0) * K : 0);
      panel16.resize(int16_table ? (n1 - n0) * K : 0);
      panel32.resize(!int8_table && !int16_table ? (n1 - n0) * K : 0);
      for (std::size_t n = n0; n < n1; ++n) {
        const std::size_t offset = (n - n0) * K;
        if (!int8_table && !int16_table) {
          simd::unpack_row_codes<P::bits>(w.row(n), std::span<std::int32_t>(panel32).subspan(offset, K));
          continue;
        }
        simd::unpack_row_codes<P::bits>(w.row(n), std::span<std::uint8_t>(codes));
        if constexpr (detail::table_uses_int8<P>) {
          static constexpr auto table = simd::integer_decode_table<P, std::int8_t>();
          for (std::size_t k = 0; k < K; ++k) panel8[offset + k] = table[codes[k]];
        } else if constexpr (detail::table_uses_int16<P>) {
          static constexpr auto table = simd::integer_decode_table<P, std::int16_t>();
          for (std::size_t k = 0; k < K; ++k) panel16[offset + k] = table[codes[k]];
        }
      }
      for (std::size_t m = 0; m < M; ++m) {
        for (std::size_t n = n0; n < n1; ++n) {
          const std::size_t offset = (n - n0) * K;
          std::int32_t dot;
          if (int8_table) {
            const auto d = simd::dot_u8s8(all.u8.codes.data() + m * K, panel8.data() + offset, K);
            dot = static_cast<std::int32_t>(static_cast<std::uint32_t>(d.products) -
                                            static_cast<std::uint32_t>(all.u8.zero_point) *
                                                static_cast<std::uint32_t>(d.weights));
          } else if (int16_table) {
            dot = simd::dot_s16(all.centered16.data() + m * K, panel16.data() + offset, K);
          } else {
            dot = simd::shift_accumulate<P>(std::span<const std::int32_t>(panel32).subspan(offset, K),
                                            std::span<const std::int32_t>(all.centered32).subspan(m * K, K));
          }
          c[m * N + n] = dot;
        }
      }
    }
  }, settings);
}

/// \brief pot_gemm() over all of a packed_matrix.
template <pot_type P, class Q>
void pot_gemm(const packed_matrix<P>& w, std::span<const Q> a, std::size_t M,
              std::int32_t zero_point, std::span<std::int32_t> c,
              pot_kernel kernel = pot_kernel::table, execution settings = {}) {
  pot_gemm<P, Q>(packed_weights_view<P>(w), a, M, zero_point, c, kernel, settings);
}

}  // namespace pot::linalg
