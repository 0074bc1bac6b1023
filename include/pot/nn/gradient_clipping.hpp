/// \file
/// \brief Gradient clipping by global norm, as torch.nn.utils.clip_grad_norm_.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <span>
#include <stdexcept>
#include <vector>

#include "pot/linalg/execution.hpp"
#include "pot/linalg/parallel_for.hpp"
#include "pot/nn/layer_execution.hpp"
#include "pot/nn/vectorize.hpp"

namespace pot::nn {

/// \brief The Euclidean norm of \p gradients, in double, the same for every thread count.
///
/// The squares are summed in fixed blocks of 2^13 values, each in interleaved partial
/// sums (one dependent chain of additions over 10^8 values takes a tenth of a second),
/// and the blocks then added in order, so the split over \p exec's threads changes no bit.
inline double global_norm(std::span<const float> gradients, linalg::execution exec = {}) {
  constexpr std::size_t block = std::size_t{1} << 13;
  std::vector<double> block_squares((gradients.size() + block - 1) / block);
  linalg::parallel_for(0, block_squares.size(), [&](std::size_t first, std::size_t last) {
    for (std::size_t b = first; b < last; ++b) {
      const float* values = gradients.data() + b * block;
      const std::size_t count = std::min(gradients.size() - b * block, block);
      block_squares[b] = sum_in_lanes<double>(count, [values](std::size_t i) {
        return static_cast<double>(values[i]) * values[i];
      });
    }
  }, layer_execution<float>(exec, gradients.size()));
  double squares = 0.0;
  for (const double value : block_squares) squares += value;
  return std::sqrt(squares);
}

/// \brief Scales \p gradients by `max_norm / (norm + 1e-6)` when that is below 1
/// (torch.nn.utils.clip_grad_norm_), and returns the norm before clipping.
///
/// `max_norm == 0` turns clipping off, and a norm that is not finite leaves the gradients
/// as they are: the caller should check the returned norm whether or not it clips (an
/// update by a non-finite gradient leaves parameters that every later checkpoint carries).
/// \throws std::invalid_argument if max_norm is negative or not finite
inline double clip_by_global_norm(std::span<float> gradients, double max_norm, linalg::execution exec = {}) {
  if (!(max_norm >= 0 && std::isfinite(max_norm)))
    throw std::invalid_argument("pot: clip_by_global_norm needs a finite max_norm >= 0 (0 turns clipping off)");
  const double norm = global_norm(gradients, exec);
  if (!std::isfinite(norm) || max_norm == 0) return norm;
  const double coefficient = max_norm / (norm + 1e-6);
  if (coefficient >= 1.0) return norm;
  const auto factor = static_cast<float>(coefficient);
  linalg::parallel_for(0, gradients.size(), [&](std::size_t first, std::size_t last) {
    for (std::size_t i = first; i < last; ++i) gradients[i] *= factor;
  }, layer_execution<float>(exec, gradients.size()));
  return norm;
}

}  // namespace pot::nn
