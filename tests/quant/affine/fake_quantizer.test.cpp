#include "pot/quant/affine/fake_quantizer.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <stdexcept>
#include <vector>

TEST_CASE("an observing fake-quantizer quantizes each batch with the range observed up to it") {
  pot::affine_fake_quantizer<std::uint8_t> quantizer(0.5f);
  REQUIRE(quantizer.observing());
  // First batch [-1, 3]: scale 4/255, zero point 64 (qmin - round(-1 / scale) = 63.75 -> 64).
  std::vector<float> first{-1.0f, 0.5f, 3.0f, 1.0f};
  const std::vector<float> first_input = first;
  std::vector<std::uint8_t> mask(4);
  quantizer.forward(first, mask);
  const auto first_params = pot::calculate_qparams<std::uint8_t>(-1.0f, 3.0f, pot::qscheme::affine);
  CHECK(quantizer.params() == first_params);
  CHECK(first_params.zero_point == 64);
  for (std::size_t i = 0; i < first.size(); ++i) {
    CHECK(first[i] == pot::fake_quantize_affine(first_input[i], first_params).value);
    CHECK(mask[i] == 1);
  }
  // Second batch [0, 7]: the range moves halfway, to [-0.5, 5]; 7 is then out of range.
  std::vector<float> second{0.0f, 7.0f, 2.0f, 4.0f};
  quantizer.forward(second, mask);
  CHECK(quantizer.params() == pot::calculate_qparams<std::uint8_t>(-0.5f, 5.0f, pot::qscheme::affine));
  CHECK(mask == std::vector<std::uint8_t>{1, 0, 1, 1});
  // Not observing: the range stays.
  quantizer.set_observing(false);
  std::vector<float> third{-100.0f, 100.0f};
  std::vector<std::uint8_t> third_mask(2);
  quantizer.forward(third, third_mask);
  CHECK(quantizer.params() == pot::calculate_qparams<std::uint8_t>(-0.5f, 5.0f, pot::qscheme::affine));
  CHECK(third_mask == std::vector<std::uint8_t>{0, 0});
  // -100 clamps to code 0, whose value is -zero_point * scale (zero point 23: -0.5 is not
  // a code).
  CHECK(third[0] == pot::dequantize<std::uint8_t>(0, quantizer.params()));
  CHECK(quantizer.params().zero_point == 23);
}

TEST_CASE("a fake-quantizer of fixed parameters never observes; one that saw nothing has no parameters") {
  const auto fixed = pot::make_affine_params<std::int8_t>(0.5f, -3);
  pot::affine_fake_quantizer<std::int8_t> frozen(fixed);
  CHECK_FALSE(frozen.observing());
  CHECK(frozen.params() == fixed);
  CHECK_THROWS_AS(frozen.set_observing(true), std::logic_error);
  std::vector<float> x{1.2f, -70.0f};
  std::vector<std::uint8_t> mask(2);
  frozen.forward(x, mask);
  CHECK(x == std::vector<float>{1.0f, -62.5f});  // 2.4 -> 2; -140 - 3 clamps to -128
  CHECK(mask == std::vector<std::uint8_t>{1, 0});
  CHECK_THROWS_AS(pot::affine_fake_quantizer<std::int8_t>(pot::affine_params<std::int8_t>{0.0f, 0}),
                  std::invalid_argument);

  pot::affine_fake_quantizer<std::uint8_t> unobserved;
  unobserved.set_observing(false);
  CHECK_THROWS_AS(static_cast<void>(unobserved.params()), std::logic_error);
  CHECK_THROWS_AS(unobserved.forward(x, mask), std::logic_error);
}

TEST_CASE("the fake-quantizer's backward passes the gradient where the code was in range") {
  std::vector<float> gradient{1.0f, 2.0f, 3.0f};
  pot::affine_fake_quantizer<std::uint8_t>::backward(gradient, std::vector<std::uint8_t>{1, 0, 1});
  CHECK(gradient == std::vector<float>{1.0f, 0.0f, 3.0f});
}
