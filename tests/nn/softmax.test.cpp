#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "layer_check.hpp"
#include "pot/nn/softmax.hpp"

namespace {

struct softmax_case {
  std::size_t rows, cols;

  std::vector<std::size_t> input_sizes() const { return {rows * cols}; }
  template <class S>
  std::vector<S> forward(const std::vector<std::vector<S>>& in) const {
    std::vector<S> probs(rows * cols);
    pot::nn::softmax_forward(probs.data(), in[0].data(), rows, cols);
    return probs;
  }
  template <class S>
  void backward(const std::vector<std::vector<S>>& in, const std::vector<S>& dout,
                std::vector<std::vector<S>>& grads) const {
    const std::vector<S> probs = forward(in);
    pot::nn::softmax_backward(grads[0].data(), probs.data(), dout.data(), rows, cols);
  }
};

}  // namespace

TEST_CASE("softmax backward matches autodiff, finite differences and float") {
  SUBCASE("1 x 1") { layer_check::check_layer(softmax_case{1, 1}, 1); }
  SUBCASE("3 x 17") { layer_check::check_layer(softmax_case{3, 17}, 2); }
  SUBCASE("5 x 6") { layer_check::check_layer(softmax_case{5, 6}, 3); }
}

TEST_CASE("softmax of large inputs neither overflows nor loses the ratio") {
  // exp(1000) overflows double; the shifted form gives 1 / (1 + e) and e / (1 + e).
  const std::vector<double> x = {1000.0, 1001.0};
  std::vector<double> p(2);
  const double log_normaliser = pot::nn::softmax_row_forward(p.data(), x.data(), 2);
  const double e = std::exp(1.0);
  CHECK(p[0] == doctest::Approx(1.0 / (1.0 + e)).epsilon(1e-15));
  CHECK(p[1] == doctest::Approx(e / (1.0 + e)).epsilon(1e-15));
  CHECK(log_normaliser == doctest::Approx(1001.0 + std::log1p(1.0 / e)).epsilon(1e-15));
}
