#include <doctest/doctest.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <stdexcept>
#include <vector>

#include "pot/quant/affine/observer.hpp"

using pot::calculate_qparams;
using pot::qscheme;

namespace {

std::span<const float> batch(const std::vector<float>& x) { return x; }

}  // namespace

TEST_CASE("affine qparams from a range, computed by hand") {
  // uint8 [0, 255], range [-32, 31.75]: scale = 63.75 / 255 = 0.25 (exact);
  // zero point = 0 - round(-32 / 0.25) = 0 - (-128) = 128.
  auto p = calculate_qparams<std::uint8_t>(-32.0f, 31.75f, qscheme::affine);
  CHECK(p.scale == 0.25f);
  CHECK(p.zero_point == 128);
  // int8 [-128, 127], same range: zero point = -128 - (-128) = 0.
  auto s = calculate_qparams<std::int8_t>(-32.0f, 31.75f, qscheme::affine);
  CHECK(s.scale == 0.25f);
  CHECK(s.zero_point == 0);
  // range [-31.875, 31.875]: scale 0.25; -31.875 / 0.25 = -127.5 -> round half to even
  // -128 -> zero point 128 (round half away from zero would give the same here), and
  // range [-0.625, 3.125] over [0, 15]: scale = 3.75 / 15 = 0.25; -0.625 / 0.25 = -2.5
  // -> half to even -2 -> zero point 2 (half away from zero would give 3).
  CHECK(calculate_qparams<std::uint8_t>(-31.875f, 31.875f, qscheme::affine).zero_point == 128);
  auto narrow = calculate_qparams<std::uint8_t>(-0.625f, 3.125f, qscheme::affine, 0, 15);
  CHECK(narrow.scale == 0.25f);
  CHECK(narrow.zero_point == 2);
  CHECK(narrow.qmax == 15);
  // All positive [1, 63.75]: min_neg = 0, so scale = 63.75 / 255 = 0.25 and the zero
  // point is qmin: 0 for uint8, -128 for int8.
  CHECK(calculate_qparams<std::uint8_t>(1.0f, 63.75f, qscheme::affine).zero_point == 0);
  CHECK(calculate_qparams<std::int8_t>(1.0f, 63.75f, qscheme::affine).zero_point == -128);
  // All negative [-63.75, -1]: max_pos = 0, scale 0.25, zero point 0 - (-255) = 255.
  CHECK(calculate_qparams<std::uint8_t>(-63.75f, -1.0f, qscheme::affine).zero_point == 255);
  // A single value 0: scale is clamped up to float epsilon 2^-23, zero point qmin.
  auto zero = calculate_qparams<std::uint8_t>(0.0f, 0.0f, qscheme::affine);
  CHECK(zero.scale == std::ldexp(1.0f, -23));
  CHECK(zero.zero_point == 0);
}

TEST_CASE("symmetric qparams from a range, computed by hand") {
  // max(|-10|, 63.75) = 63.75; / (255 / 2 = 127.5) = 0.5. int8: zero point 0;
  // uint8 over its default range: 128.
  auto s = calculate_qparams<std::int8_t>(-10.0f, 63.75f, qscheme::symmetric);
  CHECK(s.scale == 0.5f);
  CHECK(s.zero_point == 0);
  auto u = calculate_qparams<std::uint8_t>(-10.0f, 63.75f, qscheme::symmetric);
  CHECK(u.scale == 0.5f);
  CHECK(u.zero_point == 128);
  // -127.5 dominates: 127.5 / 127.5 = 1.
  CHECK(calculate_qparams<std::int8_t>(-127.5f, 3.0f, qscheme::symmetric).scale == 1.0f);
  // uint8 over [0, 15]: 3.75 / 7.5 = 0.5; zero point (0 + 15) / 2 rounded down = 7.
  auto narrow = calculate_qparams<std::uint8_t>(-3.75f, 1.0f, qscheme::symmetric, 0, 15);
  CHECK(narrow.scale == 0.5f);
  CHECK(narrow.zero_point == 7);
}

TEST_CASE("qparams reject invalid ranges") {
  CHECK_THROWS_WITH_AS(calculate_qparams<std::uint8_t>(2.0f, 1.0f, qscheme::affine),
                       doctest::Contains("exceeds observed max"), std::invalid_argument);
  CHECK_THROWS_AS(calculate_qparams<std::uint8_t>(std::numeric_limits<float>::quiet_NaN(), 1.0f,
                                                  qscheme::affine),
                  std::invalid_argument);
  CHECK_THROWS_AS(calculate_qparams<std::uint8_t>(0.0f, 1.0f, qscheme::affine, 5, 5),
                  std::invalid_argument);
  CHECK_THROWS_AS(calculate_qparams<std::int8_t>(0.0f, 1.0f, qscheme::affine, -200, 0),
                  std::invalid_argument);
  const float big = std::numeric_limits<float>::max();
  CHECK_THROWS_WITH_AS(calculate_qparams<std::uint8_t>(-big, big, qscheme::affine),
                       doctest::Contains("overflows"), std::domain_error);
}

