#include <doctest/doctest.h>

#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <span>
#include <stdexcept>
#include <type_traits>
#include <vector>

#include "pot/quant/affine/quantize.hpp"

using pot::affine_params;
using pot::dequantize;
using pot::make_affine_params;
using pot::quantize;

namespace {

constexpr affine_params<std::uint8_t> tenth_uint8{0.1f, 128, 0, 255};
constexpr affine_params<std::int8_t> half_int8{0.5f, 0, -128, 127};

}  // namespace

TEST_CASE("uint8 quantize matches hand-computed codes (scale 0.1, zero point 128)") {
  // inv_scale = 1.0f / 0.1f: 0.1f = 0.100000001490116..., its reciprocal 9.99999985...
  // rounds to the float 10.0f.
  // 0.25f * 10 = 2.5 exactly -> nearbyint 2 (tie to even) -> 2 + 128 = 130.
  CHECK(quantize(0.25f, tenth_uint8) == 130);
  // 0.35f = 0.349999994039...; * 10 = 3.49999994039, which is 6e-8 below 3.5 where the
  // float spacing is 2^-22 = 2.4e-7, so the float product is 3.5f -> tie -> 4 -> 132
  // (real division would give 3.4999... -> 3: the float multiply matters).
  CHECK(quantize(0.35f, tenth_uint8) == 132);
  // 0.15f = 10066330 * 2^-26; * 10 = 1.5 + 2^-24, exactly halfway between the floats 1.5
  // and 1.5 + 2^-23; ties-to-even picks 1.5f -> tie -> 2 -> 130.
  CHECK(quantize(0.15f, tenth_uint8) == 130);
  // 0.05f * 10 = 0.50000000745 -> float 0.5f -> tie to even 0 -> 128.
  CHECK(quantize(0.05f, tenth_uint8) == 128);
  // -0.05f * 10 -> -0.5f -> -0 -> 128.
  CHECK(quantize(-0.05f, tenth_uint8) == 128);
  // 0.26f * 10 = 2.6 -> 3 -> 131.
  CHECK(quantize(0.26f, tenth_uint8) == 131);
  // 12.75f * 10 = 127.5 -> tie to even 128 -> 256 -> clamped to 255.
  CHECK(quantize(12.75f, tenth_uint8) == 255);
  // 12.74f * 10 = 127.4 -> 127 -> 255 (exactly the top without clamping).
  CHECK(quantize(12.74f, tenth_uint8) == 255);
  // -12.8f * 10 = -128 -> 0; -13.0f * 10 = -130 -> -2 -> clamped to 0.
  CHECK(quantize(-12.8f, tenth_uint8) == 0);
  CHECK(quantize(-13.0f, tenth_uint8) == 0);
  // 1000 * 10 = 10000 -> clamped to 255; -1e30 -> clamped to 0.
  CHECK(quantize(1000.0f, tenth_uint8) == 255);
  CHECK(quantize(-1e30f, tenth_uint8) == 0);
}

TEST_CASE("int8 quantize matches hand-computed codes (scale 0.5, zero point 0)") {
  // inv_scale = 2 exactly.
  // -1.25 * 2 = -2.5 -> tie to even -2; -0.75 * 2 = -1.5 -> tie to even -2.
  CHECK(quantize(-1.25f, half_int8) == -2);
  CHECK(quantize(-0.75f, half_int8) == -2);
  // -0.25 * 2 = -0.5 -> -0 -> 0; 0.75 * 2 = 1.5 -> 2; 1.25 * 2 = 2.5 -> 2.
  CHECK(quantize(-0.25f, half_int8) == 0);
  CHECK(quantize(0.75f, half_int8) == 2);
  CHECK(quantize(1.25f, half_int8) == 2);
  // -64 * 2 = -128 (the bottom); -64.5 * 2 = -129 -> clamped to -128.
  CHECK(quantize(-64.0f, half_int8) == -128);
  CHECK(quantize(-64.5f, half_int8) == -128);
  // 63.25 * 2 = 126.5 -> 126; 63.75 * 2 = 127.5 -> 128 -> clamped to 127.
  CHECK(quantize(63.25f, half_int8) == 126);
  CHECK(quantize(63.75f, half_int8) == 127);
}

