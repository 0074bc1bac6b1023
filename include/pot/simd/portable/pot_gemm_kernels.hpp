#pragma once
/// \file
/// \brief The portable bodies of the PoT GEMM micro-kernels (simd/pot_gemm_kernels.hpp):
/// scalar loops over the panels of simd/gemm_panels.hpp.

#include <array>
#include <cstddef>
#include <cstdint>

#include "pot/simd/dispatch.hpp"
#include "pot/simd/gemm_panels.hpp"
#include "pot/simd/packed4_layout.hpp"

namespace pot::simd {

/// \brief `out[k] = table[code k]` for the first `count` 4-bit codes of a packed row
/// (two per byte, low nibble first), in stream order: a weight row of a GEMM panel.
inline void decode_packed4_row(portable_tag, const std::byte* row, const std::array<std::int8_t, 16>& table,
                               std::size_t count, std::int8_t* out) noexcept {
  for (std::size_t k = 0; k < count; ++k) out[k] = table[packed4_code(row, k)];
}

/// \brief Tiles of up to 6 activation rows times 16 weight rows, K in quads (pairs).
constexpr pot_gemm_shape u8s8_gemm_shape(portable_tag) noexcept { return {16, 6, 4}; }
/// \brief As u8s8_gemm_shape(), for the int16 kernel.
constexpr pot_gemm_shape s16_gemm_shape(portable_tag) noexcept { return {16, 6, 2}; }
/// \brief The widest exponent range the uint8 x int8 kernel takes: |w| <= 64.
constexpr int u8s8_gemm_max_range(portable_tag) noexcept { return 6; }

/// \brief `c[m * ldc + n] = sum_k (u[m * lda + k] - zero_point) * w(n, k)` for m < `Rows`
/// and n < `cols` (<= the panel's rows), over `quads` groups of 4 k of the
/// quad-interleaved `panel`, `weight_sums[n]` holding `sum_k w(n, k)` (through which the
/// bodies apply the zero point, one multiply per column); sums wrap modulo 2^32 (callers
/// bound K so that the exact results fit). `Range` is the weights' exponent range (some
/// bodies use its headroom).
template <std::size_t Rows, int Range>
inline void u8s8_micro_kernel(portable_tag tag, const std::uint8_t* u, std::size_t lda, const std::int8_t* panel,
                              std::size_t quads, std::int32_t zero_point, const std::int32_t* weight_sums,
                              std::int32_t* c, std::size_t ldc, std::size_t cols) noexcept {
  constexpr std::size_t panel_rows = u8s8_gemm_shape(portable_tag{}).panel_rows;
  (void)tag;
  for (std::size_t m = 0; m < Rows; ++m)
    for (std::size_t n = 0; n < cols; ++n) {
      auto sum = 0u - static_cast<std::uint32_t>(zero_point) * static_cast<std::uint32_t>(weight_sums[n]);
      for (std::size_t q = 0; q < quads; ++q)
        for (std::size_t i = 0; i < 4; ++i)
          sum += static_cast<std::uint32_t>(std::int32_t{u[m * lda + 4 * q + i]} * panel[(q * panel_rows + n) * 4 + i]);
      c[m * ldc + n] = static_cast<std::int32_t>(sum);
    }
}

/// \brief `c[m * ldc + n] = sum_k a[m * lda + k] * w(n, k)` over `pairs` k pairs of the
/// pair-interleaved int16 `panel`, as u8s8_micro_kernel().
template <std::size_t Rows>
inline void s16_micro_kernel(portable_tag, const std::int16_t* a, std::size_t lda, const std::int16_t* panel,
                             std::size_t pairs, std::int32_t* c, std::size_t ldc, std::size_t cols) noexcept {
  constexpr std::size_t panel_rows = s16_gemm_shape(portable_tag{}).panel_rows;
  for (std::size_t m = 0; m < Rows; ++m)
    for (std::size_t n = 0; n < cols; ++n) {
      std::uint32_t sum = 0;
      for (std::size_t p = 0; p < pairs; ++p)
        for (std::size_t j = 0; j < 2; ++j)
          sum += static_cast<std::uint32_t>(std::int32_t{a[m * lda + 2 * p + j]} * panel[(p * panel_rows + n) * 2 + j]);
      c[m * ldc + n] = static_cast<std::int32_t>(sum);
    }
}

}  // namespace pot::simd
