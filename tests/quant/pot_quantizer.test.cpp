#include <doctest/doctest.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <span>
#include <stdexcept>
#include <vector>

#include "pot/quant/pot_quantizer.hpp"

using pot::scale_granularity;
using pot::scale_rule;

namespace {

using paper = pot::pot<4, 0, 7>;                                 // no zero code
using paper_linear = pot::pot<4, 0, 7, pot::rounding::linear>;  // nearest by value
using with_zero = pot::pot<5, 0, 7>;                             // spare indices: a zero code

template <class P>
std::vector<std::uint8_t> codes_of(const std::vector<float>& w, float scale) {
  std::vector<std::uint8_t> codes(w.size());
  pot::quantize_pot<P>(std::span<const float>(w), scale, std::span<std::uint8_t>(codes));
  return codes;
}

// Sum of squared errors in long double, from the codes' meaning (sign bit 3, exponent
// index in bits 0..2, value scale * 2^index), not from the library's dequantization.
long double paper_error(const std::vector<float>& w, float scale) {
  const auto codes = codes_of<paper>(w, scale);
  long double sum = 0;
  for (std::size_t i = 0; i < w.size(); ++i) {
    const long double magnitude = std::ldexp(static_cast<long double>(scale), codes[i] & 7);
    const long double error = w[i] - ((codes[i] & 8) != 0 ? -magnitude : magnitude);
    sum += error * error;
  }
  return sum;
}

}  // namespace

TEST_CASE("paper rule on a small tensor, codes computed by hand") {
  const std::vector<float> w{1.0f, -0.5f, 0.3f, 0.02f, -0.006f, 0.36f, 0.0f};
  // max|w| = 1, so scale = 1 / 2^7 = 0.0078125 and x = |w| * 128:
  //   1     -> 128   = 2^7                          -> +e7: code 0b0111 = 7
  //   -0.5  -> 64    = 2^6                          -> -e6: code 0b1110 = 14
  //   0.3   -> 38.4  = 1.2 * 2^5, 1.2 < sqrt 2      -> +e5: code 5
  //   0.02  -> 2.56  = 1.28 * 2^1                   -> +e1: code 1
  //   -0.006-> 0.768 = 1.536 * 2^-1, >= sqrt 2 -> 2^0 -> -e0: code 0b1000 = 8
  //   0.36  -> 46.08 = 1.44 * 2^5, >= sqrt 2 (log) -> e6: code 6; < 1.5 (linear) -> e5
  //   0     -> no zero code: +2^MinExp             -> +e0: code 0
  const float scale = pot::pot_scale<paper>(w, scale_rule::max_abs);
  CHECK(scale == 0.0078125f);
  CHECK(codes_of<paper>(w, scale) == std::vector<std::uint8_t>{7, 14, 5, 1, 8, 6, 0});
  CHECK(codes_of<paper_linear>(w, scale) == std::vector<std::uint8_t>{7, 14, 5, 1, 8, 5, 0});
  // Read back: 1, -0.5, 0.25, 0.015625, -0.0078125, 0.5, 0.0078125.
  std::vector<float> back(w.size());
  const auto codes = codes_of<paper>(w, scale);
  pot::dequantize_pot<paper>(std::span<const std::uint8_t>(codes), scale, std::span<float>(back));
  CHECK(back == std::vector<float>{1.0f, -0.5f, 0.25f, 0.015625f, -0.0078125f, 0.5f, 0.0078125f});
}

TEST_CASE("a format with a zero code flushes small weights to zero") {
  // pot<5, 0, 7>: 16 exponent indices, 8 used, so index 15 with sign 0 is zero (code 15).
  // 0.002 * 128 = 0.256 = 1.024 * 2^-2 -> e = -2 < MinExp -> zero; 0 -> zero;
  // -0.5 -> e6 negative: sign bit 4 -> 0b10110 = 22.
  const std::vector<float> w{1.0f, 0.002f, 0.0f, -0.5f};
  CHECK(codes_of<with_zero>(w, 0.0078125f) == std::vector<std::uint8_t>{7, 15, 15, 22});
}

