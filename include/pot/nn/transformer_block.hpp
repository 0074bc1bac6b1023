/// \file
/// \brief One GPT-2 transformer block (pre-layernorm attention and MLP, each with a residual):
/// forward, backward and the decoder's cached forward over the layers of this folder,
/// its four Linears behind the Linear seam (nn/linear.hpp).
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

#include "pot/linalg/execution.hpp"
#include "pot/linalg/parallel_for.hpp"
#include "pot/nn/attention.hpp"
#include "pot/nn/gelu.hpp"
#include "pot/nn/kv_cache.hpp"
#include "pot/nn/layer_execution.hpp"
#include "pot/nn/layernorm.hpp"
#include "pot/nn/linear.hpp"
#include "pot/nn/residual.hpp"

namespace pot::nn {

/// \brief Sizes of a transformer block's activations: batch, sequence, channels, heads
/// (for a block, the largest batch it holds activations for).
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

/// \brief The four Linears of a block, in the order of their parameters.
enum class block_linear : std::size_t {
  attention_qkv,         ///< \brief attn.c_attn, (3C, C)
  attention_projection,  ///< \brief attn.c_proj, (C, C)
  mlp_expand,            ///< \brief mlp.c_fc, (4C, C)
  mlp_project,           ///< \brief mlp.c_proj, (C, 4C)
};

/// \brief Number of block_linear values.
inline constexpr std::size_t block_linear_count = 4;

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

/// \brief A GPT-2 transformer block with the activations its backward pass needs:
/// `x1 = x + attn_proj(attention(qkv(ln1(x))))`, `out = x1 + fc_proj(gelu(fc(ln2(x1))))`.
///
/// The object owns the activations of the largest batch given at construction, so
/// repeated passes allocate nothing; a pass may run fewer sequences or positions.
/// backward() uses the activations of the last forward(), which must have had the same
/// input and parameters. Each of the four Linears runs through a linear<Scalar> (the
/// float one unless set_linear() installs another: quantization-aware or integer).
/// Every layer runs on the execution's threads, each split so that results do not depend
/// on the thread count.
template <class Scalar>
class transformer_block {
 public:
  /// \brief The parameters a block reads.
  using parameters = block_tensors<const Scalar>;
  /// \brief The gradient buffers a block accumulates into.
  using gradients = block_tensors<Scalar>;

  /// \brief The activation gradients a backward pass works in, for blocks of one
  /// shape: the blocks of a model run backward one after the other, so one scratch serves
  /// them all.
  class scratch {
   public:
    /// \brief Scratch for blocks of \p capacity.
    explicit scratch(block_shape capacity) {
      const std::size_t rows = capacity.B * capacity.T, C = capacity.C;
      dln_.resize(rows * C);
      dqkv_.resize(rows * 3 * C);
      dattention_.resize(rows * C);
      dfc_.resize(rows * 4 * C);
      dfc_gelu_.resize(rows * 4 * C);
    }

    /// \brief Values a scratch for \p capacity holds (computed in `Size`, e.g. an
    /// overflow-checked integer, before anything is allocated).
    template <class Size = std::size_t>
    static Size values(Size B, Size T, Size C) {
      return B * T * C * 13;
    }

   private:
    friend class transformer_block;
    std::vector<Scalar> dln_, dqkv_, dattention_, dfc_, dfc_gelu_;  // (rows, C), (rows, 3C), (rows, C), (rows, 4C) x 2
  };

  /// \brief Values of the activations a block of this capacity holds (computed in
  /// `Size`, e.g. an overflow-checked integer, before anything is allocated).
  template <class Size = std::size_t>
  static Size activation_values(Size B, Size T, Size C, Size NH) {
    const Size rows = B * T;
    return rows * C * 17 + rows * 4 + B * NH * T * T;
  }

  /// \brief Allocates the activations of batches up to \p capacity.
  /// \throws std::invalid_argument if NH is 0 or does not divide C.
  explicit transformer_block(block_shape capacity) : capacity_(capacity) {
    check_attention_heads(capacity.C, capacity.NH);
    const std::size_t rows = capacity.B * capacity.T, C = capacity.C;
    for (std::vector<Scalar>* buffer : {&ln1_, &attention_, &attn_proj_, &residual2_, &ln2_, &fc_proj_})
      buffer->resize(rows * C);
    for (std::vector<Scalar>* buffer : {&ln1_mean_, &ln1_rstd_, &ln2_mean_, &ln2_rstd_}) buffer->resize(rows);
    qkv_.resize(rows * 3 * C);
    fc_.resize(rows * 4 * C);
    fc_gelu_.resize(rows * 4 * C);
    probs_.resize(capacity.B * capacity.NH * capacity.T * capacity.T);
    linears_.fill(&float_linear_);
  }

  /// \brief A block's activations point into the block itself: it is neither copied nor
  /// moved (a model keeps its blocks in a std::deque or behind pointers).
  transformer_block(const transformer_block&) = delete;
  /// \brief Not assignable (see the copy constructor).
  transformer_block& operator=(const transformer_block&) = delete;

