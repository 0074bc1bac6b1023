#include "pot/quant/affine/fake_quant.hpp"

#include <doctest/doctest.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <vector>

TEST_CASE("affine fake-quantization: hand-computed values and PyTorch's mask") {
  // uint8, scale 0.1f, zero point 10: inv_scale = 1/0.1f rounds to 10.0f exactly.
  const auto params = pot::make_affine_params<std::uint8_t>(0.1f, 10);
  struct expected_case {
    float x;
    float y;
    bool in_range;
  };
  const std::array cases{
      expected_case{0.26f, 0.3f, true},    // 2.6 -> 3, code 13, (13 - 10) * 0.1f = 0.3f
      expected_case{0.25f, 0.2f, true},    // 2.5 -> 2 (half to even), code 12
      expected_case{-1.0f, -1.0f, true},   // -10 -> code 0 = qmin: inside (bounds included)
      expected_case{-1.5f, -1.0f, false},  // -15 -> code -5, clamped to 0; mask from -5
      expected_case{24.5f, 24.5f, true},   // 245 -> code 255 = qmax
      expected_case{24.6f, 24.5f, false},  // 246 -> code 256, clamped to 255
  };
  for (const auto& c : cases) {
    CAPTURE(c.x);
    const auto q = pot::fake_quantize_affine(c.x, params);
    CHECK(q.value == c.y);
    CHECK(q.in_range == c.in_range);
  }
  CHECK_FALSE(pot::fake_quantize_affine(std::nanf(""), params).in_range);
}


TEST_CASE("affine LSQ partials follow PyTorch's learnable backward") {
  const auto params = pot::make_affine_params<std::uint8_t>(0.1f, 10);
  // Inside: y = 0.3, dscale = (y - x) / scale = (0.3 - 0.26) * 10 = 0.4, dzp = 0.
  const auto inside = pot::fake_quantize_affine_partials(0.26f, params);
  CHECK(inside.input == 1.0f);
  CHECK(inside.scale == doctest::Approx(0.4).epsilon(1e-5));
  CHECK(inside.zero_point == 0.0f);
  // Below: code -5 < 0: dscale = qmin - zp = -10, dzp = -scale.
  const auto below = pot::fake_quantize_affine_partials(-1.5f, params);
  CHECK(below.input == 0.0f);
  CHECK(below.scale == -10.0f);
  CHECK(below.zero_point == -0.1f);
  // Above: code 256 > 255: dscale = qmax - zp = 245, dzp = -scale.
  const auto above = pot::fake_quantize_affine_partials(24.6f, params);
  CHECK(above.input == 0.0f);
  CHECK(above.scale == 245.0f);
  CHECK(above.zero_point == -0.1f);
}


TEST_CASE("affine tensor forward (in place too) and the learnable backward") {
  const auto params = pot::make_affine_params<std::uint8_t>(0.1f, 10);
  const std::vector<float> a{0.26f, -1.5f, 24.6f};
  std::vector<float> ay(3);
  std::vector<std::uint8_t> amask(3);
  pot::fake_quantize_affine_forward(a, params, ay, amask);
  CHECK(ay == std::vector<float>{0.3f, -1.0f, 24.5f});
  CHECK(amask == std::vector<std::uint8_t>{1, 0, 0});
  std::vector<float> in_place = a;
  std::vector<std::uint8_t> in_place_mask(3);
  pot::fake_quantize_affine_forward(std::span<const float>(in_place), params, in_place, in_place_mask);
  CHECK(in_place == ay);
  CHECK(in_place_mask == amask);
  const std::vector<float> ady{1.0f, 2.0f, 3.0f};
  std::vector<float> adx(3, 1.0f);
  const auto grads = pot::fake_quantize_affine_learnable_backward(ady, a, params, adx);
  CHECK(adx == std::vector<float>{2.0f, 1.0f, 1.0f});
  // scale: 1 * 0.4 + 2 * (-10) + 3 * 245 = 715.4; zero point: 2 * -0.1 + 3 * -0.1 = -0.5.
  CHECK(grads.scale == doctest::Approx(715.4).epsilon(1e-6));
  CHECK(grads.zero_point == doctest::Approx(-0.5).epsilon(1e-6));
}

TEST_CASE("affine tensor functions reject mismatched lengths and bad parameters") {
  std::vector<float> x(3), y2(2), y3(3);
  std::vector<std::uint8_t> mask(3), short_mask(2);
  pot::affine_params<std::uint8_t> bad{0.0f, 0};
  CHECK_THROWS_AS(pot::fake_quantize_affine_forward(x, bad, y3, mask), std::invalid_argument);
  const auto params = pot::make_affine_params<std::uint8_t>(0.1f, 3);
  CHECK_THROWS_AS(pot::fake_quantize_affine_forward(x, params, y2, mask), std::invalid_argument);
  CHECK_THROWS_AS(pot::fake_quantize_affine_forward(x, params, y3, short_mask), std::invalid_argument);
}
