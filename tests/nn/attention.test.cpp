#include <doctest/doctest.h>

#include <cmath>
#include <stdexcept>
#include <vector>

#include "layer_check.hpp"
#include "pot/nn/attention.hpp"

namespace {

struct attention_case {
  std::size_t B, T, C, NH;

  std::vector<std::size_t> input_sizes() const { return {B * T * 3 * C}; }  // qkv

  template <class S>
  std::vector<S> forward(const std::vector<std::vector<S>>& in, std::vector<S>& att) const {
    std::vector<S> out(B * T * C);
    att.assign(B * NH * T * T, S(0));
    pot::nn::attention_forward(out.data(), att.data(), in[0].data(), B, T, C, NH);
    return out;
  }
  template <class S>
  std::vector<S> forward(const std::vector<std::vector<S>>& in) const {
    std::vector<S> att;
    return forward(in, att);
  }
  template <class S>
  void backward(const std::vector<std::vector<S>>& in, const std::vector<S>& dout,
                std::vector<std::vector<S>>& grads) const {
    std::vector<S> att;
    forward(in, att);
    pot::nn::attention_backward(grads[0].data(), dout.data(), in[0].data(), att.data(), B, T, C, NH);
  }
};

}  // namespace

TEST_CASE("attention backward matches autodiff, finite differences and float") {
  SUBCASE("B=1 T=1 C=6 NH=1") { layer_check::check_layer(attention_case{1, 1, 6, 1}, 1); }
  SUBCASE("B=2 T=3 C=12 NH=3") { layer_check::check_layer(attention_case{2, 3, 12, 3}, 2); }
  SUBCASE("B=1 T=17 C=6 NH=1") { layer_check::check_layer(attention_case{1, 17, 6, 1}, 3); }
  SUBCASE("B=1 T=17 C=12 NH=3") { layer_check::check_layer(attention_case{1, 17, 12, 3}, 4); }
  // Longer than one block of query rows, so the causal blocking is exercised.
  SUBCASE("B=1 T=70 C=4 NH=2") {
    layer_check::check_layer(attention_case{1, pot::nn::attention_row_block + 6, 4, 2}, 5);
  }
}

TEST_CASE("attention forward equals a naive long double causal attention") {
  const std::size_t B = 2, T = 5, C = 6, NH = 3, hs = 2;
  const attention_case layer{B, T, C, NH};
  const layer_check::tensors in = layer_check::random_inputs(layer, 41);
  const std::vector<double>& qkv = in[0];
  std::vector<double> att;
  const std::vector<double> out = layer.forward(in, att);
  for (std::size_t b = 0; b < B; ++b) {
    for (std::size_t h = 0; h < NH; ++h) {
      for (std::size_t t = 0; t < T; ++t) {
        std::vector<long double> weights(t + 1);
        long double total = 0.0L;
        for (std::size_t s = 0; s <= t; ++s) {
          long double dot = 0.0L;
          for (std::size_t i = 0; i < hs; ++i)
            dot += static_cast<long double>(qkv[(b * T + t) * 3 * C + h * hs + i]) *
                   qkv[(b * T + s) * 3 * C + C + h * hs + i];
          weights[s] = std::exp(dot / std::sqrt(static_cast<long double>(hs)));
          total += weights[s];
        }
        const double* probs = att.data() + ((b * NH + h) * T + t) * T;
        for (std::size_t s = 0; s <= t; ++s)
          CHECK(probs[s] == doctest::Approx(static_cast<double>(weights[s] / total)).epsilon(1e-13));
        for (std::size_t s = t + 1; s < T; ++s) CHECK(probs[s] == 0.0);
        for (std::size_t i = 0; i < hs; ++i) {
          long double expected = 0.0L;
          for (std::size_t s = 0; s <= t; ++s)
            expected += weights[s] / total * qkv[(b * T + s) * 3 * C + 2 * C + h * hs + i];
          CHECK(out[(b * T + t) * C + h * hs + i] ==
                doctest::Approx(static_cast<double>(expected)).epsilon(1e-13));
        }
      }
    }
  }
}

TEST_CASE("attention rejects a head count that does not divide the channels") {
  std::vector<float> out(12), att(9), qkv(36);
  CHECK_THROWS_AS(pot::nn::attention_forward(out.data(), att.data(), qkv.data(), 1, 3, 4, 3),
                  std::invalid_argument);
  CHECK_THROWS_AS(pot::nn::attention_forward(out.data(), att.data(), qkv.data(), 1, 3, 4, 0),
                  std::invalid_argument);
  CHECK_THROWS_AS(pot::nn::attention_backward(qkv.data(), out.data(), qkv.data(), att.data(), 1, 3,
                                              4, 3),
                  std::invalid_argument);
}

TEST_CASE("attention float results are bitwise the same on 1, 2 and 4 threads") {
  // The (batch, head) pairs are split over threads; each pair writes its own slices,
  // so the split must not change a single bit. 2 x 3 pairs do not divide evenly by 4.
  const std::size_t B = 2, T = 19, C = 12, NH = 3;
  const layer_check::tensor values = layer_check::random_tensor(B * T * 3 * C, 11);
  const std::vector<float> qkv(values.begin(), values.end());
  const layer_check::tensor dout_values = layer_check::random_tensor(B * T * C, 12);
  const std::vector<float> dout(dout_values.begin(), dout_values.end());
  auto run = [&](unsigned threads) {
    std::vector<float> out(B * T * C), att(B * NH * T * T), dqkv(B * T * 3 * C, 0.5f);
    pot::nn::attention_forward(out.data(), att.data(), qkv.data(), B, T, C, NH, {threads});
    pot::nn::attention_backward(dqkv.data(), dout.data(), qkv.data(), att.data(), B, T, C, NH,
                                {threads});
    out.insert(out.end(), att.begin(), att.end());
    out.insert(out.end(), dqkv.begin(), dqkv.end());
    return out;
  };
  const std::vector<float> one_thread = run(1);
  CHECK(run(2) == one_thread);
  CHECK(run(4) == one_thread);
}
