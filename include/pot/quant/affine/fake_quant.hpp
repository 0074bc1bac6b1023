#pragma once
/// \file
/// \brief Affine fake quantization (quantize, then dequantize, in float) with the
/// straight-through estimator's mask, bit-exact with PyTorch's
/// `fake_quantize_per_tensor_affine` (cachemask variant) and, for a learnable scale and
/// zero point, `_fake_quantize_learnable_per_tensor_affine`.
///
/// `y = (clamp(nearbyint(x / scale) + zp, qmin, qmax) - zp) * scale` (quantize.hpp's
/// expressions), mask 1 where the *unclamped* code lies in `[qmin, qmax]`, as PyTorch's
/// cachemask kernel computes it. The backward pass is quant/ste.hpp's
/// fake_quantize_backward over that mask (PyTorch's estimator is `clipped`).
///
/// The span forward runs on the vector bodies of quant/affine/simd/ (as the span
/// quantize() does; see quantize.hpp) and gives the scalar function's bits for every
/// input: the code as there, the mask from the unclamped `nearbyint(x / scale) +
/// zero_point` compared with the bounds in float (exact: both are floats), the value
/// `(code - zero_point) * scale` in float (an exact difference, one rounding; see
/// fake_quantize_affine_vectorizes()).

#include <cstddef>
#include <cstdint>
#include <span>

#include "pot/core/errors.hpp"
#include "pot/quant/affine/params.hpp"
#include "pot/quant/affine/quantize.hpp"
#include "pot/quant/affine/simd/floats.hpp"
#include "pot/quant/ste.hpp"
#include "pot/simd/dispatch.hpp"

namespace pot {

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
affine_learnable_partials fake_quantize_affine_partials(float x, const affine_params<Q>& params) noexcept {
  const float inv_scale = 1.0f / params.scale;
  const float code = detail::round_half_to_even(static_cast<float>(params.zero_point) + x * inv_scale);
  if (code < static_cast<float>(params.qmin))
    return {0.0f, static_cast<float>(params.qmin - params.zero_point), -params.scale};
  if (code > static_cast<float>(params.qmax))
    return {0.0f, static_cast<float>(params.qmax - params.zero_point), -params.scale};
  const float fake_quantized = (code - static_cast<float>(params.zero_point)) * params.scale;
  return {code == code ? 1.0f : 0.0f, (fake_quantized - x) * inv_scale, 0.0f};
}

/// \brief Whether fake_quantize_affine_forward() takes its vector path for \p params:
/// those of quantize_vectorizes(), and every code differing from the zero point by at
/// most 2^24, so that `code - zero_point` is exact in float and its product with the scale
/// rounds once, as the scalar dequantize's exact double product rounded to float does.
template <affine_code Q>
constexpr bool fake_quantize_affine_vectorizes(const affine_params<Q>& params) noexcept {
  constexpr std::int64_t exact_span = std::int64_t{1} << 24;
  return quantize_vectorizes(params) && std::int64_t{params.qmax} - params.zero_point <= exact_span &&
         std::int64_t{params.zero_point} - params.qmin <= exact_span;
}

/// \brief Forward pass of affine fake-quantization over a tensor (PyTorch's
/// `fake_quantize_per_tensor_affine_cachemask`): `y[i] = fake_quantize_affine(x[i]).value`
/// and `mask[i]` = 1 where it was in range (0 for NaN), several values per instruction,
/// bit-identical with the scalar function. \p y may be \p x itself (in place).
///
/// This is the forward pass of quantization-aware training for every activation that
/// enters a quantized layer; a scalar loop took about half of a QAT step of the GPT-2
/// example.
/// \throws std::invalid_argument if the spans' lengths differ or the parameters are invalid.
template <affine_code Q>
void fake_quantize_affine_forward(std::span<const float> x, const affine_params<Q>& params,
                                  std::span<float> y, std::span<std::uint8_t> mask) {
  detail::require_same_size(x.size(), y.size(), "affine fake-quantize forward (y)");
  detail::require_same_size(x.size(), mask.size(), "affine fake-quantize forward (mask)");
  params.validate();
  std::size_t done = 0;
  if (fake_quantize_affine_vectorizes(params)) {
    const detail::affine_floats p = detail::floats_of(params);
    done = simd::dispatch([&](auto isa) {
      return detail::affine_fake_quantize_values(isa, x.data(), x.size(), p, y.data(), mask.data());
    });
  }
  for (std::size_t i = done; i < x.size(); ++i) {
    const affine_fake_quantized q = fake_quantize_affine(x[i], params);
    y[i] = q.value;
    mask[i] = q.in_range ? 1 : 0;
  }
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
    const affine_learnable_partials partials = fake_quantize_affine_partials(x[i], params);
    dx[i] += dy[i] * partials.input;
    sums.scale += static_cast<double>(dy[i]) * static_cast<double>(partials.scale);
    sums.zero_point += static_cast<double>(dy[i]) * static_cast<double>(partials.zero_point);
  }
  return {sums.scale * gradient_scale, sums.zero_point * gradient_scale};
}

}  // namespace pot
