#pragma once
/// \file
/// \brief Fake quantization (quantize, then dequantize, in floating point) with
/// straight-through estimators: the forward pass writes the quantized values and a mask,
/// the backward pass turns output gradients into input and scale gradients.
///
/// Two quantizers, both per tensor:
///
/// - **PoT** weights: `y = scale * P(x / scale)` through the pot type's own rounding and
///   saturation (`x / scale` formed in the input's type, as the PyTorch reference's pot.py
///   does in float). The mask is the reference's "clip" rule: 1 where the exponent
///   rounded *before* saturation, `e`, satisfies `MinExp <= e <= MaxExp`. For `x == 0` the
///   reference takes `e` from `frexp(0) = (0, 0)`, i.e. `e = -1`, so 0 is masked out
///   whenever `MinExp >= 0`; we reproduce that. ±inf and NaN have mask 0; NaN gives NaN.
///   (The rounding threshold is the pot type's exact `sqrt(2)`; the reference compares
///   with the float nearest `sqrt(2)`, which differs for one mantissa only.)
/// - **Affine** activations: `y = (clamp(nearbyint(x / scale) + zp, qmin, qmax) - zp) *
///   scale`, bit-exact with PyTorch's `fake_quantize_per_tensor_affine` (core/affine.hpp),
///   mask 1 where the *unclamped* code lies in `[qmin, qmax]`, as PyTorch's cachemask
///   kernel computes it.
///
/// Estimators (ste_estimator): `identity` passes the gradient everywhere; `clipped`
/// multiplies it by the mask; `learnable_scale` is LSQ (Esser et al. 2020): the input
/// gradient is clipped and the scale receives a gradient too.
///
/// LSQ for PoT. With `v = x / s` and `y = s * Q(v)`, the chain rule gives
/// `dy/ds = Q(v) + s * Q'(v) * (-x / s^2) = Q(v) - v * Q'(v)`, and the STE sets
/// `Q'(v) = mask`. So `dy/ds = Q(v) - v` inside the range and `Q(v)` (the saturated
/// level) outside, and `dy/dx = mask`. LSQ multiplies the scale gradient by
/// `g = 1 / sqrt(n * Qmax)` (n elements, Qmax the largest level: `2^MaxExp` for PoT,
/// `qmax` for affine) so the scale learns at the pace of the weights; lsq_gradient_scale()
/// computes it and every scale gradient below takes it as a factor.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <stdexcept>
#include <type_traits>

#include "pot/core/affine.hpp"
#include "pot/core/pot.hpp"
#include "pot/core/rounding.hpp"
#include "pot/core/traits.hpp"

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

/// \brief One PoT fake-quantized value and what its gradients need.
template <class T>
struct pot_fake_quantized {
  T value;        ///< \brief `scale * level`.
  T level;        ///< \brief `P(x / scale)` as a number (exact: a power of two or 0).
  T scaled;       ///< \brief `x / scale` (0 when the scale is 0).
  bool in_range;  ///< \brief The mask: the unsaturated exponent lies in [MinExp, MaxExp].

  /// \brief d value / d x under `estimator`.
  T input_partial(ste_estimator estimator) const noexcept {
    return estimator == ste_estimator::identity || in_range ? T(1) : T(0);
  }
  /// \brief LSQ's d value / d scale: `level - scaled` inside the range, `level` outside.
  T scale_partial() const noexcept { return in_range ? level - scaled : level; }
};

namespace detail {

/// \brief Throws std::invalid_argument unless a PoT scale is finite and >= 0 (0 is the
/// scale of an all-zero tensor, as pot_scale() gives it).
template <class T>
void require_pot_scale(T scale) {
  if (!std::isfinite(scale) || scale < T(0))
    throw std::invalid_argument(
        message("PoT fake-quantization needs a finite scale >= 0 (got ", scale, ")"));
}

}  // namespace detail

/// \brief Fake-quantizes `x` to `scale * P(x / scale)` and reports the mask.
/// \tparam P the pot type, whose rounding policy and saturation are used as they are
/// \throws std::invalid_argument if `scale` is negative, infinite or NaN.
template <pot_type P, class T>
  requires std::is_floating_point_v<T>
