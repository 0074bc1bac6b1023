/// \file
/// \brief The GPT-2 model: explicit forward and backward passes over one parameter buffer.
///
/// Token + position embeddings, pre-LayerNorm blocks (causal self-attention, 4x MLP with
/// tanh GELU), final LayerNorm, lm_head tied to wte. Every layer is a pot::nn
/// `*_forward` / `*_backward` pair; there is no autodiff tape. The parameters and their
/// gradients are two buffers in the layout of gpt2_parameters(); the activations live in
/// one arena sized once for the largest (B, T) the model will see.
///
/// The class is a template over the element type: float for training and inference,
/// double for the finite-difference test of the whole backward pass.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "gpt2_checkpoint.hpp"
#include "pot/linalg/execution.hpp"
#include "pot/nn/kv_cache.hpp"
#include "pot/nn/transformer_block.hpp"

namespace gpt2 {

/// \brief The four Linear layers of a block (the ones the paper quantizes).
enum class linear_kind {
  attention_qkv,         ///< h.i.attn.c_attn, (3C, C)
  attention_projection,  ///< h.i.attn.c_proj, (C, C)
  mlp_expand,            ///< h.i.mlp.c_fc, (4C, C)
  mlp_project,           ///< h.i.mlp.c_proj, (C, 4C)
};

/// \brief Number of linear_kind values.
inline constexpr std::size_t linear_kind_count = 4;

/// \brief The Hugging Face module name of a Linear ("attn.c_attn", ...).
std::string_view linear_module_name(linear_kind kind);

/// \brief One Linear of the model: its block and its kind.
struct linear_id {
  std::size_t layer = 0;  ///< block index
  linear_kind kind = linear_kind::attention_qkv;
};

/// \brief Hooks through which quantization-aware training changes what a block's
/// Linear layers compute, without touching the model. The default does nothing.
///
/// In the forward pass each Linear first passes its input (rows, C) to
/// quantize_input (activation fake-quant, in place: nothing else reads that buffer), then
/// multiplies by the weight that weight() returns (e.g. a fake-quantized copy of the
/// master weight). The backward pass multiplies by that same weight pointer, so it must
/// stay valid until the next forward. After a Linear's backward, weight_gradient gets the
/// gradient of the weight actually used (the straight-through estimator passes it to the
/// master weight: edit it in place, e.g. zero it where the weight was clipped) and
/// input_gradient the gradient of its (quantized) input, to mask in place. Both buffers
/// hold this batch's contribution only: backward() clears every gradient first.
template <class Scalar>
class linear_hooks {
 public:
  virtual ~linear_hooks() = default;

  /// \brief The (OC, C) weight the Linear multiplies by; \p master by default.
  virtual const Scalar* weight(linear_id /*id*/, const Scalar* master, std::size_t /*OC*/,
                               std::size_t /*C*/) {
    return master;
  }

  /// \brief Transforms the Linear's input (rows, C) in place before the product.
  virtual void quantize_input(linear_id /*id*/, Scalar* /*input*/, std::size_t /*rows*/,
                              std::size_t /*C*/) {}

  /// \brief Adjusts in place the gradient (OC, C) that reaches the master weight.
  virtual void weight_gradient(linear_id /*id*/, const Scalar* /*master*/, Scalar* /*dweight*/,
                               std::size_t /*OC*/, std::size_t /*C*/) {}

  /// \brief Adjusts in place the gradient (rows, C) of the Linear's input.
  virtual void input_gradient(linear_id /*id*/, Scalar* /*dinput*/, std::size_t /*rows*/,
                              std::size_t /*C*/) {}

  /// \brief Computes the Linear's output (rows, OC) = input (rows, C) W^T + bias itself
  /// (e.g. an integer kernel over packed weights) and returns true, or returns false to
  /// leave it to the float GEMM. Called after quantize_input. Inference only: a
  /// backward() after a replaced product would use the master weight.
  virtual bool replace_product(linear_id /*id*/, Scalar* /*out*/, const Scalar* /*input*/,
                               const Scalar* /*bias*/, std::size_t /*rows*/, std::size_t /*C*/,
                               std::size_t /*OC*/) {
    return false;
  }
};

/// \brief A GPT-2 model with its parameters, gradients and activation arena.
template <class Scalar>
class gpt2_model {
 public:
  /// \brief A model of \p config with all parameters zero, able to run batches of up to
  /// \p max_batch sequences of up to \p max_sequence tokens (<= block_size).
  /// \throws std::invalid_argument for an invalid config or sizes; std::length_error,
  ///   before allocating, if parameters, gradients and activations together would not fit
  ///   in this machine's memory (see require_memory())
  gpt2_model(const gpt2_config& config, std::size_t max_batch, std::size_t max_sequence,
             pot::linalg::execution execution = {});

  /// \brief The sizes.
  [[nodiscard]] const gpt2_config& config() const noexcept { return config_; }

  /// \brief All parameters, in the layout of gpt2_parameters(config()).
  [[nodiscard]] std::span<Scalar> parameters() noexcept { return parameters_; }
  [[nodiscard]] std::span<const Scalar> parameters() const noexcept { return parameters_; }

  /// \brief The gradient of the last backward(), in the parameters' layout.
  [[nodiscard]] std::span<Scalar> gradients() noexcept { return gradients_; }
  [[nodiscard]] std::span<const Scalar> gradients() const noexcept { return gradients_; }

