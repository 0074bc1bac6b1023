#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "../isa_variants.hpp"
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

TEST_CASE("matmul float (gemm, bias loops) agrees with double on every instruction set") {
  // OC = 37: bias rows of whole 8- and 16-lane registers and a partial one.
  pot::test::for_each_supported_isa([](pot::simd::isa) {
    layer_check::check_float_matches_double(matmul_case{1, 5, 9, 37}, 5);
    layer_check::check_float_matches_double(matmul_case{2, 3, 12, 7}, 2);
  });
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

TEST_CASE("matmul float forward and backward are bitwise the same on 1, 2 and 3 threads, every instruction set") {
  // Large enough (rows * OC >= 2 * 2^14) that the bias rows and bias-gradient columns
  // really are split over threads; OC = 131 cuts the column chunks inside registers.
  const std::size_t rows = 300, C = 40, OC = 131;
  const layer_check::tensor inp = layer_check::random_tensor(rows * C, 41);
  const layer_check::tensor weight = layer_check::random_tensor(OC * C, 42);
  const layer_check::tensor bias = layer_check::random_tensor(OC, 43);
  const layer_check::tensor dout = layer_check::random_tensor(rows * OC, 44);
  auto as_float = [](const layer_check::tensor& values) {
    return std::vector<float>(values.begin(), values.end());
  };
  pot::linalg::thread_pool pool(3);
  auto run = [&](unsigned threads) {
    std::vector<float> out(rows * OC), dinp(rows * C, 0.25f), dweight(OC * C, -0.5f), dbias(OC, 1.0f);
    const pot::linalg::execution exec{threads, &pool};
    pot::nn::matmul_forward(out.data(), as_float(inp).data(), as_float(weight).data(),
                            as_float(bias).data(), 1, rows, C, OC, exec);
    pot::nn::matmul_backward(dinp.data(), dweight.data(), dbias.data(), as_float(dout).data(),
                             as_float(inp).data(), as_float(weight).data(), 1, rows, C, OC, exec);
    for (const auto* part : {&dinp, &dweight, &dbias}) out.insert(out.end(), part->begin(), part->end());
    return out;
  };
  pot::test::for_each_supported_isa([&](pot::simd::isa) {
    const std::vector<float> one = run(1);
    CHECK(run(2) == one);
    CHECK(run(3) == one);
  });
}

TEST_CASE("matmul_backward overwrite replaces dinp, ignoring what it held") {
  const matmul_case layer{2, 3, 12, 7};
  const layer_check::tensors in = layer_check::random_inputs(layer, 51);
  const layer_check::tensor dout = layer_check::random_tensor(2 * 3 * 7, 52);
  std::vector<double> accumulated(2 * 3 * 12, 0.0), overwritten(2 * 3 * 12, std::nan(""));
  std::vector<double> dweight(7 * 12, 0.0), dbias(7, 0.0);
  pot::nn::matmul_backward(accumulated.data(), dweight.data(), dbias.data(), dout.data(),
                           in[0].data(), in[1].data(), 2, 3, 12, 7);
  const std::vector<double> dweight_once = dweight;
  pot::nn::matmul_backward(overwritten.data(), dweight.data(), dbias.data(), dout.data(),
                           in[0].data(), in[1].data(), 2, 3, 12, 7, {},
                           pot::nn::input_gradient::overwrite);
  CHECK(overwritten == accumulated);  // from zero, accumulating is overwriting; NaN is gone
  // The weight gradient still accumulates: twice the single pass.
  for (std::size_t i = 0; i < dweight.size(); ++i)
    CHECK(dweight[i] == doctest::Approx(2 * dweight_once[i]).epsilon(1e-15));
}
