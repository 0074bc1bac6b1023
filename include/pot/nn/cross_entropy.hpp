/// \file
/// \brief Softmax cross-entropy over logits: forward, and the fused softmax + loss backward.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>

#include "pot/linalg/execution.hpp"
#include "pot/linalg/parallel_for.hpp"
#include "pot/nn/accumulator.hpp"
#include "pot/nn/ids.hpp"
#include "pot/nn/layer_execution.hpp"
#include "pot/nn/softmax.hpp"

namespace pot::nn {

/// \brief Per-position loss `-log softmax(logits)[target]` and their mean.
///
/// The loss is computed as `logsumexp(logits) - logits[target]`, which stays finite where
/// the target's probability underflows to 0.
/// \param losses  (B, T) per-position losses
/// \param probs   (B, T, V) softmax of the logits, cached for cross_entropy_backward
/// \param logits  (B, T, V)
/// \param targets (B, T) class ids in [0, V)
/// \param B batch size
/// \param T sequence length
/// \param V vocabulary size (number of classes)
/// \param exec threads, over the positions (see layer_execution); the mean is summed on
///   the calling thread in position order, so it does not depend on them
/// \returns the mean of `losses` over the B*T positions.
/// \throws std::out_of_range if a target is outside [0, V).
/// \throws std::invalid_argument if B*T == 0 (the mean of nothing).
template <class Scalar>
Scalar cross_entropy_forward(Scalar* losses, Scalar* probs, const Scalar* logits,
                             const std::int32_t* targets, std::size_t B, std::size_t T,
                             std::size_t V, linalg::execution exec = {}) {
  using Accumulator = accumulator_t<Scalar>;
  const std::size_t positions = B * T;
  if (positions == 0)
    throw std::invalid_argument("pot: cross_entropy_forward needs B*T > 0 positions");
  check_ids(targets, positions, V, "target");
  linalg::parallel_for(0, positions, [&](std::size_t first, std::size_t last) {
    for (std::size_t row = first; row < last; ++row) {
      const Scalar log_normaliser = softmax_row_forward(probs + row * V, logits + row * V, V);
      losses[row] = log_normaliser - logits[row * V + static_cast<std::size_t>(targets[row])];
    }
  }, layer_execution<Scalar>(exec, positions * V));
  Accumulator total = Accumulator(0);
  for (std::size_t row = 0; row < positions; ++row) total += Accumulator(losses[row]);
  return static_cast<Scalar>(total / Accumulator(static_cast<double>(positions)));
}

/// \brief Backward of cross_entropy_forward through the softmax as well:
/// `dlogits[b, t, i] += (probs[b, t, i] - [i == target]) * dlosses[b, t]`.
///
/// For the gradient of the mean loss, pass `dlosses` filled with 1 / (B*T).
/// \param dlogits (B, T, V) accumulated with +=
/// \param dlosses (B, T)
/// \param probs   (B, T, V) as cached by cross_entropy_forward
/// \param targets (B, T)
/// \param B batch size
/// \param T sequence length
/// \param V vocabulary size (number of classes)
/// \param exec threads, over the positions (see layer_execution)
/// \throws std::out_of_range if a target is outside [0, V).
template <class Scalar>
void cross_entropy_backward(Scalar* dlogits, const Scalar* dlosses, const Scalar* probs,
                            const std::int32_t* targets, std::size_t B, std::size_t T,
                            std::size_t V, linalg::execution exec = {}) {
  const std::size_t positions = B * T;
  check_ids(targets, positions, V, "target");
  linalg::parallel_for(0, positions, [&](std::size_t first, std::size_t last) {
    for (std::size_t row = first; row < last; ++row) {
      const Scalar* p = probs + row * V;
      Scalar* d = dlogits + row * V;
      const std::size_t target = static_cast<std::size_t>(targets[row]);
      for (std::size_t i = 0; i < V; ++i) {
        const Scalar indicator = i == target ? Scalar(1) : Scalar(0);
        d[i] += (p[i] - indicator) * dlosses[row];
      }
    }
  }, layer_execution<Scalar>(exec, positions * V));
}

}  // namespace pot::nn
