#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "../isa_variants.hpp"
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

TEST_CASE("softmax float (vector exp) matches the double loop value by value on every instruction set") {
  pot::test::for_each_supported_isa([&](pot::simd::isa) {
    // Rows of 1 to 113 values (GPT-2 nanoGPT's vocabulary) spread over [-30, 30], so
    // probabilities span many orders of magnitude and most rows end on a partial register.
    // Each probability is compared relative to itself, not to the row's largest one:
    // rounding x - max to float alone costs a relative eps * |x - max| in exp, so that is
    // the bound's growing term; the constant one leaves room for a few roundings more.
    for (std::size_t n : {1U, 7U, 8U, 9U, 64U, 113U}) {
      const layer_check::tensor x = layer_check::random_tensor(n, static_cast<std::uint32_t>(n), -30.0, 30.0);
      const std::vector<float> x_float(x.begin(), x.end());
      const std::vector<double> x_rounded(x_float.begin(), x_float.end());
      std::vector<double> p(n), dinp(n, 0.0);
      std::vector<float> p_float(n), dinp_float(n, 0.0f);
      const double log_normaliser = pot::nn::softmax_row_forward(p.data(), x_rounded.data(), n);
      const float log_normaliser_float = pot::nn::softmax_row_forward(p_float.data(), x_float.data(), n);
      const layer_check::tensor dprobs = layer_check::random_tensor(n, 77);
      const std::vector<float> dprobs_float(dprobs.begin(), dprobs.end());
      const std::vector<double> dprobs_rounded(dprobs_float.begin(), dprobs_float.end());
      pot::nn::softmax_row_backward(dinp.data(), p.data(), dprobs_rounded.data(), n);
      pot::nn::softmax_row_backward(dinp_float.data(), p_float.data(), dprobs_float.data(), n);
      INFO("n = " << n);
      CHECK(log_normaliser_float == doctest::Approx(log_normaliser).epsilon(1e-6));
      const double epsilon = std::numeric_limits<float>::epsilon();
      const double row_max = *std::max_element(x_rounded.begin(), x_rounded.end());
      double gradient_scale = 0.0;  // dinp sums terms of size p * |dprobs| <= max p
      for (std::size_t i = 0; i < n; ++i) gradient_scale = std::max(gradient_scale, p[i]);
      for (std::size_t i = 0; i < n; ++i) {
        CHECK(std::abs(p_float[i] - p[i]) <= epsilon * (8.0 + row_max - x_rounded[i]) * p[i]);
        CHECK(std::abs(dinp_float[i] - dinp[i]) <= 1e-6 * gradient_scale);
      }
    }
  });
}

TEST_CASE("softmax of a row's largest value starts from exp(0) = 1 exactly") {
  pot::test::for_each_supported_isa([&](pot::simd::isa) {
    // One value far above the others: its probability is 1 / (1 + tiny) = 1 in float.
    const std::vector<float> x = {-200.0f, 0.0f, -150.0f, -300.0f, -120.0f, -180.0f, -250.0f, -170.0f, -190.0f};
    std::vector<float> p(x.size());
    CHECK(pot::nn::softmax_row_forward(p.data(), x.data(), x.size()) == 0.0f);
    CHECK(p[1] == 1.0f);
  });
}

TEST_CASE("softmax float agrees with double on every instruction set") {
  pot::test::for_each_supported_isa([](pot::simd::isa) {
    layer_check::check_float_matches_double(softmax_case{3, 17}, 2);
    layer_check::check_float_matches_double(softmax_case{2, 40}, 4);
  });
}

TEST_CASE("softmax float: inputs below exp's range give 0, the rest sums to 1, on every instruction set") {
  // -100 - 0 is below -88.38, where the vector exp returns 0 instead of a subnormal.
  const std::vector<float> x = {-100.0f, 0.0f, 0.0f, -1e30f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f};
  pot::test::for_each_supported_isa([&](pot::simd::isa) {
    std::vector<float> p(x.size());
    const float log_normaliser = pot::nn::softmax_row_forward(p.data(), x.data(), x.size());
    CHECK(log_normaliser == doctest::Approx(std::log(15.0)).epsilon(1e-6));
    CHECK(p[0] == 0.0f);
    CHECK(p[3] == 0.0f);
    for (std::size_t i : {1U, 2U, 4U, 16U}) CHECK(p[i] == doctest::Approx(1.0 / 15.0).epsilon(1e-6));
  });
}
