#include <doctest/doctest.h>

#include <vector>

#include "layer_check.hpp"
#include "pot/nn/matmul.hpp"

namespace {

struct matmul_case {
  std::size_t B, T, C, OC;
  bool with_bias = true;

  std::vector<std::size_t> input_sizes() const {  // inp, weight, bias
    return {B * T * C, OC * C, with_bias ? OC : 0};
  }
  template <class S>
  std::vector<S> forward(const std::vector<std::vector<S>>& in) const {
    std::vector<S> out(B * T * OC);
    pot::nn::matmul_forward(out.data(), in[0].data(), in[1].data(),
                            with_bias ? in[2].data() : nullptr, B, T, C, OC);
    return out;
  }
  template <class S>
  void backward(const std::vector<std::vector<S>>& in, const std::vector<S>& dout,
                std::vector<std::vector<S>>& grads) const {
    pot::nn::matmul_backward(grads[0].data(), grads[1].data(),
                             with_bias ? grads[2].data() : nullptr, dout.data(), in[0].data(),
                             in[1].data(), B, T, C, OC);
  }
};

}  // namespace

TEST_CASE("matmul backward matches autodiff, finite differences and float") {
  SUBCASE("B=1 T=1 C=3 OC=5") { layer_check::check_layer(matmul_case{1, 1, 3, 5}, 1); }
  SUBCASE("B=2 T=3 C=12 OC=7") { layer_check::check_layer(matmul_case{2, 3, 12, 7}, 2); }
  SUBCASE("B=1 T=17 C=6 OC=18") { layer_check::check_layer(matmul_case{1, 17, 6, 18}, 3); }
  SUBCASE("no bias") { layer_check::check_layer(matmul_case{2, 3, 5, 4, false}, 4); }
}

TEST_CASE("matmul forward equals long double loops over out = inp W^T + bias") {
  const matmul_case layer{2, 3, 9, 5};
  const layer_check::tensors in = layer_check::random_inputs(layer, 31);
  const std::vector<double> out = layer.forward(in);
  for (std::size_t row = 0; row < 6; ++row) {
    for (std::size_t o = 0; o < 5; ++o) {
      long double expected = in[2][o];
      for (std::size_t c = 0; c < 9; ++c)
        expected += static_cast<long double>(in[0][row * 9 + c]) * in[1][o * 9 + c];
      CHECK(out[row * 5 + o] == doctest::Approx(static_cast<double>(expected)).epsilon(1e-14));
    }
  }
}
