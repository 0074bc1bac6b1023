#include "model.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "pot/linalg/parallel_for.hpp"
#include "pot/nn/cross_entropy.hpp"
#include "pot/nn/embedding.hpp"
#include "pot/nn/layer_execution.hpp"
#include "pot/nn/layernorm.hpp"
#include "pot/nn/matmul.hpp"
#include "checked_size.hpp"
#include "random.hpp"

namespace gpt2 {

std::string_view linear_module_name(linear_kind kind) {
  switch (kind) {
    case linear_kind::attention_qkv: return "attn.c_attn";
    case linear_kind::attention_projection: return "attn.c_proj";
    case linear_kind::mlp_expand: return "mlp.c_fc";
    case linear_kind::mlp_project: return "mlp.c_proj";
  }
  throw std::invalid_argument("pot: unknown linear_kind");
}

std::size_t linear_index(linear_id id) {
  return id.layer * linear_kind_count + static_cast<std::size_t>(id.kind);
}

namespace {

// Values besides the blocks' own activations, for the largest (B, T): the residual
// stream entering each block and leaving the last, the head's activations, and the
// gradients of the stream, the final LayerNorm's output, the logits and the losses. Size
// is std::size_t, or checked_size to find out once, at construction, that none of the
// sizes overflows.
template <class Size>
Size model_activation_values(const gpt2_config& config, Size B, Size T) {
  const Size rows = B * T, C = config.n_embd, V = config.vocab_size;
  const Size streams = (Size(config.n_layer) + 1) * rows * C;
  const Size head = rows * (C + 2 + V + V + 1);
  const Size gradients = rows * (C + C + V + 1);
  return streams + head + gradients;
}

}  // namespace

template <class Scalar>
gpt2_model<Scalar>::gpt2_model(const gpt2_config& config, std::size_t max_batch,
                               std::size_t max_sequence, pot::linalg::execution execution)
    : config_(config), max_batch_(max_batch), max_sequence_(max_sequence), execution_(execution) {
  validate(config_);
  if (max_batch == 0 || max_sequence == 0)
    throw std::invalid_argument("pot: gpt2_model needs a batch size and sequence length > 0");
  if (max_sequence > config_.block_size)
    throw std::invalid_argument("pot: gpt2_model sequence length " + std::to_string(max_sequence) +
                                " exceeds the model's block_size " +
                                std::to_string(config_.block_size));
  // Everything this model allocates, checked before any of it is: the sizes may come
  // from a file or the command line.
  using block_t = pot::nn::transformer_block<Scalar>;
  try {
    const checked_size B = max_batch, T = max_sequence, C = config_.n_embd, NH = config_.n_head;
    const checked_size elements = checked_size(gpt2_parameter_count(config_)) * 2 +
                                  model_activation_values<checked_size>(config_, B, T) +
                                  checked_size(config_.n_layer) * block_t::template activation_values<checked_size>(B, T, C, NH) +
                                  block_t::scratch::template values<checked_size>(B, T, C);
    require_memory(elements * sizeof(Scalar),
                   "a model of n_layer " + std::to_string(config_.n_layer) + ", n_head " +
                       std::to_string(config_.n_head) + ", n_embd " + std::to_string(config_.n_embd) +
                       ", block " + std::to_string(config_.block_size) + ", vocab " +
                       std::to_string(config_.vocab_size) + " for batches of " + std::to_string(max_batch) +
                       " x " + std::to_string(max_sequence) + " (parameters, gradients, activations)");
  } catch (const std::overflow_error&) {
    throw std::length_error("pot: a model of n_layer " + std::to_string(config_.n_layer) + ", n_embd " +
                            std::to_string(config_.n_embd) + " for batches of " + std::to_string(max_batch) +
                            " x " + std::to_string(max_sequence) + " has more activations than size_t counts");
  }
  tensors_ = gpt2_parameters(config_);
  parameters_.assign(gpt2_parameter_count(config_), Scalar(0));
  gradients_.assign(parameters_.size(), Scalar(0));
  const std::size_t rows = max_batch * max_sequence, C = config_.n_embd, V = config_.vocab_size;
  const pot::nn::block_shape capacity{max_batch, max_sequence, C, config_.n_head};
  // A block's tensors follow one another in pot::nn::block_tensors' order, so each block
  // is viewed from its first tensor's offset.
  for (std::size_t layer = 0; layer < config_.n_layer; ++layer) {
    const std::string prefix = "h." + std::to_string(layer) + ".";
    const std::size_t first = find_parameter(tensors_, prefix + "ln_1.weight").offset;
    const std::size_t last = find_parameter(tensors_, prefix + "mlp.c_proj.bias").offset + C;
    if (last - first != pot::nn::block_parameter_count(C))
      throw std::logic_error("pot: gpt2_parameters() lays block " + std::to_string(layer) +
                             " out differently from pot::nn::block_tensors");
    block_offsets_.push_back(first);
    blocks_.emplace_back(capacity);
  }
  scratch_.emplace(capacity);
  streams_.assign((config_.n_layer + 1) * rows * C, Scalar(0));
  lnf_.assign(rows * C, Scalar(0));
  lnf_mean_.assign(rows, Scalar(0));
  lnf_rstd_.assign(rows, Scalar(0));
  logits_.assign(rows * V, Scalar(0));
  probs_.assign(rows * V, Scalar(0));
  losses_.assign(rows, Scalar(0));
  dresidual_.assign(rows * C, Scalar(0));
  dlnf_.assign(rows * C, Scalar(0));
  dlogits_.assign(rows * V, Scalar(0));
  dlosses_.assign(rows, Scalar(0));
}

template <class Scalar>
pot::nn::block_tensors<const Scalar> gpt2_model<Scalar>::block_parameters(std::size_t layer) const {
  return pot::nn::block_tensors_in(parameters_.data() + block_offsets_[layer], config_.n_embd);
}

template <class Scalar>
pot::nn::block_tensors<Scalar> gpt2_model<Scalar>::block_gradients(std::size_t layer) {
  return pot::nn::block_tensors_in(gradients_.data() + block_offsets_[layer], config_.n_embd);
}

template <class Scalar>
const Scalar* gpt2_model<Scalar>::tensor(const char* name) const {
  return parameters_.data() + find_parameter(tensors_, name).offset;
}

template <class Scalar>
Scalar* gpt2_model<Scalar>::gradient(const char* name) {
  return gradients_.data() + find_parameter(tensors_, name).offset;
}

template <class Scalar>
Scalar* gpt2_model<Scalar>::stream(std::size_t layer) noexcept {
  return streams_.data() + layer * max_batch_ * max_sequence_ * config_.n_embd;
}

template <class Scalar>
void gpt2_model<Scalar>::set_linears(std::span<pot::nn::linear<Scalar>* const> layers) {
  if (!layers.empty() && layers.size() != config_.n_layer * linear_kind_count)
    throw std::invalid_argument("pot: gpt2_model::set_linears got " + std::to_string(layers.size()) +
                                " Linears for a model of " + std::to_string(config_.n_layer * linear_kind_count));
  for (std::size_t layer = 0; layer < config_.n_layer; ++layer)
    for (std::size_t kind = 0; kind < linear_kind_count; ++kind)
      blocks_[layer].set_linear(static_cast<linear_kind>(kind),
                                layers.empty() ? nullptr : layers[linear_index({layer, static_cast<linear_kind>(kind)})]);
}

template <class Scalar>
void gpt2_model<Scalar>::initialize(std::uint64_t seed) {
  normal_generator normal(seed);
  const double residual_std = 0.02 / std::sqrt(2.0 * static_cast<double>(config_.n_layer));
  for (const auto& tensor : tensors_) {
    Scalar* values = parameters_.data() + tensor.offset;
    const bool layernorm_weight = tensor.name.find("ln_") != std::string::npos &&
                                  tensor.name.ends_with(".weight");
    if (tensor.shape.size() < 2) {
      std::fill(values, values + tensor.size, layernorm_weight ? Scalar(1) : Scalar(0));
      continue;
    }
    const double std = tensor.name.ends_with("c_proj.weight") ? residual_std : 0.02;
    for (std::size_t i = 0; i < tensor.size; ++i) values[i] = static_cast<Scalar>(std * normal());
  }
}

template <class Scalar>
void gpt2_model<Scalar>::load_parameters(std::span<const float> parameters) {
  if (parameters.size() != parameters_.size())
    throw std::invalid_argument("pot: gpt2_model::load_parameters got " +
                                std::to_string(parameters.size()) + " values, the model has " +
                                std::to_string(parameters_.size()));
  std::copy(parameters.begin(), parameters.end(), parameters_.begin());
}

template <class Scalar>
void gpt2_model<Scalar>::check_batch(std::span<const std::int32_t> inputs, std::span<const std::int32_t> targets,
                                     std::size_t B, std::size_t T) const {
  if (B == 0 || T == 0 || B > max_batch_ || T > max_sequence_)
    throw std::invalid_argument("pot: gpt2_model::forward got a (" + std::to_string(B) + ", " +
                                std::to_string(T) + ") batch; the model holds up to (" +
                                std::to_string(max_batch_) + ", " + std::to_string(max_sequence_) +
                                ")");
  if (inputs.size() != B * T || (!targets.empty() && targets.size() != B * T))
    throw std::invalid_argument("pot: gpt2_model::forward needs B*T = " + std::to_string(B * T) +
                                " inputs and targets, got " + std::to_string(inputs.size()) +
                                " and " + std::to_string(targets.size()));
}

template <class Scalar>
Scalar gpt2_model<Scalar>::forward(std::span<const std::int32_t> inputs,
                                   std::span<const std::int32_t> targets, std::size_t B,
                                   std::size_t T) {
  check_batch(inputs, targets, B, T);
  last_targets_.assign(targets.begin(), targets.end());
  run_forward(inputs, B, T, false);
  if (targets.empty()) return Scalar(0);
  return pot::nn::cross_entropy_forward(losses_.data(), probs_.data(), logits_.data(), targets.data(), 1, B * T,
                                        config_.vocab_size, execution_);
}

template <class Scalar>
void gpt2_model<Scalar>::forward_cached(std::span<const std::int32_t> inputs, std::size_t B, std::size_t T) {
  check_batch(inputs, {}, B, T);
  if (!caches_.empty() && caches_.front().length() > 0 && caches_.front().batch() != B)
    throw std::invalid_argument("pot: gpt2_model::forward_cached got " + std::to_string(B) +
                                " sequences, the KV cache holds " + std::to_string(caches_.front().batch()) +
                                " (clear_cache() first)");
  const std::size_t past = cached_positions();
  if (T > max_sequence_ - past)
    throw std::length_error("pot: gpt2_model::forward_cached: the KV cache holds " + std::to_string(past) +
                            " positions; " + std::to_string(T) + " more exceed the model's " +
                            std::to_string(max_sequence_));
  if (caches_.empty() || caches_.front().batch() != B) {
    caches_.clear();
    require_memory(checked_size(2) * config_.n_layer * B * max_sequence_ * config_.n_embd * sizeof(Scalar),
                   "a KV cache of " + std::to_string(config_.n_layer) + " blocks for " + std::to_string(B) +
                       " x " + std::to_string(max_sequence_) + " positions");
    for (std::size_t layer = 0; layer < config_.n_layer; ++layer)
      caches_.emplace_back(B, max_sequence_, config_.n_embd, config_.n_head);
  }
  last_targets_.clear();  // no backward() through a cached forward
  run_forward(inputs, B, T, true);
}

template <class Scalar>
std::size_t gpt2_model<Scalar>::cached_positions() const noexcept {
  return caches_.empty() ? 0 : caches_.front().length();
}

template <class Scalar>
void gpt2_model<Scalar>::clear_cache() noexcept {
  for (auto& cache : caches_) cache.clear();
}

// The model's forward up to the logits, over T positions per sequence: the whole
// sequences, or (cached) T new positions after those in the KV cache.
template <class Scalar>
void gpt2_model<Scalar>::run_forward(std::span<const std::int32_t> inputs, std::size_t B, std::size_t T,
                                     bool cached) {
  last_inputs_.assign(inputs.begin(), inputs.end());
  last_batch_ = B;
  last_sequence_ = T;
  const std::size_t C = config_.n_embd;
  const std::size_t N = B * T;
  pot::nn::embedding_forward(stream(0), inputs.data(), tensor("wte.weight"), tensor("wpe.weight"), B, T, C,
                             config_.vocab_size, config_.block_size, cached ? cached_positions() : 0, execution_);
  for (std::size_t layer = 0; layer < config_.n_layer; ++layer) {
    const pot::nn::block_tensors<const Scalar> p = block_parameters(layer);
    if (cached)
      blocks_[layer].forward_cached(stream(layer + 1), stream(layer), T, p, caches_[layer], execution_);
    else
      blocks_[layer].forward(stream(layer + 1), stream(layer), B, T, p, execution_);
  }
  pot::nn::layernorm_forward(lnf_.data(), lnf_mean_.data(), lnf_rstd_.data(), stream(config_.n_layer),
                             tensor("ln_f.weight"), tensor("ln_f.bias"), 1, N, C, execution_);
  pot::nn::matmul_forward(logits_.data(), lnf_.data(), tensor("wte.weight"), static_cast<const Scalar*>(nullptr), 1,
                          N, C, config_.vocab_size, execution_);
}

template <class Scalar>
std::span<const Scalar> gpt2_model<Scalar>::logits() const noexcept {
  return {logits_.data(), last_batch_ * last_sequence_ * config_.vocab_size};
}

template <class Scalar>
std::span<const Scalar> gpt2_model<Scalar>::losses() const noexcept {
  return {losses_.data(), last_batch_ * last_sequence_};
}

template <class Scalar>
void gpt2_model<Scalar>::backward() {
  if (last_targets_.empty())
    throw std::logic_error("pot: gpt2_model::backward needs a forward() with targets first");
  const std::size_t B = last_batch_;
  const std::size_t T = last_sequence_;
  const std::size_t N = B * T;
  const std::size_t C = config_.n_embd;
  const std::size_t V = config_.vocab_size;
  // Every parameter gradient is accumulated into (wte's by two layers), and a Linear's
  // weight gradient must hold only this pass (pot/nn/linear.hpp).
  pot::linalg::parallel_for(0, gradients_.size(), [&](std::size_t first, std::size_t last) {
    std::fill(gradients_.data() + first, gradients_.data() + last, Scalar(0));
  }, pot::nn::layer_execution<Scalar>(execution_, gradients_.size()));

  // Loss: the mean over positions, so every position's loss has weight 1 / (B*T).
  std::fill(dlosses_.begin(), dlosses_.begin() + static_cast<std::ptrdiff_t>(N), Scalar(1) / static_cast<Scalar>(N));
  pot::linalg::parallel_for(0, N * V, [&](std::size_t first, std::size_t last) {
    std::fill(dlogits_.data() + first, dlogits_.data() + last, Scalar(0));  // accumulated
  }, pot::nn::layer_execution<Scalar>(execution_, N * V));
  pot::nn::cross_entropy_backward(dlogits_.data(), dlosses_.data(), probs_.data(), last_targets_.data(), 1, N, V,
                                  execution_);
  pot::nn::matmul_backward(dlnf_.data(), gradient("wte.weight"), static_cast<Scalar*>(nullptr), dlogits_.data(),
                           lnf_.data(), tensor("wte.weight"), 1, N, C, V, execution_,
                           pot::nn::input_gradient::overwrite);
  Scalar* dresidual = dresidual_.data();  // (B, T, C) the residual stream's gradient
  std::fill(dresidual, dresidual + N * C, Scalar(0));
  pot::nn::layernorm_backward(dresidual, gradient("ln_f.weight"), gradient("ln_f.bias"), dlnf_.data(),
                              stream(config_.n_layer), tensor("ln_f.weight"), lnf_mean_.data(), lnf_rstd_.data(), 1, N,
                              C, execution_);
  // The residual additions pass their gradient through unchanged, so one buffer carries
  // the residual stream's gradient down the blocks and each branch adds to it.
  for (std::size_t layer = config_.n_layer; layer-- > 0;)
    blocks_[layer].backward(dresidual, block_gradients(layer), stream(layer), block_parameters(layer), *scratch_,
                            execution_);
  pot::nn::embedding_backward(gradient("wte.weight"), gradient("wpe.weight"), dresidual, last_inputs_.data(), B, T, C,
                              V, execution_);
}

template class gpt2_model<float>;
template class gpt2_model<double>;

}  // namespace gpt2
