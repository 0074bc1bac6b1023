#pragma once
/// \file
/// \brief The straight-through estimators of fake quantization, shared by the PoT
/// (pot_fake_quant.hpp) and affine (affine/fake_quant.hpp) schemes: which gradient a
/// fake-quantizer passes back, its backward pass over the mask its forward pass wrote,
/// and LSQ's gradient scale.
///
/// Estimators: `identity` passes the gradient everywhere; `clipped` multiplies it by the
/// mask (PyTorch's rule for fake_quantize_per_tensor_affine: 0 where the unclamped value
/// fell outside the range); `learnable_scale` is LSQ (Esser et al. 2020): the input
/// gradient is clipped and the scale receives a gradient too (pot_fake_quant.hpp and
/// affine/fake_quant.hpp derive it). LSQ multiplies the scale gradient by
/// `g = 1 / sqrt(n * Qmax)` (n elements, Qmax the largest level: `2^MaxExp` for PoT,
/// `qmax` for affine) so that the scale learns at the pace of the weights.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>

#include "pot/core/errors.hpp"

namespace pot {

/// \brief Which gradient a fake-quantizer passes back (see the file comment).
enum class ste_estimator {
  identity,        ///< \brief dy/dx = 1 everywhere; no scale gradient.
  clipped,         ///< \brief dy/dx = mask (0 where the value fell outside the range).
  learnable_scale  ///< \brief LSQ: dy/dx = mask, and a gradient for the scale.
};

/// \brief LSQ's gradient scale `1 / sqrt(n * Qmax)` for a tensor of `n` elements whose
/// largest level is `largest_level`.
/// \throws std::invalid_argument unless `n > 0` and `largest_level > 0`.
inline double lsq_gradient_scale(std::size_t n, double largest_level) {
  if (n == 0 || !(largest_level > 0.0))
    throw std::invalid_argument(detail::message(
        "LSQ gradient scale needs n > 0 and a positive largest level (got n = ", n,
        ", level = ", largest_level, ")"));
  return 1.0 / std::sqrt(static_cast<double>(n) * largest_level);
}

/// \brief Backward pass of either fake-quantizer for the input: `dx[i] += dy[i]` with the
/// identity estimator, `dx[i] += dy[i] * mask[i]` with the clipped and learnable ones.
/// \throws std::invalid_argument if the spans' lengths differ.
inline void fake_quantize_backward(std::span<const float> dy, std::span<const std::uint8_t> mask,
                                   ste_estimator estimator, std::span<float> dx) {
  detail::require_same_size(dy.size(), dx.size(), "fake-quantize backward (dx)");
  detail::require_same_size(dy.size(), mask.size(), "fake-quantize backward (mask)");
  if (estimator == ste_estimator::identity) {
    for (std::size_t i = 0; i < dy.size(); ++i) dx[i] += dy[i];
    return;
  }
  for (std::size_t i = 0; i < dy.size(); ++i) dx[i] += mask[i] != 0 ? dy[i] : 0.0f;
}

/// \brief The same backward pass in place: \p gradient holds d loss / d y of the
/// fake-quantizer's output and becomes d loss / d x, unchanged with the identity
/// estimator and 0 where `mask[i] == 0` with the clipped and learnable ones. For a layer
/// that wrote the gradient of its fake-quantized input itself (a Linear's backward).
/// \throws std::invalid_argument if the spans' lengths differ.
inline void fake_quantize_backward(std::span<float> gradient, std::span<const std::uint8_t> mask,
                                   ste_estimator estimator) {
  detail::require_same_size(gradient.size(), mask.size(), "fake-quantize backward (mask)");
  if (estimator == ste_estimator::identity) return;
  // A select rather than a conditional store, which the compiler vectorizes.
  for (std::size_t i = 0; i < gradient.size(); ++i) gradient[i] = mask[i] != 0 ? gradient[i] : 0.0f;
}

}  // namespace pot
