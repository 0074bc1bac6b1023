#pragma once
/// \file
/// \brief Affine (scale, zero point) activation codes, bit-exact with PyTorch's
/// `fake_quantize_per_tensor_affine`.
///
/// The quantization model is `real = scale * (q - zero_point)`, with `q` clamped to
/// `[qmin, qmax]`. The expressions below follow PyTorch's CPU kernel
/// `fake_quantize_tensor_cachemask_kernel` (aten/src/ATen/native/quantized/cpu/kernels/
/// QuantizedOpKernels.cpp), which reads
///
///     float inv_scale = 1.0f / sc;
///     qval = static_cast<int64_t>(z_point + std::nearbyint(*input_val * inv_scale));
///     out  = (std::fmin(std::fmax(qval, quant_min), quant_max) - z_point) * sc;
///
/// so: the reciprocal is a float, the product `x * inv_scale` is a float, it is rounded
/// half to even (nearbyint under the default rounding mode), the zero point is added
/// after rounding (in float, as `int64 + float` promotes to float), then clamped.
/// Dequantization is `(q - zero_point) * scale`: PyTorch forms it in double and stores a
/// float, which equals one float multiply because the double product of a small
/// integer and a float is exact.
///
/// Where PyTorch is undefined (NaN or infinite `x * inv_scale` cast to int64), this
/// header defines the result: NaN -> `zero_point` (dequantizes to 0), +inf -> `qmax`,
/// -inf -> `qmin`. `quantize_checked` reports NaN as `std::domain_error` instead.

#include <concepts>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "pot/core/pot.hpp"
#include "pot/core/traits.hpp"

