#include "gpt2_checkpoint.hpp"

#include <algorithm>
#include <charconv>
#include <set>
#include <stdexcept>

#include "checked_size.hpp"
#include "file_error.hpp"
#include "safetensors.hpp"
#include "strict_number.hpp"

namespace gpt2 {

namespace {

constexpr std::string_view transformer_prefix = "transformer.";

constexpr std::string_view config_keys[] = {"n_layer", "n_head", "n_embd", "block_size",
                                            "vocab_size"};

/// One parameter tensor of every block "h.<i>.": its name after the prefix and its buffer
/// shape in multiples of C, (rows C, cols C), or (rows C) for a vector (cols 0).
struct block_tensor {
  std::string_view suffix;
  std::size_t rows;
  std::size_t cols;
  bool transposed;  // a Conv1D weight, stored [in, out] by Hugging Face
};

constexpr block_tensor block_tensors[] = {
    {"ln_1.weight", 1, 0, false},        {"ln_1.bias", 1, 0, false},
    {"attn.c_attn.weight", 3, 1, true},  {"attn.c_attn.bias", 3, 0, false},
    {"attn.c_proj.weight", 1, 1, true},  {"attn.c_proj.bias", 1, 0, false},
    {"ln_2.weight", 1, 0, false},        {"ln_2.bias", 1, 0, false},
    {"mlp.c_fc.weight", 4, 1, true},     {"mlp.c_fc.bias", 4, 0, false},
    {"mlp.c_proj.weight", 1, 4, true},   {"mlp.c_proj.bias", 1, 0, false},
};

std::string block_tensor_name(std::size_t layer, const block_tensor& t) {
  return "h." + std::to_string(layer) + "." + std::string(t.suffix);
}

/// The buffer shape of \p t in a model of C channels.
std::vector<std::size_t> block_tensor_shape(const block_tensor& t, std::size_t C) {
  if (t.cols == 0) return {t.rows * C};
  return {t.rows * C, t.cols * C};
}

/// The parameter count, from the sizes alone without listing the tensors: a config read
/// from a file may name more blocks than there is memory for their names.
/// \throws std::invalid_argument if it overflows size_t
std::size_t checked_parameter_count(const gpt2_config& config) {
  try {
    const checked_size C = config.n_embd;
    checked_size per_block = 0;
    for (const block_tensor& t : block_tensors)
      per_block += C * t.rows * (t.cols == 0 ? checked_size(1) : C * t.cols);
    const checked_size embeddings = (checked_size(config.vocab_size) + config.block_size) * C;
    return (embeddings + per_block * config.n_layer + C * 2).value();
  } catch (const std::overflow_error&) {
    throw std::invalid_argument("pot: gpt2 config: n_layer " + std::to_string(config.n_layer) + ", n_embd " +
                                std::to_string(config.n_embd) + ", block_size " +
                                std::to_string(config.block_size) + ", vocab_size " +
                                std::to_string(config.vocab_size) + ": the parameter count overflows size_t");
  }
}

std::size_t config_field(const gpt2_config& config, std::string_view key) {
  if (key == "n_layer") return config.n_layer;
  if (key == "n_head") return config.n_head;
  if (key == "n_embd") return config.n_embd;
  if (key == "block_size") return config.block_size;
  return config.vocab_size;
}

std::string shape_text(std::span<const std::size_t> shape) {
  std::string text = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    text += (i ? ", " : "") + std::to_string(shape[i]);
  }
  return text + "]";
}

/// rows x cols row-major \p in, written transposed (cols x rows) to \p out.
void transpose_into(std::span<const float> in, std::size_t rows, std::size_t cols,
                    std::span<float> out) {
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t c = 0; c < cols; ++c) out[c * rows + r] = in[r * cols + c];
  }
}

/// The layer index of a name "h.<i>.<rest>", if it is one.
std::optional<std::size_t> block_index(std::string_view name) {
  if (!name.starts_with("h.")) return std::nullopt;
  const char* first = name.data() + 2;
  const char* last = name.data() + name.size();
  std::size_t index = 0;
  const auto [end, error] = std::from_chars(first, last, index);
  if (error != std::errc{} || end == first || end == last || *end != '.') return std::nullopt;
  return index;
}

/// Buffers that Hugging Face checkpoints may hold but that are not parameters.
bool is_ignored(std::string_view name) {
  if (name == "lm_head.weight") return true;  // tied to wte
  return block_index(name) && (name.ends_with(".attn.bias") || name.ends_with(".attn.masked_bias"));
}

class checkpoint_loader {
 public:
  explicit checkpoint_loader(const std::filesystem::path& path)
      : path_(path), file_(read_safetensors(path)) {
    for (const auto& t : file_.tensors) {
      std::string_view name = t.name;
      if (name.starts_with(transformer_prefix)) name.remove_prefix(transformer_prefix.size());
      if (!by_name_.emplace(std::string(name), &t).second) {
        fail("tensor '" + std::string(name) + "' appears both with and without the 'transformer.' prefix");
      }
    }
  }

