/// \file
/// \brief One GPT-2 transformer block (pre-layernorm attention and MLP, each with a residual):
/// forward and backward over the layers of this folder.
#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>

#include "pot/linalg/execution.hpp"
#include "pot/nn/attention.hpp"
#include "pot/nn/gelu.hpp"
#include "pot/nn/layernorm.hpp"
#include "pot/nn/matmul.hpp"
#include "pot/nn/residual.hpp"

namespace pot::nn {

/// \brief Sizes of a transformer block's activations: batch, sequence, channels, heads.
struct block_shape {
  std::size_t B;   ///< \brief Batch size.
  std::size_t T;   ///< \brief Sequence length.
  std::size_t C;   ///< \brief Channels (embedding width); a multiple of NH.
  std::size_t NH;  ///< \brief Attention heads.
};

/// \brief The twelve parameter tensors of one block, in GPT-2's (Hugging Face) order.
/// \tparam Pointee `const Scalar` for parameters that are read, `Scalar` for gradients.
template <class Pointee>
struct block_tensors {
  Pointee* ln1_weight;        ///< \brief (C)
  Pointee* ln1_bias;          ///< \brief (C)
  Pointee* qkv_weight;        ///< \brief (3C, C), attn.c_attn
  Pointee* qkv_bias;          ///< \brief (3C)
  Pointee* attn_proj_weight;  ///< \brief (C, C), attn.c_proj
  Pointee* attn_proj_bias;    ///< \brief (C)
  Pointee* ln2_weight;        ///< \brief (C)
  Pointee* ln2_bias;          ///< \brief (C)
  Pointee* fc_weight;         ///< \brief (4C, C), mlp.c_fc
  Pointee* fc_bias;           ///< \brief (4C)
  Pointee* fc_proj_weight;    ///< \brief (C, 4C), mlp.c_proj
  Pointee* fc_proj_bias;      ///< \brief (C)
};

/// \brief Number of parameters of one block with C channels: 12 C^2 + 13 C.
constexpr std::size_t block_parameter_count(std::size_t C) noexcept { return 12 * C * C + 13 * C; }

/// \brief Views one contiguous buffer of block_parameter_count(C) values as the twelve
/// tensors, laid out one after the other in block_tensors' order.
template <class Pointee>
block_tensors<Pointee> block_tensors_in(Pointee* base, std::size_t C) {
  block_tensors<Pointee> tensors{};
  Pointee* next = base;
  const auto take = [&next](std::size_t count) {
    Pointee* tensor = next;
    next += count;
    return tensor;
  };
  tensors.ln1_weight = take(C);
  tensors.ln1_bias = take(C);
  tensors.qkv_weight = take(3 * C * C);
  tensors.qkv_bias = take(3 * C);
  tensors.attn_proj_weight = take(C * C);
  tensors.attn_proj_bias = take(C);
  tensors.ln2_weight = take(C);
  tensors.ln2_bias = take(C);
  tensors.fc_weight = take(4 * C * C);
  tensors.fc_bias = take(4 * C);
  tensors.fc_proj_weight = take(4 * C * C);
  tensors.fc_proj_bias = take(C);
  return tensors;
}

/// \brief A transformer block of fixed shape with the activations its backward pass needs:
/// `x1 = x + attn_proj(attention(qkv(ln1(x))))`, `out = x1 + fc_proj(gelu(fc(ln2(x1))))`.
///
/// The object owns the cached activations and the scratch gradients, so repeated
/// forward/backward calls allocate nothing. backward() uses the caches of the last
/// forward(), which must have had the same input and parameters.
template <class Scalar>
class transformer_block {
 public:
  /// \brief The parameters a block reads.
  using parameters = block_tensors<const Scalar>;
  /// \brief The gradient buffers a block accumulates into.
  using gradients = block_tensors<Scalar>;

  /// \brief Allocates the activations for `shape`.
  /// \throws std::invalid_argument if NH is 0 or does not divide C.
  explicit transformer_block(block_shape shape) : shape_(shape) {
    check_attention_heads(shape.C, shape.NH);
    const std::size_t rows = shape.B * shape.T;
    const std::size_t C = shape.C;
    for (std::vector<Scalar>* buffer : {&ln1_, &atty_, &attn_proj_, &residual1_, &ln2_, &fc_proj_,
                                        &dln1_, &datty_, &dattn_proj_, &dresidual1_, &dln2_,
                                        &dfc_proj_})
      buffer->resize(rows * C);
    for (std::vector<Scalar>* buffer : {&ln1_mean_, &ln1_rstd_, &ln2_mean_, &ln2_rstd_})
      buffer->resize(rows);
    qkv_.resize(rows * 3 * C);
    dqkv_.resize(rows * 3 * C);
    for (std::vector<Scalar>* buffer : {&fc_, &fc_gelu_, &dfc_, &dfc_gelu_}) buffer->resize(rows * 4 * C);
    att_.resize(shape.B * shape.NH * shape.T * shape.T);
  }

  /// \brief The shape given at construction.
  const block_shape& shape() const noexcept { return shape_; }

