/// \file
/// \brief The GPT-2 model: the embeddings, a list of library blocks
/// (pot::nn::transformer_block) over views of one parameter buffer, and the head.
///
/// Token + position embeddings, pre-LayerNorm blocks (causal self-attention, 4x MLP with
/// tanh GELU), final LayerNorm, lm_head tied to wte. Every layer is a pot::nn
/// `*_forward` / `*_backward` pair; there is no autodiff tape. The parameters and their
/// gradients are two buffers in the layout of gpt2_parameters(); each block holds its
/// activations for the largest (B, T) the model will see. A block's Linears run through
/// the Linear seam (pot/nn/linear.hpp): float by default, fake-quant or integer when
/// set_linears() installs them.
///
/// The class is a template over the element type: float for training and inference,
/// double for the finite-difference test of the whole backward pass.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "gpt2_checkpoint.hpp"
#include "pot/linalg/execution.hpp"
#include "pot/nn/kv_cache.hpp"
#include "pot/nn/linear.hpp"
#include "pot/nn/transformer_block.hpp"

namespace gpt2 {

/// \brief The four Linear layers of a block (the ones the paper quantizes), in the
/// order of their parameters: attention_qkv (attn.c_attn), attention_projection
/// (attn.c_proj), mlp_expand (mlp.c_fc), mlp_project (mlp.c_proj).
using linear_kind = pot::nn::block_linear;

/// \brief Number of linear_kind values.
inline constexpr std::size_t linear_kind_count = pot::nn::block_linear_count;

/// \brief The Hugging Face module name of a Linear ("attn.c_attn", ...).
std::string_view linear_module_name(linear_kind kind);

/// \brief One Linear of the model: its block and its kind.
struct linear_id {
  std::size_t layer = 0;  ///< block index
  linear_kind kind = linear_kind::attention_qkv;
};

/// \brief The position of \p id among a model's Linears: layer * 4 + kind.
std::size_t linear_index(linear_id id);

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

  /// \brief Runs every block Linear through \p layers (one per Linear, in linear_index()
  /// order; not owned: they must outlive their use), or through the float Linear when
  /// \p layers is empty. A quantization-aware set trains, an integer one infers.
  /// \throws std::invalid_argument unless \p layers is empty or has one per block Linear
  void set_linears(std::span<pot::nn::linear<Scalar>* const> layers);

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
  /// the whole sequence within rounding (tests/gpt2/model.test.cpp). Installed Linears
  /// apply as in forward(), so the integer path decodes one token through pot_gemv.
  /// Inference only: backward() refuses to run after it.
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
  using block = pot::nn::transformer_block<Scalar>;

  [[nodiscard]] pot::nn::block_tensors<const Scalar> block_parameters(std::size_t layer) const;
  [[nodiscard]] pot::nn::block_tensors<Scalar> block_gradients(std::size_t layer);
  [[nodiscard]] const Scalar* tensor(const char* name) const;
  [[nodiscard]] Scalar* gradient(const char* name);
  /// The residual stream entering block \p layer (layer n_layer: leaving the last one).
  [[nodiscard]] Scalar* stream(std::size_t layer) noexcept;
  void check_batch(std::span<const std::int32_t> inputs, std::span<const std::int32_t> targets, std::size_t B,
                   std::size_t T) const;
  void run_forward(std::span<const std::int32_t> inputs, std::size_t B, std::size_t T, bool cached);

  gpt2_config config_;
  std::size_t max_batch_;
  std::size_t max_sequence_;
  pot::linalg::execution execution_;
  std::vector<parameter_tensor> tensors_;
  std::vector<std::size_t> block_offsets_;  // per block: the offset of its first tensor
  std::vector<Scalar> parameters_;
  std::vector<Scalar> gradients_;
  std::deque<block> blocks_;                         // each with its activations
  std::optional<typename block::scratch> scratch_;   // the blocks' backward work space
  std::vector<Scalar> streams_;      // (n_layer + 1) x (B, T, C): embeddings, then each block's output
  std::vector<Scalar> lnf_, lnf_mean_, lnf_rstd_;  // (B, T, C), (B, T), (B, T)
  std::vector<Scalar> logits_, probs_, losses_;    // (B, T, V), (B, T, V), (B, T)
  std::vector<Scalar> dresidual_, dlnf_;           // (B, T, C) each
  std::vector<Scalar> dlogits_, dlosses_;          // (B, T, V), (B, T)
  std::vector<pot::nn::kv_cache<Scalar>> caches_;  // per block, made by the first forward_cached()
  std::vector<std::int32_t> last_inputs_;
  std::vector<std::int32_t> last_targets_;
  std::size_t last_batch_ = 0;
  std::size_t last_sequence_ = 0;
};

extern template class gpt2_model<float>;
extern template class gpt2_model<double>;

}  // namespace gpt2
