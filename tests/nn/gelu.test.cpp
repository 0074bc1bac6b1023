#include <doctest/doctest.h>

#include <vector>

#include "layer_check.hpp"
#include "pot/nn/gelu.hpp"

namespace {

struct gelu_case {
  std::size_t N;

  std::vector<std::size_t> input_sizes() const { return {N}; }
  template <class S>
  std::vector<S> forward(const std::vector<std::vector<S>>& in) const {
    std::vector<S> out(N);
    pot::nn::gelu_forward(out.data(), in[0].data(), N);
    return out;
  }
  template <class S>
  void backward(const std::vector<std::vector<S>>& in, const std::vector<S>& dout,
                std::vector<std::vector<S>>& grads) const {
    pot::nn::gelu_backward(grads[0].data(), in[0].data(), dout.data(), N);
  }
};

}  // namespace

TEST_CASE("gelu backward matches autodiff, finite differences and float") {
  SUBCASE("N=1") { layer_check::check_layer(gelu_case{1}, 1); }
  SUBCASE("N=17") { layer_check::check_layer(gelu_case{17}, 2); }
  SUBCASE("N=51") { layer_check::check_layer(gelu_case{51}, 3); }
}

TEST_CASE("gelu equals PyTorch's tanh approximation at known points") {
  // torch.nn.functional.gelu(x, approximate='tanh') in float64, PyTorch 1.13.
  const std::vector<double> x = {1.0, -1.0, 2.5, 0.0};
  const std::vector<double> expected = {0.8411919906082768, -0.15880800939172324,
                                        2.484915733910001, 0.0};
  std::vector<double> out(x.size());
  pot::nn::gelu_forward(out.data(), x.data(), x.size());
  for (std::size_t i = 0; i < x.size(); ++i)
    CHECK(out[i] == doctest::Approx(expected[i]).epsilon(1e-15));
}
