#include "model_io.hpp"

#include <stdexcept>

#include "file_error.hpp"
#include "gpt2_checkpoint.hpp"

namespace gpt2 {

const std::string& required_metadata(const std::map<std::string, std::string>& metadata, const std::string& key,
                                     const std::filesystem::path& file) {
  const auto found = metadata.find(key);
  if (found == metadata.end())
    throw_file_error(file, "has no metadata entry \"" + key + "\"; this program reads files written by `gpt2 train`");
  return found->second;
}

text_tokenizer stored_tokenizer(const std::map<std::string, std::string>& metadata, std::size_t vocab_size,
                                const std::filesystem::path& file, const tokenizer_request& request) {
  return text_tokenizer::for_model(metadata, vocab_size, file, request);
}

std::string corpus_of(const std::map<std::string, std::string>& metadata, const std::optional<std::string>& data,
                      const std::filesystem::path& file) {
  if (data) return *data;
  const auto found = metadata.find("corpus");
  if (found == metadata.end())
    throw_file_error(file, "records no training corpus (metadata \"corpus\"), as Hugging Face's files; pass "
                           "--data FILE");
  return found->second;
}

model_file read_model_file(const std::filesystem::path& path, const model_request& request) {
  gpt2_checkpoint checkpoint = load_gpt2_checkpoint(path, request.n_head);
  text_tokenizer tokenizer = stored_tokenizer(checkpoint.metadata, checkpoint.config.vocab_size, path,
                                              request.tokenizer);
  return {std::move(checkpoint), std::move(tokenizer)};
}

loaded_model load_model(model_file file, std::size_t max_batch, std::size_t max_sequence,
                        pot::linalg::execution execution) {
  gpt2_checkpoint& checkpoint = file.checkpoint;
  const std::size_t sequence = max_sequence == 0 ? checkpoint.config.block_size : max_sequence;
  auto model = std::make_unique<gpt2_model<float>>(checkpoint.config, max_batch, sequence, execution);
  model->load_parameters(checkpoint.parameters);
  return {std::move(model), std::move(file.tokenizer), std::move(checkpoint.metadata), checkpoint.n_head_assumed};
}

loaded_model load_model(const std::filesystem::path& path, std::size_t max_batch, std::size_t max_sequence,
                        pot::linalg::execution execution, const model_request& request) {
  return load_model(read_model_file(path, request), max_batch, max_sequence, execution);
}

std::map<std::string, std::string> derived_metadata(const loaded_model& loaded, const std::string& corpus) {
  std::map<std::string, std::string> metadata = loaded.metadata;
  for (auto& [key, value] : loaded.tokenizer.metadata()) metadata[key] = value;
  metadata["corpus"] = corpus;
  return metadata;
}

std::string describe_model(const loaded_model& loaded) {
  const gpt2_config& c = loaded.model->config();
  return "n_layer " + std::to_string(c.n_layer) + ", n_head " + std::to_string(c.n_head) +
         (loaded.n_head_assumed ? " (not in the file: --n-head or n_embd / 64)" : "") + ", n_embd " +
         std::to_string(c.n_embd) + ", block " + std::to_string(c.block_size) + ", vocabulary " +
         loaded.tokenizer.description();
}

}  // namespace gpt2
