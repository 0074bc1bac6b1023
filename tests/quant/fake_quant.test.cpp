#include "pot/quant/fake_quant.hpp"

#include <doctest/doctest.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <vector>

#include "pot/quant/pot_quantizer.hpp"

using pot::ste_estimator;

namespace {
using pot4 = pot::pot<4, 0, 7>;  // the paper's format: 16 codes, no zero, log rounding
}

TEST_CASE("PoT fake-quantization: hand-computed values, masks and LSQ partials") {
  // pot<4,0,7>, scale 0.5: v = x / 0.5, levels 2^0 .. 2^7, log rounding (midpoint sqrt 2).
  struct expected_case {
    float x;
    float y;
    bool in_range;
    float scale_partial;  // level - v inside, level outside
  };
  const std::array cases{
      // 0.6 = 1.2 * 2^-1, 1.2 < sqrt2 -> e = -1 < MinExp -> saturates to 2^0: y = 0.5, mask 0,
      // dy/ds = level = 1.
      expected_case{0.3f, 0.5f, false, 1.0f},
      // 1.2 = 1.2 * 2^0 -> e = 0 -> y = 0.5, in range, dy/ds = 1 - 1.2.
      expected_case{0.6f, 0.5f, true, 1.0f - 1.2f},
      // 1.6 = 1.6 * 2^0, 1.6 >= sqrt2 -> e = 1 -> level 2, y = 1.0, dy/ds = 2 - 1.6.
      expected_case{0.8f, 1.0f, true, 2.0f - 1.6f},
      // 0.7 = 1.4 * 2^-1, 1.4 < 1.41421 -> e = -1 -> masked, level 1.
      expected_case{0.35f, 0.5f, false, 1.0f},
      // 0.72 = 1.44 * 2^-1, 1.44 >= sqrt2 -> e = 0 -> in range, dy/ds = 1 - 0.72.
      expected_case{0.36f, 0.5f, true, 1.0f - 0.72f},
      // -6 = -1.5 * 2^2 -> e = 3 -> level -8, y = -4, dy/ds = -8 - (-6) = -2.
      expected_case{-3.0f, -4.0f, true, -2.0f},
      // 200 = 1.5625 * 2^7 -> e = 8 > MaxExp -> saturates to 2^7: y = 64, mask 0, dy/ds = 128.
      expected_case{100.0f, 64.0f, false, 128.0f},
      // 0 has no code in pot<4,0,7>: it becomes +2^0 (y = 0.5); the reference's exponent of
      // 0 is -1, so the mask is 0 and dy/ds = level = 1.
      expected_case{0.0f, 0.5f, false, 1.0f},
  };
  for (const auto& c : cases) {
    CAPTURE(c.x);
    const auto q = pot::fake_quantize_pot<pot4>(c.x, 0.5f);
    CHECK(q.value == c.y);
    CHECK(q.in_range == c.in_range);
    CHECK(q.scale_partial() == doctest::Approx(c.scale_partial).epsilon(1e-6));
    CHECK(q.input_partial(ste_estimator::identity) == 1.0f);
    CHECK(q.input_partial(ste_estimator::clipped) == (c.in_range ? 1.0f : 0.0f));
    // Same value as the quantizer's own quantize/dequantize pair.
    CHECK(q.value == pot::dequantize_pot(pot::quantize_pot<pot4>(c.x, 0.5f), 0.5f));
  }
}

TEST_CASE("PoT fake-quantization follows the pot type's rounding and zero policies") {
  // Linear rounding, midpoint 1.5: v = 1.4 -> 2^0, v = 1.52 -> 2^1.
  using linear = pot::pot<4, 0, 7, pot::rounding::linear>;
  CHECK(pot::fake_quantize_pot<linear>(0.7f, 0.5f).value == 0.5f);
  CHECK(pot::fake_quantize_pot<linear>(0.76f, 0.5f).value == 1.0f);
  // pot<4,0,6> has a spare code, so it flushes: v = 0.6 (e = -1) becomes 0, mask 0.
  using flushing = pot::pot<4, 0, 6>;
  const auto flushed = pot::fake_quantize_pot<flushing>(0.3f, 0.5f);
  CHECK(flushed.value == 0.0f);
  CHECK_FALSE(flushed.in_range);
  // With MinExp = -3 the reference's exponent -1 of 0 lies in range: mask 1; 0 has no code
  // (8 exponents fill 4 bits), so it becomes 2^-3: y = 0.5 * 0.125.
  using wide = pot::pot<4, -3, 4>;
  const auto zero = pot::fake_quantize_pot<wide>(0.0, 0.5);
  CHECK(zero.in_range);
  CHECK(zero.value == 0.0625);
}

