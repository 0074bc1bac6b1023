#include "pot/autodiff/ste.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <stdexcept>

#include "pot/autodiff/derivatives.hpp"

using pot::ste_estimator;
using pot::ad::derivatives;
using pot::ad::var;
using pot::ad::wrt;

namespace {
using pot4 = pot::pot<4, 0, 7>;

double derivative_of(const var<double>& y, const var<double>& x) { return derivatives(y, wrt(x))[0]; }
}  // namespace

TEST_CASE("round and floor: exact values, identity gradient") {
  for (const double v : {2.5, 3.5, -2.5, 0.49, -0.51}) {
    var<double> x = v;
    const var<double> r = round(x);
    CHECK(r.value() == std::nearbyint(v));
    CHECK(derivative_of(r, x) == 1.0);
    const var<double> f = floor(x);
    CHECK(f.value() == std::floor(v));
    CHECK(derivative_of(f, x) == 1.0);
  }
  CHECK(round(var<double>(2.5)).value() == 2.0);  // half to even, as torch.round
  CHECK(round(var<double>(-3.5)).value() == -4.0);
  // y = x * round(4x) / 4; with the STE, dy/dx = round(4x)/4 + x * 4/4.
  // At x = 0.3: round(1.2) = 1 -> 0.25 + 0.3 = 0.55.
  var<double> x = 0.3;
  CHECK(derivative_of(x * round(4.0 * x) / 4.0, x) == doctest::Approx(0.55).epsilon(1e-15));
}

TEST_CASE("clip: gradient 1 on [lo, hi] including the bounds, 0 outside") {
  struct expected_case {
    double x, y, derivative;
  };
  for (const auto& c : {expected_case{-2.0, -1.0, 0.0}, expected_case{-1.0, -1.0, 1.0},
                        expected_case{0.5, 0.5, 1.0}, expected_case{2.0, 2.0, 1.0},
                        expected_case{2.5, 2.0, 0.0}}) {
    CAPTURE(c.x);
    var<double> x = c.x;
    const var<double> y = clip(x, -1.0, 2.0);
    CHECK(y.value() == c.y);
    CHECK(derivative_of(y, x) == c.derivative);
  }
  var<double> x = 1.0;
  CHECK_THROWS_WITH_AS(clip(x, 2.0, 1.0), doctest::Contains("lo <= hi"), std::invalid_argument);
}

TEST_CASE("PoT fake-quantization on var: the three estimators by hand") {
  // pot<4,0,7>, scale 0.5. x = 0.3: v = 0.6 = 1.2 * 2^-1, 1.2 < sqrt2 -> e = -1 < 0 ->
  // saturates to level 1: y = 0.5; the clipped mask is 0 (e = -1 < MinExp).
  var<double> x = 0.3;
  var<double> scale = 0.5;
  const auto identity = pot::ad::fake_quantize_pot<pot4>(x, scale, ste_estimator::identity);
  CHECK(identity.value() == 0.5);
  CHECK(derivatives(identity, wrt(x, scale)) == std::array{1.0, 0.0});
  const auto clipped = pot::ad::fake_quantize_pot<pot4>(x, scale, ste_estimator::clipped);
  CHECK(derivatives(clipped, wrt(x, scale)) == std::array{0.0, 0.0});
  // LSQ outside the range: dy/ds = level = 1.
  const auto outside = pot::ad::fake_quantize_pot<pot4>(x, scale, ste_estimator::learnable_scale);
  CHECK(derivatives(outside, wrt(x, scale)) == std::array{0.0, 1.0});

  // x = 0.8: v = 1.6 >= sqrt2 -> e = 1 -> level 2, y = 1.0, in range:
  // dy/dx = 1, dy/ds = 2 - 1.6 = 0.4; with LSQ's g = 1/sqrt(n * 2^7) for n = 8: g = 1/32.
  var<double> w = 0.8;
  const auto inside =
      pot::ad::fake_quantize_pot<pot4>(w, scale, ste_estimator::learnable_scale, 1.0 / 32.0);
  CHECK(inside.value() == 1.0);
  const auto g = derivatives(inside, wrt(w, scale));
  CHECK(g[0] == 1.0);
  CHECK(g[1] == doctest::Approx(0.4 / 32.0).epsilon(1e-14));
  CHECK(pot::lsq_gradient_scale(8, 128.0) == 1.0 / 32.0);
}