  /// \brief The shape given at construction: the largest batch.
  [[nodiscard]] const block_shape& capacity() const noexcept { return capacity_; }

  /// \brief Runs the Linear \p which through \p layer (not owned; it must outlive its
  /// use), or through the float Linear when \p layer is nullptr.
  void set_linear(block_linear which, linear<Scalar>* layer) noexcept {
    linears_[static_cast<std::size_t>(which)] = layer == nullptr ? &float_linear_ : layer;
  }

  /// \brief The Linear that computes \p which.
  [[nodiscard]] linear<Scalar>& linear_of(block_linear which) const noexcept {
    return *linears_[static_cast<std::size_t>(which)];
  }

  /// \brief Forward pass over \p B sequences of \p T positions, keeping what backward() needs.
  /// \param out (B, T, C)
  /// \param inp (B, T, C)
  /// \param B batch size, at most capacity().B
  /// \param T sequence length, at most capacity().T
  /// \param p the block's parameters
  /// \param exec threads for every layer
  /// \throws std::invalid_argument if B or T is 0 or exceeds the capacity
  void forward(Scalar* out, const Scalar* inp, std::size_t B, std::size_t T, const parameters& p,
               linalg::execution exec = {}) {
    require_batch(B, T, "forward");
    run(out, inp, B, T, p, nullptr, exec);
    last_B_ = B;
    last_T_ = T;
  }

  /// \brief Forward pass of \p T new positions of each of the cache's sequences, after
  /// the positions \p cache holds, appending theirs (a decoder's prefill, then steps of
  /// one token). No backward() follows it.
  /// \param out (B, T, C) with B = cache.batch()
  /// \param inp (B, T, C)
  /// \param T new positions per sequence, at most capacity().T
  /// \param p the block's parameters
  /// \param cache the keys and values of this block's attention
  /// \param exec threads for every layer
  /// \throws std::invalid_argument if the batch or T exceed the capacity, or the cache's
  ///   channels or heads are not the block's; std::length_error as attention_forward_cached()
  void forward_cached(Scalar* out, const Scalar* inp, std::size_t T, const parameters& p, kv_cache<Scalar>& cache,
                      linalg::execution exec = {}) {
    require_batch(cache.batch(), T, "forward_cached");
    if (cache.channels() != capacity_.C || cache.heads() != capacity_.NH)
      throw std::invalid_argument("pot: transformer_block::forward_cached got a cache of " +
                                  std::to_string(cache.channels()) + " channels in " + std::to_string(cache.heads()) +
                                  " heads for a block of " + std::to_string(capacity_.C) + " in " +
                                  std::to_string(capacity_.NH));
    last_B_ = 0;  // the activations are no forward() of a whole sequence any more
    run(out, inp, cache.batch(), T, p, &cache, exec);
  }

  /// \brief Backward pass of the last forward().
  /// \param dresidual (B, T, C) in: the gradient of the block's output; out: that of its
  ///   input (the residual connections pass it through, each branch adds to it in place)
  /// \param grads every tensor accumulated with += (each Linear's weight gradient must be
  ///   zero before: see nn/linear.hpp)
  /// \param inp (B, T, C) the input of the last forward()
  /// \param p the block's parameters
  /// \param work scratch for the activation gradients, of this block's capacity at least
  /// \param exec threads for every layer
  /// \throws std::logic_error without a forward() before it; std::invalid_argument for a
  ///   scratch smaller than the last forward()'s batch
  void backward(Scalar* dresidual, const gradients& grads, const Scalar* inp, const parameters& p, scratch& work,
                linalg::execution exec = {}) {
    if (last_B_ == 0) throw std::logic_error("pot: transformer_block::backward needs a forward() first");
    const std::size_t B = last_B_, T = last_T_, C = capacity_.C, NH = capacity_.NH;
    const std::size_t rows = B * T;
    if (work.dqkv_.size() < rows * 3 * C)
      throw std::invalid_argument("pot: transformer_block::backward got a scratch smaller than its batch");
    Scalar* dln = work.dln_.data();
    Scalar* dqkv = work.dqkv_.data();
    Scalar* dattention = work.dattention_.data();
    Scalar* dfc = work.dfc_.data();
    Scalar* dfc_gelu = work.dfc_gelu_.data();
    linear_of(block_linear::mlp_project)
        .backward(dfc_gelu, {grads.fc_proj_weight, grads.fc_proj_bias}, dresidual, fc_gelu_.data(),
                  {p.fc_proj_weight, p.fc_proj_bias, 4 * C, C}, rows, exec);
    const std::size_t N4 = rows * 4 * C;
    linalg::parallel_for(0, N4, [&](std::size_t first, std::size_t last) {
      std::fill(dfc + first, dfc + last, Scalar(0));  // gelu_backward accumulates
      gelu_backward(dfc + first, fc_.data() + first, dfc_gelu + first, last - first, linalg::execution{1});
    }, layer_execution<Scalar>(exec, N4));
    linear_of(block_linear::mlp_expand)
        .backward(dln, {grads.fc_weight, grads.fc_bias}, dfc, ln2_.data(), {p.fc_weight, p.fc_bias, C, 4 * C}, rows,
                  exec);
    layernorm_backward(dresidual, grads.ln2_weight, grads.ln2_bias, dln, residual2_.data(), p.ln2_weight,
                       ln2_mean_.data(), ln2_rstd_.data(), 1, rows, C, exec);
    linear_of(block_linear::attention_projection)
        .backward(dattention, {grads.attn_proj_weight, grads.attn_proj_bias}, dresidual, attention_.data(),
                  {p.attn_proj_weight, p.attn_proj_bias, C, C}, rows, exec);
    linalg::parallel_for(0, rows * 3 * C, [&](std::size_t first, std::size_t last) {
      std::fill(dqkv + first, dqkv + last, Scalar(0));  // attention_backward accumulates
    }, layer_execution<Scalar>(exec, rows * 3 * C));
    attention_backward(dqkv, dattention, qkv_.data(), probs_.data(), B, T, C, NH, exec);
    linear_of(block_linear::attention_qkv)
        .backward(dln, {grads.qkv_weight, grads.qkv_bias}, dqkv, ln1_.data(), {p.qkv_weight, p.qkv_bias, C, 3 * C},
                  rows, exec);
    layernorm_backward(dresidual, grads.ln1_weight, grads.ln1_bias, dln, inp, p.ln1_weight, ln1_mean_.data(),
                       ln1_rstd_.data(), 1, rows, C, exec);
  }

