/// \file
/// \brief GPT-2 parameter layout and checkpoints with Hugging Face's tensor names.
///
/// Names and shapes are those of Hugging Face's GPT-2 `model.safetensors`
/// (GPT2Model). Its attention and MLP weights are Conv1D modules stored [in, out]; the
/// model here keeps every Linear weight as (OC, C) like llm.c, so those four weights
/// per block are transposed on load and save. All parameters live in ONE contiguous
/// float buffer, in the order gpt2_parameters() lists them.
#pragma once

#include <cstddef>
#include <filesystem>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace gpt2 {

/// \brief Sizes of a GPT-2 model.
struct gpt2_config {
  std::size_t n_layer = 0;     ///< number of transformer blocks
  std::size_t n_head = 0;      ///< attention heads per block; divides n_embd
  std::size_t n_embd = 0;      ///< channels C
  std::size_t block_size = 0;  ///< maximum sequence length (rows of wpe)
  std::size_t vocab_size = 0;  ///< rows of wte

  /// \brief Field-wise equality.
  friend bool operator==(const gpt2_config&, const gpt2_config&) = default;
};

/// \brief Checks that every size is positive, n_head divides n_embd and the parameter
/// count fits in size_t.
/// \throws std::invalid_argument naming the offending field, or every size on overflow
void validate(const gpt2_config& config);

/// \brief One parameter tensor: its name, shapes, and place in the parameter buffer.
struct parameter_tensor {
  std::string name;                  ///< Hugging Face name without "transformer."
  std::vector<std::size_t> shape;    ///< layout in the buffer (Linear weights (OC, C))
  std::vector<std::size_t> hf_shape; ///< layout in the safetensors file
  bool transposed = false;           ///< a Conv1D weight: hf_shape is shape reversed
  bool weight_decay = false;         ///< matrices (incl. embeddings) yes; biases, LN no
  std::size_t offset = 0;            ///< first float in the buffer
  std::size_t size = 0;              ///< number of floats
};

/// \brief Every parameter tensor of \p config, in buffer order.
///
/// Order: wte (V, C), wpe (maxT, C); per block i: h.i.ln_1.weight/bias (C),
/// h.i.attn.c_attn.weight (3C, C) / bias (3C), h.i.attn.c_proj.weight (C, C) / bias (C),
/// h.i.ln_2.weight/bias (C), h.i.mlp.c_fc.weight (4C, C) / bias (4C),
/// h.i.mlp.c_proj.weight (C, 4C) / bias (C); then ln_f.weight/bias (C). The lm_head is
/// tied to wte and has no storage of its own.
/// \throws std::invalid_argument for an invalid config
std::vector<parameter_tensor> gpt2_parameters(const gpt2_config& config);

/// \brief Total number of floats in the parameter buffer of \p config, computed from the
/// sizes (without listing the tensors, so it is cheap for any config).
/// \throws std::invalid_argument for an invalid config (see validate())
std::size_t gpt2_parameter_count(const gpt2_config& config);

/// \brief The entry of \p parameters called \p name (without "transformer.").
/// \throws std::out_of_range naming the tensor if there is none
const parameter_tensor& find_parameter(std::span<const parameter_tensor> parameters,
                                       std::string_view name);

/// \brief The channels per attention head of every released GPT-2 size (124M: 768 / 12,
/// 355M: 1024 / 16, 774M: 1280 / 20, 1.5B: 1600 / 25): n_head of a file without config.
inline constexpr std::size_t gpt2_head_size = 64;

/// \brief A model's sizes, parameters and the free-form metadata stored beside them.
struct gpt2_checkpoint {
  gpt2_config config;                           ///< sizes (inferred from the shapes)
  std::vector<float> parameters;                ///< gpt2_parameter_count(config) floats
  std::map<std::string, std::string> metadata;  ///< every "__metadata__" entry read
  bool n_head_assumed = false;                  ///< n_head was not in the file
};

/// \brief Loads a Hugging Face style GPT-2 safetensors file into the buffer layout.
///
/// Names may carry the "transformer." prefix. The causal-mask buffers h.i.attn.bias and
/// h.i.attn.masked_bias and a tied lm_head.weight are ignored. F32, F16 and BF16 are
/// accepted. n_layer, n_embd, vocab_size and block_size come from the shapes; n_head
/// from the "n_head" metadata entry, else from \p n_head, else n_embd / gpt2_head_size
/// (Hugging Face keeps n_head in config.json, beside the file). Every block below the largest
/// "h.<i>." name and every tensor's shape are checked before the buffer is allocated, so
/// the buffer is never larger than the file's tensors.
/// \throws std::runtime_error "pot: <path>: <problem>" for file errors (see
///   read_safetensors), a missing, unexpected or misshapen tensor, an \p n_head that
///   contradicts the metadata, or no n_head at all for an n_embd that is not a multiple of 64
gpt2_checkpoint load_gpt2_checkpoint(const std::filesystem::path& path,
                                     std::optional<std::size_t> n_head = std::nullopt);

/// \brief Saves \p parameters atomically as F32 with Hugging Face's names and layouts.
///
/// The metadata holds "format": "pt" (transformers refuses files without it), the five
/// config fields as decimal strings, and \p extra_metadata (e.g. the tokenizer).
/// \throws std::invalid_argument if parameters.size() disagrees with the config or an
///   extra key collides with a reserved one; std::runtime_error naming the file on I/O
///   errors
void save_gpt2_checkpoint(const std::filesystem::path& path, const gpt2_config& config,
                          std::span<const float> parameters,
                          const std::map<std::string, std::string>& extra_metadata = {});

}  // namespace gpt2
