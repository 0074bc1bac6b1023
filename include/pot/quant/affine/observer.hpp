#pragma once
/// \file
/// \brief Min/max observers and the affine parameters they imply, as PyTorch defines them
/// (torch.ao.quantization: MinMaxObserver, MovingAverageMinMaxObserver,
/// PerChannelMinMaxObserver and `_calculate_qparams`, checked against torch 1.13).
///
/// Every statistic is a float and every step is one float operation, as in PyTorch's
/// float32 buffers. Where PyTorch is silent or undefined this header is strict: an empty
/// batch, a NaN or an infinity in a batch, and asking for parameters before anything was
/// observed are errors (PyTorch skips empty batches, propagates NaN, and returns scale 1,
/// zero point 0 with a warning).

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

#include "pot/core/errors.hpp"
#include "pot/quant/affine/params.hpp"
#include "pot/quant/affine/quantize.hpp"

namespace pot {

/// \brief How a min/max range becomes affine parameters.
enum class qscheme {
  affine,    ///< \brief Asymmetric: the range [min(min,0), max(max,0)] spans [qmin, qmax].
  symmetric  ///< \brief Symmetric about 0: the larger magnitude spans half the codes.
};

/// \brief The smallest scale a calculation returns: float's machine epsilon, 2^-23 (as
/// PyTorch's `torch.finfo(torch.float32).eps`).
inline constexpr float min_observer_scale = std::numeric_limits<float>::epsilon();

/// \brief PyTorch's `_calculate_qparams` for a per-tensor range `[min_value, max_value]`.
///
/// affine: `min_neg = min(min, 0)`, `max_pos = max(max, 0)`,
/// `scale = max((max_pos - min_neg) / (qmax - qmin), eps)`,
/// `zero_point = clamp(qmin - round_half_even(min_neg / scale), qmin, qmax)`.
/// symmetric: `scale = max(max(-min_neg, max_pos) / ((qmax - qmin) / 2), eps)`,
/// `zero_point` = 0 for signed `Q`; for unsigned `Q` 128 over the default [0, 255] and
/// `(qmin + qmax) / 2` (rounded down) over a narrower range.
/// \throws std::invalid_argument if `min_value > max_value`, either is not finite, or the
/// range `[qmin, qmax]` is invalid for `Q`; std::domain_error if the scale overflows.
template <affine_code Q>
affine_params<Q> calculate_qparams(float min_value, float max_value, qscheme scheme,
                                   std::int32_t qmin = std::numeric_limits<Q>::min(),
                                   std::int32_t qmax = std::numeric_limits<Q>::max()) {
  if (!std::isfinite(min_value) || !std::isfinite(max_value))
    throw std::invalid_argument(detail::message("observed range [", min_value, ", ", max_value,
                                                "] is not finite"));
  if (min_value > max_value)
    throw std::invalid_argument(detail::message("observed min ", min_value,
                                                " exceeds observed max ", max_value));
  affine_params<Q> params{1.0f, qmin, qmin, qmax};
  params.validate();  // names a bad range [qmin, qmax]

  const float min_neg = std::min(min_value, 0.0f);
  const float max_pos = std::max(max_value, 0.0f);
  const float levels = static_cast<float>(qmax - qmin);
  if (scheme == qscheme::symmetric) {
    params.scale = std::max(std::max(-min_neg, max_pos) / (levels / 2.0f), min_observer_scale);
    if constexpr (std::is_unsigned_v<Q>) {
      const bool default_range = qmin == 0 && qmax == 255;
      params.zero_point = default_range ? 128 : (qmin + qmax) / 2;
    } else {
      params.zero_point = 0;
    }
  } else {
    params.scale = std::max((max_pos - min_neg) / levels, min_observer_scale);
    const float zero_offset = detail::round_half_to_even(min_neg / params.scale);
    params.zero_point = static_cast<std::int32_t>(
        std::clamp(static_cast<double>(qmin) - static_cast<double>(zero_offset),
                   static_cast<double>(qmin), static_cast<double>(qmax)));
  }
  if (!std::isfinite(params.scale))
    throw std::domain_error(detail::message("the observed range [", min_value, ", ", max_value,
                                            "] overflows the float scale"));
  return params;
}

namespace detail {

/// \brief The least and greatest value of a batch.
/// \throws std::invalid_argument if the batch is empty or holds a NaN or an infinity.
inline std::pair<float, float> batch_min_max(std::span<const float> x) {
  if (x.empty()) throw std::invalid_argument("pot: an observer got an empty batch");
  float low = x[0];
  float high = x[0];
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (!std::isfinite(x[i]))
      throw std::invalid_argument(detail::message("observer input holds ", x[i], " at index ", i));
    low = std::min(low, x[i]);
    high = std::max(high, x[i]);
  }
  return {low, high};
}

}  // namespace detail

