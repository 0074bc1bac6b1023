/// \file
/// \brief AdamW optimiser step (Adam with decoupled weight decay), as PyTorch's torch.optim.AdamW.
#pragma once

#include <algorithm>
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
  // One formula for both loops: Value is Scalar, or an xsimd register of floats (the
  // scalar float loop does not vectorise: sqrtf may set errno).
  const auto update = [&](auto& param, const auto& g, auto& first_moment, auto& second_moment) {
    first_moment = beta1 * first_moment + (Scalar(1) - beta1) * g;
    second_moment = beta2 * second_moment + (Scalar(1) - beta2) * g * g;
    param = param * decay_factor -
            step_size * first_moment / (sqrt(second_moment) * inverse_sqrt_correction2 + epsilon);
  };
  if constexpr (has_simd_path<Scalar>) {
    using batch = detail::float_batch;
    for (std::size_t i = 0; i < n; i += batch::size) {
      const std::size_t count = std::min(batch::size, n - i);
      batch param = detail::load_batch(params + i, count);
      batch first_moment = detail::load_batch(m + i, count);
      batch second_moment = detail::load_batch(v + i, count);
      update(param, detail::load_batch(grads + i, count), first_moment, second_moment);
      detail::store_batch(params + i, param, count);
      detail::store_batch(m + i, first_moment, count);
      detail::store_batch(v + i, second_moment, count);
    }
  } else {
    for (std::size_t i = 0; i < n; ++i) update(params[i], grads[i], m[i], v[i]);
  }
}

}  // namespace pot::nn
