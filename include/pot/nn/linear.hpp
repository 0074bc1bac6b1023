/// \file
/// \brief The Linear seam: one interface for what a Linear layer does with its input,
/// its weight, the product and the gradients, so that a model (nn/transformer_block.hpp)
/// runs float, quantization-aware (nn/fake_quant_linear.hpp) or integer
/// (nn/integer_linear.hpp) Linears without knowing which; and float_linear, the plain one.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>

#include "pot/linalg/execution.hpp"
#include "pot/nn/matmul.hpp"

namespace pot::nn {

/// \brief The parameters of one Linear, `out = inp @ weight^T + bias`, as the model
/// holds them (the master copy a Linear may quantize).
template <class Scalar>
struct linear_parameters {
  const Scalar* weight = nullptr;  ///< \brief (out_features, in_features), PyTorch's layout
  const Scalar* bias = nullptr;    ///< \brief (out_features), or nullptr for no bias
  std::size_t in_features = 0;     ///< \brief C
  std::size_t out_features = 0;    ///< \brief OC
};

/// \brief Where a Linear's backward adds the gradients of its parameters.
template <class Scalar>
struct linear_gradients {
  Scalar* weight = nullptr;  ///< \brief (out_features, in_features)
  Scalar* bias = nullptr;    ///< \brief (out_features), or nullptr when the Linear has no bias
};

/// \brief What a Linear layer computes: the seam through which a model's Linears become
/// quantization-aware or integer.
///
/// The contract every implementation keeps:
/// - forward() writes `out` (rows, OC) from `input` (rows, C) and may rewrite `input` in
///   place into what it multiplied (a fake-quantized copy): the caller gives each Linear
///   an input buffer that no other layer reads afterwards, and the backward pass then
///   reads the same buffer, as the product saw it.
/// - backward() of the last forward() (same input buffer, same parameters) overwrites
///   `dinput` (rows, C) and adds to `gradients`; the weight gradient must hold only this
///   call's contribution on return (zero it before), since a quantization-aware Linear
///   applies its straight-through estimator to it in place.
/// - Implementations may keep state between forward() and backward() (masks, a quantized
///   copy of the weight): one object per Linear of a model.
template <class Scalar>
class linear {
 public:
  virtual ~linear() = default;

  /// \brief `out (rows, OC) = input (rows, C) @ W^T + bias` as this Linear computes it.
  virtual void forward(Scalar* out, Scalar* input, const linear_parameters<Scalar>& parameters, std::size_t rows,
                       linalg::execution exec) = 0;

  /// \brief The gradients of the last forward(): `dinput` (rows, C) overwritten, the
  /// weight and bias gradients added to.
  /// \throws std::logic_error for a Linear without a backward pass (the integer one)
  virtual void backward(Scalar* dinput, const linear_gradients<Scalar>& gradients, const Scalar* dout,
                        const Scalar* input, const linear_parameters<Scalar>& parameters, std::size_t rows,
                        linalg::execution exec) = 0;
};

/// \brief The float Linear: the library GEMM (nn/matmul.hpp) on the master weight.
template <class Scalar>
class float_linear final : public linear<Scalar> {
 public:
  /// \brief matmul_forward().
  void forward(Scalar* out, Scalar* input, const linear_parameters<Scalar>& p, std::size_t rows,
               linalg::execution exec) override {
    matmul_forward(out, input, p.weight, p.bias, 1, rows, p.in_features, p.out_features, exec);
  }

  /// \brief matmul_backward() with the input gradient overwritten.
  void backward(Scalar* dinput, const linear_gradients<Scalar>& g, const Scalar* dout, const Scalar* input,
                const linear_parameters<Scalar>& p, std::size_t rows, linalg::execution exec) override {
    matmul_backward(dinput, g.weight, g.bias, dout, input, p.weight, 1, rows, p.in_features, p.out_features, exec,
                    input_gradient::overwrite);
  }
};

namespace detail {

/// \brief Throws std::invalid_argument unless \p p has the shape a Linear expects.
template <class Scalar>
void require_linear_shape(const linear_parameters<Scalar>& p, std::size_t in_features, std::size_t out_features,
                          const char* what) {
  if (p.in_features != in_features || p.out_features != out_features)
    throw std::invalid_argument(std::string("pot: ") + what + " holds a (" + std::to_string(out_features) + ", " +
                                std::to_string(in_features) + ") weight, the layer's parameters are (" +
                                std::to_string(p.out_features) + ", " + std::to_string(p.in_features) + ")");
}

}  // namespace detail

}  // namespace pot::nn
