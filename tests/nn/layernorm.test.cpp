#include <doctest/doctest.h>

#include <cmath>
#include <stdexcept>
#include <vector>

#include "../isa_variants.hpp"
#include "layer_check.hpp"
#include "pot/nn/layernorm.hpp"

namespace {

struct layernorm_case {
  std::size_t B, T, C;

  std::vector<std::size_t> input_sizes() const { return {B * T * C, C, C}; }  // inp, weight, bias

  template <class S>
  std::vector<S> forward(const std::vector<std::vector<S>>& in, std::vector<S>& mean,
                         std::vector<S>& rstd) const {
    std::vector<S> out(B * T * C);
    mean.assign(B * T, S(0));
    rstd.assign(B * T, S(0));
    pot::nn::layernorm_forward(out.data(), mean.data(), rstd.data(), in[0].data(), in[1].data(),
                               in[2].data(), B, T, C);
    return out;
  }
  template <class S>
  std::vector<S> forward(const std::vector<std::vector<S>>& in) const {
    std::vector<S> mean, rstd;
    return forward(in, mean, rstd);
  }
  template <class S>
  void backward(const std::vector<std::vector<S>>& in, const std::vector<S>& dout,
                std::vector<std::vector<S>>& grads) const {
    std::vector<S> mean, rstd;
    forward(in, mean, rstd);
    pot::nn::layernorm_backward(grads[0].data(), grads[1].data(), grads[2].data(), dout.data(),
                                in[0].data(), in[1].data(), mean.data(), rstd.data(), B, T, C);
  }
};

}  // namespace

TEST_CASE("layernorm backward matches autodiff, finite differences and float") {
  SUBCASE("B=1 T=1 C=6") { layer_check::check_layer(layernorm_case{1, 1, 6}, 1); }
  SUBCASE("B=2 T=3 C=12") { layer_check::check_layer(layernorm_case{2, 3, 12}, 2); }
  SUBCASE("B=1 T=17 C=5") { layer_check::check_layer(layernorm_case{1, 17, 5}, 3); }
}

TEST_CASE("layernorm forward equals a long double reference with biased variance") {
  const layernorm_case layer{2, 3, 7};
  const layer_check::tensors in = layer_check::random_inputs(layer, 11);
  std::vector<double> mean, rstd;
  const std::vector<double> out = layer.forward(in, mean, rstd);
  for (std::size_t row = 0; row < 6; ++row) {
    long double sum = 0.0L;
    for (std::size_t i = 0; i < 7; ++i) sum += in[0][row * 7 + i];
    const long double expected_mean = sum / 7.0L;
    long double squares = 0.0L;
    for (std::size_t i = 0; i < 7; ++i) {
      const long double d = in[0][row * 7 + i] - expected_mean;
      squares += d * d;
    }
    const long double expected_rstd = 1.0L / std::sqrt(squares / 7.0L + 1e-5L);
    CHECK(mean[row] == doctest::Approx(static_cast<double>(expected_mean)).epsilon(1e-14));
    CHECK(rstd[row] == doctest::Approx(static_cast<double>(expected_rstd)).epsilon(1e-14));
    for (std::size_t i = 0; i < 7; ++i) {
      const long double expected = (in[0][row * 7 + i] - expected_mean) * expected_rstd *
                                       in[1][i] + in[2][i];
      CHECK(out[row * 7 + i] == doctest::Approx(static_cast<double>(expected)).epsilon(1e-13));
    }
  }
}

