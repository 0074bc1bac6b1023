#include "pot/quant/ste.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <vector>

using pot::ste_estimator;

TEST_CASE("the backward pass over a mask: += accumulation, identity and clipped") {
  const std::vector<std::uint8_t> mask{0, 1, 1, 0};
  const std::vector<float> dy{1.0f, 2.0f, 3.0f, 4.0f};
  std::vector<float> dx{10.0f, 10.0f, 10.0f, 10.0f};
  pot::fake_quantize_backward(dy, mask, ste_estimator::clipped, dx);
  CHECK(dx == std::vector<float>{10.0f, 12.0f, 13.0f, 10.0f});
  pot::fake_quantize_backward(dy, mask, ste_estimator::identity, dx);
  CHECK(dx == std::vector<float>{11.0f, 14.0f, 16.0f, 14.0f});
  pot::fake_quantize_backward(dy, mask, ste_estimator::learnable_scale, dx);
  CHECK(dx == std::vector<float>{11.0f, 16.0f, 19.0f, 14.0f});
}

TEST_CASE("the backward pass in place zeroes the masked gradients, except for the identity estimator") {
  const std::vector<std::uint8_t> mask{0, 1, 1, 0, 1};
  std::vector<float> gradient{1.0f, -2.0f, 3.0f, -4.0f, 5.0f};
  pot::fake_quantize_backward(std::span<float>(gradient), mask, ste_estimator::identity);
  CHECK(gradient == std::vector<float>{1.0f, -2.0f, 3.0f, -4.0f, 5.0f});
  pot::fake_quantize_backward(std::span<float>(gradient), mask, ste_estimator::clipped);
  CHECK(gradient == std::vector<float>{0.0f, -2.0f, 3.0f, 0.0f, 5.0f});
  std::vector<float> other{1.0f, 1.0f, 1.0f, 1.0f, 1.0f};
  pot::fake_quantize_backward(std::span<float>(other), mask, ste_estimator::learnable_scale);
  CHECK(other == std::vector<float>{0.0f, 1.0f, 1.0f, 0.0f, 1.0f});
}

TEST_CASE("LSQ's gradient scale is 1 / sqrt(n Qmax); mismatched lengths and n = 0 throw") {
  CHECK(pot::lsq_gradient_scale(4, 128.0) == doctest::Approx(1.0 / std::sqrt(512.0)));
  CHECK(pot::lsq_gradient_scale(1, 4.0) == 0.5);
  CHECK_THROWS_AS(pot::lsq_gradient_scale(0, 128.0), std::invalid_argument);
  CHECK_THROWS_AS(pot::lsq_gradient_scale(3, 0.0), std::invalid_argument);
  std::vector<float> x(3), y(2);
  const std::vector<std::uint8_t> mask(3);
  CHECK_THROWS_AS(pot::fake_quantize_backward(x, mask, ste_estimator::clipped, y), std::invalid_argument);
  CHECK_THROWS_AS(pot::fake_quantize_backward(std::span<float>(y), mask, ste_estimator::clipped),
                  std::invalid_argument);
}
