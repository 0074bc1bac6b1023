#pragma once
/// \file
/// \brief The portable bodies of the integer dot products (simd/integer_dot.hpp): plain
/// loops in stream order, the reference every other body is tested against.

#include <array>
#include <cstddef>
#include <cstdint>

#include "pot/simd/dispatch.hpp"
#include "pot/simd/packed4_layout.hpp"

namespace pot::simd {

/// \brief uint8 x int8 dot product over `count` elements: `sum u w` and `sum w`.
inline u8s8_dot dot_u8s8(portable_tag, const std::uint8_t* u, const std::int8_t* w, std::size_t count) noexcept {
  u8s8_dot result;
  accumulate_tail(0, count, [u](std::size_t i) { return u[i]; }, [w](std::size_t i) { return w[i]; },
                  result.products, &result.weights);
  return result;
}

/// \brief int16 x int16 dot product over `count` elements (wrapping int32 sum).
inline std::int32_t dot_s16(portable_tag, const std::int16_t* x, const std::int16_t* w, std::size_t count) noexcept {
  std::int32_t result = 0;
  accumulate_tail(0, count, [x](std::size_t i) { return x[i]; }, [w](std::size_t i) { return w[i]; }, result);
  return result;
}

/// \brief The portable bodies read activations in stream order.
constexpr std::size_t packed4_u8_position(portable_tag, std::size_t k, std::size_t /*count*/) noexcept { return k; }
/// \brief The portable bodies read activations in stream order.
constexpr std::size_t packed4_s16_position(portable_tag, std::size_t k, std::size_t /*count*/) noexcept { return k; }

/// \brief The largest exponent range the uint8 x int8 4-bit kernel of this body takes:
/// int8 weights without the +128 correction.
constexpr int u8_packed4_max_range(portable_tag) noexcept { return 6; }

/// \brief `out[r] = sum_k (u[k] - zero_point) * weights[code_rk]` for `Rows` rows of
/// `count` 4-bit codes starting `row_stride` bytes apart at `first_row`, `ordered` holding
/// u in the order of packed4_u8_position(); `weight_sums[r]` is row r's sum of weights
/// (its statistics' integer_sum), which the vector bodies apply the zero point through.
/// `prefetch_rows` (rows read later) is a hint the portable body ignores; it takes no
/// +128 correction (`CorrectsTop`), see u8_packed4_max_range().
template <std::size_t Rows, bool CorrectsTop = false>
inline void dot_u8_packed4_rows(portable_tag, const std::uint8_t* ordered, std::int32_t zero_point,
                                const std::int32_t* /*weight_sums*/, const std::byte* first_row, std::size_t row_stride,
                                const std::byte* /*prefetch_rows*/, const u8_packed4_tables& tables, std::size_t count,
                                std::int32_t* out) noexcept {
  static_assert(!CorrectsTop, "pot: the portable uint8 x int8 kernel takes exponent ranges up to 6");
  for (std::size_t r = 0; r < Rows; ++r) {
    const std::byte* row = first_row + r * row_stride;
    std::int32_t sum = 0;
    accumulate_tail(0, count, [&](std::size_t i) { return std::int32_t{ordered[i]} - zero_point; },
                    [&](std::size_t i) { return tables.weights[packed4_code(row, i)]; }, sum);
    out[r] = sum;
  }
}

/// \brief `out[r] = sum_k x[k] * table[code_rk]` for `Rows` rows of `count` 4-bit codes,
/// `ordered` holding x in the order of packed4_s16_position().
template <std::size_t Rows>
inline void dot_s16_packed4_rows(portable_tag, const std::int16_t* ordered, const std::byte* first_row,
                                 std::size_t row_stride, const std::byte* /*prefetch_rows*/,
                                 const std::array<std::int16_t, 16>& table, std::size_t count, std::int32_t* out) noexcept {
  for (std::size_t r = 0; r < Rows; ++r) {
    const std::byte* row = first_row + r * row_stride;
    std::int32_t sum = 0;
    accumulate_tail(0, count, [&](std::size_t i) { return ordered[i]; },
                    [&](std::size_t i) { return table[packed4_code(row, i)]; }, sum);
    out[r] = sum;
  }
}

}  // namespace pot::simd