TEST_CASE("min/max observer keeps the running extremes") {
  pot::min_max_observer<std::uint8_t> observer(qscheme::affine, 0, 15);
  CHECK_FALSE(observer.observed());
  CHECK_THROWS_AS(observer.calculate_qparams(), std::logic_error);
  observer.observe(batch({0.5f, -0.625f, 1.0f}));
  observer.observe(batch({3.125f, 0.0f}));
  observer.observe(batch({0.25f}));
  CHECK(observer.min() == -0.625f);
  CHECK(observer.max() == 3.125f);
  // As in the hand-computed case above: scale 0.25, zero point 2.
  const auto p = observer.calculate_qparams();
  CHECK(p.scale == 0.25f);
  CHECK(p.zero_point == 2);
  CHECK_THROWS_WITH_AS(observer.observe(batch({})), doctest::Contains("empty batch"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(observer.observe(batch({1.0f, std::numeric_limits<float>::quiet_NaN()})),
                       doctest::Contains("at index 1"), std::invalid_argument);
  CHECK_THROWS_AS(observer.observe(batch({-std::numeric_limits<float>::infinity()})),
                  std::invalid_argument);
  // Rejected batches change nothing.
  CHECK(observer.min() == -0.625f);
}

TEST_CASE("moving-average observer: first batch sets, later batches move by c") {
  // c = 0.25 keeps every step exact:
  // batch 1 [-2, 6]      -> min -2, max 6
  // batch 2 [2, 10]      -> min = -2 + 0.25 * (2 - -2) = -1,  max = 6 + 0.25 * (10 - 6) = 7
  // batch 3 [-5, -1]     -> min = -1 + 0.25 * (-5 - -1) = -2, max = 7 + 0.25 * (-1 - 7) = 5
  pot::moving_average_min_max_observer<std::uint8_t> observer(0.25f, qscheme::affine, 0, 14);
  observer.observe(batch({-2.0f, 6.0f, 1.0f}));
  CHECK(observer.min() == -2.0f);
  CHECK(observer.max() == 6.0f);
  observer.observe(batch({2.0f, 10.0f}));
  CHECK(observer.min() == -1.0f);
  CHECK(observer.max() == 7.0f);
  observer.observe(batch({-5.0f, -1.0f, -3.0f}));
  CHECK(observer.min() == -2.0f);
  CHECK(observer.max() == 5.0f);
  // scale = (5 - -2) / 14 = 0.5; zero point = 0 - round(-2 / 0.5) = 4.
  const auto p = observer.calculate_qparams();
  CHECK(p.scale == 0.5f);
  CHECK(p.zero_point == 4);
}

TEST_CASE("moving-average observer with PyTorch's default c = 0.01 rounds each step to float") {
  pot::moving_average_min_max_observer<std::uint8_t> observer;
  observer.observe(batch({1.0f, 3.0f}));
  observer.observe(batch({0.0f, 5.0f}));
  // min: 0.01f = 0.00999999977648258; times (0 - 1) = -0.00999999977648258 (a float);
  // 1 + that = 0.99000000022351742, between the floats 0.98999994993 and
  // 0.99000000954; the nearer is 0.99000000954 = 0.99f.
  CHECK(observer.min() == 0.99f);
  // max: 0.01f * (5 - 3) = 0.0199999995529652 (exact, a float); 3 + that =
  // 3.0199999995529652, between the floats 3.01999998093 and 3.02000021935; the nearer
  // is 3.01999998093 = 3.02f.
  CHECK(observer.max() == 3.02f);
  CHECK_THROWS_AS(pot::moving_average_min_max_observer<std::uint8_t>(0.0f), std::invalid_argument);
  CHECK_THROWS_AS(pot::moving_average_min_max_observer<std::uint8_t>(1.5f), std::invalid_argument);
}

TEST_CASE("per-channel observer keeps each channel's extremes along the axis") {
  // Shape (2, 3), channels on axis 1: element i belongs to channel i % 3.
  pot::per_channel_min_max_observer<std::uint8_t> observer(1, qscheme::affine, 0, 16);
  const std::array<std::size_t, 2> shape{2, 3};
  observer.observe(batch({1.0f, -2.0f, 0.5f, 3.0f, 4.0f, -1.0f}), shape);
  // ch0 {1, 3}, ch1 {-2, 4}, ch2 {0.5, -1}; then ch0 {-1, 0}, ch1 {0, 5}, ch2 {0, 0}.
  observer.observe(batch({-1.0f, 0.0f, 0.0f, 0.0f, 5.0f, 0.0f}), shape);
  CHECK(std::vector<float>(observer.min().begin(), observer.min().end()) ==
        std::vector<float>{-1.0f, -2.0f, -1.0f});
  CHECK(std::vector<float>(observer.max().begin(), observer.max().end()) ==
        std::vector<float>{3.0f, 5.0f, 0.5f});
  const auto p = observer.calculate_qparams();
  // ch0: 4 / 16 = 0.25, zero point -round(-1 / 0.25 = -4) = 4.
  // ch1: 7 / 16 = 0.4375, -2 / 0.4375 = -4.571 -> -5 -> 5.
  // ch2: 1.5 / 16 = 0.09375, -1 / 0.09375 = -10.667 -> -11 -> 11.
  CHECK(p.scales == std::vector<float>{0.25f, 0.4375f, 0.09375f});
  CHECK(p.zero_points == std::vector<std::int32_t>{4, 5, 11});
  CHECK(p.axis == 1);
  CHECK(p.qmax == 16);

  const std::array<std::size_t, 2> other{3, 2};
  CHECK_THROWS_WITH_AS(observer.observe(batch({1, 2, 3, 4, 5, 6}), other),
                       doctest::Contains("2 channels but earlier batches had 3"),
                       std::invalid_argument);
  const std::array<std::size_t, 1> flat{6};
  CHECK_THROWS_AS(observer.observe(batch({1, 2, 3, 4, 5, 6}), flat), std::invalid_argument);
  pot::per_channel_min_max_observer<std::uint8_t> fresh(0);
  CHECK_THROWS_AS(fresh.calculate_qparams(), std::logic_error);
  CHECK_THROWS_AS(fresh.observe(batch({}), shape), std::invalid_argument);
}
