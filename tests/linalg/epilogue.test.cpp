#include "pot/linalg/epilogue.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <stdexcept>
#include <vector>

#include "../isa_variants.hpp"
#include "pot/linalg/pot_gemv.hpp"
#include "pot/quant/affine/quantize.hpp"
#include "pot/quant/packed_matrix.hpp"
#include "pot_test_weights.hpp"

namespace {

using pot::linalg::output_requantize;
using pot::linalg::output_rescale;

// MinExp = -2, so the multiplier carries a factor 1/4.
using P = pot::pot<4, -2, 5>;

// A 1 x 2 weight view whose rows have scales 0.5 and 3 (the codes are not read).
struct two_rows {
  std::vector<std::byte> bytes = std::vector<std::byte>(128);
  std::vector<float> scales{0.5f, 3.0f};
  pot::linalg::packed_weights_view<P> view() const { return {bytes.data(), 2, 1, 64, scales}; }
};

// The exact acc * multiplier + bias, in long double (64-bit significand: the product of a
// 31-bit integer and a 48-bit multiplier needs 79 bits, so this is itself rounded, by at
// most 2^-64 of it), independent of the fma the library computes.
long double exact_output(std::int32_t acc, double multiplier, float bias) {
  return static_cast<long double>(acc) * static_cast<long double>(multiplier) + static_cast<long double>(bias);
}

}  // namespace

TEST_CASE("rescale, bias and requantize: values worked by hand") {
  const two_rows w;
  const output_rescale rescale(w.view(), 0.25f);
  // 2^-2 * 0.5 * 0.25 and 2^-2 * 3 * 0.25.
  CHECK(rescale.multiplier(0) == 0.03125);
  CHECK(rescale.multiplier(1) == 0.1875);
  // (M, N) = (2, 2): columns alternate between the two rows' multipliers.
  const std::vector<std::int32_t> acc{10, 10, -10, -1000};
  std::vector<float> y(4);
  rescale(acc, {}, y);
  CHECK(y == std::vector<float>{0.3125f, 1.875f, -0.3125f, -187.5f});
  const std::vector<float> bias{1.0f, -0.5f};
  rescale(acc, bias, y);
  CHECK(y == std::vector<float>{1.3125f, 1.375f, 0.6875f, -188.0f});

  // Output scale 0.125, zero point 3: 0.3125 / 0.125 = 2.5 rounds to even 2, 1.875 / 0.125
  // = 15, -2.5 rounds to -2, -1500 saturates.
  const output_requantize<std::uint8_t> u8(rescale, pot::make_affine_params<std::uint8_t>(0.125f, 3));
  std::vector<std::uint8_t> q(4);
  u8(acc, {}, q);
  CHECK(q == std::vector<std::uint8_t>{5, 18, 1, 0});
  // With the bias: 1.3125 / 0.125 = 10.5 -> 10; 11; 5.5 -> 6; saturates.
  u8(acc, bias, q);
  CHECK(q == std::vector<std::uint8_t>{13, 14, 9, 0});
  const output_requantize<std::int8_t> s8(rescale, pot::make_affine_params<std::int8_t>(0.125f, -120));
  std::vector<std::int8_t> q8(4);
  s8(std::vector<std::int32_t>{10, 1000, 30, -1000}, {}, q8);
  // 0.3125 -> 2 - 120; 187.5 / 0.125 = 1500 saturates at 127; 0.9375 / 0.125 = 7.5 -> 8.
  CHECK(q8 == std::vector<std::int8_t>{-118, 127, -112, -128});
}

TEST_CASE("the rescale rounds acc * multiplier + bias once in double, then to float, on every instruction set") {
  std::mt19937 rng(29);
  std::uniform_int_distribution<std::int32_t> any_acc(std::numeric_limits<std::int32_t>::min(),
                                                      std::numeric_limits<std::int32_t>::max());
  std::uniform_real_distribution<float> scale(1e-3f, 4.0f);
  std::uniform_real_distribution<float> any_bias(-3e3f, 3e3f);
  const std::size_t N = 7;
  std::vector<float> scales(N), bias(N);
  for (auto& s : scales) s = scale(rng);
  for (auto& b : bias) b = any_bias(rng);
  const std::vector<std::byte> bytes(N * 64);
  const pot::linalg::packed_weights_view<P> w{bytes.data(), N, 1, 64, scales};
  const output_rescale rescale(w, 0.0371f);
  std::vector<std::int32_t> acc(N * 301);
  for (auto& a : acc) a = any_acc(rng);
  // Small sums too, whose products are near the bias: there the addition rounds.
  for (std::size_t i = 0; i < acc.size(); i += 3) acc[i] %= 100000;
  std::vector<float> first;
  pot::test::for_each_supported_isa([&](pot::simd::isa) {
    std::vector<float> y(acc.size());
    rescale(acc, bias, y);
    for (std::size_t i = 0; i < acc.size(); ++i) {
      const std::size_t n = i % N;
      INFO("i = ", i, " acc = ", acc[i]);
      // The scalar definition (std::fma), and the exact value: the fma's double is within
      // 2^-53 of the exact sum, the float within half an ulp of that double.
      CHECK(y[i] == rescale(acc[i], n, bias[n]));
      const long double exact = exact_output(acc[i], rescale.multiplier(n), bias[n]);
      const long double half_ulp = std::ldexp(1.0L, std::ilogb(y[i]) - 24);
      CHECK(std::abs(static_cast<long double>(y[i]) - exact) <= half_ulp + std::abs(exact) * 0x1p-52L);
    }
    if (first.empty()) first = y;
    CHECK(std::memcmp(first.data(), y.data(), y.size() * sizeof(float)) == 0);
  });
}

