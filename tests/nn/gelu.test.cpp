#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "../isa_variants.hpp"
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

TEST_CASE("gelu float (vector tanh) stays within a few float epsilons of the double loop on every instruction set") {
  pot::test::for_each_supported_isa([&](pot::simd::isa) {
    // A dense grid over [-12, 12] crosses both branches of the vector tanh (|u| < 0.625 and
    // above) and the saturated tails; N = 4803 also ends on a partial register. The error
    // is relative to max(|x|, 1): for x < 0 the formula 0.5 x (1 + tanh) cancels, so a
    // tanh correct to float rounding can only promise an error of a few eps * |x| there.
    const std::size_t N = 4803;
    std::vector<float> x(N);
    for (std::size_t i = 0; i < N; ++i)
      x[i] = static_cast<float>(-12.0 + 24.0 * static_cast<double>(i) / (N - 1));
    std::vector<float> out(N), dinp(N, 0.0f);
    const std::vector<float> dout(N, 1.0f);
    pot::nn::gelu_forward(out.data(), x.data(), N);
    pot::nn::gelu_backward(dinp.data(), x.data(), dout.data(), N);
    double forward_error = 0.0;
    double backward_error = 0.0;
    for (std::size_t i = 0; i < N; ++i) {
      // The double loop on the same (float) input, so only the arithmetic's error counts.
      const double xi = x[i];
      const double unit = 1.0;
      double reference_out = 0.0;
      double reference_dinp = 0.0;
      pot::nn::gelu_forward(&reference_out, &xi, 1);
      pot::nn::gelu_backward(&reference_dinp, &xi, &unit, 1);
      const double scale = std::max(std::abs(xi), 1.0);
      forward_error = std::max(forward_error, std::abs(out[i] - reference_out) / scale);
      backward_error = std::max(backward_error, std::abs(dinp[i] - reference_dinp) / scale);
    }
    const double epsilon = std::numeric_limits<float>::epsilon();
    MESSAGE("max error / (FLT_EPSILON max(|x|, 1)): forward " << forward_error / epsilon
            << ", backward " << backward_error / epsilon);
    CHECK(forward_error < 2 * epsilon);
    CHECK(backward_error < 2 * epsilon);
  });
}

TEST_CASE("gelu float agrees with double on every instruction set") {
  pot::test::for_each_supported_isa([](pot::simd::isa) {
    layer_check::check_float_matches_double(gelu_case{51}, 3);
    layer_check::check_float_matches_double(gelu_case{5}, 6);
  });
}

TEST_CASE("gelu float gives a value the same bits wherever it sits in the array, every instruction set") {
  // Each value alone (a partial register) against the same value inside a 37-long array
  // (whole registers of 8 and 16 lanes, then a partial one).
  const std::size_t N = 37;
  std::vector<float> x(N);
  for (std::size_t i = 0; i < N; ++i) x[i] = static_cast<float>(-4.0 + 0.23 * static_cast<double>(i));
  pot::test::for_each_supported_isa([&](pot::simd::isa) {
    std::vector<float> out(N), dinp(N, 0.5f);
    const std::vector<float> dout(N, 1.5f);
    pot::nn::gelu_forward(out.data(), x.data(), N);
    pot::nn::gelu_backward(dinp.data(), x.data(), dout.data(), N);
    for (std::size_t i = 0; i < N; ++i) {
      float alone = 0.0f, alone_dinp = 0.5f;
      pot::nn::gelu_forward(&alone, &x[i], 1);
      pot::nn::gelu_backward(&alone_dinp, &x[i], &dout[i], 1);
      INFO("i = " << i);
      CHECK(alone == out[i]);
      CHECK(alone_dinp == dinp[i]);
    }
  });
}