 private:
  void require_batch(std::size_t B, std::size_t T, const char* pass) const {
    if (B == 0 || T == 0 || B > capacity_.B || T > capacity_.T)
      throw std::invalid_argument(std::string("pot: transformer_block::") + pass + " got a (" + std::to_string(B) +
                                  ", " + std::to_string(T) + ") batch; the block holds up to (" +
                                  std::to_string(capacity_.B) + ", " + std::to_string(capacity_.T) + ")");
  }

  // The forward pass; through the cache's attention when there is one.
  void run(Scalar* out, const Scalar* inp, std::size_t B, std::size_t T, const parameters& p, kv_cache<Scalar>* cache,
           linalg::execution exec) {
    const std::size_t C = capacity_.C, NH = capacity_.NH;
    const std::size_t rows = B * T;
    layernorm_forward(ln1_.data(), ln1_mean_.data(), ln1_rstd_.data(), inp, p.ln1_weight, p.ln1_bias, 1, rows, C,
                      exec);
    linear_of(block_linear::attention_qkv)
        .forward(qkv_.data(), ln1_.data(), {p.qkv_weight, p.qkv_bias, C, 3 * C}, rows, exec);
    if (cache != nullptr)
      attention_forward_cached(attention_.data(), qkv_.data(), T, *cache, exec);
    else
      attention_forward(attention_.data(), probs_.data(), qkv_.data(), B, T, C, NH, exec);
    linear_of(block_linear::attention_projection)
        .forward(attn_proj_.data(), attention_.data(), {p.attn_proj_weight, p.attn_proj_bias, C, C}, rows, exec);
    residual_forward(residual2_.data(), inp, attn_proj_.data(), rows * C, exec);
    layernorm_forward(ln2_.data(), ln2_mean_.data(), ln2_rstd_.data(), residual2_.data(), p.ln2_weight, p.ln2_bias, 1,
                      rows, C, exec);
    linear_of(block_linear::mlp_expand).forward(fc_.data(), ln2_.data(), {p.fc_weight, p.fc_bias, C, 4 * C}, rows, exec);
    gelu_forward(fc_gelu_.data(), fc_.data(), rows * 4 * C, exec);
    linear_of(block_linear::mlp_project)
        .forward(fc_proj_.data(), fc_gelu_.data(), {p.fc_proj_weight, p.fc_proj_bias, 4 * C, C}, rows, exec);
    residual_forward(out, residual2_.data(), fc_proj_.data(), rows * C, exec);
  }

  block_shape capacity_;
  float_linear<Scalar> float_linear_;
  std::array<linear<Scalar>*, block_linear_count> linears_{};
  std::size_t last_B_ = 0, last_T_ = 0;  // the batch of the last forward(); 0: none to go back through
  // Activations of the last forward(), for the largest batch; a smaller one uses the first rows.
  std::vector<Scalar> ln1_, ln1_mean_, ln1_rstd_;  // (B, T, C), (B, T), (B, T)
  std::vector<Scalar> qkv_;                        // (B, T, 3C)
  std::vector<Scalar> attention_;                  // (B, T, C) attention output, attn.c_proj's input
  std::vector<Scalar> probs_;                      // (B, NH, T, T)
  std::vector<Scalar> attn_proj_, residual2_;      // (B, T, C) each
  std::vector<Scalar> ln2_, ln2_mean_, ln2_rstd_;  // (B, T, C), (B, T), (B, T)
  std::vector<Scalar> fc_, fc_gelu_;               // (B, T, 4C) each
  std::vector<Scalar> fc_proj_;                    // (B, T, C)
};

}  // namespace pot::nn
