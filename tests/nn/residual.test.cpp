#include <doctest/doctest.h>

#include <vector>

#include "layer_check.hpp"
#include "pot/nn/residual.hpp"

namespace {

struct residual_case {
  std::size_t N;

  std::vector<std::size_t> input_sizes() const { return {N, N}; }
  template <class S>
  std::vector<S> forward(const std::vector<std::vector<S>>& in) const {
    std::vector<S> out(N);
    pot::nn::residual_forward(out.data(), in[0].data(), in[1].data(), N);
    return out;
  }
  template <class S>
  void backward(const std::vector<std::vector<S>>&, const std::vector<S>& dout,
                std::vector<std::vector<S>>& grads) const {
    pot::nn::residual_backward(grads[0].data(), grads[1].data(), dout.data(), N);
  }
};

}  // namespace

TEST_CASE("residual backward matches autodiff, finite differences and float") {
  SUBCASE("N=1") { layer_check::check_layer(residual_case{1}, 1); }
  SUBCASE("N=19") { layer_check::check_layer(residual_case{19}, 2); }
}

TEST_CASE("residual forward is the elementwise sum") {
  const std::vector<float> a = {1.5f, -2.0f, 0.25f};
  const std::vector<float> b = {0.5f, 4.0f, -0.25f};
  std::vector<float> out(3);
  pot::nn::residual_forward(out.data(), a.data(), b.data(), 3);
  CHECK(out == std::vector<float>{2.0f, 2.0f, 0.0f});
}
