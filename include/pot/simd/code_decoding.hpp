#pragma once
/// \file
/// \brief Unpacking a packed row of PoT codes, and decode tables from a code to the
/// integer `±2^(e - MinExp)` or the float `±2^e` it stands for.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>

#include "pot/core/packing.hpp"
#include "pot/core/traits.hpp"

namespace pot::simd {

/// \brief Number of codes a Bits-wide PoT type has (valid or not): the size of a decode table.
template <pot_type P>
inline constexpr std::size_t code_count = std::size_t{1} << P::bits;

/// \brief Table from every code of `P` to the integer `±2^(e - MinExp)` (the weight with
/// all exponents offset so that every shift is a left shift), 0 for the zero code.
///
/// Codes no value has (exponent index beyond the range) map to 0; packed matrices never
/// hold them. `T` must hold `2^(MaxExp - MinExp)`: int8_t up to a range of 6, int16_t up
/// to 14, int32_t up to 30.
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

/// \brief Unpacks the first `out.size()` codes of a packed row (little-endian bit stream,
/// see core/packing.hpp) into one element each of `out`.
///
/// 4- and 8-bit codes take byte-wise loops the compiler vectorizes; other widths go
/// through the bit-stream reader of core/packing.hpp.
template <int Bits, class T>
inline void unpack_row_codes(const std::byte* row, std::span<T> out) {
  static_assert(std::is_integral_v<T>, "pot: unpack_row_codes writes integer codes");
  const std::size_t count = out.size();
  if constexpr (Bits == 8) {
    for (std::size_t i = 0; i < count; ++i) out[i] = static_cast<T>(std::to_integer<unsigned>(row[i]));
  } else if constexpr (Bits == 4) {
    const std::size_t pairs = count / 2;
    for (std::size_t i = 0; i < pairs; ++i) {
      const auto byte = std::to_integer<unsigned>(row[i]);
      out[2 * i] = static_cast<T>(byte & 0x0Fu);
      out[2 * i + 1] = static_cast<T>(byte >> 4);
    }
    if (count % 2 != 0) out[count - 1] = static_cast<T>(std::to_integer<unsigned>(row[pairs]) & 0x0Fu);
  } else if constexpr (std::is_same_v<T, std::uint8_t>) {
    unpack_codes(std::span<const std::byte>(row, packed_bytes(count, Bits)), Bits, out);
  } else {
    // Other widths: through a byte buffer, in blocks so that the buffer stays on the stack.
    constexpr std::size_t block = 256;  // a multiple of 8 codes, hence of whole bytes
    std::array<std::uint8_t, block> codes{};
    for (std::size_t first = 0; first < count; first += block) {
      const std::size_t n = count - first < block ? count - first : block;
      const std::byte* bytes = row + first * Bits / 8;
      unpack_codes(std::span<const std::byte>(bytes, packed_bytes(n, Bits)), Bits,
                   std::span<std::uint8_t>(codes.data(), n));
      for (std::size_t i = 0; i < n; ++i) out[first + i] = static_cast<T>(codes[i]);
    }
  }
}

}  // namespace pot::simd
