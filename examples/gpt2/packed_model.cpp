#include "packed_model.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <set>
#include <stdexcept>

#include "pot/core/packing.hpp"
#include "checked_size.hpp"
#include "file_error.hpp"
#include "safetensors.hpp"
#include "strict_number.hpp"

namespace gpt2 {

namespace {

constexpr const char* format_key = "pot.format";
constexpr const char* activations_key = "pot.activations";
constexpr const char* granularity_key = "pot.granularity";
constexpr const char* config_keys[] = {"n_layer", "n_head", "n_embd", "block_size", "vocab_size"};

std::vector<linear_id> model_linears(const gpt2_config& config) {
  std::vector<linear_id> ids;
  for (std::size_t layer = 0; layer < config.n_layer; ++layer)
    for (std::size_t kind = 0; kind < linear_kind_count; ++kind)
      ids.push_back({layer, static_cast<linear_kind>(kind)});
  return ids;
}

std::string module_prefix(linear_id id) {
  return "h." + std::to_string(id.layer) + "." + std::string(linear_module_name(id.kind));
}

/// Whether \p name is a block Linear's weight "h.<i>.<module>.weight" (stored packed).
bool is_linear_weight(std::string_view name) {
  if (!name.starts_with("h.")) return false;
  for (std::size_t kind = 0; kind < linear_kind_count; ++kind)
    if (name.ends_with("." + std::string(linear_module_name(static_cast<linear_kind>(kind))) + ".weight"))
      return true;
  return false;
}

const std::string& metadata_entry(const std::map<std::string, std::string>& metadata, const std::string& key) {
  const auto found = metadata.find(key);
  if (found == metadata.end()) throw std::runtime_error("missing metadata entry " + key);
  return found->second;
}

std::size_t config_entry(const std::map<std::string, std::string>& metadata, const std::string& key) {
  const std::string& text = metadata_entry(metadata, key);
  const auto value = parse_strict_number<std::size_t>(text);
  if (!value) throw std::runtime_error("metadata entry " + key + " = '" + text + "' is not a count");
  return *value;
}

// Tensors per block in a packed file: codes, scales, input scale and zero point of each
// Linear, and the block's 8 float vectors (LayerNorms and biases).
constexpr std::size_t tensors_per_block = 4 * linear_kind_count + 8;

/// The tensors of a packed file, each looked up by name and checked for shape and
/// element type, so that every size the model allocates is one the file holds.
class packed_tensors {
 public:
  explicit packed_tensors(const safetensors_file& file) : file_(file) {
    for (const tensor& t : file.tensors) by_name_.emplace(t.name, &t);
  }

  /// The tensor \p name, which a require() has checked.
  const tensor& operator[](const std::string& name) const { return *by_name_.at(name); }

  const tensor& require(const std::string& name, const std::vector<std::size_t>& shape) {
    const auto it = by_name_.find(name);
    if (it == by_name_.end()) throw std::runtime_error("missing tensor " + name);
    const tensor* found = it->second;
    if (found->shape != shape)
      throw std::runtime_error("tensor " + name + " has shape " + shape_text(found->shape) + ", expected " +
                               shape_text(shape));
    expected_.insert(found->name);
    return *found;
  }

  const tensor& require(const std::string& name, const std::vector<std::size_t>& shape, dtype type) {
    const tensor& found = require(name, shape);
    if (found.type != type)
      throw std::runtime_error("tensor " + name + " is " + std::string(dtype_name(found.type)) + ", expected " +
                               std::string(dtype_name(type)));
    return found;
  }

  [[nodiscard]] std::size_t file_tensor_count() const { return file_.tensors.size(); }

  /// Throws naming a tensor that no require() asked for.
  void reject_unexpected() const {
    if (expected_.size() == file_.tensors.size()) return;
    for (const tensor& t : file_.tensors)
      if (!expected_.contains(t.name)) throw std::runtime_error("unexpected tensor " + t.name);
  }