TEST_CASE("the zero point is added after rounding, and a narrower range clamps") {
  // scale 1, zero point 3, range [0, 15]: 0.5 -> 0 (tie to even) -> 3; adding the zero
  // point first would give 3.5 -> 4.
  const auto params = make_affine_params<std::uint8_t>(1.0f, 3, 0, 15);
  CHECK(quantize(0.5f, params) == 3);
  // 1.5 -> 2 -> 5; 12.5 -> 12 -> 15; 13 -> 16 -> clamped to 15; -4 -> -1 -> clamped to 0.
  CHECK(quantize(1.5f, params) == 5);
  CHECK(quantize(12.5f, params) == 15);
  CHECK(quantize(13.0f, params) == 15);
  CHECK(quantize(-4.0f, params) == 0);
}

TEST_CASE("the float reciprocal of the scale is used, as PyTorch does") {
  // scale = 1/3 as float = 0.3333333432674408; 1 / that = 2.99999991 rounds to the float
  // 3.0f, so 0.5f * 3 = 1.5 -> tie to even 2. Dividing by the scale would give
  // 1.49999996 -> 1.
  const affine_params<std::int8_t> third{1.0f / 3.0f, 0, -128, 127};
  CHECK(quantize(0.5f, third) == 2);
}

TEST_CASE("tiny scales: 2^-126 has the exact reciprocal 2^126") {
  const float tiny = std::ldexp(1.0f, -126);
  const affine_params<std::int8_t> params{tiny, 0, -128, 127};
  // 2.5 * 2^-126 * 2^126 = 2.5 -> 2; 3.5 -> 4; -2.5 -> -2; 1000 * 2^-126 -> 1000 -> 127.
  CHECK(quantize(2.5f * tiny, params) == 2);
  CHECK(quantize(3.5f * tiny, params) == 4);
  CHECK(quantize(-2.5f * tiny, params) == -2);
  CHECK(quantize(1000.0f * tiny, params) == 127);
  // Dequantizing 3 gives 3 * 2^-126, exact.
  CHECK(dequantize(std::int8_t{3}, params) == 3.0f * tiny);
}

TEST_CASE("dequantize matches hand-computed values") {
  // (130 - 128) * 0.1f = 2 * 0.100000001490116 = 0.200000002980232, which is 0.2f.
  CHECK(dequantize(std::uint8_t{130}, tenth_uint8) == 0.2f);
  // (0 - 128) * 0.1f = -12.8000001907349 exactly (a power-of-two multiple) = -12.8f.
  CHECK(dequantize(std::uint8_t{0}, tenth_uint8) == -12.8f);
  // (255 - 128) * 0.1f = 127 * 0.100000001490116 = 12.7000001892; the floats around it
  // are 12.6999998093 and 12.7000007629, so it rounds to 12.6999998093 = 12.7f.
  CHECK(dequantize(std::uint8_t{255}, tenth_uint8) == 12.7f);
  CHECK(dequantize(std::uint8_t{128}, tenth_uint8) == 0.0f);
  // int8, scale 0.5: -128 -> -64, 127 -> 63.5.
  CHECK(dequantize(std::int8_t{-128}, half_int8) == -64.0f);
  CHECK(dequantize(std::int8_t{127}, half_int8) == 63.5f);
}

TEST_CASE("quantize is usable in constant expressions") {
  static_assert(quantize(0.25f, tenth_uint8) == 130);
  static_assert(quantize(-1.25f, half_int8) == -2);
  static_assert(dequantize(std::int8_t{-3}, half_int8) == -1.5f);
  CHECK(pot::detail::round_half_to_even(2.5f) == 2.0f);
}

TEST_CASE("NaN and infinities have defined codes; the checked variant rejects NaN") {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  CHECK(quantize(nan, tenth_uint8) == 128);
  CHECK(quantize(inf, tenth_uint8) == 255);
  CHECK(quantize(-inf, tenth_uint8) == 0);
  CHECK(quantize(nan, half_int8) == 0);
  CHECK(quantize(inf, half_int8) == 127);
  CHECK(quantize(-inf, half_int8) == -128);
  CHECK_THROWS_AS(pot::quantize_checked(nan, tenth_uint8), std::domain_error);
  CHECK(pot::quantize_checked(0.25f, tenth_uint8) == 130);
}

