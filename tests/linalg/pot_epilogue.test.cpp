#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <stdexcept>
#include <vector>

#include "pot/quant/affine/quantize.hpp"
#include "pot/linalg/pot_epilogue.hpp"
#include "pot/linalg/pot_gemv.hpp"
#include "pot/quant/packed_matrix.hpp"
#include "pot_test_weights.hpp"

namespace {

using pot::linalg::add_bias;
using pot::linalg::output_rescale;
using pot::linalg::requantize;

// MinExp = -2, so the multiplier carries a factor 1/4.
using P = pot::pot<4, -2, 5>;

// A 1 x 2 weight view whose rows have scales 0.5 and 3 (the codes are not read).
struct two_rows {
  std::vector<std::byte> bytes = std::vector<std::byte>(128);
  std::vector<float> scales{0.5f, 3.0f};
  pot::linalg::packed_weights_view<P> view() const { return {bytes.data(), 2, 1, 64, scales}; }
};

}  // namespace

TEST_CASE("rescale and requantize: values worked by hand") {
  const two_rows w;
  const output_rescale rescale(w.view(), 0.25f);
  // 2^-2 * 0.5 * 0.25 and 2^-2 * 3 * 0.25.
  CHECK(rescale.multiplier(0) == 0.03125);
  CHECK(rescale.multiplier(1) == 0.1875);
  // (M, N) = (2, 2): columns alternate between the two rows' multipliers.
  const std::vector<std::int32_t> acc{10, 10, -10, -1000};
  std::vector<float> y(4);
  rescale(acc, y);
  CHECK(y == std::vector<float>{0.3125f, 1.875f, -0.3125f, -187.5f});

  // Output scale 0.125, zero point 3: 0.3125 / 0.125 = 2.5 rounds to even 2, 1.875 / 0.125
  // = 15, -2.5 rounds to -2, -1500 saturates.
  const auto u8 = pot::make_affine_params<std::uint8_t>(0.125f, 3);
  std::vector<std::uint8_t> q(4);
  requantize(acc, rescale, u8, std::span<std::uint8_t>(q));
  CHECK(q == std::vector<std::uint8_t>{5, 18, 1, 0});
  const auto s8 = pot::make_affine_params<std::int8_t>(0.125f, -120);
  std::vector<std::int8_t> q8(4);
  requantize(std::vector<std::int32_t>{10, 1000, 30, -1000}, rescale, s8, std::span<std::int8_t>(q8));
  // 0.3125 -> 2 - 120; 187.5 / 0.125 = 1500 saturates at 127; 0.9375 / 0.125 = 7.5 -> 8.
  CHECK(q8 == std::vector<std::int8_t>{-118, 127, -112, -128});
}

TEST_CASE("int32 and float bias stages") {
  std::vector<std::int32_t> acc{1, 2, 3, std::numeric_limits<std::int32_t>::max() - 1, 5,
                                std::numeric_limits<std::int32_t>::min() + 2};
  add_bias(acc, std::vector<std::int32_t>{10, 20, -30});
  CHECK(acc == std::vector<std::int32_t>{11, 22, -27, std::numeric_limits<std::int32_t>::max(), 25,
                                         std::numeric_limits<std::int32_t>::min()});
  std::vector<float> y{1.0f, 2.0f, 3.0f, 4.0f};
  add_bias(y, std::vector<float>{0.5f, -0.25f});
  CHECK(y == std::vector<float>{1.5f, 1.75f, 3.5f, 3.75f});
  CHECK_THROWS_WITH_AS(add_bias(y, std::vector<float>{1.0f, 2.0f, 3.0f}),
                       doctest::Contains("not a multiple of the 3 outputs"), std::invalid_argument);
}

