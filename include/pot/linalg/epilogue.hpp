#pragma once
/// \file
/// \brief The output stages of an integer PoT product (gemmlowp's output pipeline),
/// applied by the library to each finished tile of int32 sums: the rescale to real
/// values with the bias, and optionally the requantization to the next layer's 8-bit
/// codes. The rounding of an integer layer's output is decided here, once.
///
/// Quantization model: activation `a = scale_a * (q - zero_point)`, weight `w(n, k) =
/// scale_w(n) * sign * 2^e`. The kernels (pot_gemv.hpp, pot_gemm.hpp) return the exact
/// `acc(m, n) = sum_k (q - zero_point) * sign * 2^(e - MinExp)`, so the real product is
/// `acc * multiplier(n)` with `multiplier(n) = 2^MinExp * scale_w(n) * scale_a`, which is
/// exact in double (two 24-bit significands and a power of two). Outputs are row-major
/// (M, N) with N = weight rows.
///
/// **Rounding.** The real output is `y(m, n) = float(fma(double(acc(m, n)),
/// multiplier(n), double(bias(n))))`: the exact `acc * multiplier + bias` rounded once to
/// double and then once to float, so within half a float ulp of the exact value plus
/// 2^-53 of it. Every instruction set computes that same fused multiply-add
/// (simd/output_rescale.hpp), so the bits do not depend on the CPU or the thread count.
/// The requantized code is quant/affine/quantize.hpp's `quantize(y, params)` of that
/// float (multiply by the float reciprocal of the output scale, round half to even, add
/// the zero point, saturate), bit-exact with PyTorch's quantization of the float output.
///
/// **Tiles.** Each stage applies to the columns [first, last) of every row, so that
/// pot_gemm() can apply it to each panel of weight rows it finishes, while the panel's
/// sums are still in cache (linalg/pot_matmul.hpp puts them together).

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "pot/core/traits.hpp"
#include "pot/linalg/pot_weights.hpp"
#include "pot/quant/affine/params.hpp"
#include "pot/quant/affine/quantize.hpp"
#include "pot/quant/packed_matrix.hpp"
#include "pot/simd/dispatch.hpp"
#include "pot/simd/output_rescale.hpp"

namespace pot::linalg {

namespace detail {

/// Throws std::invalid_argument unless `acc` is whole rows of `outputs` values, `out`
/// has as many values, `bias` is empty or one per output, and [first, last) are columns.
inline void require_output_tile(std::size_t acc, std::size_t out, std::size_t bias, std::size_t outputs,
                                std::size_t first, std::size_t last) {
  if (outputs == 0 || acc % outputs != 0)
    throw std::invalid_argument("pot: the accumulator has " + std::to_string(acc) +
                                " values, not whole rows of the " + std::to_string(outputs) + " outputs");
  if (out != acc)
    throw std::invalid_argument("pot: the output has " + std::to_string(out) + " values, the accumulator " +
                                std::to_string(acc));
  if (bias != 0 && bias != outputs)
    throw std::invalid_argument("pot: the bias has " + std::to_string(bias) + " values, not one per output (" +
                                std::to_string(outputs) + ")");
  if (first > last || last > outputs)
    throw std::invalid_argument("pot: output columns [" + std::to_string(first) + ", " + std::to_string(last) +
                                ") are not within the " + std::to_string(outputs) + " outputs");
}

}  // namespace detail

/// \brief Rescale and bias: the real outputs of exact int32 sums (see the file comment
/// for the rounding).
class output_rescale {
 public:
  /// \brief The multipliers of the weight rows of \p w for activations of scale
  /// \p activation_scale.
  /// \throws std::invalid_argument if the activation scale is not finite and > 0.
  template <pot_type P>
  output_rescale(const packed_weights_view<P>& w, float activation_scale) {
    if (!std::isfinite(activation_scale) || !(activation_scale > 0.0f))
      throw std::invalid_argument("pot: activation scale must be finite and > 0 (got " +
                                  std::to_string(activation_scale) + ")");
    multipliers_.resize(w.rows);
    for (std::size_t n = 0; n < w.rows; ++n)
      multipliers_[n] = std::ldexp(double{w.scale(n)} * double{activation_scale}, P::min_exponent);
    zero_bias_.assign(w.rows, 0.0f);
  }

  /// \brief The multipliers of all rows of \p w.
  /// \throws std::invalid_argument if the activation scale is not finite and > 0.
  template <pot_type P>
  output_rescale(const packed_matrix<P>& w, float activation_scale)
      : output_rescale(packed_weights_view<P>(w), activation_scale) {}

  /// \brief Outputs per row (the weight rows N).
  [[nodiscard]] std::size_t outputs() const noexcept { return multipliers_.size(); }
  /// \brief `2^MinExp * scale_w(n) * scale_a`, exact while it stays in double's normal range.
  [[nodiscard]] double multiplier(std::size_t n) const noexcept { return multipliers_[n]; }

