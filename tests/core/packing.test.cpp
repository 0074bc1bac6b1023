#include <doctest/doctest.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <random>
#include <span>
#include <stdexcept>
#include <vector>

#include "pot/core/packing.hpp"

using pot::pack_codes;
using pot::packed_bytes;
using pot::unpack_codes;

namespace {

std::vector<std::byte> bytes(std::initializer_list<unsigned> values) {
  std::vector<std::byte> out;
  for (unsigned v : values) out.push_back(static_cast<std::byte>(v));
  return out;
}

}  // namespace

TEST_CASE("packed_bytes is ceil(count * bits / 8)") {
  CHECK(packed_bytes(0, 4) == 0);
  CHECK(packed_bytes(1, 4) == 1);
  CHECK(packed_bytes(3, 4) == 2);
  CHECK(packed_bytes(768, 4) == 384);
  CHECK(packed_bytes(3, 3) == 2);   // 9 bits
  CHECK(packed_bytes(8, 3) == 3);   // 24 bits
  CHECK(packed_bytes(9, 3) == 4);   // 27 bits
  CHECK(packed_bytes(5, 8) == 5);
  CHECK(packed_bytes(17, 2) == 5);  // 34 bits
  CHECK(packed_bytes(9, 1) == 2);
  static_assert(packed_bytes(7, 5) == 5);  // 35 bits
  CHECK_THROWS_WITH_AS(packed_bytes(1, 9), doctest::Contains("not 9"), std::invalid_argument);
  CHECK_THROWS_AS(packed_bytes(1, 0), std::invalid_argument);
  CHECK_THROWS_AS(packed_bytes(SIZE_MAX / 2, 4), std::overflow_error);
}

TEST_CASE("4-bit layout: two codes per byte, low nibble first") {
  const std::array<std::uint8_t, 5> codes{0x1, 0x2, 0xA, 0xF, 0x7};
  std::vector<std::byte> packed(4, std::byte{0xEE});
  pack_codes(codes, 4, packed);
  // byte 0 = 0x2 << 4 | 0x1; byte 1 = 0xF << 4 | 0xA; byte 2 = 0x7 with a zero high
  // nibble; byte 3 is past the packed size and untouched.
  CHECK(packed == bytes({0x21, 0xFA, 0x07, 0xEE}));
}

TEST_CASE("3-bit layout: a little-endian bit stream across byte boundaries") {
  // Codes 5 (101), 3 (011), 6 (110), 1 (001) occupy stream bits 0-2, 3-5, 6-8, 9-11:
  // byte 0 = bits 0..7 = 101 | 011 << 3 | (110 & 11) << 6 = 0b10'011'101 = 0x9D;
  // byte 1 = the last bit of 6 (1) | 001 << 1 = 0b0011 = 0x03.
  const std::array<std::uint8_t, 4> codes{5, 3, 6, 1};
  std::vector<std::byte> packed(2);
  pack_codes(codes, 3, packed);
  CHECK(packed == bytes({0x9D, 0x03}));
  std::array<std::uint8_t, 4> back{};
  unpack_codes(packed, 3, back);
  CHECK(back == codes);
}

TEST_CASE("2-bit and 8-bit layouts") {
  // 2 bits: codes 1, 2, 3, 0, 3 -> byte 0 = 0b00'11'10'01 = 0x39, byte 1 = 0x03.
  const std::array<std::uint8_t, 5> two{1, 2, 3, 0, 3};
  std::vector<std::byte> packed(2);
  pack_codes(two, 2, packed);
  CHECK(packed == bytes({0x39, 0x03}));
  // 8 bits: the bytes are the codes.
  const std::array<std::uint8_t, 2> eight{0xAB, 0x01};
  pack_codes(eight, 8, packed);
  CHECK(packed == bytes({0xAB, 0x01}));
}

TEST_CASE("pack then unpack returns the codes for every width and odd lengths") {
  std::mt19937 rng(3);
  for (int bits = 1; bits <= 8; ++bits) {
    std::uniform_int_distribution<int> code(0, (1 << bits) - 1);
    for (const std::size_t count : {0u, 1u, 3u, 7u, 17u, 63u, 65u, 1000u}) {
      CAPTURE(bits);
      CAPTURE(count);
      std::vector<std::uint8_t> codes(count);
      for (auto& c : codes) c = static_cast<std::uint8_t>(code(rng));
      std::vector<std::byte> packed(packed_bytes(count, bits));
      pack_codes(codes, bits, packed);
      std::vector<std::uint8_t> back(count, 0xFF);
      unpack_codes(packed, bits, back);
      REQUIRE(back == codes);
      // The unused high bits of the last byte are zero.
      if (count * static_cast<std::size_t>(bits) % 8 != 0) {
        const unsigned used = count * static_cast<std::size_t>(bits) % 8;
        REQUIRE((std::to_integer<unsigned>(packed.back()) >> used) == 0u);
      }
    }
  }
}

TEST_CASE("bad input is reported with the sizes involved") {
  const std::array<std::uint8_t, 3> codes{1, 16, 2};
  std::vector<std::byte> packed(2);
  CHECK_THROWS_WITH_AS(pack_codes(codes, 4, packed),
                       doctest::Contains("code 16 at index 1 does not fit in 4 bits"),
                       std::invalid_argument);
  const std::array<std::uint8_t, 5> five{1, 2, 3, 4, 5};
  CHECK_THROWS_WITH_AS(pack_codes(five, 4, packed),
                       doctest::Contains("needs 3 bytes, the output has 2"), std::invalid_argument);
  std::array<std::uint8_t, 5> out{};
  CHECK_THROWS_WITH_AS(unpack_codes(packed, 4, out),
                       doctest::Contains("needs 3 bytes, the input has 2"), std::invalid_argument);
  CHECK_THROWS_AS(unpack_codes(packed, 9, out), std::invalid_argument);
}
