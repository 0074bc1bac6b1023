#pragma once
/// \file
/// \brief The parameters of the affine scheme, `real = scale * (q - zero_point)` with
/// `qmin <= q <= qmax`: per tensor and per channel, checked where they are made.
///
/// The rest of the scheme uses them: quantize.hpp (codes and values, bit-exact with
/// PyTorch), observer.hpp (parameters from observed ranges), fake_quant.hpp (quantize
/// then dequantize, with the straight-through estimator's mask), fake_quantizer.hpp
/// (observer and fake-quantization together, PyTorch's FakeQuantize) and activation.hpp
/// (one code with its zero point, and its exact product with a PoT weight).

#include <concepts>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <stdexcept>
#include <utility>
#include <vector>

#include "pot/core/errors.hpp"

namespace pot {

/// \brief Integer types that can hold an affine code: every value fits in `int32_t`
/// (the type of `qmin`, `qmax` and `zero_point`), and `bool` is excluded.
template <class Q>
concept affine_code = std::integral<Q> && !std::same_as<Q, bool> &&
                      (std::numeric_limits<Q>::min() >= std::numeric_limits<std::int32_t>::min()) &&
                      (std::numeric_limits<Q>::max() <= std::numeric_limits<std::int32_t>::max());

/// \brief Affine quantization parameters of one tensor (or one channel):
/// `real = scale * (q - zero_point)`, `qmin <= q <= qmax`.
///
/// The defaults are scale 1, zero point 0 and the full range of `Q` ([0, 255] for
/// `uint8_t`, [-128, 127] for `int8_t`). Build checked parameters with
/// make_affine_params(); quantize() itself does not validate (it stays defined for any
/// parameters: see quant/affine/quantize.hpp).
template <affine_code Q>
struct affine_params {
  float scale = 1.0f;                                       ///< Step between codes; finite, > 0.
  std::int32_t zero_point = 0;                              ///< Code of the real value 0.
  std::int32_t qmin = std::numeric_limits<Q>::min();        ///< Smallest code used.
  std::int32_t qmax = std::numeric_limits<Q>::max();        ///< Largest code used.

  /// \brief Throws std::invalid_argument naming the problem unless scale is finite and
  /// > 0 with a finite float reciprocal (scale >= 2^-127), qmin < qmax lie within Q's range, and qmin <= zero_point <= qmax.
  void validate() const {
    if (!std::isfinite(scale) || !(scale > 0.0f))
      throw std::invalid_argument(detail::message("affine scale must be finite and > 0 (got ",
                                                  scale, ")"));
    if (!std::isfinite(1.0f / scale))
      throw std::invalid_argument(detail::message(
          "affine scale ", scale, " is too small: its float reciprocal overflows"));
    if (qmin < std::numeric_limits<Q>::min() || qmax > std::numeric_limits<Q>::max())
      throw std::invalid_argument(detail::message(
          "affine range [", qmin, ", ", qmax, "] does not fit the code type's range [",
          +std::numeric_limits<Q>::min(), ", ", +std::numeric_limits<Q>::max(), "]"));
    if (!(qmin < qmax))
      throw std::invalid_argument(
          detail::message("affine range needs qmin < qmax (got [", qmin, ", ", qmax, "])"));
    if (zero_point < qmin || zero_point > qmax)
      throw std::invalid_argument(detail::message("affine zero point ", zero_point,
                                                  " lies outside [", qmin, ", ", qmax, "]"));
  }

  /// \brief Equal when every field is equal.
  friend constexpr bool operator==(const affine_params&, const affine_params&) = default;
};

/// \brief Validated parameters over the full range of `Q`.
/// \throws std::invalid_argument as affine_params::validate().
template <affine_code Q>
affine_params<Q> make_affine_params(float scale, std::int32_t zero_point) {
  affine_params<Q> params{scale, zero_point};
  params.validate();
  return params;
}

/// \brief Validated parameters over a narrower range `[qmin, qmax]` of `Q`.
/// \throws std::invalid_argument as affine_params::validate().
template <affine_code Q>
affine_params<Q> make_affine_params(float scale, std::int32_t zero_point, std::int32_t qmin,
                                    std::int32_t qmax) {
  affine_params<Q> params{scale, zero_point, qmin, qmax};
  params.validate();
  return params;
}

/// \brief Affine parameters per channel along one axis of a row-major tensor (PyTorch's
/// per_channel_affine): channel `c` uses `scales[c]` and `zero_points[c]`.
template <affine_code Q>
struct per_channel_affine_params {
  std::vector<float> scales;                             ///< One scale per channel.
  std::vector<std::int32_t> zero_points;                 ///< One zero point per channel.
  std::int32_t qmin = std::numeric_limits<Q>::min();     ///< Smallest code used.
  std::int32_t qmax = std::numeric_limits<Q>::max();     ///< Largest code used.
  std::size_t axis = 0;                                  ///< The tensor axis of the channels.

  /// \brief Number of channels.
  std::size_t channels() const noexcept { return scales.size(); }

  /// \brief The per-tensor parameters of channel `c` (not validated).
  /// \throws std::out_of_range if `c >= channels()`.
  affine_params<Q> channel(std::size_t c) const {
    if (c >= channels())
      throw std::out_of_range(detail::message("affine channel ", c, " out of range (",
                                              channels(), " channels)"));
    return {scales[c], zero_points[c], qmin, qmax};
  }

  /// \brief Throws std::invalid_argument unless there is at least one channel, as many
  /// zero points as scales, and every channel passes affine_params::validate().
  void validate() const {
    if (scales.empty()) throw std::invalid_argument("pot: per-channel affine params need a channel");
    if (zero_points.size() != scales.size())
      throw std::invalid_argument(detail::message("per-channel affine params have ", scales.size(),
                                                  " scales but ", zero_points.size(),
                                                  " zero points"));
    for (std::size_t c = 0; c < channels(); ++c) channel(c).validate();
  }
};

/// \brief Validated per-channel parameters over the full range of `Q`.
/// \throws std::invalid_argument as per_channel_affine_params::validate().
template <affine_code Q>
per_channel_affine_params<Q> make_per_channel_affine_params(std::vector<float> scales,
                                                            std::vector<std::int32_t> zero_points,
                                                            std::size_t axis) {
  per_channel_affine_params<Q> params;
  params.scales = std::move(scales);
  params.zero_points = std::move(zero_points);
  params.axis = axis;
  params.validate();
  return params;
}

namespace detail {

/// \brief For a row-major tensor of `shape`, the number of elements in one step along
/// `axis` (the product of the dimensions after it), after checking that the shape
/// matches `elements` values and `channels` channels along `axis`.
inline std::size_t channel_stride(std::span<const std::size_t> shape, std::size_t axis,
                                  std::size_t channels, std::size_t elements) {
  if (axis >= shape.size())
    throw std::invalid_argument(detail::message("channel axis ", axis, " out of range for a ",
                                                shape.size(), "-dimensional shape"));
  if (shape[axis] != channels)
    throw std::invalid_argument(detail::message("shape has ", shape[axis], " entries on axis ",
                                                axis, " but the params have ", channels,
                                                " channels"));
  std::size_t count = 1;
  std::size_t inner = 1;
  for (std::size_t d = 0; d < shape.size(); ++d) {
    count *= shape[d];
    if (d > axis) inner *= shape[d];
  }
  if (count != elements)
    throw std::invalid_argument(detail::message("shape describes ", count,
                                                " elements but the input has ", elements));
  return inner;
}

}  // namespace detail

}  // namespace pot