  /// \brief Forward pass, caching what backward() needs.
  /// \param out (B, T, C)
  /// \param inp (B, T, C)
  /// \param p the block's parameters
  /// \param exec threads for the GEMMs
  void forward(Scalar* out, const Scalar* inp, const parameters& p, linalg::execution exec = {}) {
    const auto [B, T, C, NH] = shape_;
    const std::size_t N = B * T * C;
    layernorm_forward(ln1_.data(), ln1_mean_.data(), ln1_rstd_.data(), inp, p.ln1_weight,
                      p.ln1_bias, B, T, C);
    matmul_forward(qkv_.data(), ln1_.data(), p.qkv_weight, p.qkv_bias, B, T, C, 3 * C, exec);
    attention_forward(atty_.data(), att_.data(), qkv_.data(), B, T, C, NH, exec);
    matmul_forward(attn_proj_.data(), atty_.data(), p.attn_proj_weight, p.attn_proj_bias, B, T, C,
                   C, exec);
    residual_forward(residual1_.data(), inp, attn_proj_.data(), N);
    layernorm_forward(ln2_.data(), ln2_mean_.data(), ln2_rstd_.data(), residual1_.data(),
                      p.ln2_weight, p.ln2_bias, B, T, C);
    matmul_forward(fc_.data(), ln2_.data(), p.fc_weight, p.fc_bias, B, T, C, 4 * C, exec);
    gelu_forward(fc_gelu_.data(), fc_.data(), 4 * N);
    matmul_forward(fc_proj_.data(), fc_gelu_.data(), p.fc_proj_weight, p.fc_proj_bias, B, T, 4 * C,
                   C, exec);
    residual_forward(out, residual1_.data(), fc_proj_.data(), N);
  }

  /// \brief Backward pass of the last forward(); accumulates into `dinp` and `grads`.
  /// \param dinp (B, T, C) accumulated with +=
  /// \param grads every tensor accumulated with +=
  /// \param dout (B, T, C)
  /// \param inp  (B, T, C) the input of the last forward()
  /// \param p the block's parameters
  /// \param exec threads for the GEMMs
  void backward(Scalar* dinp, const gradients& grads, const Scalar* dout, const Scalar* inp,
                const parameters& p, linalg::execution exec = {}) {
    const auto [B, T, C, NH] = shape_;
    const std::size_t N = B * T * C;
    for (std::vector<Scalar>* buffer : {&dln1_, &dqkv_, &datty_, &dattn_proj_, &dresidual1_, &dln2_,
                                        &dfc_, &dfc_gelu_, &dfc_proj_})
      std::fill(buffer->begin(), buffer->end(), Scalar(0));
    residual_backward(dresidual1_.data(), dfc_proj_.data(), dout, N);
    matmul_backward(dfc_gelu_.data(), grads.fc_proj_weight, grads.fc_proj_bias, dfc_proj_.data(),
                    fc_gelu_.data(), p.fc_proj_weight, B, T, 4 * C, C, exec);
    gelu_backward(dfc_.data(), fc_.data(), dfc_gelu_.data(), 4 * N);
    matmul_backward(dln2_.data(), grads.fc_weight, grads.fc_bias, dfc_.data(), ln2_.data(),
                    p.fc_weight, B, T, C, 4 * C, exec);
    layernorm_backward(dresidual1_.data(), grads.ln2_weight, grads.ln2_bias, dln2_.data(),
                       residual1_.data(), p.ln2_weight, ln2_mean_.data(), ln2_rstd_.data(), B, T, C,
                       exec);
    residual_backward(dinp, dattn_proj_.data(), dresidual1_.data(), N);
    matmul_backward(datty_.data(), grads.attn_proj_weight, grads.attn_proj_bias, dattn_proj_.data(),
                    atty_.data(), p.attn_proj_weight, B, T, C, C, exec);
    attention_backward(dqkv_.data(), datty_.data(), qkv_.data(), att_.data(), B, T, C, NH, exec);
    matmul_backward(dln1_.data(), grads.qkv_weight, grads.qkv_bias, dqkv_.data(), ln1_.data(),
                    p.qkv_weight, B, T, C, 3 * C, exec);
    layernorm_backward(dinp, grads.ln1_weight, grads.ln1_bias, dln1_.data(), inp, p.ln1_weight,
                       ln1_mean_.data(), ln1_rstd_.data(), B, T, C, exec);
  }

 private:
  block_shape shape_;
  // Activations cached by forward().
  std::vector<Scalar> ln1_, ln1_mean_, ln1_rstd_;  // (B, T, C), (B, T), (B, T)
  std::vector<Scalar> qkv_;                        // (B, T, 3C)
  std::vector<Scalar> att_;                        // (B, NH, T, T)
  std::vector<Scalar> atty_, attn_proj_, residual1_;  // (B, T, C) each
  std::vector<Scalar> ln2_, ln2_mean_, ln2_rstd_;  // (B, T, C), (B, T), (B, T)
  std::vector<Scalar> fc_, fc_gelu_;               // (B, T, 4C) each
  std::vector<Scalar> fc_proj_;                    // (B, T, C)
  // Gradients of the activations, reset by each backward().
  std::vector<Scalar> dln1_, dqkv_, datty_, dattn_proj_, dresidual1_, dln2_;  // as above
  std::vector<Scalar> dfc_, dfc_gelu_, dfc_proj_;
};

}  // namespace pot::nn
