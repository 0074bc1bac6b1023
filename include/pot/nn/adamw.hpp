/// \file
/// \brief AdamW optimiser step (Adam with decoupled weight decay), as PyTorch's torch.optim.AdamW.
#pragma once

#include <cmath>
#include <cstddef>
#include <stdexcept>

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
/// \throws std::invalid_argument if step == 0.
template <class Scalar>
void adamw_update(Scalar* params, const Scalar* grads, Scalar* m, Scalar* v, std::size_t n,
                  std::size_t step, const adamw_options& options, bool apply_weight_decay) {
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
    simd::dispatch(detail::layer_isa<Scalar>(), [&](auto tag) {
      simd::layer_loops_t<decltype(tag)>::adamw_update(params, grads, m, v, n, coefficients);
    });
  } else {
    for (std::size_t i = 0; i < n; ++i) {
      m[i] = beta1 * m[i] + (Scalar(1) - beta1) * grads[i];
      v[i] = beta2 * v[i] + (Scalar(1) - beta2) * grads[i] * grads[i];
      params[i] = params[i] * decay_factor - step_size * m[i] / (sqrt(v[i]) * inverse_sqrt_correction2 + epsilon);
    }
  }
}

}  // namespace pot::nn