pot_fake_quantized<T> fake_quantize_pot(T x, T scale) {
  detail::require_pot_scale(scale);
  const T scaled = scale == T(0) ? T(0) : x / scale;
  if (std::isnan(scaled)) return {scaled, scaled, scaled, false};
  const double level = static_cast<double>(P(scaled));
  const rounded_power rounded = round_to_power_of_two<P::rounding_policy>(scaled);
  // The reference's frexp(0) = (0, 0) makes the exponent of 0 equal to -1.
  const int exponent = rounded.kind == float_kind::zero ? -1 : rounded.exponent;
  const bool in_range = rounded.kind != float_kind::infinite && P::min_exponent <= exponent &&
                        exponent <= P::max_exponent;
  return {static_cast<T>(static_cast<double>(scale) * level), static_cast<T>(level), scaled,
          in_range};
}

/// \brief One affine fake-quantized value and its mask.
struct affine_fake_quantized {
  float value;    ///< \brief `dequantize(quantize(x))`, bit-exact with PyTorch.
  bool in_range;  ///< \brief `qmin <= nearbyint(x * (1/scale)) + zp <= qmax` (false for NaN).
};

/// \brief Fake-quantizes `x` with affine parameters, as PyTorch's
/// `fake_quantize_per_tensor_affine` (value and cached mask).
template <affine_code Q>
affine_fake_quantized fake_quantize_affine(float x, const affine_params<Q>& params) noexcept {
  const float inv_scale = 1.0f / params.scale;
  const double unclamped = static_cast<double>(detail::round_half_to_even(x * inv_scale) +
                                               static_cast<float>(params.zero_point));
  return {dequantize(quantize(x, params), params),
          static_cast<double>(params.qmin) <= unclamped &&
              unclamped <= static_cast<double>(params.qmax)};
}

/// \brief d y / d (x, scale, zero point) of affine fake-quantization at one element, per
/// unit output gradient, before LSQ's gradient scale.
struct affine_learnable_partials {
  float input;       ///< \brief 1 inside the range, else 0.
  float scale;       ///< \brief `(y - x) / scale` inside; `qmin - zp` below; `qmax - zp` above.
  float zero_point;  ///< \brief 0 inside; `-scale` outside.
};

/// \brief The LSQ partial derivatives of affine fake-quantization, computed as PyTorch's
/// `_fake_quantize_learnable_per_tensor_affine_backward` does on the CPU
/// (`fake_quantize_learnable_tensor_grad_kernel_cpu` in aten/src/ATen/native/quantized/
/// cpu/kernels/QuantizedOpKernels.cpp):
///
///     xqi = nearbyint(zero_point + x * inv_scale)          // zero point added first here
///     dx  = (qmin <= xqi <= qmax)
///     xq < qmin: dscale = qmin - zp,  dzp = -scale
///     xq > qmax: dscale = qmax - zp,  dzp = -scale
///     else:      dscale = (float(xqi - zp) * scale - x) * inv_scale,  dzp = 0
///
/// A NaN `x` gives dx = 0, dzp = 0 and a NaN scale partial.
template <affine_code Q>
affine_learnable_partials affine_fake_quantize_partials(float x, const affine_params<Q>& params) noexcept {
  const float inv_scale = 1.0f / params.scale;
  const float code = detail::round_half_to_even(static_cast<float>(params.zero_point) + x * inv_scale);
  if (code < static_cast<float>(params.qmin))
    return {0.0f, static_cast<float>(params.qmin - params.zero_point), -params.scale};
  if (code > static_cast<float>(params.qmax))
    return {0.0f, static_cast<float>(params.qmax - params.zero_point), -params.scale};
  const float fake_quantized = (code - static_cast<float>(params.zero_point)) * params.scale;
  return {code == code ? 1.0f : 0.0f, (fake_quantized - x) * inv_scale, 0.0f};
}

