/// \file
/// \brief AdamW optimiser steps (Adam with decoupled weight decay), as PyTorch's
/// torch.optim.AdamW: over a model's parameter tensors, and over a few parameters kept
/// outside them (quantizer scales learned by LSQ).
#pragma once

#include <cmath>
#include <cstddef>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "pot/linalg/execution.hpp"
#include "pot/linalg/parallel_for.hpp"
#include "pot/nn/layer_execution.hpp"
#include "pot/nn/vectorize.hpp"

namespace pot::nn {

/// \brief Hyperparameters of adamw_update; the defaults are PyTorch's.
struct adamw_options {
  double learning_rate = 1e-3;  ///< \brief Step size lr.
  double beta1 = 0.9;           ///< \brief Decay of the first-moment average m.
  double beta2 = 0.999;         ///< \brief Decay of the second-moment average v.
  double epsilon = 1e-8;        ///< \brief Added to sqrt(v_hat) in the denominator.
  double weight_decay = 0.01;   ///< \brief Decoupled decay factor: p -= lr * wd * p.
};

/// \brief One AdamW step on a parameter tensor of n values.
///
/// With bias corrections `c1 = 1 - beta1^step` and `c2 = 1 - beta2^step`:
/// `p *= 1 - lr*wd` (only if `apply_weight_decay`), `m = beta1 m + (1 - beta1) g`,
/// `v = beta2 v + (1 - beta2) g^2`, `p -= lr * (m / c1) / (sqrt(v / c2) + eps)`.
/// The decay is applied per call, so a model decays its matrices and not its biases and
/// layernorm parameters by calling this once per tensor (or per contiguous group).
/// \param params (n) updated in place
/// \param grads  (n)
/// \param m      (n) first moments, zero before step 1
/// \param v      (n) second moments, zero before step 1
/// \param step   the step number, counting from 1
/// \param n number of values
/// \param options learning rate, betas, epsilon and weight decay
/// \param apply_weight_decay false for biases and layernorm parameters
/// \param exec threads, over ranges of values (see layer_execution): each value's update
///   is the same on any thread
/// \throws std::invalid_argument if step == 0.
template <class Scalar>
void adamw_update(Scalar* params, const Scalar* grads, Scalar* m, Scalar* v, std::size_t n,
                  std::size_t step, const adamw_options& options, bool apply_weight_decay,
                  linalg::execution exec = {}) {
  using std::sqrt;
  if (step == 0) throw std::invalid_argument("pot: adamw_update counts steps from 1, got step 0");
  const double exponent = static_cast<double>(step);
  const Scalar beta1 = Scalar(options.beta1);
  const Scalar beta2 = Scalar(options.beta2);
  const Scalar step_size =
      Scalar(options.learning_rate / (1.0 - std::pow(options.beta1, exponent)));
  const Scalar inverse_sqrt_correction2 =
      Scalar(1.0 / std::sqrt(1.0 - std::pow(options.beta2, exponent)));
  const Scalar epsilon = Scalar(options.epsilon);
  const Scalar decay_factor =
      Scalar(apply_weight_decay ? 1.0 - options.learning_rate * options.weight_decay : 1.0);
  if constexpr (has_simd_path<Scalar>) {
    // Registers instead of the scalar float loop, which does not vectorise (sqrtf may
    // set errno); the same formula in the same operation order.
    const simd::adamw_coefficients coefficients{beta1,         beta2,   Scalar(1) - beta1,        Scalar(1) - beta2,
                                                step_size,     inverse_sqrt_correction2, epsilon, decay_factor};
    linalg::parallel_for(0, n, [&](std::size_t first, std::size_t last) {
      simd::dispatch(detail::layer_isa<Scalar>(), [&](auto tag) {
        simd::layer_loops_t<decltype(tag)>::adamw_update(params + first, grads + first, m + first, v + first,
                                                         last - first, coefficients);
      });
    }, layer_execution<Scalar>(exec, n));
  } else {
    for (std::size_t i = 0; i < n; ++i) {
      m[i] = beta1 * m[i] + (Scalar(1) - beta1) * grads[i];
      v[i] = beta2 * v[i] + (Scalar(1) - beta2) * grads[i] * grads[i];
      params[i] = params[i] * decay_factor - step_size * m[i] / (sqrt(v[i]) * inverse_sqrt_correction2 + epsilon);
    }
  }
}

/// \brief The optimizer state of parameters kept outside a model's buffer: Adam's moments
/// in double and the steps taken.
struct adam_moments {
  std::vector<double> first;   ///< \brief m, one per parameter (empty before the first step)
  std::vector<double> second;  ///< \brief v, one per parameter
  std::size_t step = 0;        ///< \brief steps taken
};

/// \brief How an update may move a parameter.
enum class parameter_constraint {
  none,     ///< \brief The step as it is.
  positive  ///< \brief A step that would take the value to 0 or below halves it instead (a scale).
};

/// \brief One AdamW step, in double, on a few float parameters with double gradients,
/// such as the weight scales that LSQ learns (nn/fake_quant_linear.hpp).
///
/// With step `t` counted from 1 and `c1 = 1 - beta1^t`, `c2 = 1 - beta2^t`: `m = beta1 m +
/// (1 - beta1) g`, `v = beta2 v + (1 - beta2) g^2`, `p = p (1 - lr wd) - lr (m / c1) /
/// (sqrt(v / c2) + eps)`, rounded to float once; with parameter_constraint::positive, a
/// result <= 0 leaves `p / 2` instead. The first call sizes \p moments to the parameters.
/// \throws std::invalid_argument if the gradients, or the moments of earlier steps, do
///   not match the parameters in number
inline void adam_update(std::span<float> params, std::span<const double> grads, adam_moments& moments,
                        const adamw_options& options, parameter_constraint constraint = parameter_constraint::none) {
  if (grads.size() != params.size())
    throw std::invalid_argument("pot: adam_update got " + std::to_string(grads.size()) + " gradients for " +
                                std::to_string(params.size()) + " parameters");
  if (moments.step == 0) {
    moments.first.assign(params.size(), 0.0);
    moments.second.assign(params.size(), 0.0);
  }
  if (moments.first.size() != params.size() || moments.second.size() != params.size())
    throw std::invalid_argument("pot: adam_update's moments are of " + std::to_string(moments.first.size()) +
                                " parameters, not " + std::to_string(params.size()));
  ++moments.step;
  const double t = static_cast<double>(moments.step);
  const double correction1 = 1.0 - std::pow(options.beta1, t);
  const double correction2 = 1.0 - std::pow(options.beta2, t);
  const double decay = 1.0 - options.learning_rate * options.weight_decay;
  for (std::size_t i = 0; i < params.size(); ++i) {
    const double g = grads[i];
    moments.first[i] = options.beta1 * moments.first[i] + (1 - options.beta1) * g;
    moments.second[i] = options.beta2 * moments.second[i] + (1 - options.beta2) * g * g;
    const double step = options.learning_rate * (moments.first[i] / correction1) /
                        (std::sqrt(moments.second[i] / correction2) + options.epsilon);
    const double updated = static_cast<double>(params[i]) * decay - step;
    params[i] = static_cast<float>(constraint == parameter_constraint::positive && !(updated > 0)
                                       ? 0.5 * static_cast<double>(params[i])
                                       : updated);
  }
}

}  // namespace pot::nn