TEST_CASE("PoT fake-quantization: scale 0, NaN, infinity and invalid scales") {
  const auto all_zero_tensor = pot::fake_quantize_pot<pot4>(1.0f, 0.0f);
  CHECK(all_zero_tensor.value == 0.0f);
  CHECK_FALSE(all_zero_tensor.in_range);
  const auto nan = pot::fake_quantize_pot<pot4>(std::nanf(""), 0.5f);
  CHECK(std::isnan(nan.value));
  CHECK_FALSE(nan.in_range);
  const auto inf = pot::fake_quantize_pot<pot4>(std::numeric_limits<float>::infinity(), 0.5f);
  CHECK(inf.value == 64.0f);
  CHECK_FALSE(inf.in_range);
  CHECK_THROWS_WITH_AS(pot::fake_quantize_pot<pot4>(1.0f, -0.5f), doctest::Contains("scale"),
                       std::invalid_argument);
  CHECK_THROWS_AS(pot::fake_quantize_pot<pot4>(1.0f, std::nanf("")), std::invalid_argument);
  CHECK_THROWS_AS(pot::fake_quantize_pot<pot4>(1.0, std::numeric_limits<double>::infinity()),
                  std::invalid_argument);
}

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
  const auto inside = pot::affine_fake_quantize_partials(0.26f, params);
  CHECK(inside.input == 1.0f);
  CHECK(inside.scale == doctest::Approx(0.4).epsilon(1e-5));
  CHECK(inside.zero_point == 0.0f);
  // Below: code -5 < 0: dscale = qmin - zp = -10, dzp = -scale.
  const auto below = pot::affine_fake_quantize_partials(-1.5f, params);
  CHECK(below.input == 0.0f);
  CHECK(below.scale == -10.0f);
  CHECK(below.zero_point == -0.1f);
  // Above: code 256 > 255: dscale = qmax - zp = 245, dzp = -scale.
  const auto above = pot::affine_fake_quantize_partials(24.6f, params);
  CHECK(above.input == 0.0f);
  CHECK(above.scale == 245.0f);
  CHECK(above.zero_point == -0.1f);
}

TEST_CASE("tensor forward and backward: masks, += accumulation, scale gradients") {
  const std::vector<float> x{0.3f, 0.8f, -3.0f, 100.0f};
  std::vector<float> y(4);
  std::vector<std::uint8_t> mask(4);
  pot::fake_quantize_pot_forward<pot4>(x, 0.5f, y, mask);
  CHECK(y == std::vector<float>{0.5f, 1.0f, -4.0f, 64.0f});
  CHECK(mask == std::vector<std::uint8_t>{0, 1, 1, 0});

  const std::vector<float> dy{1.0f, 2.0f, 3.0f, 4.0f};
  std::vector<float> dx{10.0f, 10.0f, 10.0f, 10.0f};
  pot::fake_quantize_backward(dy, mask, ste_estimator::clipped, dx);
  CHECK(dx == std::vector<float>{10.0f, 12.0f, 13.0f, 10.0f});
  pot::fake_quantize_backward(dy, mask, ste_estimator::identity, dx);
  CHECK(dx == std::vector<float>{11.0f, 14.0f, 16.0f, 14.0f});

  // dL/ds = 1 * 1 + 2 * (2 - 1.6) + 3 * (-8 + 6) + 4 * 128 = 1 + 0.8 - 6 + 512 = 507.8
  CHECK(pot::fake_quantize_pot_scale_gradient<pot4>(dy, x, 0.5f) ==
        doctest::Approx(507.8).epsilon(1e-6));
  const double g = pot::lsq_gradient_scale(4, 128.0);  // 1 / sqrt(4 * 128)
  CHECK(g == doctest::Approx(1.0 / std::sqrt(512.0)));
  CHECK(pot::fake_quantize_pot_scale_gradient<pot4>(dy, x, 0.5f, g) ==
        doctest::Approx(507.8 / std::sqrt(512.0)).epsilon(1e-6));

  const auto params = pot::make_affine_params<std::uint8_t>(0.1f, 10);
  const std::vector<float> a{0.26f, -1.5f, 24.6f};
  std::vector<float> ay(3);
  std::vector<std::uint8_t> amask(3);
  pot::fake_quantize_affine_forward(a, params, ay, amask);
  CHECK(ay == std::vector<float>{0.3f, -1.0f, 24.5f});
  CHECK(amask == std::vector<std::uint8_t>{1, 0, 0});
  const std::vector<float> ady{1.0f, 2.0f, 3.0f};
  std::vector<float> adx(3, 1.0f);
  const auto grads = pot::fake_quantize_affine_learnable_backward(ady, a, params, adx);
  CHECK(adx == std::vector<float>{2.0f, 1.0f, 1.0f});
  // scale: 1 * 0.4 + 2 * (-10) + 3 * 245 = 715.4; zero point: 2 * -0.1 + 3 * -0.1 = -0.5.
  CHECK(grads.scale == doctest::Approx(715.4).epsilon(1e-6));
  CHECK(grads.zero_point == doctest::Approx(-0.5).epsilon(1e-6));
}

TEST_CASE("tensor functions reject mismatched lengths and bad parameters") {
  std::vector<float> x(3), y(2);
  std::vector<std::uint8_t> mask(3);
  CHECK_THROWS_AS(pot::fake_quantize_pot_forward<pot4>(x, 0.5f, y, mask), std::invalid_argument);
  std::vector<float> y3(3);
  CHECK_THROWS_AS(pot::fake_quantize_pot_forward<pot4>(x, -1.0f, y3, mask), std::invalid_argument);
  pot::affine_params<std::uint8_t> bad{0.0f, 0};
  CHECK_THROWS_AS(pot::fake_quantize_affine_forward(x, bad, y3, mask), std::invalid_argument);
  CHECK_THROWS_AS(pot::fake_quantize_backward(x, mask, ste_estimator::clipped, y), std::invalid_argument);
  CHECK_THROWS_AS(pot::lsq_gradient_scale(0, 128.0), std::invalid_argument);
}