/// \brief Forward pass of PoT fake-quantization over a tensor: `y[i] = scale * P(x[i] /
/// scale)` and `mask[i]` (1 where the exponent was in range, else 0).
/// \throws std::invalid_argument if the spans' lengths differ or the scale is negative,
/// infinite or NaN.
template <pot_type P>
void fake_quantize_pot_forward(std::span<const float> x, float scale, std::span<float> y,
                               std::span<std::uint8_t> mask) {
  detail::require_same_size(x.size(), y.size(), "PoT fake-quantize forward (y)");
  detail::require_same_size(x.size(), mask.size(), "PoT fake-quantize forward (mask)");
  detail::require_pot_scale(scale);
  for (std::size_t i = 0; i < x.size(); ++i) {
    const pot_fake_quantized<float> q = fake_quantize_pot<P>(x[i], scale);
    y[i] = q.value;
    mask[i] = q.in_range ? 1 : 0;
  }
}

/// \brief Forward pass of affine fake-quantization over a tensor (PyTorch's
/// `fake_quantize_per_tensor_affine_cachemask`).
/// \throws std::invalid_argument if the spans' lengths differ or the parameters are invalid.
template <affine_code Q>
void fake_quantize_affine_forward(std::span<const float> x, const affine_params<Q>& params,
                                  std::span<float> y, std::span<std::uint8_t> mask) {
  detail::require_same_size(x.size(), y.size(), "affine fake-quantize forward (y)");
  detail::require_same_size(x.size(), mask.size(), "affine fake-quantize forward (mask)");
  params.validate();
  for (std::size_t i = 0; i < x.size(); ++i) {
    const affine_fake_quantized q = fake_quantize_affine(x[i], params);
    y[i] = q.value;
    mask[i] = q.in_range ? 1 : 0;
  }
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

/// \brief LSQ gradient of the loss with respect to a PoT scale:
/// `gradient_scale * sum_i dy[i] * (level_i - mask_i * x[i] / scale)`, summed in double.
/// \throws std::invalid_argument if the spans' lengths differ or the scale is invalid.
template <pot_type P>
double fake_quantize_pot_scale_gradient(std::span<const float> dy, std::span<const float> x,
                                        float scale, double gradient_scale = 1.0) {
  detail::require_same_size(x.size(), dy.size(), "PoT scale gradient (dy)");
  detail::require_pot_scale(scale);
  double sum = 0.0;
  for (std::size_t i = 0; i < x.size(); ++i)
    sum += static_cast<double>(dy[i]) *
           static_cast<double>(fake_quantize_pot<P>(x[i], scale).scale_partial());
  return gradient_scale * sum;
}

/// \brief Gradients of the loss with respect to affine parameters.
struct affine_parameter_gradients {
  double scale;       ///< \brief dL / d scale.
  double zero_point;  ///< \brief dL / d zero point.
};

/// \brief Backward pass of learnable affine fake-quantization (LSQ, as PyTorch's
/// `_fake_quantize_learnable_per_tensor_affine_backward`): `dx[i] += dy[i] * dx_i/dx`,
/// and returns the scale and zero-point gradients summed over the tensor (in double)
/// times `gradient_scale` (PyTorch's `grad_factor`).
/// \throws std::invalid_argument if the spans' lengths differ or the parameters are invalid.
template <affine_code Q>
affine_parameter_gradients fake_quantize_affine_learnable_backward(
    std::span<const float> dy, std::span<const float> x, const affine_params<Q>& params,
    std::span<float> dx, double gradient_scale = 1.0) {
  detail::require_same_size(x.size(), dy.size(), "affine learnable backward (dy)");
  detail::require_same_size(x.size(), dx.size(), "affine learnable backward (dx)");
  params.validate();
  affine_parameter_gradients sums{0.0, 0.0};
  for (std::size_t i = 0; i < x.size(); ++i) {
    const affine_learnable_partials partials = affine_fake_quantize_partials(x[i], params);
    dx[i] += dy[i] * partials.input;
    sums.scale += static_cast<double>(dy[i]) * static_cast<double>(partials.scale);
    sums.zero_point += static_cast<double>(dy[i]) * static_cast<double>(partials.zero_point);
  }
  return {sums.scale * gradient_scale, sums.zero_point * gradient_scale};
}

}  // namespace pot