  /// \brief The real output of the sum \p acc of column \p n with bias \p bias: the
  /// definition every tile follows, `float(fma(double(acc), multiplier(n), double(bias)))`.
  [[nodiscard]] float operator()(std::int32_t acc, std::size_t n, float bias = 0.0f) const noexcept {
    return static_cast<float>(std::fma(static_cast<double>(acc), multipliers_[n], static_cast<double>(bias)));
  }

  /// \brief Writes `out(m, n) = (*this)(acc(m, n), n, bias[n])` for every row m of the
  /// row-major (M, outputs()) matrices and the columns n of [\p first, \p last); an empty
  /// \p bias adds nothing.
  /// \throws std::invalid_argument on sizes that are not M x outputs(), a bias of other
  ///   than 0 or outputs() values, or columns beyond outputs()
  void operator()(std::span<const std::int32_t> acc, std::span<const float> bias, std::span<float> out,
                  std::size_t first, std::size_t last) const {
    const std::size_t N = outputs();
    detail::require_output_tile(acc.size(), out.size(), bias.size(), N, first, last);
    simd::dispatch([&](auto isa) { columns(isa, acc.data(), N, acc.size() / N, bias, first, last, out.data() + first, N); });
  }

  /// \brief The same for every column.
  /// \throws std::invalid_argument as the tile's overload
  void operator()(std::span<const std::int32_t> acc, std::span<const float> bias, std::span<float> out) const {
    (*this)(acc, bias, out, 0, outputs());
  }

 private:
  template <affine_code Q>
  friend class output_requantize;

  // The outputs of columns [first, last) of `rows` rows of sums, `acc_stride` apart from
  // `acc`, written to rows `out_stride` apart from `out`; the sizes are the caller's to
  // check.
  template <class Isa>
  void columns(Isa isa, const std::int32_t* acc, std::size_t acc_stride, std::size_t rows, std::span<const float> bias,
               std::size_t first, std::size_t last, float* out, std::size_t out_stride) const noexcept {
    const float* addends = bias.empty() ? zero_bias_.data() : bias.data();
    simd::rescale_tile(isa, acc + first, acc_stride, multipliers_.data() + first, addends + first, out, out_stride,
                       rows, last - first);
  }

  std::vector<double> multipliers_;
  std::vector<float> zero_bias_;  // the addends without a bias, so every body has one
};

/// \brief Rescale, bias and requantize: the next layer's codes of exact int32 sums,
/// `quantize(rescale(acc, n, bias[n]), params)` (see the file comment).
template <affine_code Q>
class output_requantize {
 public:
  /// \brief The stages \p rescale, then quantization with \p params.
  /// \throws std::invalid_argument as affine_params::validate()
  output_requantize(output_rescale rescale, const affine_params<Q>& params)
      : rescale_(std::move(rescale)), params_(params) {
    params_.validate();
  }

  /// \brief The rescale stage.
  [[nodiscard]] const output_rescale& rescale() const noexcept { return rescale_; }
  /// \brief The output's quantization parameters.
  [[nodiscard]] const affine_params<Q>& params() const noexcept { return params_; }

  /// \brief The code of the sum \p acc of column \p n with bias \p bias.
  [[nodiscard]] Q operator()(std::int32_t acc, std::size_t n, float bias = 0.0f) const noexcept {
    return quantize(rescale_(acc, n, bias), params_);
  }

  /// \brief Writes `out(m, n) = (*this)(acc(m, n), n, bias[n])` for every row m and the
  /// columns n of [\p first, \p last), as output_rescale's tile.
  /// \throws std::invalid_argument as output_rescale's tile
  void operator()(std::span<const std::int32_t> acc, std::span<const float> bias, std::span<Q> out,
                  std::size_t first, std::size_t last) const {
    const std::size_t N = rescale_.outputs();
    detail::require_output_tile(acc.size(), out.size(), bias.size(), N, first, last);
    // The real values of a row's columns in blocks that stay on the stack, each then
    // quantized by the vector quantizer.
    constexpr std::size_t block = 256;
    float values[block];
    simd::dispatch([&](auto isa) {
      for (std::size_t row = 0; row < acc.size(); row += N)
        for (std::size_t n = first; n < last; n += block) {
          const std::size_t count = std::min(block, last - n);
          rescale_.columns(isa, acc.data() + row, N, 1, bias, n, n + count, values, count);
          quantize(std::span<const float>(values, count), params_, out.subspan(row + n, count));
        }
    });
  }

  /// \brief The same for every column.
  /// \throws std::invalid_argument as the tile's overload
  void operator()(std::span<const std::int32_t> acc, std::span<const float> bias, std::span<Q> out) const {
    (*this)(acc, bias, out, 0, rescale_.outputs());
  }

 private:
  output_rescale rescale_;
  affine_params<Q> params_;
};

}  // namespace pot::linalg
