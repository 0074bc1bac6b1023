#include "pot/nn/integer_linear.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <stdexcept>
#include <vector>

#include "../linalg/pot_test_weights.hpp"
#include "pot/linalg/thread_pool.hpp"
#include "random_floats.hpp"
#include "pot/quant/affine/quantize.hpp"

namespace {

using P = pot::pot<4, 0, 7>;

}  // namespace

TEST_CASE_TEMPLATE("the integer Linear is the exact integer sum rounded once, with the bias", Q, std::uint8_t,
                   std::int8_t) {
  std::mt19937 rng(3);
  const std::size_t rows = 5, C = 37, OC = 19;
  const auto w = pot::test::random_weights<P>(OC, C, rng);
  const auto params = pot::make_affine_params<Q>(0.02f, std::is_signed_v<Q> ? -5 : 120);
  pot::nn::integer_linear<P, Q> layer(w.view(), params);
  std::vector<float> input = pot::test::normal_floats(rows * C, 1.0f, 4);
  const std::vector<float> original = input;
  const std::vector<float> bias = pot::test::normal_floats(OC, 0.1f, 5);
  std::vector<float> out(rows * OC);
  layer.forward(out.data(), input.data(), {nullptr, bias.data(), C, OC}, rows, {1});
  CHECK(input == original);  // the integer Linear quantizes into its own codes
  for (std::size_t r = 0; r < rows; ++r) {
    std::vector<Q> codes(C);
    for (std::size_t k = 0; k < C; ++k) codes[k] = pot::quantize(original[r * C + k], params);
    for (std::size_t o = 0; o < OC; ++o) {
      const std::int64_t exact = pot::test::exact_dot(w, o, codes.data(), params.zero_point);
      const double multiplier = double{w.scales[o]} * double{params.scale};
      INFO("row ", r, ", output ", o);
      CHECK(out[r * OC + o] == static_cast<float>(std::fma(static_cast<double>(exact), multiplier, double{bias[o]})));
    }
  }
}

TEST_CASE("the integer Linear gives the same bits on 1, 2 and 3 threads, and one row (GEMV) as in a batch (GEMM)") {
  std::mt19937 rng(7);
  const std::size_t rows = 6000, C = 8, OC = 32;  // enough rows to split the quantization over threads
  const auto w = pot::test::random_weights<P>(OC, C, rng);
  const auto params = pot::make_affine_params<std::uint8_t>(0.03f, 128);
  const std::vector<float> input = pot::test::normal_floats(rows * C, 1.0f, 8), bias = pot::test::normal_floats(OC, 0.1f, 9);
  pot::linalg::thread_pool pool(3);
  const auto run = [&](std::size_t count, unsigned threads) {
    pot::nn::integer_linear<P, std::uint8_t> layer(w.view(), params);
    std::vector<float> x(input.begin(), input.begin() + static_cast<std::ptrdiff_t>(count * C)), out(count * OC);
    layer.forward(out.data(), x.data(), {nullptr, bias.data(), C, OC}, count, {threads, &pool});
    return out;
  };
  const std::vector<float> one = run(rows, 1);
  CHECK(std::memcmp(run(rows, 2).data(), one.data(), one.size() * sizeof(float)) == 0);
  CHECK(std::memcmp(run(rows, 3).data(), one.data(), one.size() * sizeof(float)) == 0);
  const std::vector<float> single = run(1, 2);
  CHECK(std::memcmp(single.data(), one.data(), OC * sizeof(float)) == 0);
}

TEST_CASE("the integer Linear has no backward pass and refuses parameters of another shape") {
  std::mt19937 rng(11);
  const auto w = pot::test::random_weights<P>(4, 6, rng);
  pot::nn::integer_linear<P, std::int8_t> layer(w.view(), pot::make_affine_params<std::int8_t>(0.5f, 0));
  std::vector<float> x(6), out(4), dx(6);
  CHECK_THROWS_WITH_AS(layer.forward(out.data(), x.data(), {nullptr, nullptr, 4, 6}, 1, {1}),
                       "pot: an integer_linear holds a (4, 6) weight, the layer's parameters are (6, 4)",
                       std::invalid_argument);
  layer.forward(out.data(), x.data(), {nullptr, nullptr, 6, 4}, 1, {1});
  std::vector<float> dweight(24);
  CHECK_THROWS_AS(layer.backward(dx.data(), {dweight.data(), nullptr}, out.data(), x.data(), {nullptr, nullptr, 6, 4},
                                 1, {1}),
                  std::logic_error);
  CHECK_THROWS_AS((pot::nn::integer_linear<P, std::uint8_t>(w.view(), pot::affine_params<std::uint8_t>{0.0f, 0})),
                  std::invalid_argument);
}
