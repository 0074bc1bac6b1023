#include "pot/nn/fake_quant_linear.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "pot/nn/adamw.hpp"
#include "pot/nn/linear.hpp"
#include "pot/quant/affine/fake_quant.hpp"
#include "pot/quant/pot_quantizer.hpp"
#include "random_floats.hpp"

namespace {

using P = pot::pot<3, 0, 3>;  // few levels, so that many weights leave the range
using Q = std::uint8_t;

struct linear_case {
  std::size_t rows = 6, C = 8, OC = 5;
  std::vector<float> weight = pot::test::normal_floats(OC * C, 0.5f, 1), bias = pot::test::normal_floats(OC, 0.1f, 2);
  std::vector<float> input = pot::test::normal_floats(rows * C, 1.0f, 3), dout = pot::test::normal_floats(rows * OC, 1.0f, 4);
  pot::nn::linear_parameters<float> parameters() const { return {weight.data(), bias.data(), C, OC}; }
};

// The fake-quantized weight by hand: the max rule's scale, then P per value.
std::vector<float> quantized_weight(const linear_case& c, std::vector<std::uint8_t>& mask) {
  const float scale = pot::pot_scales<P>(c.weight, c.OC, c.C, pot::scale_granularity::per_tensor,
                                         pot::scale_rule::max_abs)[0];
  std::vector<float> w(c.weight.size());
  mask.resize(w.size());
  pot::fake_quantize_pot_forward<P>(c.weight, scale, w, mask);
  return w;
}

}  // namespace

TEST_CASE("the fake-quant Linear multiplies the fake-quantized input by the fake-quantized weight") {
  const linear_case c;
  const auto frozen = pot::make_affine_params<Q>(0.05f, 120);
  pot::nn::fake_quant_linear<P, Q> layer({}, pot::affine_fake_quantizer<Q>(frozen));
  std::vector<float> input = c.input, out(c.rows * c.OC);
  layer.forward(out.data(), input.data(), c.parameters(), c.rows, {1});

  std::vector<std::uint8_t> weight_mask;
  const std::vector<float> w = quantized_weight(c, weight_mask);
  CHECK(std::ranges::equal(layer.quantized_weight(), w));
  std::vector<float> x(c.input.size());
  std::vector<std::uint8_t> input_mask(x.size());
  pot::fake_quantize_affine_forward(c.input, frozen, x, input_mask);
  CHECK(input == x);  // in place, as the product saw it
  std::vector<float> expected(out.size()), x_copy = x;
  pot::nn::float_linear<float>().forward(expected.data(), x_copy.data(), {w.data(), c.bias.data(), c.C, c.OC}, c.rows,
                                         {1});
  CHECK(out == expected);
}

TEST_CASE("fake-quant Linear gradients: the float ones at the quantized operands, through the estimators") {
  const linear_case c;
  const auto frozen = pot::make_affine_params<Q>(0.01f, 128);  // a narrow range: inputs beyond +-1.28 clamp
  std::vector<std::uint8_t> weight_mask;
  const std::vector<float> w = quantized_weight(c, weight_mask);
  for (const auto estimator : {pot::ste_estimator::identity, pot::ste_estimator::clipped}) {
    CAPTURE(static_cast<int>(estimator));
    pot::nn::fake_quant_linear<P, Q> layer({pot::scale_granularity::per_tensor, estimator, true},
                                           pot::affine_fake_quantizer<Q>(frozen));
    std::vector<float> input = c.input, out(c.rows * c.OC);
    layer.forward(out.data(), input.data(), c.parameters(), c.rows, {1});
    std::vector<float> dinput(input.size()), dweight(w.size(), 0.0f), dbias(c.OC, 0.0f);
    layer.backward(dinput.data(), {dweight.data(), dbias.data()}, c.dout.data(), input.data(), c.parameters(), c.rows,
                   {1});
    // The float Linear's gradients at the same operands, then the masks by hand.
    std::vector<float> expected_dinput(input.size()), expected_dweight(w.size(), 0.0f), expected_dbias(c.OC, 0.0f);
    pot::nn::float_linear<float>().backward(expected_dinput.data(), {expected_dweight.data(), expected_dbias.data()},
                                            c.dout.data(), input.data(), {w.data(), c.bias.data(), c.C, c.OC}, c.rows,
                                            {1});
    std::vector<float> x(c.input.size());
    std::vector<std::uint8_t> input_mask(x.size());
    pot::fake_quantize_affine_forward(c.input, frozen, x, input_mask);
    std::size_t masked_inputs = 0, masked_weights = 0;
    for (std::size_t i = 0; i < dinput.size(); ++i) {
      masked_inputs += input_mask[i] == 0;
      CHECK(dinput[i] == (input_mask[i] != 0 ? expected_dinput[i] : 0.0f));
    }
    for (std::size_t i = 0; i < dweight.size(); ++i) {
      const bool passes = estimator == pot::ste_estimator::identity || weight_mask[i] != 0;
      masked_weights += weight_mask[i] == 0;
      CHECK(dweight[i] == (passes ? expected_dweight[i] : 0.0f));
    }
    CHECK(dbias == expected_dbias);
    CHECK(masked_inputs > 0);
    CHECK(masked_weights > 0);
  }
}