  /// \brief The parameter tensors (names, shapes, offsets) of config().
  [[nodiscard]] const std::vector<parameter_tensor>& parameter_tensors() const noexcept {
    return tensors_;
  }

  /// \brief GPT-2's initialisation as the reference model.py: every Linear weight and
  /// both embeddings N(0, 0.02), the c_proj weights N(0, 0.02 / sqrt(2 n_layer)),
  /// biases 0, LayerNorm weights 1 and biases 0; deterministic for a \p seed.
  void initialize(std::uint64_t seed);

  /// \brief Copies float parameters (e.g. a loaded checkpoint) into the model.
  /// \throws std::invalid_argument if the size disagrees with config()
  void load_parameters(std::span<const float> parameters);

  /// \brief Threads for the kernels.
  void set_execution(pot::linalg::execution execution) noexcept { execution_ = execution; }
  /// \brief The threads forward() and backward() run on.
  [[nodiscard]] pot::linalg::execution execution() const noexcept { return execution_; }

  /// \brief Installs QAT hooks (nullptr: plain float Linears). The model does not own them.
  void set_linear_hooks(linear_hooks<Scalar>* hooks) noexcept { hooks_ = hooks; }

  /// \brief Runs the model on \p inputs (B, T); with \p targets (B, T) also the loss.
  /// \returns the mean cross-entropy over the B*T positions, or 0 without targets
  /// \throws std::invalid_argument if B or T is 0 or exceeds the arena, std::out_of_range
  ///   for a token or target outside the vocabulary
  Scalar forward(std::span<const std::int32_t> inputs, std::span<const std::int32_t> targets,
                 std::size_t B, std::size_t T);

  /// \brief Runs \p T new positions of each of \p B sequences (\p inputs (B, T)) after
  /// the positions the model's KV cache holds, and appends theirs to it: a prefill (the
  /// prompt, into an empty cache), then decode steps of one token that reuse the keys and
  /// values of every earlier position instead of recomputing the window. logits() then
  /// holds the (B, T, V) logits of the new positions; they equal those of forward() over
  /// the whole sequence within rounding (tests/gpt2/model.test.cpp). Installed hooks
  /// apply as in forward(), so the integer path decodes through pot_gemv. Inference
  /// only: backward() refuses to run after it.
  /// \throws std::invalid_argument if B or T is 0, B exceeds max_batch or differs from
  ///   the batch the cache was started with, for tokens outside the vocabulary;
  ///   std::length_error if the cached and new positions exceed max_sequence (nothing
  ///   is appended then)
  void forward_cached(std::span<const std::int32_t> inputs, std::size_t B, std::size_t T);

  /// \brief Positions per sequence in the KV cache (0 before forward_cached()).
  [[nodiscard]] std::size_t cached_positions() const noexcept;

  /// \brief Empties the KV cache; the next forward_cached() is a prefill at position 0.
  void clear_cache() noexcept;

  /// \brief The logits (B, T, V) of the last forward() or forward_cached().
  [[nodiscard]] std::span<const Scalar> logits() const noexcept;

  /// \brief The per-position losses (B, T) of the last forward() with targets.
  [[nodiscard]] std::span<const Scalar> losses() const noexcept;

  /// \brief Overwrites gradients() with the gradient of the last forward()'s mean loss.
  /// \throws std::logic_error if the last forward() had no targets
  void backward();

 private:
  struct activations;

  [[nodiscard]] pot::nn::block_tensors<Scalar> block(std::span<Scalar> buffer, std::size_t layer) const;
  void check_batch(std::span<const std::int32_t> inputs, std::span<const std::int32_t> targets, std::size_t B,
                   std::size_t T) const;
  void run_forward(std::span<const std::int32_t> inputs, std::size_t B, std::size_t T, bool cached);
  [[nodiscard]] activations layer_activations(std::size_t layer) const;
  const Scalar* linear_weight(linear_id id, const Scalar* master, std::size_t OC, std::size_t C);
  void linear_forward(linear_id id, Scalar* out, Scalar* input, const Scalar* weight,
                      const Scalar* bias, std::size_t OC, std::size_t C);
  void linear_backward(linear_id id, Scalar* dinput, Scalar* dweight, Scalar* dbias,
                       const Scalar* dout, const Scalar* input, std::size_t OC, std::size_t C);

  gpt2_config config_;
  std::size_t max_batch_;
  std::size_t max_sequence_;
  pot::linalg::execution execution_;
  linear_hooks<Scalar>* hooks_ = nullptr;
  std::vector<parameter_tensor> tensors_;
  std::vector<std::size_t> block_offsets_;  // per block: the offset of its first tensor
  std::vector<Scalar> parameters_;
  std::vector<Scalar> gradients_;
  std::vector<Scalar> arena_;           // forward activations, sized for the maximum (B, T)
  std::vector<Scalar> gradient_arena_;  // scratch for the activation gradients
  std::vector<const Scalar*> used_weights_;  // per Linear: the weight the forward used
  std::vector<pot::nn::kv_cache<Scalar>> caches_;  // per block, made by the first forward_cached()
  std::vector<std::int32_t> last_inputs_;
  std::vector<std::int32_t> last_targets_;
  std::size_t last_batch_ = 0;
  std::size_t last_sequence_ = 0;
};

extern template class gpt2_model<float>;
extern template class gpt2_model<double>;

}  // namespace gpt2
