#pragma once
/// \file
/// \brief The epilogue of the PoT-weight integer kernels as small stages, composed by the
/// caller (gemmlowp's habit): an int32 bias, the rescale of the exact int32 sums to real
/// values, a float bias, and the requantization to 8-bit affine codes.
///
/// Quantization model: activation `a = scale_a * (q - zero_point)`, weight
/// `w(n, k) = scale_w(n) * sign * 2^e`. The kernels return `acc(m, n) = sum_k (q - zp) *
/// sign * 2^(e - MinExp)`, so the real product is `acc * 2^MinExp * scale_w(n) * scale_a`.
/// Outputs are row-major (M, N) with N = weight rows; GEMV is M = 1.
///
/// A typical integer layer: `pot_gemm` -> `add_bias` (int32, in accumulator units) ->
/// `requantize` to the next layer's codes; or `output_rescale` -> `add_bias` (float) ->
/// `pot::quantize` (core/affine.hpp) when the bias is kept in float.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "pot/quant/affine/params.hpp"
#include "pot/quant/affine/quantize.hpp"
#include "pot/core/traits.hpp"
#include "pot/linalg/pot_weights.hpp"
#include "pot/quant/packed_matrix.hpp"

namespace pot::linalg {

namespace detail {

/// Throws std::invalid_argument unless `size` is a whole number of rows of `row_length`.
inline void require_whole_rows(std::size_t size, std::size_t row_length, const char* what) {
  if (row_length == 0 || size % row_length != 0)
    throw std::invalid_argument(std::string("pot: ") + what + " has " + std::to_string(size) +
                                " elements, not a multiple of the " + std::to_string(row_length) +
                                " outputs per row");
}

}  // namespace detail

/// \brief Stage: adds `bias[n]` to every `acc(m, n)` in int32, saturating at the int32
/// range (an exact sum fits, so only a bias beyond any real output can saturate).
///
/// The bias is in accumulator units, `real_bias / (2^MinExp * scale_w(n) * scale_a)`
/// rounded to an integer, as integer inference stores it.
/// \throws std::invalid_argument unless acc.size() is a multiple of bias.size().
inline void add_bias(std::span<std::int32_t> acc, std::span<const std::int32_t> bias) {
  detail::require_whole_rows(acc.size(), bias.size(), "the accumulator");
  for (std::size_t i = 0; i < acc.size(); ++i) {
    const std::int64_t sum = std::int64_t{acc[i]} + bias[i % bias.size()];
    acc[i] = static_cast<std::int32_t>(std::clamp<std::int64_t>(
        sum, std::numeric_limits<std::int32_t>::min(), std::numeric_limits<std::int32_t>::max()));
  }
}

/// \brief Stage: adds `bias[n]` to every real output `y(m, n)` in float.
/// \throws std::invalid_argument unless y.size() is a multiple of bias.size().
inline void add_bias(std::span<float> y, std::span<const float> bias) {
  detail::require_whole_rows(y.size(), bias.size(), "the output");
  for (std::size_t i = 0; i < y.size(); ++i) y[i] += bias[i % bias.size()];
}

/// \brief Stage: exact int32 sums to real values, `y(m, n) = acc(m, n) * 2^MinExp *
/// scale_w(n) * scale_a`.
///
/// The multiplier of each weight row is formed in double, where it is exact (a product of
/// two floats times a power of two, for every MinExp whose product stays a normal double), and each output is `acc * multiplier` rounded once in
/// double and then to float: within a float half-ulp of the exact value (plus 2^-29 of it
/// for the double rounding), never the three roundings of a float chain.
class output_rescale {
 public:
  /// \brief The multipliers of the weight rows of `w` with activations of scale `activation_scale`.
  /// \throws std::invalid_argument if the activation scale is not finite and > 0.
  template <pot_type P>
  output_rescale(const packed_weights_view<P>& w, float activation_scale) {
    if (!std::isfinite(activation_scale) || !(activation_scale > 0.0f))
      throw std::invalid_argument("pot: activation scale must be finite and > 0 (got " +
                                  std::to_string(activation_scale) + ")");
    multipliers_.resize(w.rows);
    for (std::size_t n = 0; n < w.rows; ++n)
      multipliers_[n] = std::ldexp(double{w.scale(n)} * double{activation_scale}, P::min_exponent);
  }

  /// \brief The multipliers of all rows of `w`.
  /// \throws std::invalid_argument if the activation scale is not finite and > 0.
  template <pot_type P>
  output_rescale(const packed_matrix<P>& w, float activation_scale)
      : output_rescale(packed_weights_view<P>(w), activation_scale) {}

  /// \brief Outputs per row (the weight rows N).
  std::size_t outputs() const noexcept { return multipliers_.size(); }
  /// \brief `2^MinExp * scale_w(n) * scale_a`, exact while it stays in double's normal range.
  double multiplier(std::size_t n) const noexcept { return multipliers_[n]; }
  /// \brief The real value of accumulator `acc` of output column `n`, rounded to float.
  float operator()(std::int32_t acc, std::size_t n) const noexcept {
    return static_cast<float>(static_cast<double>(acc) * multipliers_[n]);
  }

  /// \brief Writes the real value of every `acc(m, n)` to `out(m, n)`.
  /// \throws std::invalid_argument on a size that is not M x outputs() for both.
  void operator()(std::span<const std::int32_t> acc, std::span<float> out) const {
    detail::require_whole_rows(acc.size(), outputs(), "the accumulator");
    if (out.size() != acc.size())
      throw std::invalid_argument("pot: rescale output has " + std::to_string(out.size()) +
                                  " elements, the accumulator " + std::to_string(acc.size()));
    for (std::size_t i = 0; i < acc.size(); ++i) out[i] = (*this)(acc[i], i % outputs());
  }

 private:
  std::vector<double> multipliers_;
};

/// \brief Stage: rescale and quantize in one pass, `out(m, n) = quantize(rescale(acc(m,
/// n)), params)`: the real value as output_rescale rounds it, then core's affine quantize
/// (multiply by the float reciprocal of the output scale, round half to even, add the zero
/// point, saturate to [qmin, qmax]), bit-exact with PyTorch's quantize of that float.
/// \throws std::invalid_argument on a size that is not M x rescale.outputs() for both.
template <affine_code Q>
void requantize(std::span<const std::int32_t> acc, const output_rescale& rescale,
                const affine_params<Q>& params, std::span<Q> out) {
  detail::require_whole_rows(acc.size(), rescale.outputs(), "the accumulator");
  if (out.size() != acc.size())
    throw std::invalid_argument("pot: requantize output has " + std::to_string(out.size()) +
                                " elements, the accumulator " + std::to_string(acc.size()));
  for (std::size_t i = 0; i < acc.size(); ++i) out[i] = quantize(rescale(acc[i], i % rescale.outputs()), params);
}

}  // namespace pot::linalg