  [[noreturn]] void fail(const std::string& problem) const { throw_file_error(path_, problem); }

  const tensor& require(const std::string& name) const {
    const auto it = by_name_.find(name);
    if (it == by_name_.end()) fail("missing tensor '" + name + "'");
    return *it->second;
  }

  gpt2_config infer_config(std::optional<std::size_t> n_head) const {
    const auto& wte = require("wte.weight");
    const auto& wpe = require("wpe.weight");
    if (wte.shape.size() != 2 || wpe.shape.size() != 2 || wte.shape[1] != wpe.shape[1]) {
      fail("wte.weight " + shape_text(wte.shape) + " and wpe.weight " + shape_text(wpe.shape) +
           " are not two matrices with the same number of columns");
    }
    gpt2_config config;
    config.vocab_size = wte.shape[0];
    config.n_embd = wte.shape[1];
    config.block_size = wpe.shape[0];
    std::size_t block_tensor_count = 0;
    for (const auto& [name, unused] : by_name_) {
      const auto index = block_index(name);
      if (index && !is_ignored(name)) {
        config.n_layer = std::max(config.n_layer, *index + 1);
        ++block_tensor_count;
      }
    }
    require_every_block(config.n_layer, block_tensor_count);
    const auto stored_head = metadata_number("n_head");
    if (stored_head && n_head && *stored_head != *n_head) {
      fail("n_head " + std::to_string(*n_head) + " was asked for, but the file says " +
           std::to_string(*stored_head));
    }
    if (stored_head) {
      config.n_head = *stored_head;
    } else if (n_head) {
      config.n_head = *n_head;
    } else if (config.n_embd % gpt2_head_size == 0) {
      config.n_head = config.n_embd / gpt2_head_size;
    } else {
      fail("n_head is not in the metadata, and n_embd " + std::to_string(config.n_embd) +
           " is not a multiple of GPT-2's head size " + std::to_string(gpt2_head_size) + "; pass n_head (--n-head)");
    }
    for (std::string_view key : config_keys) {
      const auto stored = metadata_number(key);
      if (stored && *stored != config_field(config, key)) {
        fail("metadata says " + std::string(key) + " = " + std::to_string(*stored) +
             " but the tensor shapes give " + std::to_string(config_field(config, key)));
      }
    }
    try {
      validate(config);
    } catch (const std::invalid_argument& e) {
      fail(e.what());
    }
    return config;
  }

  std::vector<float> load_parameters(const gpt2_config& config) const {
    const auto parameters = gpt2_parameters(config);
    // Every shape is checked before the buffer is allocated: the buffer is then no
    // larger than the tensors the file holds.
    std::set<std::string_view> used;
    for (const auto& p : parameters) {
      const auto& t = require(p.name);
      if (t.shape != p.hf_shape) {
        fail("tensor '" + p.name + "' has shape " + shape_text(t.shape) + ", expected " +
             shape_text(p.hf_shape));
      }
      used.insert(p.name);
    }
    for (const auto& [name, unused] : by_name_) {
      if (!used.contains(name) && !is_ignored(name)) fail("unexpected tensor '" + name + "'");
    }
    std::vector<float> buffer(gpt2_parameter_count(config));
    for (const auto& p : parameters) {
      std::vector<float> values;
      try {
        values = require(p.name).to_floats();
      } catch (const std::invalid_argument& e) {
        fail(e.what());
      }
      const std::span<float> destination(buffer.data() + p.offset, p.size);
      if (p.transposed) {
        transpose_into(values, p.hf_shape[0], p.hf_shape[1], destination);
      } else {
        std::copy(values.begin(), values.end(), destination.begin());
      }
    }
    return buffer;
  }

  const std::map<std::string, std::string>& metadata() const { return file_.metadata; }

 private:
  std::optional<std::size_t> metadata_number(std::string_view key) const {
    const auto it = file_.metadata.find(std::string(key));
    if (it == file_.metadata.end()) return std::nullopt;
    const auto value = parse_strict_number<std::size_t>(it->second);
    if (!value) fail("metadata entry " + std::string(key) + " = '" + it->second + "' is not a number");
    return value;
  }

