#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "layer_check.hpp"
#include "pot/nn/cross_entropy.hpp"

namespace {

struct cross_entropy_case {
  std::size_t B, T, V;
  std::vector<std::int32_t> targets;  // (B, T)

  std::vector<std::size_t> input_sizes() const { return {B * T * V}; }  // logits

  template <class S>
  std::vector<S> forward(const std::vector<std::vector<S>>& in, std::vector<S>& probs) const {
    std::vector<S> losses(B * T);
    probs.assign(B * T * V, S(0));
    pot::nn::cross_entropy_forward(losses.data(), probs.data(), in[0].data(), targets.data(), B, T, V);
    return losses;
  }
  template <class S>
  std::vector<S> forward(const std::vector<std::vector<S>>& in) const {
    std::vector<S> probs;
    return forward(in, probs);
  }
  template <class S>
  void backward(const std::vector<std::vector<S>>& in, const std::vector<S>& dlosses,
                std::vector<std::vector<S>>& grads) const {
    std::vector<S> probs;
    forward(in, probs);
    pot::nn::cross_entropy_backward(grads[0].data(), dlosses.data(), probs.data(), targets.data(),
                                    B, T, V);
  }
};

}  // namespace

TEST_CASE("cross-entropy backward matches autodiff, finite differences and float") {
  SUBCASE("B=1 T=1 V=5") { layer_check::check_layer(cross_entropy_case{1, 1, 5, {3}}, 1); }
  SUBCASE("B=2 T=3 V=17") {
    layer_check::check_layer(cross_entropy_case{2, 3, 17, {0, 16, 5, 5, 9, 1}}, 2);
  }
}

TEST_CASE("cross-entropy mean loss equals -log softmax computed in long double") {
  const cross_entropy_case layer{2, 2, 6, {4, 0, 5, 2}};
  const layer_check::tensors in = layer_check::random_inputs(layer, 51);
  std::vector<double> losses(4), probs(24);
  const double mean = pot::nn::cross_entropy_forward(losses.data(), probs.data(), in[0].data(),
                                                     layer.targets.data(), 2, 2, 6);
  long double total = 0.0L;
  for (std::size_t row = 0; row < 4; ++row) {
    long double sum = 0.0L;
    for (std::size_t i = 0; i < 6; ++i) sum += std::exp(static_cast<long double>(in[0][row * 6 + i]));
    const long double p_target =
        std::exp(static_cast<long double>(in[0][row * 6 + static_cast<std::size_t>(layer.targets[row])])) / sum;
    CHECK(losses[row] == doctest::Approx(static_cast<double>(-std::log(p_target))).epsilon(1e-14));
    total += -std::log(p_target);
  }
  CHECK(mean == doctest::Approx(static_cast<double>(total / 4)).epsilon(1e-14));
}

TEST_CASE("cross-entropy stays finite when the target's probability underflows") {
  // p(target) = e^-2000 / (1 + e^-2000) is 0 in double; the loss is 2000 (+ e^-2000).
  const std::vector<double> logits = {2000.0, 0.0};
  const std::vector<std::int32_t> target = {1};
  double loss = 0.0;
  std::vector<double> probs(2);
  pot::nn::cross_entropy_forward(&loss, probs.data(), logits.data(), target.data(), 1, 1, 2);
  CHECK(loss == 2000.0);
}

TEST_CASE("cross-entropy rejects targets outside [0, V) and an empty batch") {
  const std::vector<float> logits(4);
  std::vector<float> losses(2), probs(4);
  const std::vector<std::int32_t> targets = {0, 2};
  CHECK_THROWS_WITH_AS(pot::nn::cross_entropy_forward(losses.data(), probs.data(), logits.data(),
                                                      targets.data(), 1, 2, 2),
                       "pot: target 2 at index 1 is outside [0, V = 2)", std::out_of_range);
  CHECK_THROWS_AS(pot::nn::cross_entropy_forward(losses.data(), probs.data(), logits.data(),
                                                 targets.data(), 0, 2, 2),
                  std::invalid_argument);
}
