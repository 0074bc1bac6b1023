// Gradient and precision checks shared by the nn layer tests.
//
// A layer under test is a "case": a struct that knows its input tensor sizes and offers
//   template <class S> std::vector<S> forward(const std::vector<std::vector<S>>& inputs) const;
//   template <class S> void backward(const std::vector<std::vector<S>>& inputs,
//                                    const std::vector<S>& dout,
//                                    std::vector<std::vector<S>>& grads) const;  // +=
// written once over the element type, so the same code runs with float, double and
// pot::ad::var<double>. The checks use the scalar loss sum(out * R) for a fixed random R.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "pot/autodiff/derivatives.hpp"
#include "pot/autodiff/var.hpp"

namespace layer_check {

using tensor = std::vector<double>;
using tensors = std::vector<tensor>;

/// Uniform values in [low, high) from a fixed seed.
inline tensor random_tensor(std::size_t n, std::uint32_t seed, double low = -1.0,
                            double high = 1.0) {
  std::mt19937 engine(seed);
  std::uniform_real_distribution<double> uniform(low, high);
  tensor values(n);
  for (double& v : values) v = uniform(engine);
  return values;
}

/// Random inputs of the sizes a case declares (each tensor from its own seed).
template <class Case>
tensors random_inputs(const Case& layer, std::uint32_t seed) {
  tensors inputs;
  for (std::size_t n : layer.input_sizes()) inputs.push_back(random_tensor(n, seed++));
  return inputs;
}

template <class S>
std::vector<std::vector<S>> convert(const tensors& values) {
  std::vector<std::vector<S>> converted;
  for (const tensor& t : values) converted.emplace_back(t.begin(), t.end());
  return converted;
}

/// max |actual - expected| / max |expected|: the error relative to the tensor's scale.
template <class A>
double relative_error(const std::vector<A>& actual, const tensor& expected) {
  REQUIRE(actual.size() == expected.size());
  double largest = 0.0;
  double error = 0.0;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    largest = std::max(largest, std::abs(expected[i]));
    error = std::max(error, std::abs(static_cast<double>(actual[i]) - expected[i]));
  }
  return largest == 0.0 ? error : error / largest;
}

/// sum(out * R) of the double forward.
template <class Case>
double weighted_loss(const Case& layer, const tensors& inputs, const tensor& weights) {
  const tensor out = layer.template forward<double>(inputs);
  REQUIRE(out.size() == weights.size());
  long double sum = 0.0L;
  for (std::size_t i = 0; i < out.size(); ++i) sum += static_cast<long double>(out[i]) * weights[i];
  return static_cast<double>(sum);
}

/// The hand-written backward (double) from dout = R, starting from nonzero gradient
/// buffers so that accumulation (+=) rather than assignment is what gets checked.
template <class Case>
tensors backward_gradients(const Case& layer, const tensors& inputs, const tensor& weights) {
  tensors initial;
  for (std::size_t i = 0; i < inputs.size(); ++i)
    initial.push_back(random_tensor(inputs[i].size(), 9000 + static_cast<std::uint32_t>(i)));
  tensors grads = initial;
  layer.template backward<double>(inputs, weights, grads);
  for (std::size_t i = 0; i < grads.size(); ++i)
    for (std::size_t j = 0; j < grads[i].size(); ++j) grads[i][j] -= initial[i][j];
  return grads;
}

/// The gradient of sum(out * R) that reverse-mode autodiff computes through the forward
/// template instantiated with var<double>.
template <class Case>
tensors autodiff_gradients(const Case& layer, const tensors& inputs, const tensor& weights) {
  using pot::ad::var;
  pot::ad::active_tape<double>().clear();
  std::vector<std::vector<var<double>>> variables = convert<var<double>>(inputs);
  std::vector<var<double>> leaves;
  for (const auto& t : variables) leaves.insert(leaves.end(), t.begin(), t.end());
  const std::vector<var<double>> out = layer.template forward<var<double>>(variables);
  REQUIRE(out.size() == weights.size());
  var<double> loss = 0.0;
  for (std::size_t i = 0; i < out.size(); ++i) loss += out[i] * weights[i];
  const std::vector<double> flat = pot::ad::gradient(loss, std::span<const var<double>>(leaves));
  tensors grads;
  std::size_t offset = 0;
  for (const tensor& t : inputs) {
    grads.emplace_back(flat.begin() + static_cast<std::ptrdiff_t>(offset),
                       flat.begin() + static_cast<std::ptrdiff_t>(offset + t.size()));
    offset += t.size();
  }
  pot::ad::active_tape<double>().clear();
  return grads;
}

/// Backward (double) == autodiff through the var<double> forward, every input tensor.
template <class Case>
void check_against_autodiff(const Case& layer, std::uint32_t seed, double tolerance = 1e-9) {
  const tensors inputs = random_inputs(layer, seed);
  const tensor out = layer.template forward<double>(inputs);
  const tensor weights = random_tensor(out.size(), seed + 100);
  const tensors expected = autodiff_gradients(layer, inputs, weights);
  const tensors actual = backward_gradients(layer, inputs, weights);
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    INFO("input tensor " << i);
    CHECK(relative_error(actual[i], expected[i]) < tolerance);
  }
}

/// Backward (double) == central finite differences of sum(out * R), every input value.
template <class Case>
void check_against_finite_differences(const Case& layer, std::uint32_t seed,
                                      double step = 1e-6, double tolerance = 1e-6) {
  tensors inputs = random_inputs(layer, seed);
  const tensor out = layer.template forward<double>(inputs);
  const tensor weights = random_tensor(out.size(), seed + 100);
  const tensors actual = backward_gradients(layer, inputs, weights);
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    tensor numeric(inputs[i].size());
    for (std::size_t j = 0; j < inputs[i].size(); ++j) {
      const double original = inputs[i][j];
      inputs[i][j] = original + step;
      const double above = weighted_loss(layer, inputs, weights);
      inputs[i][j] = original - step;
      const double below = weighted_loss(layer, inputs, weights);
      inputs[i][j] = original;
      numeric[j] = (above - below) / (2.0 * step);
    }
    INFO("input tensor " << i);
    CHECK(relative_error(actual[i], numeric) < tolerance);
  }
}

/// The float instantiation (forward and backward) agrees with the double one.
template <class Case>
void check_float_matches_double(const Case& layer, std::uint32_t seed, double tolerance = 1e-5) {
  const tensors inputs = random_inputs(layer, seed);
  const tensor out = layer.template forward<double>(inputs);
  const std::vector<float> out_float = layer.template forward<float>(convert<float>(inputs));
  CHECK(relative_error(out_float, out) < tolerance);

  const tensor weights = random_tensor(out.size(), seed + 100);
  tensors grads;
  for (const tensor& t : inputs) grads.emplace_back(t.size(), 0.0);
  std::vector<std::vector<float>> grads_float = convert<float>(grads);
  layer.template backward<double>(inputs, weights, grads);
  layer.template backward<float>(convert<float>(inputs),
                                 std::vector<float>(weights.begin(), weights.end()), grads_float);
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    INFO("input tensor " << i);
    CHECK(relative_error(grads_float[i], grads[i]) < tolerance);
  }
}

/// All three checks on one case.
template <class Case>
void check_layer(const Case& layer, std::uint32_t seed, double float_tolerance = 1e-5) {
  SUBCASE("backward equals autodiff") { check_against_autodiff(layer, seed); }
  SUBCASE("backward equals finite differences") { check_against_finite_differences(layer, seed); }
  SUBCASE("float agrees with double") { check_float_matches_double(layer, seed, float_tolerance); }
}

}  // namespace layer_check
