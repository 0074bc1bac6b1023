#include "pot/quant/pot_fake_quant.hpp"

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

TEST_CASE("PoT tensor forward: values, masks, LSQ scale gradients") {
  const std::vector<float> x{0.3f, 0.8f, -3.0f, 100.0f};
  std::vector<float> y(4);
  std::vector<std::uint8_t> mask(4);
  pot::fake_quantize_pot_forward<pot4>(x, 0.5f, y, mask);
  CHECK(y == std::vector<float>{0.5f, 1.0f, -4.0f, 64.0f});
  CHECK(mask == std::vector<std::uint8_t>{0, 1, 1, 0});

  const std::vector<float> dy{1.0f, 2.0f, 3.0f, 4.0f};
  // dL/ds = 1 * 1 + 2 * (2 - 1.6) + 3 * (-8 + 6) + 4 * 128 = 1 + 0.8 - 6 + 512 = 507.8
  CHECK(pot::fake_quantize_pot_scale_gradient<pot4>(dy, x, 0.5f) ==
        doctest::Approx(507.8).epsilon(1e-6));
  const double g = pot::lsq_gradient_scale(4, 128.0);  // 1 / sqrt(4 * 128)
  CHECK(pot::fake_quantize_pot_scale_gradient<pot4>(dy, x, 0.5f, g) ==
        doctest::Approx(507.8 / std::sqrt(512.0)).epsilon(1e-6));
}

TEST_CASE("PoT tensor functions reject mismatched lengths and bad scales") {
  std::vector<float> x(3), y(2);
  std::vector<std::uint8_t> mask(3);
  CHECK_THROWS_AS(pot::fake_quantize_pot_forward<pot4>(x, 0.5f, y, mask), std::invalid_argument);
  std::vector<float> y3(3);
  CHECK_THROWS_AS(pot::fake_quantize_pot_forward<pot4>(x, -1.0f, y3, mask), std::invalid_argument);
}
