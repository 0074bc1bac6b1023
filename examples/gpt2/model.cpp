#include "model.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <stdexcept>
#include <string>

#include "pot/linalg/parallel_for.hpp"
#include "pot/nn/attention.hpp"
#include "pot/nn/cross_entropy.hpp"
#include "pot/nn/embedding.hpp"
#include "pot/nn/gelu.hpp"
#include "pot/nn/kv_cache.hpp"
#include "pot/nn/layer_execution.hpp"
#include "pot/nn/layernorm.hpp"
#include "pot/nn/matmul.hpp"
#include "pot/nn/residual.hpp"
#include "pot/nn/transformer_block.hpp"
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


// Pointers into the activation arena for one block, plus the tensors outside the blocks.
// Capacities are for the maximum (B, T); a smaller batch uses each tensor's first B*T rows.
template <class Scalar>
struct gpt2_model<Scalar>::activations {
  Scalar* block_input;  // (B, T, C) the residual stream entering the block
  Scalar* ln1;          // (B, T, C)
  Scalar* ln1_mean;     // (B, T)
  Scalar* ln1_rstd;     // (B, T)
  Scalar* qkv;          // (B, T, 3C)
  Scalar* attention;    // (B, T, C) attention output, input of attn.c_proj
  Scalar* probs;        // (B, NH, T, T)
  Scalar* attn_proj;    // (B, T, C)
  Scalar* residual2;    // (B, T, C)
  Scalar* ln2;          // (B, T, C)
  Scalar* ln2_mean;     // (B, T)
  Scalar* ln2_rstd;     // (B, T)
  Scalar* fc;           // (B, T, 4C)
  Scalar* fc_gelu;      // (B, T, 4C)
  Scalar* fc_proj;      // (B, T, C)
  Scalar* residual3;    // (B, T, C) the residual stream leaving the block
};

namespace {

// Sizes of the arena's pieces, in the order they are laid out. Size is std::size_t, or
// checked_size to find out once, at construction, that none of them overflows.
template <class Size = std::size_t>
struct arena_layout {
  Size positions;  // maximum B * T
  Size C, V, NH, max_batch, max_sequence, n_layer;

  Size embedding() const { return positions * C; }
  Size per_layer() const {
    return positions * (C /*ln1*/ + 2 + 3 * C + C /*attention*/) +
           max_batch * NH * max_sequence * max_sequence +
           positions * (C /*attn_proj*/ + C /*residual2*/ + C /*ln2*/ + 2 + 4 * C + 4 * C +
                        C /*fc_proj*/ + C /*residual3*/);
  }
  Size head() const { return positions * (C + 2 + 2 * V + 1); }
  Size total() const { return embedding() + n_layer * per_layer() + head(); }