TEST_CASE("stages applied to tiles of columns write only those columns, the same values as the whole") {
  std::mt19937 rng(5);
  const std::size_t N = 37, M = 5;
  const auto weights = pot::test::random_weights<P>(N, 3, rng);
  const output_rescale rescale(weights.view(), 0.5f);
  std::vector<std::int32_t> acc(M * N);
  std::uniform_int_distribution<std::int32_t> any_acc(-100000, 100000);
  for (auto& a : acc) a = any_acc(rng);
  std::vector<float> bias(N);
  for (std::size_t n = 0; n < N; ++n) bias[n] = 0.25f * static_cast<float>(n);
  std::vector<float> whole(M * N), tiled(M * N, -1.0f);
  rescale(acc, bias, whole);
  rescale(acc, bias, tiled, 3, 20);
  for (std::size_t m = 0; m < M; ++m)
    for (std::size_t n = 0; n < N; ++n)
      CHECK(tiled[m * N + n] == (n >= 3 && n < 20 ? whole[m * N + n] : -1.0f));
  rescale(acc, bias, tiled, 0, 3);
  rescale(acc, bias, tiled, 20, N);
  CHECK(tiled == whole);

  const output_requantize<std::uint8_t> requantize(rescale, pot::make_affine_params<std::uint8_t>(0.01f, 100));
  std::vector<std::uint8_t> codes(M * N), tiled_codes(M * N, 7);
  requantize(acc, bias, codes);
  for (std::size_t i = 0; i < codes.size(); ++i) CHECK(codes[i] == pot::quantize(whole[i], requantize.params()));
  requantize(acc, bias, tiled_codes, 0, 30);
  requantize(acc, bias, tiled_codes, 30, N);
  CHECK(tiled_codes == codes);
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
  std::vector<float> bias(N);
  for (std::size_t n = 0; n < N; ++n) bias[n] = 0.1f * static_cast<float>(n) - 1.0f;
  std::vector<float> y(N);
  output_rescale(matrix, a_params.scale)(acc, bias, y);
  for (std::size_t n = 0; n < N; ++n) {
    // The model real = scale * (q - zero_point), in exact arithmetic (double holds every
    // product and these short sums exactly: each term has <= 24 + 9 + 8 bits).
    double product = 0;
    for (std::size_t k = 0; k < K; ++k)
      product += (static_cast<double>(x[k]) - a_params.zero_point) * double{a_params.scale} * w.scales[n] * w.value(n, k);
    const double exact = product + bias[n];
    // One rounding to float of the (double-rounded) sum: half an ulp, and 2^-52 for the
    // double rounding and the reference's own sum.
    CHECK(std::abs(y[n] - exact) <= std::ldexp(1.0, std::ilogb(exact) - 24) + std::abs(exact) * 0x1p-52);
  }
}

TEST_CASE("output stages reject mismatched sizes, bad columns and bad scales") {
  const two_rows w;
  CHECK_THROWS_WITH_AS(output_rescale(w.view(), 0.0f), doctest::Contains("activation scale"),
                       std::invalid_argument);
  const output_rescale rescale(w.view(), 1.0f);
  std::vector<float> y3(3), y4(4);
  CHECK_THROWS_WITH_AS(rescale(std::vector<std::int32_t>{1, 2, 3}, {}, y3),
                       doctest::Contains("not whole rows of the 2 outputs"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(rescale(std::vector<std::int32_t>{1, 2}, {}, y4),
                       doctest::Contains("the output has 4 values, the accumulator 2"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(rescale(std::vector<std::int32_t>{1, 2, 3, 4}, std::vector<float>{1.0f}, y4),
                       doctest::Contains("the bias has 1 values"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(rescale(std::vector<std::int32_t>{1, 2, 3, 4}, {}, y4, 1, 3),
                       doctest::Contains("output columns [1, 3)"), std::invalid_argument);
  CHECK_THROWS_AS(output_requantize<std::uint8_t>(rescale, pot::affine_params<std::uint8_t>{-1.0f, 0}),
                  std::invalid_argument);
  const output_requantize<std::uint8_t> requantize(rescale, pot::make_affine_params<std::uint8_t>(1.0f, 0));
  std::vector<std::uint8_t> q(2);
  CHECK_THROWS_AS(requantize(std::vector<std::int32_t>{1, 2, 3, 4}, {}, q), std::invalid_argument);
}
