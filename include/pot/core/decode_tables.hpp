#pragma once
/// \file
/// \brief Decode tables from a code of a PoT type to the integer `±2^(e - MinExp)` or the
/// float `±2^e` it stands for: what every table-decoding kernel looks codes up in, and
/// what the per-row constants of a packed matrix are summed from.

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>

#include "pot/core/traits.hpp"

namespace pot {

/// \brief Number of codes a Bits-wide PoT type has (valid or not): the size of a decode table.
template <pot_type P>
inline constexpr std::size_t code_count = std::size_t{1} << P::bits;

/// \brief Table from every code of `P` to the integer `±2^(e - MinExp)` (the weight with
/// all exponents offset so that every shift is a left shift), 0 for the zero code.
///
/// Codes no value has (exponent index beyond the range) map to 0, so a kernel that meets
/// one in bytes from outside counts it as a zero weight; packed matrices never hold them.
/// `T` must hold `2^(MaxExp - MinExp)`: int8_t up to a range of 6, int16_t up to 14,
/// int32_t up to 30.
template <pot_type P, std::signed_integral T>
constexpr std::array<T, code_count<P>> integer_decode_table() noexcept {
  static_assert(P::max_exponent - P::min_exponent < static_cast<int>(8 * sizeof(T)) - 1,
                "pot: integer_decode_table: 2^(MaxExp - MinExp) does not fit the table's type");
  std::array<T, code_count<P>> table{};
  const unsigned index_mask = (1u << (P::bits - 1)) - 1u;
  for (unsigned code = 0; code < code_count<P>; ++code) {
    const auto index = static_cast<int>(code & index_mask);
    const bool negative = (code >> (P::bits - 1)) != 0;
    const bool is_zero = P::has_zero && code == index_mask;
    if (is_zero || index >= P::exponent_count) continue;
    const auto magnitude = static_cast<std::int32_t>(1) << index;
    table[code] = static_cast<T>(negative ? -magnitude : magnitude);
  }
  return table;
}

/// \brief Table from every code of `P` to its float value `±2^e` (0 for the zero code and
/// for codes no value has).
template <pot_type P>
constexpr std::array<float, code_count<P>> float_decode_table() noexcept {
  std::array<float, code_count<P>> table{};
  const unsigned index_mask = (1u << (P::bits - 1)) - 1u;
  for (unsigned code = 0; code < code_count<P>; ++code) {
    const auto index = static_cast<int>(code & index_mask);
    const bool is_zero = P::has_zero && code == index_mask;
    if (is_zero || index >= P::exponent_count) continue;
    table[code] = static_cast<float>(P::from_code(static_cast<typename P::code_type>(code)));
  }
  return table;
}

}  // namespace pot