  // Offsets of the final LayerNorm and the loss tensors.
  Size lnf() const { return embedding() + n_layer * per_layer(); }
  Size lnf_mean() const { return lnf() + positions * C; }
  Size lnf_rstd() const { return lnf_mean() + positions; }
  Size logits() const { return lnf_rstd() + positions; }
  Size probs() const { return logits() + positions * V; }
  Size losses() const { return probs() + positions * V; }
};

template <class Size = std::size_t>
arena_layout<Size> layout_of(const gpt2_config& config, std::size_t max_batch, std::size_t max_sequence) {
  return {Size(max_batch) * max_sequence, config.n_embd, config.vocab_size, config.n_head,
          max_batch, max_sequence, config.n_layer};
}

// The gradient scratch: one residual-stream gradient, reused per-block scratch, dlogits.
template <class Size = std::size_t>
struct gradient_layout {
  Size positions, C, V;
  Size dresidual() const { return 0; }
  Size dln() const { return positions * C; }
  Size dqkv() const { return dln() + positions * C; }
  Size dattention() const { return dqkv() + positions * 3 * C; }
  Size dfc() const { return dattention() + positions * C; }
  Size dfc_gelu() const { return dfc() + positions * 4 * C; }
  Size dlogits() const { return dfc_gelu() + positions * 4 * C; }
  Size dlosses() const { return dlogits() + positions * V; }
  Size total() const { return dlosses() + positions; }
};

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
  try {
    const arena_layout<checked_size> checked = layout_of<checked_size>(config_, max_batch, max_sequence);
    const checked_size elements =
        checked_size(gpt2_parameter_count(config_)) * 2 + checked.total() +
        gradient_layout<checked_size>{checked.positions, config_.n_embd, config_.vocab_size}.total();
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
  const arena_layout layout = layout_of(config_, max_batch, max_sequence);
  arena_.assign(layout.total(), Scalar(0));
  gradient_arena_.assign(gradient_layout<>{layout.positions, config_.n_embd, config_.vocab_size}.total(),
                         Scalar(0));
  used_weights_.assign(config_.n_layer * linear_kind_count, nullptr);
  // A block's tensors follow one another in pot::nn::block_tensors' order, so each block
  // is viewed from its first tensor's offset.
  for (std::size_t layer = 0; layer < config_.n_layer; ++layer) {
    const std::string prefix = "h." + std::to_string(layer) + ".";
    const std::size_t first = find_parameter(tensors_, prefix + "ln_1.weight").offset;
    const std::size_t last = find_parameter(tensors_, prefix + "mlp.c_proj.bias").offset + config_.n_embd;
    if (last - first != pot::nn::block_parameter_count(config_.n_embd))
      throw std::logic_error("pot: gpt2_parameters() lays block " + std::to_string(layer) +
                             " out differently from pot::nn::block_tensors");
    block_offsets_.push_back(first);
  }
}

template <class Scalar>
pot::nn::block_tensors<Scalar> gpt2_model<Scalar>::block(std::span<Scalar> buffer, std::size_t layer) const {
  return pot::nn::block_tensors_in(buffer.data() + block_offsets_[layer], config_.n_embd);
}

template <class Scalar>
auto gpt2_model<Scalar>::layer_activations(std::size_t layer) const -> activations {
  const arena_layout layout = layout_of(config_, max_batch_, max_sequence_);
  const std::size_t N = layout.positions;
  const std::size_t C = config_.n_embd;
  Scalar* base = const_cast<Scalar*>(arena_.data());
  Scalar* cursor = base + layout.embedding() + layer * layout.per_layer();
  auto take = [&](std::size_t count) {
    Scalar* piece = cursor;
    cursor += count;
    return piece;
  };
  activations a{};
  // Block l reads the residual stream that block l-1 wrote last (or the embeddings).
  a.block_input = layer == 0 ? base : cursor - N * C;
  a.ln1 = take(N * C);
  a.ln1_mean = take(N);
  a.ln1_rstd = take(N);
  a.qkv = take(N * 3 * C);
  a.attention = take(N * C);
  a.probs = take(max_batch_ * config_.n_head * max_sequence_ * max_sequence_);
  a.attn_proj = take(N * C);
  a.residual2 = take(N * C);
  a.ln2 = take(N * C);
  a.ln2_mean = take(N);
  a.ln2_rstd = take(N);
  a.fc = take(N * 4 * C);
  a.fc_gelu = take(N * 4 * C);
  a.fc_proj = take(N * C);
  a.residual3 = take(N * C);
  return a;
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
const Scalar* gpt2_model<Scalar>::linear_weight(linear_id id, const Scalar* master,
                                                std::size_t OC, std::size_t C) {
  const Scalar* used = hooks_ != nullptr ? hooks_->weight(id, master, OC, C) : master;
  used_weights_[id.layer * linear_kind_count + static_cast<std::size_t>(id.kind)] = used;
  return used;
}

template <class Scalar>
void gpt2_model<Scalar>::linear_forward(linear_id id, Scalar* out, Scalar* input,
                                        const Scalar* weight, const Scalar* bias, std::size_t OC,
                                        std::size_t C) {
  const std::size_t rows = last_batch_ * last_sequence_;
  if (hooks_ != nullptr) {
    hooks_->quantize_input(id, input, rows, C);
    if (hooks_->replace_product(id, out, input, bias, rows, C, OC)) {
      used_weights_[id.layer * linear_kind_count + static_cast<std::size_t>(id.kind)] = weight;
      return;
    }
  }
  pot::nn::matmul_forward(out, input, linear_weight(id, weight, OC, C), bias, 1, rows, C, OC,
                          execution_);
}

template <class Scalar>
void gpt2_model<Scalar>::linear_backward(linear_id id, Scalar* dinput, Scalar* dweight,
                                         Scalar* dbias, const Scalar* dout, const Scalar* input,
                                         std::size_t OC, std::size_t C) {
  const std::size_t rows = last_batch_ * last_sequence_;
  const Scalar* used = used_weights_[id.layer * linear_kind_count + static_cast<std::size_t>(id.kind)];
  pot::nn::matmul_backward(dinput, dweight, dbias, dout, input, used, 1, rows, C, OC, execution_,
                           pot::nn::input_gradient::overwrite);
  if (hooks_ == nullptr) return;
  const auto master_offset = static_cast<std::size_t>(dweight - gradients_.data());
  hooks_->weight_gradient(id, parameters_.data() + master_offset, dweight, OC, C);
  hooks_->input_gradient(id, dinput, rows, C);
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

  const std::size_t V = config_.vocab_size;
  const std::size_t N = B * T;
  const arena_layout layout = layout_of(config_, max_batch_, max_sequence_);
  const Scalar* logits = arena_.data() + layout.logits();
  Scalar* probs = arena_.data() + layout.probs();
  Scalar* losses = arena_.data() + layout.losses();
  pot::linalg::parallel_for(0, N, [&](std::size_t first, std::size_t last) {
    pot::nn::cross_entropy_forward(losses + first, probs + first * V, logits + first * V,
                                   targets.data() + first, 1, last - first, V);
  }, pot::nn::layer_execution<Scalar>(execution_, N * V));
  // The mean is summed here in one fixed order, so the loss does not depend on the threads.
  pot::nn::accumulator_t<Scalar> total = 0;
  for (std::size_t i = 0; i < N; ++i) total += losses[i];
  return static_cast<Scalar>(total / static_cast<pot::nn::accumulator_t<Scalar>>(N));
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
  const std::size_t V = config_.vocab_size;
  const std::size_t NH = config_.n_head;
  const std::size_t N = B * T;
  const arena_layout layout = layout_of(config_, max_batch_, max_sequence_);

  const Scalar* wte = parameters_.data() + find_parameter(tensors_, "wte.weight").offset;
  const Scalar* wpe = parameters_.data() + find_parameter(tensors_, "wpe.weight").offset;
  pot::nn::embedding_forward(arena_.data(), inputs.data(), wte, wpe, B, T, C, V, config_.block_size,
                             cached ? cached_positions() : 0);
  auto layernorm = [&](Scalar* out, Scalar* mean, Scalar* rstd, const Scalar* in,
                       const Scalar* weight, const Scalar* bias) {
    pot::linalg::parallel_for(0, N, [&](std::size_t first, std::size_t last) {
      pot::nn::layernorm_forward(out + first * C, mean + first, rstd + first, in + first * C,
                                 weight, bias, 1, last - first, C);
    }, pot::nn::layer_execution<Scalar>(execution_, N * C));
  };

  auto residual = [&](Scalar* out, const Scalar* stream, const Scalar* branch) {
    pot::linalg::parallel_for(0, N * C, [&](std::size_t first, std::size_t last) {
      pot::nn::residual_forward(out + first, stream + first, branch + first, last - first);
    }, pot::nn::layer_execution<Scalar>(execution_, N * C));
  };

  for (std::size_t layer = 0; layer < config_.n_layer; ++layer) {
    const pot::nn::block_tensors<Scalar> p = block(parameters_, layer);
    const activations a = layer_activations(layer);
    layernorm(a.ln1, a.ln1_mean, a.ln1_rstd, a.block_input, p.ln1_weight, p.ln1_bias);
    linear_forward({layer, linear_kind::attention_qkv}, a.qkv, a.ln1, p.qkv_weight, p.qkv_bias,
                   3 * C, C);
    if (cached) {
      // Heads over the threads: a decode step has one sequence.
      pot::nn::attention_forward_cached(a.attention, a.qkv, T, caches_[layer], execution_);
    } else {
      // One sequence per task: each head's GEMMs are too small to split further.
      pot::linalg::parallel_for(0, B, [&](std::size_t first, std::size_t last) {
        for (std::size_t b = first; b < last; ++b)
          pot::nn::attention_forward(a.attention + b * T * C, a.probs + b * NH * T * T,
                                     a.qkv + b * T * 3 * C, 1, T, C, NH, {1});
      }, execution_);
    }
    linear_forward({layer, linear_kind::attention_projection}, a.attn_proj, a.attention,
                   p.attn_proj_weight, p.attn_proj_bias, C, C);
    residual(a.residual2, a.block_input, a.attn_proj);
    layernorm(a.ln2, a.ln2_mean, a.ln2_rstd, a.residual2, p.ln2_weight, p.ln2_bias);
    linear_forward({layer, linear_kind::mlp_expand}, a.fc, a.ln2, p.fc_weight, p.fc_bias, 4 * C, C);
    pot::linalg::parallel_for(0, N * 4 * C, [&](std::size_t first, std::size_t last) {
      pot::nn::gelu_forward(a.fc_gelu + first, a.fc + first, last - first);
    }, pot::nn::layer_execution<Scalar>(execution_, N * 4 * C));
    linear_forward({layer, linear_kind::mlp_project}, a.fc_proj, a.fc_gelu, p.fc_proj_weight,
                   p.fc_proj_bias, C, 4 * C);
    residual(a.residual3, a.residual2, a.fc_proj);
  }

  const Scalar* last_residual =
      config_.n_layer == 0 ? arena_.data() : layer_activations(config_.n_layer - 1).residual3;
  Scalar* lnf = arena_.data() + layout.lnf();
  const Scalar* lnf_weight = parameters_.data() + find_parameter(tensors_, "ln_f.weight").offset;
  const Scalar* lnf_bias = parameters_.data() + find_parameter(tensors_, "ln_f.bias").offset;
  layernorm(lnf, arena_.data() + layout.lnf_mean(), arena_.data() + layout.lnf_rstd(), last_residual,
            lnf_weight, lnf_bias);
  Scalar* logits = arena_.data() + layout.logits();
  pot::nn::matmul_forward(logits, lnf, wte, static_cast<const Scalar*>(nullptr), 1, N, C, V,
                          execution_);
}

template <class Scalar>
std::span<const Scalar> gpt2_model<Scalar>::logits() const noexcept {
  const arena_layout layout = layout_of(config_, max_batch_, max_sequence_);
  return {arena_.data() + layout.logits(), last_batch_ * last_sequence_ * config_.vocab_size};
}

template <class Scalar>
std::span<const Scalar> gpt2_model<Scalar>::losses() const noexcept {
  const arena_layout layout = layout_of(config_, max_batch_, max_sequence_);
  return {arena_.data() + layout.losses(), last_batch_ * last_sequence_};
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
  const std::size_t NH = config_.n_head;
  const arena_layout layout = layout_of(config_, max_batch_, max_sequence_);
  const gradient_layout<> scratch{layout.positions, C, V};
  Scalar* g = gradient_arena_.data();
  Scalar* dresidual = g + scratch.dresidual();  // (B, T, C) gradient of the residual stream
  Scalar* dln = g + scratch.dln();              // (B, T, C)
  Scalar* dqkv = g + scratch.dqkv();            // (B, T, 3C)
  Scalar* dattention = g + scratch.dattention();  // (B, T, C)
  Scalar* dfc = g + scratch.dfc();              // (B, T, 4C)
  Scalar* dfc_gelu = g + scratch.dfc_gelu();    // (B, T, 4C)
  Scalar* dlogits = g + scratch.dlogits();      // (B, T, V)
  Scalar* dlosses = g + scratch.dlosses();      // (B, T)
  // Every parameter gradient is accumulated into (wte's by two layers).
  pot::linalg::parallel_for(0, gradients_.size(), [&](std::size_t first, std::size_t last) {
    std::fill(gradients_.data() + first, gradients_.data() + last, Scalar(0));
  }, pot::nn::layer_execution<Scalar>(execution_, gradients_.size()));

  auto layernorm_back = [&](Scalar* dinput, Scalar* dweight, Scalar* dbias, const Scalar* dout,
                            const Scalar* input, const Scalar* weight, const Scalar* mean,
                            const Scalar* rstd) {
    pot::nn::layernorm_backward(dinput, dweight, dbias, dout, input, weight, mean, rstd, 1, N, C,
                                execution_);
  };

  // Loss: the mean over positions, so every position's loss has weight 1 / (B*T).
  std::fill(dlosses, dlosses + N, Scalar(1) / static_cast<Scalar>(N));
  const Scalar* probs = arena_.data() + layout.probs();
  pot::linalg::parallel_for(0, N, [&](std::size_t first, std::size_t last) {
    std::fill(dlogits + first * V, dlogits + last * V, Scalar(0));  // accumulated
    pot::nn::cross_entropy_backward(dlogits + first * V, dlosses + first, probs + first * V,
                                    last_targets_.data() + first, 1, last - first, V);
  }, pot::nn::layer_execution<Scalar>(execution_, N * V));

  const Scalar* wte = parameters_.data() + find_parameter(tensors_, "wte.weight").offset;
  Scalar* dwte = gradients_.data() + find_parameter(tensors_, "wte.weight").offset;
  Scalar* dwpe = gradients_.data() + find_parameter(tensors_, "wpe.weight").offset;
  const Scalar* lnf = arena_.data() + layout.lnf();
  pot::nn::matmul_backward(dln, dwte, static_cast<Scalar*>(nullptr), dlogits, lnf, wte, 1, N, C, V,
                           execution_, pot::nn::input_gradient::overwrite);
  const Scalar* last_residual =
      config_.n_layer == 0 ? arena_.data() : layer_activations(config_.n_layer - 1).residual3;
  std::fill(dresidual, dresidual + N * C, Scalar(0));
  layernorm_back(dresidual, gradients_.data() + find_parameter(tensors_, "ln_f.weight").offset,
                 gradients_.data() + find_parameter(tensors_, "ln_f.bias").offset, dln,
                 last_residual, parameters_.data() + find_parameter(tensors_, "ln_f.weight").offset,
                 arena_.data() + layout.lnf_mean(), arena_.data() + layout.lnf_rstd());

  // The residual additions pass their gradient through unchanged, so one buffer carries
  // the residual stream's gradient down the blocks and each branch adds to it.
  for (std::size_t layer = config_.n_layer; layer-- > 0;) {
    const pot::nn::block_tensors<Scalar> p = block(parameters_, layer);
    const pot::nn::block_tensors<Scalar> dp = block(gradients_, layer);
    const activations a = layer_activations(layer);
    linear_backward({layer, linear_kind::mlp_project}, dfc_gelu, dp.fc_proj_weight, dp.fc_proj_bias,
                    dresidual, a.fc_gelu, C, 4 * C);
    pot::linalg::parallel_for(0, N * 4 * C, [&](std::size_t first, std::size_t last) {
      std::fill(dfc + first, dfc + last, Scalar(0));  // gelu_backward accumulates
      pot::nn::gelu_backward(dfc + first, a.fc + first, dfc_gelu + first, last - first);
    }, pot::nn::layer_execution<Scalar>(execution_, N * 4 * C));
    linear_backward({layer, linear_kind::mlp_expand}, dln, dp.fc_weight, dp.fc_bias, dfc, a.ln2,
                    4 * C, C);
    layernorm_back(dresidual, dp.ln2_weight, dp.ln2_bias, dln, a.residual2, p.ln2_weight,
                   a.ln2_mean, a.ln2_rstd);
    linear_backward({layer, linear_kind::attention_projection}, dattention, dp.attn_proj_weight,
                    dp.attn_proj_bias, dresidual, a.attention, C, C);
    pot::linalg::parallel_for(0, B, [&](std::size_t first, std::size_t last) {
      std::fill(dqkv + first * T * 3 * C, dqkv + last * T * 3 * C, Scalar(0));  // accumulated
      for (std::size_t b = first; b < last; ++b)
        pot::nn::attention_backward(dqkv + b * T * 3 * C, dattention + b * T * C,
                                    a.qkv + b * T * 3 * C, a.probs + b * NH * T * T, 1, T, C, NH,
                                    {1});
    }, execution_);
    linear_backward({layer, linear_kind::attention_qkv}, dln, dp.qkv_weight, dp.qkv_bias, dqkv,
                    a.ln1, 3 * C, C);
    layernorm_back(dresidual, dp.ln1_weight, dp.ln1_bias, dln, a.block_input, p.ln1_weight,
                   a.ln1_mean, a.ln1_rstd);
  }
  pot::nn::embedding_backward(dwte, dwpe, dresidual, last_inputs_.data(), B, T, C, V);
}

template class gpt2_model<float>;
template class gpt2_model<double>;

}  // namespace gpt2
