#include "model_io.hpp"

#include <optional>
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

char_tokenizer stored_tokenizer(const std::map<std::string, std::string>& metadata, std::size_t vocab_size,
                                const std::filesystem::path& file) {
  const auto serialized = metadata.find(tokenizer_metadata_key);
  if (serialized == metadata.end())
    throw_file_error(file, "has no char tokenizer (metadata \"tokenizer\"); this program reads files written by "
                           "`gpt2 train`");
  std::optional<char_tokenizer> tokenizer;
  try {
    tokenizer = char_tokenizer::deserialize(serialized->second);
  } catch (const std::invalid_argument& error) {
    throw_file_error(file, error.what());
  }
  if (tokenizer->vocab_size() != vocab_size)
    throw_file_error(file, "the tokenizer has " + std::to_string(tokenizer->vocab_size()) + " tokens, the model " +
                               std::to_string(vocab_size));
  return *std::move(tokenizer);
}

loaded_model load_model(const std::filesystem::path& path, std::size_t max_batch,
                        std::size_t max_sequence, pot::linalg::execution execution) {
  gpt2_checkpoint checkpoint = load_gpt2_checkpoint(path);
  char_tokenizer tokenizer = stored_tokenizer(checkpoint.metadata, checkpoint.config.vocab_size, path);
  const std::size_t sequence = max_sequence == 0 ? checkpoint.config.block_size : max_sequence;
  auto model = std::make_unique<gpt2_model<float>>(checkpoint.config, max_batch, sequence, execution);
  model->load_parameters(checkpoint.parameters);
  return {std::move(model), std::move(tokenizer), std::move(checkpoint.metadata)};
}

}  // namespace gpt2