/// \brief What the per-tensor observers share: the code range and scheme, and the
/// observed min and max with the parameters they imply.
template <affine_code Q>
class tensor_range_observer {
 public:
  /// \brief Whether a batch has been observed.
  bool observed() const noexcept { return observed_; }
  /// \brief The observed minimum (meaningful once observed()).
  float min() const noexcept { return min_; }
  /// \brief The observed maximum (meaningful once observed()).
  float max() const noexcept { return max_; }

  /// \brief The parameters of the observed range; see pot::calculate_qparams().
  /// \throws std::logic_error before the first batch.
  affine_params<Q> calculate_qparams() const {
    if (!observed_) throw std::logic_error("pot: calculate_qparams before any batch was observed");
    return ::pot::calculate_qparams<Q>(min_, max_, scheme_, qmin_, qmax_);
  }

 protected:
  /// \brief A range observer whose parameters use `scheme` over codes `[qmin, qmax]`.
  tensor_range_observer(qscheme scheme, std::int32_t qmin, std::int32_t qmax) noexcept
      : scheme_(scheme), qmin_(qmin), qmax_(qmax) {}

  qscheme scheme_;           ///< How the range becomes parameters.
  std::int32_t qmin_;        ///< Smallest code.
  std::int32_t qmax_;        ///< Largest code.
  bool observed_ = false;    ///< Whether min_ and max_ hold a batch's statistics.
  float min_ = 0.0f;         ///< The observed minimum.
  float max_ = 0.0f;         ///< The observed maximum.
};

/// \brief Running min and max over every batch seen (PyTorch's MinMaxObserver).
template <affine_code Q>
class min_max_observer : public tensor_range_observer<Q> {
  using base = tensor_range_observer<Q>;
  using base::max_;
  using base::min_;
  using base::observed_;

 public:
  /// \brief An observer whose parameters use `scheme` over codes `[qmin, qmax]`.
  explicit min_max_observer(qscheme scheme = qscheme::affine,
                            std::int32_t qmin = std::numeric_limits<Q>::min(),
                            std::int32_t qmax = std::numeric_limits<Q>::max())
      : base(scheme, qmin, qmax) {}

  /// \brief Widens the range to include every value of `x`.
  /// \throws std::invalid_argument on an empty batch, NaN or infinity (nothing is changed).
  void observe(std::span<const float> x) {
    const auto [low, high] = detail::batch_min_max(x);
    min_ = observed_ ? std::min(min_, low) : low;
    max_ = observed_ ? std::max(max_, high) : high;
    observed_ = true;
  }
};

/// \brief Exponential moving average of each batch's min and max (PyTorch's
/// MovingAverageMinMaxObserver): the first batch sets them, each later batch moves them
/// by `min += c * (batch_min - min)`, `max += c * (batch_max - max)` in float.
template <affine_code Q>
class moving_average_min_max_observer : public tensor_range_observer<Q> {
  using base = tensor_range_observer<Q>;
  using base::max_;
  using base::min_;
  using base::observed_;

 public:
  /// \brief An observer with averaging constant `c` (PyTorch's default 0.01) whose
  /// parameters use `scheme` over codes `[qmin, qmax]`.
  /// \throws std::invalid_argument unless 0 < c <= 1.
  explicit moving_average_min_max_observer(float averaging_constant = 0.01f,
                                           qscheme scheme = qscheme::affine,
                                           std::int32_t qmin = std::numeric_limits<Q>::min(),
                                           std::int32_t qmax = std::numeric_limits<Q>::max())
      : base(scheme, qmin, qmax), averaging_constant_(averaging_constant) {
    if (!(averaging_constant > 0.0f && averaging_constant <= 1.0f))
      throw std::invalid_argument(detail::message("averaging constant must be in (0, 1] (got ",
                                                  averaging_constant, ")"));
  }