  // n_layer comes from the largest "h.<i>." name, so one stray name could ask for any
  // number of blocks: before anything is sized by n_layer, every block below it must be
  // in the file. With fewer block tensors than n_layer blocks need, the first incomplete
  // block lies below block_tensor_count / 12, so the search stays as short as the file.
  void require_every_block(std::size_t n_layer, std::size_t block_tensor_count) const {
    if (block_tensor_count / std::size(block_tensors) >= n_layer) return;
    for (std::size_t layer = 0; layer < n_layer; ++layer)
      for (const block_tensor& t : block_tensors)
        if (!by_name_.contains(block_tensor_name(layer, t)))
          fail("missing tensor '" + block_tensor_name(layer, t) + "' (the file names blocks up to h." +
               std::to_string(n_layer - 1) + ")");
  }

  const std::filesystem::path& path_;
  safetensors_file file_;
  std::map<std::string, const tensor*> by_name_;
};

}  // namespace

void validate(const gpt2_config& config) {
  for (std::string_view key : config_keys) {
    if (config_field(config, key) == 0) {
      throw std::invalid_argument("pot: gpt2 config: " + std::string(key) + " must be positive");
    }
  }
  if (config.n_embd % config.n_head != 0) {
    throw std::invalid_argument("pot: gpt2 config: n_embd " + std::to_string(config.n_embd) +
                                " is not a multiple of n_head " + std::to_string(config.n_head));
  }
  (void)checked_parameter_count(config);  // throws if the buffer size overflows
}

std::vector<parameter_tensor> gpt2_parameters(const gpt2_config& config) {
  validate(config);  // also bounds every size and offset below by the (fitting) total
  const std::size_t C = config.n_embd;
  std::vector<parameter_tensor> list;
  list.reserve(4 + config.n_layer * std::size(block_tensors));
  std::size_t offset = 0;
  auto add = [&](std::string name, std::vector<std::size_t> shape, bool transposed) {
    std::vector<std::size_t> hf_shape = shape;
    if (transposed) std::reverse(hf_shape.begin(), hf_shape.end());
    const std::size_t size = checked_product(shape).value();
    const bool matrix = shape.size() == 2;
    list.push_back({std::move(name), std::move(shape), std::move(hf_shape), transposed, matrix,
                    offset, size});
    offset += size;
  };
  add("wte.weight", {config.vocab_size, C}, false);
  add("wpe.weight", {config.block_size, C}, false);
  for (std::size_t layer = 0; layer < config.n_layer; ++layer)
    for (const block_tensor& t : block_tensors)
      add(block_tensor_name(layer, t), block_tensor_shape(t, C), t.transposed);
  add("ln_f.weight", {C}, false);
  add("ln_f.bias", {C}, false);
  return list;
}

std::size_t gpt2_parameter_count(const gpt2_config& config) {
  validate(config);
  return checked_parameter_count(config);
}

const parameter_tensor& find_parameter(std::span<const parameter_tensor> parameters,
                                       std::string_view name) {
  const auto it = std::find_if(parameters.begin(), parameters.end(),
                               [&](const parameter_tensor& p) { return p.name == name; });
  if (it == parameters.end()) {
    throw std::out_of_range("pot: no GPT-2 parameter named '" + std::string(name) + "'");
  }
  return *it;
}

gpt2_checkpoint load_gpt2_checkpoint(const std::filesystem::path& path,
                                     std::optional<std::size_t> n_head) {
  const checkpoint_loader loader(path);
  gpt2_checkpoint checkpoint;
  checkpoint.config = loader.infer_config(n_head);
  checkpoint.parameters = loader.load_parameters(checkpoint.config);
  checkpoint.metadata = loader.metadata();
  checkpoint.n_head_assumed = !checkpoint.metadata.contains("n_head");
  return checkpoint;
}

void save_gpt2_checkpoint(const std::filesystem::path& path, const gpt2_config& config,
                          std::span<const float> parameters,
                          const std::map<std::string, std::string>& extra_metadata) {
  const auto list = gpt2_parameters(config);
  if (parameters.size() != gpt2_parameter_count(config)) {
    throw std::invalid_argument("pot: " + path.string() + ": " + std::to_string(parameters.size()) +
                                " parameters given, the config needs " +
                                std::to_string(gpt2_parameter_count(config)));
  }
  safetensors_file file;
  file.metadata = {{"format", "pt"}};
  for (std::string_view key : config_keys) {
    file.metadata.emplace(key, std::to_string(config_field(config, key)));
  }
  for (const auto& [key, value] : extra_metadata) {
    if (!file.metadata.emplace(key, value).second) {
      throw std::invalid_argument("pot: metadata key '" + key + "' is reserved for the checkpoint");
    }
  }
  std::vector<float> transposed;
  for (const auto& p : list) {
    std::span<const float> values = parameters.subspan(p.offset, p.size);
    if (p.transposed) {
      transposed.resize(p.size);
      transpose_into(values, p.shape[0], p.shape[1], transposed);
      values = transposed;
    }
    file.tensors.push_back(make_f32_tensor(p.name, p.hf_shape, values));
  }
  write_safetensors(path, file);
}

}  // namespace gpt2
