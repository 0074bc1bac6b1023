#pragma once
/// \file
/// \brief The portable bodies of the literal PoT dot product (simd/shift_accumulate.hpp).

#include <cstddef>
#include <cstdint>

#include "pot/core/traits.hpp"
#include "pot/simd/dispatch.hpp"
#include "pot/simd/packed4_layout.hpp"

namespace pot::simd {

namespace detail {

/// `x` shifted left by code's exponent index, negated for a negative code, 0 for the
/// zero code (and for codes no value has, which validated weights never hold), wrapping
/// like the vector lanes.
template <pot_type P>
constexpr std::uint32_t shifted_term(std::uint32_t code, std::int32_t x) noexcept {
  constexpr std::uint32_t index_mask = (1u << (P::bits - 1)) - 1u;
  const std::uint32_t index = code & index_mask;
  // The zero code's index (all ones) is beyond the exponents, like every invalid index.
  if (index >= static_cast<std::uint32_t>(P::exponent_count)) return 0;
  const std::uint32_t shifted = static_cast<std::uint32_t>(x) << index;
  return (code >> (P::bits - 1)) != 0 ? 0u - shifted : shifted;
}

}  // namespace detail

/// \brief `sum_k x[k] * sign_k * 2^(index_k)` over `count` codes of `P` stored one per
/// int32 (|x| <= 255; the caller bounds K so that the exact sum fits in int32).
template <pot_type P>
inline std::int32_t shift_accumulate(portable_tag, const std::int32_t* codes, const std::int32_t* x,
                                     std::size_t count) noexcept {
  std::uint32_t total = 0;
  for (std::size_t k = 0; k < count; ++k)
    total += detail::shifted_term<P>(static_cast<std::uint32_t>(codes[k]), x[k]);
  return static_cast<std::int32_t>(total);
}

/// \brief The portable bodies read activations in stream order.
constexpr std::size_t packed4_shift_position(portable_tag, std::size_t k, std::size_t /*count*/) noexcept { return k; }

/// \brief `out[r] = sum_k x[k] * sign_rk * 2^(index_rk)` for `Rows` rows of `count`
/// 4-bit codes of `P` starting `row_stride` bytes apart at `first_row`, `ordered`
/// holding the centered activations x in the order of packed4_shift_position().
template <pot_type P, std::size_t Rows>
inline void shift_packed4_rows(portable_tag, const std::int16_t* ordered, const std::byte* first_row,
                               std::size_t row_stride, const std::byte* /*prefetch_rows*/, std::size_t count,
                               std::int32_t* out) noexcept {
  static_assert(P::bits == 4, "pot: shift_packed4_rows takes 4-bit codes");
  for (std::size_t r = 0; r < Rows; ++r) {
    const std::byte* row = first_row + r * row_stride;
    std::uint32_t total = 0;
    for (std::size_t k = 0; k < count; ++k) total += detail::shifted_term<P>(packed4_code(row, k), ordered[k]);
    out[r] = static_cast<std::int32_t>(total);
  }
}

}  // namespace pot::simd