 private:
  static std::string shape_text(const std::vector<std::size_t>& shape) {
    std::string text = "[";
    for (std::size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
    return text + "]";
  }

  const safetensors_file& file_;
  std::map<std::string_view, const tensor*> by_name_;
  std::set<std::string_view> expected_;
};

/// Checks every tensor a packed model of \p config needs, before the model allocates
/// anything. n_layer comes from the metadata, so it is first bounded by the number of
/// tensors in the file: a block beyond that cannot be complete.
void check_packed_tensors(packed_tensors& tensors, const gpt2_config& config, const quantization_options& options) {
  gpt2_config listed = config;
  listed.n_layer = std::min(config.n_layer, tensors.file_tensor_count() / tensors_per_block + 1);
  const bool per_tensor = options.granularity == pot::scale_granularity::per_tensor;
  for (const parameter_tensor& t : gpt2_parameters(listed)) {
    if (!is_linear_weight(t.name)) {
      tensors.require(t.name, t.hf_shape);
      continue;
    }
    const std::string prefix = t.name.substr(0, t.name.size() - std::string_view(".weight").size());
    const std::size_t rows = t.shape[0], cols = t.shape[1];
    tensors.require(prefix + ".weight_codes", {rows, pot::packed_bytes(cols, options.format.bits)}, dtype::U8);
    tensors.require(prefix + ".weight_scales", {per_tensor ? std::size_t{1} : rows});
    tensors.require(prefix + ".input_scale", {1});
    tensors.require(prefix + ".input_zero_point", {1});
  }
  // Unreachable when n_layer exceeds the listed blocks: their tensors outnumber the file's.
  if (listed.n_layer != config.n_layer) throw std::logic_error("pot: packed model blocks were not all checked");
  tensors.reject_unexpected();
}

}  // namespace

std::size_t packed_model::float32_weight_bytes() const {
  std::size_t total = 0;
  for (const auto& linear : linears) total += linear->float32_bytes();
  return total;
}

std::size_t packed_model::packed_weight_bytes() const {
  std::size_t total = 0;
  for (const auto& linear : linears) total += linear->packed_bytes();
  return total;
}

packed_model pack_model(const gpt2_config& config, std::span<const float> parameters,
                        const quantization_options& options, std::span<const activation_qparams> activations,
                        std::map<std::string, std::string> metadata) {
  const std::vector<parameter_tensor> tensors = gpt2_parameters(config);
  if (parameters.size() != gpt2_parameter_count(config))
    throw std::invalid_argument("pot: " + std::to_string(parameters.size()) + " parameters for a model of " +
                                std::to_string(gpt2_parameter_count(config)));
  if (options.activations == activation_type::none)
    throw std::invalid_argument("pot: a packed model needs 8-bit activations (uint8 or int8) for its "
                                "integer path, not float");
  const std::vector<linear_id> ids = model_linears(config);
  if (activations.size() != ids.size())
    throw std::invalid_argument("pot: " + std::to_string(activations.size()) +
                                " activation parameter sets for " + std::to_string(ids.size()) + " Linears");
  packed_model model{config, options, std::vector<float>(parameters.begin(), parameters.end()), {},
                     std::vector<activation_qparams>(activations.begin(), activations.end()),
                     std::move(metadata)};
  const weight_format& format = find_weight_format(options.format);
  for (const linear_id id : ids) {
    const parameter_tensor& weight = find_parameter(tensors, linear_weight_name(id));
    const std::span<float> values = std::span<float>(model.parameters).subspan(weight.offset, weight.size);
    model.linears.push_back(format.pack(values, weight.shape[0], weight.shape[1], options.granularity));
    model.linears.back()->dequantize(values);
  }
  return model;
}

void save_packed_model(const std::filesystem::path& path, const packed_model& model) {
  safetensors_file file;
  const std::vector<parameter_tensor> tensors = gpt2_parameters(model.config);
  for (const parameter_tensor& t : tensors) {
    if (is_linear_weight(t.name)) continue;
    file.tensors.push_back(make_f32_tensor(
        t.name, t.hf_shape, std::span<const float>(model.parameters).subspan(t.offset, t.size)));
  }
  for (const linear_id id : model_linears(model.config)) {
    const packed_linear& linear = *model.linears[linear_index(id)];
    const std::string prefix = module_prefix(id);
    const std::vector<std::uint8_t> codes = linear.packed_codes();
    tensor code_tensor{prefix + ".weight_codes", dtype::U8, {linear.rows(), codes.size() / linear.rows()}, {}};
    code_tensor.bytes.resize(codes.size());
    std::memcpy(code_tensor.bytes.data(), codes.data(), codes.size());
    file.tensors.push_back(std::move(code_tensor));
    file.tensors.push_back(make_f32_tensor(prefix + ".weight_scales", {linear.scales().size()}, linear.scales()));
    const activation_qparams& q = model.activations[linear_index(id)];
    file.tensors.push_back(make_f32_tensor(prefix + ".input_scale", {1}, std::span<const float>(&q.scale, 1)));
    file.tensors.push_back(
        make_i32_tensor(prefix + ".input_zero_point", {1}, std::span<const std::int32_t>(&q.zero_point, 1)));
  }
  file.metadata = model.metadata;
  const std::size_t config_values[] = {model.config.n_layer, model.config.n_head, model.config.n_embd,
                                       model.config.block_size, model.config.vocab_size};
  for (std::size_t i = 0; i < std::size(config_keys); ++i)
    file.metadata[config_keys[i]] = std::to_string(config_values[i]);
  file.metadata[format_key] = format_name(model.options.format);
  file.metadata[activations_key] = activation_type_name(model.options.activations);
  file.metadata[granularity_key] = granularity_name(model.options.granularity);
  write_safetensors(path, file);
}

bool is_packed_model_file(const std::filesystem::path& path) {
  return read_safetensors(path).metadata.contains(format_key);
}

packed_model load_packed_model(const std::filesystem::path& path) {
  const safetensors_file file = read_safetensors(path);
  try {
    if (!file.metadata.contains(format_key))
      throw std::runtime_error("not a packed model (no metadata " + std::string(format_key) +
                               "; a float checkpoint?)");
    packed_model model;
    model.config = {config_entry(file.metadata, "n_layer"), config_entry(file.metadata, "n_head"),
                    config_entry(file.metadata, "n_embd"), config_entry(file.metadata, "block_size"),
                    config_entry(file.metadata, "vocab_size")};
    validate(model.config);
    model.options.format = parse_format_name(metadata_entry(file.metadata, format_key));
    model.options.activations = parse_activation_type(metadata_entry(file.metadata, activations_key));
    if (model.options.activations == activation_type::none)
      throw std::runtime_error("packed models have 8-bit activations, this one says float");
    model.options.granularity = parse_granularity(metadata_entry(file.metadata, granularity_key));
    model.metadata = file.metadata;
    for (const char* key : {format_key, activations_key, granularity_key}) model.metadata.erase(key);
    for (const char* key : config_keys) model.metadata.erase(key);
    packed_tensors stored(file);
    check_packed_tensors(stored, model.config, model.options);

    // Every tensor is there with its shape: from here on sizes are the file's.
    const std::vector<parameter_tensor> tensors = gpt2_parameters(model.config);
    std::map<std::string_view, const parameter_tensor*> linear_weights;
    model.parameters.assign(gpt2_parameter_count(model.config), 0.0f);
    for (const parameter_tensor& t : tensors) {
      if (is_linear_weight(t.name)) {
        linear_weights.emplace(t.name, &t);
        continue;
      }
      const std::vector<float> values = stored[t.name].to_floats();
      std::copy(values.begin(), values.end(), model.parameters.begin() + static_cast<std::ptrdiff_t>(t.offset));
    }
    const weight_format& format = find_weight_format(model.options.format);
    for (const linear_id id : model_linears(model.config)) {
      const std::string prefix = module_prefix(id);
      const parameter_tensor& weight = *linear_weights.at(linear_weight_name(id));
      const std::vector<std::byte>& code_bytes = stored[prefix + ".weight_codes"].bytes;
      const auto* first_code = reinterpret_cast<const std::uint8_t*>(code_bytes.data());
      const std::vector<std::uint8_t> packed(first_code, first_code + code_bytes.size());
      model.linears.push_back(format.unpack(weight.shape[0], weight.shape[1], packed,
                                            stored[prefix + ".weight_scales"].to_floats()));
      model.linears.back()->dequantize(std::span<float>(model.parameters).subspan(weight.offset, weight.size));
      const float scale = stored[prefix + ".input_scale"].to_floats()[0];
      const std::int64_t zero_point = stored[prefix + ".input_zero_point"].to_integers()[0];
      if (zero_point < std::numeric_limits<std::int32_t>::min() ||
          zero_point > std::numeric_limits<std::int32_t>::max())
        throw std::runtime_error("tensor " + prefix + ".input_zero_point holds " + std::to_string(zero_point) +
                                 ", which is no 8-bit zero point");
      model.activations.push_back({model.options.activations, scale, static_cast<std::int32_t>(zero_point)});
      validate(model.activations.back());  // throws on an invalid scale or zero point
    }
    return model;
  } catch (const std::exception& error) {
    throw_file_error(path, error.what());
  }
}

std::unique_ptr<gpt2_model<float>> make_packed_float_model(const packed_model& model, std::size_t max_batch,
                                                           std::size_t max_sequence,
                                                           pot::linalg::execution execution) {
  auto result = std::make_unique<gpt2_model<float>>(model.config, max_batch, max_sequence, execution);
  result->load_parameters(model.parameters);
  return result;
}

integer_linears::integer_linears(const packed_model& model) {
  for (std::size_t i = 0; i < model.linears.size(); ++i) {
    linears_.push_back(model.linears[i]->make_integer_linear(model.activations[i]));
    layers_.push_back(linears_.back().get());
  }
}

}  // namespace gpt2