TEST_CASE("rescale is the double reference rounded to float; requantize is quantize of it") {
  std::mt19937 rng(29);
  std::uniform_int_distribution<std::int32_t> any_acc(std::numeric_limits<std::int32_t>::min(),
                                                      std::numeric_limits<std::int32_t>::max());
  std::uniform_real_distribution<float> scale(1e-3f, 4.0f);
  std::vector<float> scales(7);
  for (auto& s : scales) s = scale(rng);
  const std::vector<std::byte> bytes(7 * 64);
  const pot::linalg::packed_weights_view<P> w{bytes.data(), 7, 1, 64, scales};
  const float activation_scale = 0.0371f;
  const output_rescale rescale(w, activation_scale);
  std::vector<std::int32_t> acc(7 * 300);
  for (auto& a : acc) a = any_acc(rng);
  std::vector<float> y(acc.size());
  rescale(acc, y);
  const auto params = pot::make_affine_params<std::int8_t>(0.02f, -7);
  std::vector<std::int8_t> q(acc.size());
  requantize(acc, rescale, params, std::span<std::int8_t>(q));
  for (std::size_t i = 0; i < acc.size(); ++i) {
    const long double exact = static_cast<long double>(acc[i]) * scales[i % 7] * activation_scale / 4;
    const double half_ulp = std::ldexp(1.0, std::ilogb(y[i]) - 24);
    INFO("i = ", i, " acc = ", acc[i]);
    CHECK(std::abs(static_cast<long double>(y[i]) - exact) <= half_ulp * (1 + 0x1p-28) + 0.0L);
    CHECK(q[i] == pot::quantize(y[i], params));
  }
}

TEST_CASE("a whole integer layer matches a double reference of the dequantized operands") {
  using W = pot::pot<4, 0, 7>;
  std::mt19937 rng(31);
  const std::size_t N = 19, K = 130;
  const auto w = pot::test::random_weights<W>(N, K, rng);
  const pot::packed_matrix<W> matrix(N, K, std::span<const std::uint8_t>(w.codes), w.scales);
  const auto a_params = pot::make_affine_params<std::uint8_t>(0.05f, 128);
  const auto x = pot::test::random_activations<std::uint8_t>(K, rng);
  std::vector<std::int32_t> acc(N);
  pot::linalg::pot_gemv<W, std::uint8_t>(matrix, x, a_params.zero_point, acc);
  const output_rescale rescale(matrix, a_params.scale);
  std::vector<float> y(N);
  rescale(acc, y);
  std::vector<float> bias(N);
  for (std::size_t n = 0; n < N; ++n) bias[n] = 0.1f * static_cast<float>(n) - 1.0f;
  add_bias(y, bias);
  for (std::size_t n = 0; n < N; ++n) {
    // The model real = scale * (q - zero_point), in exact arithmetic (double holds every
    // product and these short sums exactly enough: each term has <= 24 + 9 + 8 bits).
    double product = 0;
    for (std::size_t k = 0; k < K; ++k)
      product += (static_cast<double>(x[k]) - a_params.zero_point) * double{a_params.scale} * w.scales[n] * w.value(n, k);
    const double exact = product + bias[n];
    // Rounding: the rescaled product (half an ulp of it) and the float bias add (half an
    // ulp of the result).
    const double bound = std::ldexp(1.0, std::ilogb(product) - 24) + std::ldexp(1.0, std::ilogb(exact) - 24);
    CHECK(std::abs(y[n] - exact) <= bound);
  }
}

TEST_CASE("epilogue stages reject mismatched sizes and bad scales") {
  const two_rows w;
  CHECK_THROWS_WITH_AS(output_rescale(w.view(), 0.0f), doctest::Contains("activation scale"),
                       std::invalid_argument);
  const output_rescale rescale(w.view(), 1.0f);
  std::vector<float> y(3);
  CHECK_THROWS_AS(rescale(std::vector<std::int32_t>{1, 2, 3}, y), std::invalid_argument);
  std::vector<float> y4(4);
  CHECK_THROWS_AS(rescale(std::vector<std::int32_t>{1, 2}, y4), std::invalid_argument);
  std::vector<std::uint8_t> q(2);
  CHECK_THROWS_AS(requantize(std::vector<std::int32_t>{1, 2, 3, 4}, rescale,
                             pot::make_affine_params<std::uint8_t>(1.0f, 0), std::span<std::uint8_t>(q)),
                  std::invalid_argument);
}