TEST_CASE("layernorm in float keeps precision for a large mean over many channels") {
  // 768 values 1000 + u, |u| < 1: a one-pass E[x^2] - E[x]^2 in float would lose the
  // variance entirely (1000^2 has no bits left for 0.3).
  const std::size_t C = 768;
  const layer_check::tensor noise = layer_check::random_tensor(C, 21);
  std::vector<float> x(C), weight(C, 1.0f), bias(C, 0.0f), out(C);
  long double sum = 0.0L;
  for (std::size_t i = 0; i < C; ++i) {
    x[i] = static_cast<float>(1000.0 + noise[i]);
    sum += x[i];
  }
  const long double mean = sum / C;
  long double squares = 0.0L;
  for (float v : x) squares += (v - mean) * (v - mean);
  const long double rstd = 1.0L / std::sqrt(squares / C + 1e-5L);
  pot::test::for_each_supported_isa([&](pot::simd::isa) {
    float cached_mean = 0.0f, cached_rstd = 0.0f;
    pot::nn::layernorm_forward(out.data(), &cached_mean, &cached_rstd, x.data(), weight.data(),
                               bias.data(), 1, 1, C);
    CHECK(cached_rstd == doctest::Approx(static_cast<double>(rstd)).epsilon(1e-6));
    for (std::size_t i = 0; i < C; ++i)
      CHECK(out[i] == doctest::Approx(static_cast<double>((x[i] - mean) * rstd)).epsilon(1e-3));
  });
}

TEST_CASE("layernorm rejects zero channels") {
  float value = 0.0f;
  CHECK_THROWS_AS(pot::nn::layernorm_forward(&value, &value, &value, &value, &value, &value, 1, 1, 0),
                  std::invalid_argument);
  CHECK_THROWS_AS(pot::nn::layernorm_backward(&value, &value, &value, &value, &value, &value, &value,
                                              &value, 1, 1, 0),
                  std::invalid_argument);
}

TEST_CASE("layernorm float loops agree with double on every instruction set") {
  // C = 133: whole registers of 8 and 16 lanes, then a tail of 5; C = 5 is a tail only.
  // The tolerance is the default float one of the other layers' checks.
  pot::test::for_each_supported_isa([](pot::simd::isa) {
    layer_check::check_float_matches_double(layernorm_case{2, 3, 133}, 4);
    layer_check::check_float_matches_double(layernorm_case{1, 2, 768}, 5);
    layer_check::check_float_matches_double(layernorm_case{1, 17, 5}, 3);
  });
}

TEST_CASE("layernorm float backward is bitwise the same on 1, 2 and 3 threads, every instruction set") {
  // rows * C >= 2 * 2^14, so the row pass and the channel pass are really split; C = 130
  // cuts the channel chunks inside a register.
  const std::size_t rows = 300, C = 130;
  const layer_check::tensor inp_values = layer_check::random_tensor(rows * C, 61, -2.0, 3.0);
  const layer_check::tensor dout_values = layer_check::random_tensor(rows * C, 62);
  const layer_check::tensor weight_values = layer_check::random_tensor(C, 63);
  const std::vector<float> inp(inp_values.begin(), inp_values.end());
  const std::vector<float> dout(dout_values.begin(), dout_values.end());
  const std::vector<float> weight(weight_values.begin(), weight_values.end());
  const std::vector<float> bias(C, 0.125f);
  std::vector<float> out(rows * C), mean(rows), rstd(rows);
  pot::nn::layernorm_forward(out.data(), mean.data(), rstd.data(), inp.data(), weight.data(),
                             bias.data(), 1, rows, C);
  pot::linalg::thread_pool pool(3);
  auto run = [&](unsigned threads) {
    std::vector<float> dinp(rows * C, 0.5f), dweight(C, -1.0f), dbias(C, 2.0f);
    pot::nn::layernorm_backward(dinp.data(), dweight.data(), dbias.data(), dout.data(), inp.data(),
                                weight.data(), mean.data(), rstd.data(), 1, rows, C,
                                pot::linalg::execution{threads, &pool});
    dinp.insert(dinp.end(), dweight.begin(), dweight.end());
    dinp.insert(dinp.end(), dbias.begin(), dbias.end());
    return dinp;
  };
  pot::test::for_each_supported_isa([&](pot::simd::isa) {
    const std::vector<float> one = run(1);
    CHECK(run(2) == one);
    CHECK(run(3) == one);
  });
}