TEST_CASE("LSQ: the fake-quant Linear's scale gradient is fake_quantize_pot_scale_gradient's, and learned scales stay") {
  const linear_case c;
  pot::nn::fake_quant_linear<P, Q> layer({pot::scale_granularity::per_channel, pot::ste_estimator::learnable_scale,
                                          false});
  std::vector<float> input = c.input, out(c.rows * c.OC);
  layer.forward(out.data(), input.data(), c.parameters(), c.rows, {1});
  CHECK(input == c.input);  // weights only
  REQUIRE(layer.scales().size() == c.OC);
  const std::vector<float> first_scales(layer.scales().begin(), layer.scales().end());
  std::vector<float> dinput(input.size()), dweight(c.weight.size(), 0.0f), dbias(c.OC, 0.0f);
  layer.backward(dinput.data(), {dweight.data(), dbias.data()}, c.dout.data(), input.data(), c.parameters(), c.rows,
                 {1});
  // The unmasked weight gradient, from the float Linear at the quantized weight.
  std::vector<float> float_dinput(input.size()), float_dweight(c.weight.size(), 0.0f), float_dbias(c.OC, 0.0f);
  const std::vector<float> w(layer.quantized_weight().begin(), layer.quantized_weight().end());
  pot::nn::float_linear<float>().backward(float_dinput.data(), {float_dweight.data(), float_dbias.data()},
                                          c.dout.data(), input.data(), {w.data(), c.bias.data(), c.C, c.OC}, c.rows,
                                          {1});
  const double factor = pot::lsq_gradient_scale(c.C, 8.0);
  for (std::size_t r = 0; r < c.OC; ++r)
    CHECK(layer.scale_gradients()[r] ==
          pot::fake_quantize_pot_scale_gradient<P>(std::span<const float>(float_dweight).subspan(r * c.C, c.C),
                                                   std::span<const float>(c.weight).subspan(r * c.C, c.C),
                                                   first_scales[r], factor));
  // An optimizer step on the scales is what the next forward uses.
  pot::nn::adam_moments moments;
  pot::nn::adam_update(layer.scales(), layer.scale_gradients(), moments, {1e-3, 0.9, 0.99, 1e-8, 0.0},
                       pot::nn::parameter_constraint::positive);
  const std::vector<float> learned(layer.scales().begin(), layer.scales().end());
  CHECK(learned != first_scales);
  layer.forward(out.data(), input.data(), c.parameters(), c.rows, {1});
  CHECK(std::ranges::equal(layer.scales(), learned));
}

TEST_CASE("the fake-quant Linear needs a forward before its backward") {
  const linear_case c;
  pot::nn::fake_quant_linear<P, Q> layer({});
  std::vector<float> dinput(c.input.size()), dweight(c.weight.size());
  CHECK_THROWS_AS(layer.backward(dinput.data(), {dweight.data(), nullptr}, c.dout.data(), c.input.data(),
                                 c.parameters(), c.rows, {1}),
                  std::logic_error);
}
