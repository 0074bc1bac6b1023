/// \file
/// \brief The integer Linear: inputs quantized to 8-bit affine codes, multiplied exactly
/// in int32 by packed PoT weights (linalg/pot_matmul.hpp chooses GEMV or GEMM by shape),
/// and the sums turned into float outputs by the fused output stages of
/// linalg/epilogue.hpp, one rounding decided there. Inference only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <vector>

#include "pot/core/traits.hpp"
#include "pot/linalg/epilogue.hpp"
#include "pot/linalg/execution.hpp"
#include "pot/linalg/parallel_for.hpp"
#include "pot/linalg/pot_gemv.hpp"
#include "pot/linalg/pot_matmul.hpp"
#include "pot/linalg/pot_weights.hpp"
#include "pot/nn/layer_execution.hpp"
#include "pot/nn/linear.hpp"
#include "pot/quant/affine/params.hpp"
#include "pot/quant/affine/quantize.hpp"

namespace pot::nn {

/// \brief A Linear over packed weights of the pot type `P` with activations of `Q`
/// (uint8_t or int8_t): `out = rescale(sum_k (q_k - zp) * 2^(e_k - MinExp)) + bias`.
///
/// forward() quantizes each input row with the frozen activation parameters (the span
/// quantize of quant/affine/quantize.hpp, over the rows on the threads), multiplies by
/// the packed weights exactly through pot_matmul(), and applies output_rescale to every
/// finished block of columns with the bias of the parameters it is given: `out =
/// float(fma(acc, 2^MinExp * scale_w * scale_a, bias))`. The weight in the parameters is
/// not read: the packed weights replace it. Every value is computed the same way by any
/// thread, so the output does not depend on the thread count.
template <pot_type P, affine_code Q>
class integer_linear final : public linear<float> {
 public:
  /// \brief A Linear over \p weights (which must outlive it) for inputs quantized with
  /// \p input, the products computed by \p kernel.
  /// \throws std::invalid_argument for invalid activation parameters, or a zero point
  ///   that the integer kernels do not take
  integer_linear(linalg::packed_weights_view<P> weights, const affine_params<Q>& input,
                 linalg::pot_kernel kernel = linalg::pot_kernel::table)
      : weights_(weights), input_((input.validate(), input)), kernel_(kernel), rescale_(weights, input.scale) {
    linalg::require_activation_zero_point<Q>(input.zero_point);
  }

  /// \brief The activation parameters the inputs are quantized with.
  [[nodiscard]] const affine_params<Q>& input_params() const noexcept { return input_; }
  /// \brief The output stage (its multipliers).
  [[nodiscard]] const linalg::output_rescale& rescale() const noexcept { return rescale_; }

  /// \brief `out (rows, OC)` from `input (rows, C)` through the integer path.
  /// \throws std::invalid_argument if the parameters' shape is not the packed weights'
  void forward(float* out, float* input, const linear_parameters<float>& p, std::size_t rows,
               linalg::execution exec) override {
    const std::size_t C = weights_.cols, OC = weights_.rows;
    detail::require_linear_shape(p, C, OC, "an integer_linear");
    codes_.resize(rows * C);
    linalg::parallel_for(0, rows, [&](std::size_t first, std::size_t last) {
      quantize(std::span<const float>(input + first * C, (last - first) * C), input_,
               std::span<Q>(codes_).subspan(first * C, (last - first) * C));
    }, layer_execution<float>(exec, rows * C));
    sums_.resize(rows * OC);
    const std::span<const float> bias = p.bias == nullptr ? std::span<const float>() : std::span(p.bias, OC);
    const std::span<float> outputs(out, rows * OC);
    linalg::pot_matmul<P, Q>(weights_, codes_, rows, input_.zero_point, sums_, [&](std::size_t first, std::size_t last) {
      rescale_(sums_, bias, outputs, first, last);
    }, kernel_, exec);
  }

  /// \brief Not available: integer inference has no gradient.
  /// \throws std::logic_error always
  void backward(float*, const linear_gradients<float>&, const float*, const float*, const linear_parameters<float>&,
                std::size_t, linalg::execution) override {
    throw std::logic_error("pot: an integer_linear is for inference: it has no backward pass");
  }

 private:
  linalg::packed_weights_view<P> weights_;
  affine_params<Q> input_;
  linalg::pot_kernel kernel_;
  linalg::output_rescale rescale_;
  std::vector<Q> codes_;              // (rows, C) the quantized input
  std::vector<std::int32_t> sums_;    // (rows, OC) the exact products
};

}  // namespace pot::nn
