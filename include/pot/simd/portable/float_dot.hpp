#pragma once
/// \file
/// \brief The portable bodies of the float-activation dot products over PoT codes
/// (simd/float_dot.hpp): xsimd registers of the build's own architecture.

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "pot/simd/xsimd_compat.hpp"

#include "pot/simd/dispatch.hpp"
#include "pot/simd/packed4_layout.hpp"

namespace pot::simd {

/// \brief `sum x[k] * w[k]` in float: one FMA chain per vector lane, then the lanes.
inline float dot_float(portable_tag, const float* x, const float* w, std::size_t count) noexcept {
  using batch = xsimd::batch<float>;
  const std::size_t vector_end = count - count % batch::size;
  batch sum(0.0f);
  for (std::size_t k = 0; k < vector_end; k += batch::size)
    sum = xsimd::fma(batch::load_unaligned(x + k), batch::load_unaligned(w + k), sum);
  float total = xsimd_compat::reduce_add(sum);
  for (std::size_t k = vector_end; k < count; ++k) total = std::fma(x[k], w[k], total);
  return total;
}

namespace detail_portable {

/// `out[r] = sum_k x[k] * weight(r, k)` for `Rows` rows: each row's weights decoded into
/// a block on the stack, then dot_float().
template <std::size_t Rows, class Weight>
inline void dot_decoded_rows(portable_tag tag, const float* x, std::size_t count, float* out, Weight weight) noexcept {
  constexpr std::size_t block = 256;
  std::array<float, block> weights{};
  for (std::size_t r = 0; r < Rows; ++r) {
    float total = 0.0f;
    for (std::size_t first = 0; first < count; first += block) {
      const std::size_t n = std::min(block, count - first);
      for (std::size_t i = 0; i < n; ++i) weights[i] = weight(r, first + i);
      total += dot_float(tag, x + first, weights.data(), n);
    }
    out[r] = total;
  }
}

}  // namespace detail_portable

/// \brief The portable bodies read activations in stream order.
constexpr std::size_t float_packed4_position(portable_tag, std::size_t k, std::size_t /*count*/) noexcept { return k; }

/// \brief `out[r] = sum_k x[k] * table[code_rk]` for `Rows` rows of `count` 4-bit codes
/// starting `row_stride` bytes apart, `ordered` holding x in the order of
/// float_packed4_position(): codes decoded through `table` into a block on the stack,
/// then dot_float().
template <std::size_t Rows>
inline void dot_float_packed4_rows(portable_tag tag, const float* ordered, const std::byte* first_row,
                                   std::size_t row_stride, const std::byte* /*prefetch_rows*/,
                                   const std::array<float, 16>& table, std::size_t count, float* out) noexcept {
  detail_portable::dot_decoded_rows<Rows>(tag, ordered, count, out, [&](std::size_t r, std::size_t k) {
    return table[packed4_code(first_row + r * row_stride, k)];
  });
}

/// \brief `out[r] = sum_k x[k] * w_rk` for `Rows` rows of `count` int8 weights starting
/// `row_stride` bytes apart: weights converted to float in a block on the stack, then
/// dot_float(). `prefetch_rows` (rows read later) is a hint the portable body ignores.
template <std::size_t Rows>
inline void dot_float_int8_rows(portable_tag tag, const float* x, const std::int8_t* first_row, std::size_t row_stride,
                                const std::int8_t* /*prefetch_rows*/, std::size_t count, float* out) noexcept {
  detail_portable::dot_decoded_rows<Rows>(tag, x, count, out, [&](std::size_t r, std::size_t k) {
    return static_cast<float>(first_row[r * row_stride + k]);
  });
}

}  // namespace pot::simd
