#pragma once
/// \file
/// \brief n-bit codes (1 to 8 bits) packed into bytes as a little-endian bit stream.
///
/// Code `i` occupies bits `[i*bits, (i+1)*bits)` of the stream, where bit `k` of the
/// stream is bit `k % 8` of byte `k / 8`: the first code sits in the lowest bits of the
/// first byte. For 4 bits that is two codes per byte, low nibble first; for 8 bits the
/// bytes are the codes. Unused high bits of the last byte are written as zero.

#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>

namespace pot {

/// \brief Smallest code width that pack_codes() and unpack_codes() accept.
inline constexpr int min_packed_bits = 1;
/// \brief Largest code width that pack_codes() and unpack_codes() accept.
inline constexpr int max_packed_bits = 8;

namespace detail {

/// \brief Throws std::invalid_argument unless `bits` is a supported code width.
constexpr void require_packable_bits(int bits) {
  if (bits < min_packed_bits || bits > max_packed_bits)
    throw std::invalid_argument("pot: codes are packed with 1 to 8 bits each, not " +
                                std::to_string(bits));
}

}  // namespace detail

/// \brief Bytes taken by `count` codes of `bits` bits each: `ceil(count * bits / 8)`.
/// \throws std::invalid_argument if `bits` is outside 1..8, std::overflow_error if the bit
/// count does not fit in std::size_t.
constexpr std::size_t packed_bytes(std::size_t count, int bits) {
  detail::require_packable_bits(bits);
  const auto width = static_cast<std::size_t>(bits);
  if (count > std::numeric_limits<std::size_t>::max() / width)
    throw std::overflow_error("pot: " + std::to_string(count) + " codes of " +
                              std::to_string(bits) + " bits overflow a byte count");
  return (count * width + 7) / 8;
}

/// \brief Packs `codes` (each < 2^bits) into the first `packed_bytes(codes.size(), bits)`
/// bytes of `out`; bytes after those are left untouched.
/// \throws std::invalid_argument if `bits` is outside 1..8, a code does not fit in `bits`
/// bits, or `out` is too small.
inline void pack_codes(std::span<const std::uint8_t> codes, int bits, std::span<std::byte> out) {
  const std::size_t needed = packed_bytes(codes.size(), bits);
  if (out.size() < needed)
    throw std::invalid_argument("pot: packing " + std::to_string(codes.size()) + " codes of " +
                                std::to_string(bits) + " bits needs " + std::to_string(needed) +
                                " bytes, the output has " + std::to_string(out.size()));
  const unsigned limit = 1u << bits;
  // Bits not yet written, lowest first; at most 7 + 8 of them are pending at any time.
  unsigned pending = 0;
  int pending_bits = 0;
  std::size_t written = 0;
  for (std::size_t i = 0; i < codes.size(); ++i) {
    if (codes[i] >= limit)
      throw std::invalid_argument("pot: code " + std::to_string(codes[i]) + " at index " +
                                  std::to_string(i) + " does not fit in " + std::to_string(bits) +
                                  " bits");
    pending |= static_cast<unsigned>(codes[i]) << pending_bits;
    pending_bits += bits;
    if (pending_bits >= 8) {
      out[written++] = static_cast<std::byte>(pending & 0xFFu);
      pending >>= 8;
      pending_bits -= 8;
    }
  }
  if (pending_bits > 0) out[written] = static_cast<std::byte>(pending);
}

/// \brief Unpacks `out.size()` codes of `bits` bits from the front of `packed`.
/// \throws std::invalid_argument if `bits` is outside 1..8 or `packed` holds fewer than
/// `packed_bytes(out.size(), bits)` bytes.
inline void unpack_codes(std::span<const std::byte> packed, int bits, std::span<std::uint8_t> out) {
  const std::size_t needed = packed_bytes(out.size(), bits);
  if (packed.size() < needed)
    throw std::invalid_argument("pot: unpacking " + std::to_string(out.size()) + " codes of " +
                                std::to_string(bits) + " bits needs " + std::to_string(needed) +
                                " bytes, the input has " + std::to_string(packed.size()));
  const unsigned mask = (1u << bits) - 1u;
  unsigned pending = 0;
  int pending_bits = 0;
  std::size_t read = 0;
  for (auto& code : out) {
    if (pending_bits < bits) {
      pending |= std::to_integer<unsigned>(packed[read++]) << pending_bits;
      pending_bits += 8;
    }
    code = static_cast<std::uint8_t>(pending & mask);
    pending >>= bits;
    pending_bits -= bits;
  }
}

}  // namespace pot
