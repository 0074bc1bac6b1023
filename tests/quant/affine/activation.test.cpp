#include "pot/quant/affine/activation.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <type_traits>

#include "pot/core/pot.hpp"

namespace {

constexpr pot::affine_params<std::uint8_t> tenth_uint8{0.1f, 128, 0, 255};

}  // namespace

TEST_CASE("an affine activation's offset is q - zero_point, exact for extreme codes") {
  const pot::affine<std::uint8_t> top{std::uint8_t{255}, std::uint8_t{0}};
  CHECK(top.offset() == 255);
  const pot::affine<std::int8_t> bottom{std::int8_t{-128}, std::int8_t{127}};
  CHECK(bottom.offset() == -255);
  const pot::affine<std::uint8_t> from_float{0.35f, tenth_uint8};
  CHECK(from_float.code() == 132);
  CHECK(from_float.zero_point() == 128);
  CHECK(from_float.offset() == 4);
}

TEST_CASE("affine * pot is the exact integer (q - zero_point) * 2^e") {
  using weight = pot::pot<4, 0, 7>;
  // Every uint8 code against every code of pot<4, 0, 7>, compared with a product in
  // long long formed from the code layout (sign bit 3, exponent index in bits 0..2).
  for (int zero_point : {0, 128, 255}) {
    for (int q = 0; q <= 255; ++q) {
      const pot::affine<std::uint8_t> a{static_cast<std::uint8_t>(q),
                                        static_cast<std::uint8_t>(zero_point)};
      for (unsigned code = 0; code < 16; ++code) {
        const weight w = weight::from_code(static_cast<std::uint8_t>(code));
        const long long magnitude = 1LL << (code & 7u);
        const long long expected = (q - zero_point) * ((code & 8u) != 0 ? -magnitude : magnitude);
        const auto product = a * w;
        static_assert(std::is_same_v<decltype(product), const std::int32_t>);
        REQUIRE(product == expected);
        REQUIRE(w * a == expected);
      }
    }
  }
  // int8 extremes: (-128 - 127) * -2^7 = 32640.
  const pot::affine<std::int8_t> low{std::int8_t{-128}, std::int8_t{127}};
  CHECK(low * weight::from_code(0b1111) == 32640);
  static_assert(pot::affine<std::int8_t>{std::int8_t{5}, std::int8_t{-3}} * weight::from_code(2) == 32);
}