TEST_CASE("per channel and per tensor scales") {
  // Rows {1, 0.25} and {0.04, -0.01}.
  const std::vector<float> w{1.0f, 0.25f, 0.04f, -0.01f};
  const auto tensor = pot::pot_scales<paper>(w, 2, 2, scale_granularity::per_tensor, scale_rule::max_abs);
  CHECK(tensor == std::vector<float>{0.0078125f});
  const auto rows = pot::pot_scales<paper>(w, 2, 2, scale_granularity::per_channel, scale_rule::max_abs);
  // Row 1: max 0.04 -> 0.04f / 128 (exact division by a power of two).
  CHECK(rows == std::vector<float>{0.0078125f, 0.04f / 128.0f});
  // Per tensor, row 1: 0.04 * 128 = 5.12 = 1.28 * 2^2 -> e2 (code 2);
  // 0.01 * 128 = 1.28 -> e0, negative (code 8).
  const std::vector<float> row1{0.04f, -0.01f};
  CHECK(codes_of<paper>(row1, tensor[0]) == std::vector<std::uint8_t>{2, 8});
  // Per channel, row 1: 0.04 / (0.04 / 128) = 128 -> e7 (code 7); 0.01 -> 32 -> e5
  // (1.0000x * 2^5), negative (code 13).
  CHECK(codes_of<paper>(row1, rows[1]) == std::vector<std::uint8_t>{7, 13});
  CHECK_THROWS_WITH_AS(pot::pot_scales<paper>(w, 3, 2, scale_granularity::per_tensor, scale_rule::max_abs),
                       doctest::Contains("needs 6 weights, got 4"), std::invalid_argument);
}

TEST_CASE("power-of-two scale is the least power of two not below the paper's scale") {
  // max 0.9: 0.9 / 128 = 0.00703 -> 2^-7 = 0.0078125; max 1: exactly 2^-7;
  // max 1.5: 0.01171875 -> 2^-6; max 3: 0.0234375 -> 2^-5.
  CHECK(pot::pot_scale<paper>(std::vector<float>{0.9f, -0.1f}, scale_rule::power_of_two) == 0x1p-7f);
  CHECK(pot::pot_scale<paper>(std::vector<float>{-1.0f}, scale_rule::power_of_two) == 0x1p-7f);
  CHECK(pot::pot_scale<paper>(std::vector<float>{1.5f}, scale_rule::power_of_two) == 0x1p-6f);
  CHECK(pot::pot_scale<paper>(std::vector<float>{0.5f, -3.0f}, scale_rule::power_of_two) == 0x1p-5f);
}

TEST_CASE("the error-minimising scale is one of the candidates and never worse than the max rule") {
  std::mt19937 rng(5);
  std::normal_distribution<float> normal(0.0f, 0.02f);
  std::student_t_distribution<float> heavy(2.0f);
  int strictly_better = 0;
  for (int trial = 0; trial < 40; ++trial) {
    std::vector<float> w(trial % 2 == 0 ? 64 : 257);
    for (auto& v : w) v = trial % 4 < 2 ? normal(rng) : heavy(rng);
    const float max_rule = pot::pot_scale<paper>(w, scale_rule::max_abs);
    const float searched = pot::pot_scale<paper>(w, scale_rule::min_error);
    const long double max_error = paper_error(w, max_rule);
    const long double search_error = paper_error(w, searched);
    REQUIRE(search_error <= max_error * (1 + 1e-12L));
    if (search_error < max_error * (1 - 1e-6L)) ++strictly_better;
    // The search looks one octave down: max_rule / 2 <= scale <= max_rule.
    REQUIRE(searched <= max_rule);
    REQUIRE(searched >= max_rule / 2 * (1 - 1e-6f));
  }
  // With 8 levels per sign, shrinking the scale pays off on most random tensors.
  CHECK(strictly_better > 20);
}

TEST_CASE("all-zero tensors get scale 0 and read back as zero; NaN and inf are errors") {
  const std::vector<float> zeros(5, 0.0f);
  for (const auto rule : {scale_rule::max_abs, scale_rule::power_of_two, scale_rule::min_error})
    CHECK(pot::pot_scale<paper>(zeros, rule) == 0.0f);
  const auto codes = codes_of<paper>(zeros, 0.0f);
  std::vector<float> back(5, 1.0f);
  pot::dequantize_pot<paper>(std::span<const std::uint8_t>(codes), 0.0f, std::span<float>(back));
  CHECK(back == zeros);

  const std::vector<float> bad{1.0f, 2.0f, std::numeric_limits<float>::quiet_NaN(), 0.0f};
  CHECK_THROWS_WITH_AS(pot::pot_scale<paper>(bad, scale_rule::max_abs), doctest::Contains("at index 2"),
                       std::domain_error);
  // Per channel, the index is the one in the whole matrix: row 1, column 0 = index 2.
  CHECK_THROWS_WITH_AS(pot::pot_scales<paper>(bad, 2, 2, scale_granularity::per_channel, scale_rule::max_abs),
                       doctest::Contains("at index 2"), std::domain_error);
  const std::vector<float> inf{std::numeric_limits<float>::infinity()};
  CHECK_THROWS_AS(pot::pot_scale<paper>(inf, scale_rule::max_abs), std::domain_error);
  // max|w| = 2^-125: 2^-125 / 2^7 = 2^-132 is subnormal.
  const std::vector<float> tiny{0x1p-125f};
  CHECK_THROWS_WITH_AS(pot::pot_scale<paper>(tiny, scale_rule::max_abs), doctest::Contains("not a normal float"),
                       std::domain_error);
}