  /// \brief Moves the running min and max towards this batch's.
  /// \throws std::invalid_argument on an empty batch, NaN or infinity (nothing is changed).
  void observe(std::span<const float> x) {
    const auto [low, high] = detail::batch_min_max(x);
    if (!observed_) {
      min_ = low;
      max_ = high;
      observed_ = true;
      return;
    }
    min_ += step(low - min_);
    max_ += step(high - max_);
  }

 private:
  // c * difference rounded once to float, as PyTorch's separate float multiply: formed
  // as an exact double product so that no compiler fuses it with the following add.
  float step(float difference) const noexcept {
    return static_cast<float>(static_cast<double>(averaging_constant_) *
                              static_cast<double>(difference));
  }

  float averaging_constant_;
};

/// \brief Running min and max per channel along one axis of a row-major tensor (PyTorch's
/// PerChannelMinMaxObserver).
template <affine_code Q>
class per_channel_min_max_observer {
 public:
  /// \brief An observer of channels on `axis` whose parameters use `scheme` over
  /// `[qmin, qmax]`.
  explicit per_channel_min_max_observer(std::size_t axis = 0, qscheme scheme = qscheme::affine,
                                        std::int32_t qmin = std::numeric_limits<Q>::min(),
                                        std::int32_t qmax = std::numeric_limits<Q>::max())
      : axis_(axis), scheme_(scheme), qmin_(qmin), qmax_(qmax) {}

  /// \brief Widens each channel's range by the row-major tensor `x` of `shape`.
  /// \throws std::invalid_argument on an empty batch, NaN or infinity, a shape that does
  /// not match `x` or the axis, or a channel count that differs from earlier batches
  /// (nothing is changed).
  void observe(std::span<const float> x, std::span<const std::size_t> shape) {
    if (x.empty()) throw std::invalid_argument("pot: an observer got an empty batch");
    if (axis_ >= shape.size())
      throw std::invalid_argument(detail::message("channel axis ", axis_, " out of range for a ",
                                                  shape.size(), "-dimensional shape"));
    const std::size_t channels = shape[axis_];
    if (!min_.empty() && channels != min_.size())
      throw std::invalid_argument(detail::message("batch has ", channels,
                                                  " channels but earlier batches had ",
                                                  min_.size()));
    const std::size_t inner = detail::channel_stride(shape, axis_, channels, x.size());
    std::vector<float> low(channels, std::numeric_limits<float>::infinity());
    std::vector<float> high(channels, -std::numeric_limits<float>::infinity());
    for (std::size_t i = 0; i < x.size(); ++i) {
      if (!std::isfinite(x[i]))
        throw std::invalid_argument(detail::message("observer input holds ", x[i], " at index ", i));
      const std::size_t c = (i / inner) % channels;
      low[c] = std::min(low[c], x[i]);
      high[c] = std::max(high[c], x[i]);
    }
    if (min_.empty()) {
      min_ = std::move(low);
      max_ = std::move(high);
      return;
    }
    for (std::size_t c = 0; c < channels; ++c) {
      min_[c] = std::min(min_[c], low[c]);
      max_[c] = std::max(max_[c], high[c]);
    }
  }

  /// \brief Whether a batch has been observed.
  bool observed() const noexcept { return !min_.empty(); }
  /// \brief The running minimum of each channel (empty before the first batch).
  std::span<const float> min() const noexcept { return min_; }
  /// \brief The running maximum of each channel (empty before the first batch).
  std::span<const float> max() const noexcept { return max_; }

  /// \brief Each channel's parameters (::pot::calculate_qparams() per channel) on the
  /// observer's axis.
  /// \throws std::logic_error before the first batch.
  per_channel_affine_params<Q> calculate_qparams() const {
    if (!observed()) throw std::logic_error("pot: calculate_qparams before any batch was observed");
    per_channel_affine_params<Q> params;
    params.qmin = qmin_;
    params.qmax = qmax_;
    params.axis = axis_;
    for (std::size_t c = 0; c < min_.size(); ++c) {
      const auto channel = ::pot::calculate_qparams<Q>(min_[c], max_[c], scheme_, qmin_, qmax_);
      params.scales.push_back(channel.scale);
      params.zero_points.push_back(channel.zero_point);
    }
    return params;
  }

 private:
  std::size_t axis_;
  qscheme scheme_;
  std::int32_t qmin_;
  std::int32_t qmax_;
  std::vector<float> min_;
  std::vector<float> max_;
};

}  // namespace pot