TEST_CASE("round_half_to_even equals std::nearbyint under the default rounding mode") {
  // Every tie k + 0.5 in [-2^22, 2^22) lands on the even neighbour; a random sample of
  // other floats (all magnitudes, both signs) is compared with the C library.
  for (int k = -(1 << 22); k < (1 << 22); k += 997) {
    const float tie = static_cast<float>(k) + 0.5f;
    REQUIRE(pot::detail::round_half_to_even(tie) == std::nearbyint(tie));
  }
  std::mt19937 rng(7);
  std::uniform_int_distribution<std::uint32_t> bits;
  for (int i = 0; i < 200000; ++i) {
    const float x = std::bit_cast<float>(bits(rng));
    if (std::isnan(x)) continue;
    REQUIRE(pot::detail::round_half_to_even(x) == std::nearbyint(x));
  }
}

TEST_CASE("dequantize(quantize(x)) is within scale/2 of x inside the range") {
  std::mt19937 rng(11);
  for (const float scale : {0.1f, 0.0123f, 1.0f / 3.0f, 7.5f, 0x1p-20f}) {
    const auto params = make_affine_params<std::uint8_t>(scale, 37);
    const float low = dequantize(std::uint8_t{0}, params);
    const float high = dequantize(std::uint8_t{255}, params);
    std::uniform_real_distribution<float> inside(low, high);
    // Half a step, plus the float rounding of x * inv_scale (|x/scale| < 256, relative
    // error < 2^-23 each for the reciprocal and the product).
    const double bound = scale * (0.5 + 256.0 * 0x1p-22);
    for (int i = 0; i < 20000; ++i) {
      const float x = inside(rng);
      const double error = std::abs(static_cast<double>(dequantize(quantize(x, params), params)) - x);
      REQUIRE(error <= bound);
    }
  }
}

TEST_CASE("quantize(dequantize(q)) == q for every uint8 and int8 code") {
  for (const float scale : {0.1f, 0.0123f, 1.0f / 3.0f, 7.5f, 0x1p-20f, 3e-30f}) {
    for (const std::int32_t zero_point : {0, 1, 128, 255}) {
      const auto params = make_affine_params<std::uint8_t>(scale, zero_point);
      for (int q = 0; q <= 255; ++q) {
        const auto code = static_cast<std::uint8_t>(q);
        REQUIRE(quantize(dequantize(code, params), params) == code);
      }
    }
    for (const std::int32_t zero_point : {-128, -5, 0, 127}) {
      const auto params = make_affine_params<std::int8_t>(scale, zero_point);
      for (int q = -128; q <= 127; ++q) {
        const auto code = static_cast<std::int8_t>(q);
        REQUIRE(quantize(dequantize(code, params), params) == code);
      }
    }
  }
}

TEST_CASE("batch quantize and dequantize apply the scalar functions element-wise") {
  const std::array<float, 4> x{0.25f, 0.35f, -13.0f, 1000.0f};
  std::array<std::uint8_t, 4> codes{};
  quantize(std::span<const float>(x), tenth_uint8, std::span<std::uint8_t>(codes));
  CHECK(codes == std::array<std::uint8_t, 4>{130, 132, 0, 255});
  std::array<float, 4> back{};
  dequantize(std::span<const std::uint8_t>(codes), tenth_uint8, std::span<float>(back));
  CHECK(back[0] == 0.2f);
  CHECK(back[2] == -12.8f);
  CHECK(back[3] == 12.7f);
  std::array<std::uint8_t, 3> short_output{};
  CHECK_THROWS_WITH_AS(
      quantize(std::span<const float>(x), tenth_uint8, std::span<std::uint8_t>(short_output)),
      doctest::Contains("4 elements but output has 3"), std::invalid_argument);
}

