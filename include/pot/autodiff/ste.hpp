#pragma once
/// \file
/// \brief Straight-through estimators on `var<T>`: round, floor, clip, and PoT and affine
/// fake-quantization (the var counterparts of quant/pot_fake_quant.hpp and
/// quant/affine/fake_quant.hpp, which document the masks and the LSQ derivations).
///
/// The forward values are exact (the same functions as on plain numbers); the recorded
/// derivative is the estimator's, not the true derivative (0 almost everywhere).

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <type_traits>

#include "pot/autodiff/var.hpp"
#include "pot/core/errors.hpp"
#include "pot/core/traits.hpp"
#include "pot/quant/affine/fake_quant.hpp"
#include "pot/quant/affine/params.hpp"
#include "pot/quant/pot_fake_quant.hpp"
#include "pot/quant/ste.hpp"

namespace pot::ad {

/// \brief Round to nearest, ties to even (as `torch.round`; `std::nearbyint` under the
/// default rounding mode), with the identity STE: d/dx = 1.
template <class T>
var<T> round(const var<T>& x) {
  return var<T>::from_unary(std::nearbyint(x.value()), x, T(1));
}

/// \brief Round down, with the identity STE: d/dx = 1.
template <class T>
var<T> floor(const var<T>& x) {
  return var<T>::from_unary(std::floor(x.value()), x, T(1));
}

/// \brief `x` clamped to `[lo, hi]`; d/dx = 1 where `lo <= x <= hi` (bounds included, as
/// `torch.clamp`'s gradient), else 0. NaN stays NaN with derivative 0.
/// \throws std::invalid_argument unless `lo <= hi`.
template <class T>
var<T> clip(const var<T>& x, std::type_identity_t<T> lo, std::type_identity_t<T> hi) {
  if (!(lo <= hi))
    throw std::invalid_argument(::pot::detail::message("clip needs lo <= hi (got [", lo, ", ", hi, "])"));
  const T v = x.value();
  const bool inside = lo <= v && v <= hi;
  return var<T>::from_unary(v < lo ? lo : (hi < v ? hi : v), x, inside ? T(1) : T(0));
}

/// \brief PoT fake-quantization `scale * P(x / scale)` with the chosen estimator.
///
/// d/dx is 1 (identity) or the mask (clipped, learnable_scale). d/dscale is 0 unless the
/// estimator is learnable_scale, where it is LSQ's `level - x/scale` inside the range and
/// `level` outside, times `gradient_scale` (see lsq_gradient_scale()).
/// \throws std::invalid_argument if the scale is negative, infinite or NaN.
template <pot_type P, class T>
var<T> fake_quantize_pot(const var<T>& x, const std::type_identity_t<var<T>>& scale,
                         ste_estimator estimator = ste_estimator::identity,
                         std::type_identity_t<T> gradient_scale = T(1)) {
  const pot_fake_quantized<T> q = ::pot::fake_quantize_pot<P>(x.value(), scale.value());
  const T scale_partial =
      estimator == ste_estimator::learnable_scale ? q.scale_partial() * gradient_scale : T(0);
  return var<T>::from_binary(q.value, x, q.input_partial(estimator), scale, scale_partial);
}

/// \brief Affine fake-quantization with constant parameters, bit-exact with PyTorch's
/// `fake_quantize_per_tensor_affine` (computed in float whatever `T` is), with the
/// identity or clipped estimator (PyTorch's is clipped).
/// \throws std::invalid_argument for learnable_scale (use fake_quantize_affine_learnable())
/// or invalid parameters.
template <affine_code Q, class T>
var<T> fake_quantize_affine(const var<T>& x, const affine_params<Q>& params,
                            ste_estimator estimator = ste_estimator::clipped) {
  if (estimator == ste_estimator::learnable_scale)
    throw std::invalid_argument(
        "pot: constant affine parameters cannot learn; use fake_quantize_affine_learnable");
  params.validate();
  const affine_fake_quantized q = ::pot::fake_quantize_affine(static_cast<float>(x.value()), params);
  const bool passes = estimator == ste_estimator::identity || q.in_range;
  return var<T>::from_unary(static_cast<T>(q.value), x, passes ? T(1) : T(0));
}

/// \brief Affine fake-quantization with a learnable scale and zero point, as PyTorch's
/// `_fake_quantize_learnable_per_tensor_affine`: the forward rounds the zero point half to
/// even and clamps it to `[qmin, qmax]`; the backward uses `trunc(clamp(zp + 0.5))` as
/// PyTorch's `_get_zero_point_from_tensor(..., is_forward = false)` does, and the partials
/// of fake_quantize_affine_partials(), the scale and zero-point ones times
/// `gradient_scale` (PyTorch's `grad_factor`).
/// \throws std::invalid_argument if the scale or range is invalid.
template <affine_code Q, class T>
var<T> fake_quantize_affine_learnable(const var<T>& x, const var<T>& scale,
                                      const var<T>& zero_point, std::int32_t qmin,
                                      std::int32_t qmax, std::type_identity_t<T> gradient_scale = T(1)) {
  const float lo = static_cast<float>(qmin);
  const float hi = static_cast<float>(qmax);
  const float zero_point_value = static_cast<float>(zero_point.value());
  const auto forward_zero_point =
      static_cast<std::int32_t>(std::clamp(std::nearbyint(zero_point_value), lo, hi));
  const auto backward_zero_point =
      static_cast<std::int32_t>(std::clamp(zero_point_value + 0.5f, lo, hi));
  const affine_params<Q> forward{static_cast<float>(scale.value()), forward_zero_point, qmin, qmax};
  forward.validate();
  const affine_params<Q> backward{forward.scale, backward_zero_point, qmin, qmax};
  const float x_value = static_cast<float>(x.value());
  const auto y = static_cast<T>(::pot::fake_quantize_affine(x_value, forward).value);
  const affine_learnable_partials partials = fake_quantize_affine_partials(x_value, backward);
  // The tape stores two parents per node, so the three-argument op is two nodes.
  const var<T> through_scale =
      var<T>::from_binary(y, x, T(partials.input), scale, T(partials.scale) * gradient_scale);
  return var<T>::from_binary(y, through_scale, T(1), zero_point,
                             T(partials.zero_point) * gradient_scale);
}

}  // namespace pot::ad