TEST_CASE("PoT LSQ equals differentiating s * STE(x / s) through the tape") {
  // A different route to the same derivative: build v = x / s on the tape, then a custom
  // node whose value is the level and whose derivative is the mask, then y = s * node.
  for (const double x0 : {-5.3, -0.9, 0.07, 0.3, 0.8, 2.2, 70.0, 100.0}) {
    CAPTURE(x0);
    var<double> x = x0;
    var<double> s = 0.5;
    const var<double> lsq = pot::ad::fake_quantize_pot<pot4>(x, s, ste_estimator::learnable_scale);
    const var<double> v = x / s;
    const pot4 level(v.value());
    const pot::rounded_power e = pot::round_to_power_of_two<pot::rounding::log>(v.value());
    const bool in_range = e.exponent >= 0 && e.exponent <= 7;
    const var<double> composed =
        s * var<double>::from_unary(static_cast<double>(level), v, in_range ? 1.0 : 0.0);
    CHECK(lsq.value() == composed.value());
    const auto a = derivatives(lsq, wrt(x, s));
    const auto b = derivatives(composed, wrt(x, s));
    CHECK(a[0] == doctest::Approx(b[0]).epsilon(1e-14));
    CHECK(a[1] == doctest::Approx(b[1]).epsilon(1e-14));
  }
}

TEST_CASE("affine fake-quantization on var: PyTorch's value and clipped mask") {
  const auto params = pot::make_affine_params<std::uint8_t>(0.1f, 10);
  // -1.5 * 10 = -15 -> code -5 < 0: clamped to 0, y = -1, mask 0.
  var<double> x = -1.5;
  const auto clipped = pot::ad::fake_quantize_affine(x, params);
  CHECK(clipped.value() == -1.0);
  CHECK(derivative_of(clipped, x) == 0.0);
  CHECK(derivative_of(pot::ad::fake_quantize_affine(x, params, ste_estimator::identity), x) == 1.0);
  // 0.26 -> 2.6 -> 3 -> code 13 -> y = 0.3f, mask 1.
  var<double> inside = 0.26;
  const auto y = pot::ad::fake_quantize_affine(inside, params);
  CHECK(y.value() == static_cast<double>(0.3f));
  CHECK(derivative_of(y, inside) == 1.0);
  CHECK_THROWS_AS(pot::ad::fake_quantize_affine(x, params, ste_estimator::learnable_scale),
                  std::invalid_argument);
}

TEST_CASE("learnable affine fake-quantization: LSQ gradients of scale and zero point") {
  // Loss 1*y(0.26) + 2*y(-1.5) + 3*y(24.6) with scale 0.1, zero point 10, [0, 255]:
  // dL/ds = 1 * (0.3 - 0.26)/0.1 + 2 * (0 - 10) + 3 * (255 - 10) = 0.4 - 20 + 735 = 715.4
  // dL/dzp = 2 * (-0.1) + 3 * (-0.1) = -0.5; dL/dx = (1, 0, 0).
  var<double> scale = static_cast<double>(0.1f);
  var<double> zero_point = 10.0;
  var<double> a = 0.26, b = -1.5, c = 24.6;
  const auto quantize = [&](const var<double>& x) {
    return pot::ad::fake_quantize_affine_learnable<std::uint8_t>(x, scale, zero_point, 0, 255);
  };
  const var<double> loss = quantize(a) + 2.0 * quantize(b) + 3.0 * quantize(c);
  const auto g = derivatives(loss, wrt(a, b, c, scale, zero_point));
  CHECK(g[0] == 1.0);
  CHECK(g[1] == 0.0);
  CHECK(g[2] == 0.0);
  CHECK(g[3] == doctest::Approx(715.4).epsilon(1e-6));
  CHECK(g[4] == doctest::Approx(-0.5).epsilon(1e-6));

  // The forward rounds the zero point half to even: 10.5 -> 10, so 24.6 -> 246 + 10 = 256,
  // clamped to 255 -> y = (255 - 10) * 0.1 = 24.5 (a zero point of 11 would give 24.4).
  var<double> half = 10.5;
  const auto y = pot::ad::fake_quantize_affine_learnable<std::uint8_t>(c, scale, half, 0, 255);
  CHECK(y.value() == static_cast<double>(24.5f));
  CHECK_THROWS_AS(pot::ad::fake_quantize_affine_learnable<std::uint8_t>(c, scale, half, 5, 5),
                  std::invalid_argument);
}
