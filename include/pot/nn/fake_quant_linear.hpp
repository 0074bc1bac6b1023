/// \file
/// \brief The quantization-aware Linear: PoT weights and affine activations fake-quantized
/// in float (quantize, then dequantize), with observers for the activations, the
/// straight-through estimators for the gradients, and LSQ's learnable weight scales.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <vector>

#include "pot/core/traits.hpp"
#include "pot/linalg/execution.hpp"
#include "pot/linalg/parallel_for.hpp"
#include "pot/nn/layer_execution.hpp"
#include "pot/nn/linear.hpp"
#include "pot/nn/matmul.hpp"
#include "pot/quant/affine/fake_quantizer.hpp"
#include "pot/quant/affine/params.hpp"
#include "pot/quant/pot_fake_quant.hpp"
#include "pot/quant/pot_quantizer.hpp"
#include "pot/quant/ste.hpp"

namespace pot::nn {

/// \brief How a fake_quant_linear quantizes.
struct fake_quant_options {
  /// \brief One weight scale for the matrix, or one per output row.
  scale_granularity granularity = scale_granularity::per_tensor;
  /// \brief The weight gradient: identity, clipped (masked where the weight's exponent
  /// left the range) or learnable_scale (clipped, and LSQ learns the scales).
  ste_estimator estimator = ste_estimator::identity;
  /// \brief Whether the input is fake-quantized too (false: weights only).
  bool quantize_input = true;
};

/// \brief A Linear whose weight is fake-quantized to the pot type `P` and whose input to
/// affine codes of `Q`, as the paper's (and pot.py's) quantization-aware training does.
///
/// forward(): the weight scales are the max rule `max|w| / 2^MaxExp` of the master weight
/// at every call (pot.py recomputes them in each forward), or, with the learnable_scale
/// estimator, start from it and are learned (scales() and scale_gradients(), for an
/// optimizer such as nn::adam_update); the weight is fake-quantized into this object (with
/// its mask) and the input in place by the input quantizer (observing or frozen, see
/// affine_fake_quantizer), and the product is the float GEMM's. backward(): the float
/// gradients of that product, then the estimators through the quant layer's own backward
/// (fake_quantize_backward): the input gradient masked where the code was clamped
/// (PyTorch's rule), the weight gradient by the options' estimator, after LSQ's scale
/// gradient is taken from it.
template <pot_type P, affine_code Q>
class fake_quant_linear final : public linear<float> {
 public:
  /// \brief A Linear quantized by \p options, whose input goes through \p input (an
  /// observer that has seen nothing, or fixed parameters).
  explicit fake_quant_linear(const fake_quant_options& options,
                             affine_fake_quantizer<Q> input = affine_fake_quantizer<Q>())
      : options_(options), input_(std::move(input)) {}

  /// \brief The options given at construction.
  [[nodiscard]] const fake_quant_options& options() const noexcept { return options_; }
  /// \brief The input's quantizer (its observer, its parameters).
  [[nodiscard]] affine_fake_quantizer<Q>& input_quantizer() noexcept { return input_; }
  /// \brief The input's quantizer.
  [[nodiscard]] const affine_fake_quantizer<Q>& input_quantizer() const noexcept { return input_; }

  /// \brief The weight scales of the last forward() (1 or one per row; empty before it),
  /// which an optimizer may change when the estimator is learnable_scale.
  [[nodiscard]] std::span<float> scales() noexcept { return scales_; }
  /// \brief d loss / d scale of the last backward(), LSQ's gradient scale included (zero
  /// unless the estimator is learnable_scale).
  [[nodiscard]] std::span<const double> scale_gradients() const noexcept { return scale_gradients_; }
  /// \brief The fake-quantized weight of the last forward(), which its product used.
  [[nodiscard]] std::span<const float> quantized_weight() const noexcept { return weight_; }

  /// \brief Fake-quantizes the weight and, in place, the input, then multiplies.
  /// \throws std::invalid_argument for a weight the max rule cannot scale (NaN, inf), or
  ///   as the input quantizer does
  void forward(float* out, float* input, const linear_parameters<float>& p, std::size_t rows,
               linalg::execution exec) override {
    const std::size_t OC = p.out_features, C = p.in_features;
    const std::span<const float> master(p.weight, OC * C);
    const bool learned = options_.estimator == ste_estimator::learnable_scale;
    if (!learned || scales_.empty()) {
      scales_ = pot_scales<P>(master, OC, C, options_.granularity, scale_rule::max_abs);
      scale_gradients_.assign(scales_.size(), 0.0);
    }
    weight_.resize(OC * C);
    weight_mask_.resize(OC * C);
    // Row by row, each with its scale: a row's values are the same on any thread.
    linalg::parallel_for(0, OC, [&](std::size_t first, std::size_t last) {
      for (std::size_t r = first; r < last; ++r)
        fake_quantize_pot_forward<P>(master.subspan(r * C, C), scales_[scales_.size() == 1 ? 0 : r],
                                     std::span<float>(weight_).subspan(r * C, C),
                                     std::span<std::uint8_t>(weight_mask_).subspan(r * C, C));
    }, layer_execution<float>(exec, OC * C));
    if (options_.quantize_input) {
      input_mask_.resize(rows * C);
      input_.forward(std::span<float>(input, rows * C), input_mask_);
    }
    matmul_forward(out, input, weight_.data(), p.bias, 1, rows, C, OC, exec);
  }

  /// \brief The float gradients at the fake-quantized weight and input, through the
  /// straight-through estimators (see the class comment).
  void backward(float* dinput, const linear_gradients<float>& g, const float* dout, const float* input,
                const linear_parameters<float>& p, std::size_t rows, linalg::execution exec) override {
    const std::size_t OC = p.out_features, C = p.in_features;
    if (weight_.size() != OC * C) throw std::logic_error("pot: fake_quant_linear::backward needs a forward() first");
    matmul_backward(dinput, g.weight, g.bias, dout, input, weight_.data(), 1, rows, C, OC, exec,
                    input_gradient::overwrite);
    const std::span<float> dweight(g.weight, OC * C);
    if (options_.estimator == ste_estimator::learnable_scale) {
      const std::size_t per_scale = scales_.size() == 1 ? OC * C : C;
      const double factor = lsq_gradient_scale(per_scale, std::ldexp(1.0, P::max_exponent));
      for (std::size_t s = 0; s < scales_.size(); ++s)
        scale_gradients_[s] = fake_quantize_pot_scale_gradient<P>(
            std::span<const float>(dweight).subspan(s * per_scale, per_scale),
            std::span<const float>(p.weight + s * per_scale, per_scale), scales_[s], factor);
    }
    fake_quantize_backward(dweight, weight_mask_, options_.estimator);
    if (options_.quantize_input)
      affine_fake_quantizer<Q>::backward(std::span<float>(dinput, rows * C),
                                         std::span<const std::uint8_t>(input_mask_).first(rows * C));
  }

 private:
  fake_quant_options options_;
  affine_fake_quantizer<Q> input_;
  std::vector<float> scales_;               // 1 or OC
  std::vector<double> scale_gradients_;     // LSQ, as scales_
  std::vector<float> weight_;               // (OC, C) fake-quantized weight of the last forward
  std::vector<std::uint8_t> weight_mask_;   // (OC, C) exponent in range
  std::vector<std::uint8_t> input_mask_;    // (rows, C) code in range before clamping
};

}  // namespace pot::nn