namespace pot {

/// \brief Integer types that can hold an affine code: every value fits in `int32_t`
/// (the type of `qmin`, `qmax` and `zero_point`), and `bool` is excluded.
template <class Q>
concept affine_code = std::integral<Q> && !std::same_as<Q, bool> &&
                      (std::numeric_limits<Q>::min() >= std::numeric_limits<std::int32_t>::min()) &&
                      (std::numeric_limits<Q>::max() <= std::numeric_limits<std::int32_t>::max());

namespace detail {

/// \brief Rounds to the nearest integer, ties to even, exactly and independent of the
/// floating-point environment (equals `std::nearbyint` under the default rounding mode,
/// and is usable in constant expressions).
constexpr float round_half_to_even(float value) noexcept {
  const float magnitude = value < 0.0f ? -value : value;
  // From 2^23 on every float is an integer; NaN fails the comparison and passes through.
  if (!(magnitude < 0x1p23f)) return value;
  const auto truncated = static_cast<std::int32_t>(value);
  // Exact: both operands lie within one binade step of each other below 2^23.
  const float fraction = value - static_cast<float>(truncated);
  const bool odd = (truncated % 2) != 0;
  std::int32_t rounded = truncated;
  if (fraction > 0.5f || (fraction == 0.5f && odd)) ++rounded;
  if (fraction < -0.5f || (fraction == -0.5f && odd)) --rounded;
  return static_cast<float>(rounded);
}

/// \brief Formats a message as "pot: " followed by the streamed arguments.
template <class... Parts>
std::string message(const Parts&... parts) {
  std::ostringstream out;
  out << "pot: ";
  (out << ... << parts);
  return out.str();
}

/// \brief Throws std::invalid_argument unless two spans that are processed element by
/// element have the same length.
inline void require_same_size(std::size_t input, std::size_t output, const char* what) {
  if (input != output)
    throw std::invalid_argument(message(what, ": input has ", input, " elements but output has ",
                                        output));
}

}  // namespace detail

/// \brief Affine quantization parameters of one tensor (or one channel):
/// `real = scale * (q - zero_point)`, `qmin <= q <= qmax`.
///
/// The defaults are scale 1, zero point 0 and the full range of `Q` ([0, 255] for
/// `uint8_t`, [-128, 127] for `int8_t`). Build checked parameters with
/// make_affine_params(); quantize() itself does not validate (it stays defined for any
/// parameters: see the file comment).
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

/// \brief The code of `x`: `clamp(nearbyint(x * (1.0f / scale)) + zero_point, qmin, qmax)`,
/// bit-exact with PyTorch; NaN gives `zero_point`, ±inf give `qmax` / `qmin`.
template <affine_code Q>
constexpr Q quantize(float x, const affine_params<Q>& params) noexcept {
  const float inv_scale = 1.0f / params.scale;
  // The float product, formed as an exact double product rounded once: written as a
  // float multiply, a compiler contracting floating-point expressions (GCC's default in
  // GNU mode with FMA) could fuse it with the subtraction inside the rounding and round
  // the unrounded product instead.
  const float scaled = static_cast<float>(static_cast<double>(x) * static_cast<double>(inv_scale));
  if (scaled != scaled) return static_cast<Q>(params.zero_point);
  // Added in float like PyTorch's `z_point + nearbyint(...)`; clamped in double so that
  // the comparison with an int32 bound is exact.
  const double shifted =
      static_cast<double>(detail::round_half_to_even(scaled) + static_cast<float>(params.zero_point));
  if (shifted <= static_cast<double>(params.qmin)) return static_cast<Q>(params.qmin);
  if (shifted >= static_cast<double>(params.qmax)) return static_cast<Q>(params.qmax);
  return static_cast<Q>(static_cast<std::int64_t>(shifted));
}

/// \brief Like quantize(), but NaN input is an error.
/// \throws std::domain_error if `x` is NaN.
template <affine_code Q>
constexpr Q quantize_checked(float x, const affine_params<Q>& params) {
  if (x != x) throw std::domain_error("pot: cannot quantize NaN to an affine code");
  return quantize(x, params);
}

/// \brief The real value of code `q`: `(q - zero_point) * scale` formed in double and
/// rounded to float, as PyTorch does (exact before the rounding for codes up to 16 bits).
template <affine_code Q>
constexpr float dequantize(Q q, const affine_params<Q>& params) noexcept {
  // PyTorch's expression: the difference times the scale in double, stored as a float.
  return static_cast<float>(
      static_cast<double>(static_cast<std::int64_t>(q) - params.zero_point) *
      static_cast<double>(params.scale));
}

/// \brief Quantizes every element of `x` into `out` (same length).
/// \throws std::invalid_argument if the lengths differ.
template <affine_code Q>
void quantize(std::span<const float> x, const affine_params<Q>& params, std::span<Q> out) {
  detail::require_same_size(x.size(), out.size(), "affine quantize");
  // Bounded by the output: g++ -O3 cannot see that the check above throws and would
  // otherwise warn of a write past a short output.
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = quantize(x[i], params);
}

/// \brief Dequantizes every code of `q` into `out` (same length).
/// \throws std::invalid_argument if the lengths differ.
template <affine_code Q>
void dequantize(std::span<const Q> q, const affine_params<Q>& params, std::span<float> out) {
  detail::require_same_size(q.size(), out.size(), "affine dequantize");
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = dequantize(q[i], params);
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

namespace detail {

/// \brief Writes `out[i] = convert(in[i], params of i's channel)` over a row-major tensor
/// of `shape`, after checking that the shape and all lengths agree.
template <affine_code Q, class In, class Out, class Convert>
void map_per_channel(std::span<const In> in, std::span<const std::size_t> shape,
                     const per_channel_affine_params<Q>& params, std::span<Out> out,
                     const char* what, Convert convert) {
  require_same_size(in.size(), out.size(), what);
  const std::size_t inner = channel_stride(shape, params.axis, params.channels(), in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    const std::size_t c = (i / inner) % params.channels();
    out[i] = convert(in[i], affine_params<Q>{params.scales[c], params.zero_points[c], params.qmin,
                                             params.qmax});
  }
}

}  // namespace detail

/// \brief Quantizes a row-major tensor of `shape` channel by channel along `params.axis`.
/// \throws std::invalid_argument if the shape, the channel count and the lengths of `x`
/// and `out` disagree.
template <affine_code Q>
void quantize(std::span<const float> x, std::span<const std::size_t> shape,
              const per_channel_affine_params<Q>& params, std::span<Q> out) {
  detail::map_per_channel(x, shape, params, out, "per-channel affine quantize",
                          [](float v, const affine_params<Q>& p) { return quantize(v, p); });
}

/// \brief Dequantizes a row-major tensor of `shape` channel by channel along `params.axis`.
/// \throws std::invalid_argument if the shape, the channel count and the lengths of `q`
/// and `out` disagree.
template <affine_code Q>
void dequantize(std::span<const Q> q, std::span<const std::size_t> shape,
                const per_channel_affine_params<Q>& params, std::span<float> out) {
  detail::map_per_channel(q, shape, params, out, "per-channel affine dequantize",
                          [](Q v, const affine_params<Q>& p) { return dequantize(v, p); });
}

/// \brief The signed integer type that holds `q - zero_point` for any two values of `Q`.
template <affine_code Q>
using affine_offset_t =
    std::conditional_t<(sizeof(Q) == 1), std::int16_t,
                       std::conditional_t<(sizeof(Q) == 2), std::int32_t, std::int64_t>>;

/// \brief One affine activation: a code and the zero point it is relative to (the scale
/// stays with the tensor). Its integer value `q - zero_point` is what integer kernels
/// multiply by PoT weights.
template <affine_code Q>
class affine {
 public:
  /// \brief The activation with code `code` relative to `zero_point`.
  constexpr affine(Q code, Q zero_point) noexcept : code_(code), zero_point_(zero_point) {}

  /// \brief The activation `quantize(x, params)` (zero point taken from `params`).
  constexpr affine(float x, const affine_params<Q>& params) noexcept
      : code_(quantize(x, params)), zero_point_(static_cast<Q>(params.zero_point)) {}

  /// \brief The stored code.
  constexpr Q code() const noexcept { return code_; }
  /// \brief The zero point the code is relative to.
  constexpr Q zero_point() const noexcept { return zero_point_; }
  /// \brief `q - zero_point`, exact in a type wide enough for any two codes.
  constexpr affine_offset_t<Q> offset() const noexcept {
    return static_cast<affine_offset_t<Q>>(static_cast<affine_offset_t<Q>>(code_) -
                                           static_cast<affine_offset_t<Q>>(zero_point_));
  }

  /// \brief Equal when code and zero point are equal.
  friend constexpr bool operator==(affine, affine) = default;

 private:
  Q code_;
  Q zero_point_;
};

/// \brief The exact integer `(q - zero_point) * p` of an activation and a PoT weight, as a
/// shift of the offset in a type wide enough for every operand (pot * integer, which
/// requires `P::min_exponent >= 0`).
template <affine_code Q, pot_type P>
constexpr integer_product_t<P, affine_offset_t<Q>> operator*(affine<Q> a, P p) noexcept {
  return p * a.offset();
}

/// \brief The exact integer `p * (q - zero_point)`; see the affine * pot overload.
template <pot_type P, affine_code Q>
constexpr integer_product_t<P, affine_offset_t<Q>> operator*(P p, affine<Q> a) noexcept {
  return p * a.offset();
}

}  // namespace pot