TEST_CASE("parameter validation names the problem") {
  using Q = std::uint8_t;
  CHECK_THROWS_WITH_AS(make_affine_params<Q>(0.0f, 0), doctest::Contains("scale must be finite and > 0"),
                       std::invalid_argument);
  CHECK_THROWS_AS(make_affine_params<Q>(-1.0f, 0), std::invalid_argument);
  CHECK_THROWS_AS(make_affine_params<Q>(std::numeric_limits<float>::infinity(), 0),
                  std::invalid_argument);
  CHECK_THROWS_AS(make_affine_params<Q>(std::numeric_limits<float>::quiet_NaN(), 0),
                  std::invalid_argument);
  CHECK_THROWS_WITH_AS(make_affine_params<Q>(0x1p-130f, 0), doctest::Contains("reciprocal overflows"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(make_affine_params<Q>(1.0f, 300), doctest::Contains("zero point 300"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(make_affine_params<Q>(1.0f, 0, 10, 10), doctest::Contains("qmin < qmax"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(make_affine_params<Q>(1.0f, 0, -1, 10), doctest::Contains("does not fit"),
                       std::invalid_argument);
  CHECK_THROWS_AS(make_affine_params<std::int8_t>(1.0f, 0, -128, 128), std::invalid_argument);
  CHECK(make_affine_params<std::int8_t>(0x1p-127f, -128).qmin == -128);
  // The defaults are the full ranges.
  CHECK(affine_params<std::uint8_t>{}.qmax == 255);
  CHECK(affine_params<std::int8_t>{}.qmin == -128);
}

TEST_CASE("per-channel quantization uses each channel's scale and zero point") {
  // Shape (2, 3), channels on axis 1: scales {0.5, 1, 2}, zero points {0, 1, -1}.
  const auto params =
      pot::make_per_channel_affine_params<std::int8_t>({0.5f, 1.0f, 2.0f}, {0, 1, -1}, 1);
  const std::array<std::size_t, 2> shape{2, 3};
  const std::array<float, 6> x{1.25f, 1.5f, 3.0f,     // 2.5->2 | 1.5->2, +1 = 3 | 1.5->2, -1 = 1
                               -70.0f, -0.5f, 255.0f};  // -140->-128 | -0.5->0, +1 = 1 | 127.5->128,-1=127
  std::array<std::int8_t, 6> codes{};
  quantize(std::span<const float>(x), std::span<const std::size_t>(shape), params,
           std::span<std::int8_t>(codes));
  CHECK(codes == std::array<std::int8_t, 6>{2, 3, 1, -128, 1, 127});
  std::array<float, 6> back{};
  dequantize(std::span<const std::int8_t>(codes), std::span<const std::size_t>(shape), params,
             std::span<float>(back));
  // (2-0)*0.5 = 1 | (3-1)*1 = 2 | (1+1)*2 = 4 | -128*0.5 = -64 | (1-1)*1 = 0 | 128*2 = 256.
  CHECK(back == std::array<float, 6>{1.0f, 2.0f, 4.0f, -64.0f, 0.0f, 256.0f});

  // Axis 0 of shape (3, 2): element i is in channel i / 2.
  auto rows = params;
  rows.axis = 0;
  const std::array<std::size_t, 2> tall{3, 2};
  quantize(std::span<const float>(x), std::span<const std::size_t>(tall), rows,
           std::span<std::int8_t>(codes));
  // ch0 (0.5, 0): 2.5->2, 3 | ch1 (1, 1): 3+1 = 4, -70+1 = -69 | ch2 (2, -1): -0.25->0,-1 = -1,
  // 127.5 -> 128, -1 = 127.
  CHECK(codes == std::array<std::int8_t, 6>{2, 3, 4, -69, -1, 127});

  const std::array<std::size_t, 2> wrong{3, 3};
  CHECK_THROWS_WITH_AS(quantize(std::span<const float>(x), std::span<const std::size_t>(wrong), params,
                                std::span<std::int8_t>(codes)),
                       doctest::Contains("9 elements"), std::invalid_argument);
  CHECK_THROWS_AS(pot::make_per_channel_affine_params<std::int8_t>({0.5f, 1.0f}, {0}, 0),
                  std::invalid_argument);
  CHECK_THROWS_AS(pot::make_per_channel_affine_params<std::int8_t>({0.5f, 0.0f}, {0, 0}, 0),
                  std::invalid_argument);
  CHECK_THROWS_AS(params.channel(3), std::out_of_range);
}
