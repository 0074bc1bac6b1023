#pragma once
/// \file
/// \brief Unpacking a packed row of PoT codes into one code per element (the decode
/// tables that turn codes into weights are in core/decode_tables.hpp).

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>

#include "pot/core/packing.hpp"

namespace pot::simd {

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
