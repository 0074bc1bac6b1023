#include "model_io.hpp"

#include <stdexcept>

#include "gpt2_checkpoint.hpp"

namespace gpt2 {

loaded_model load_model(const std::filesystem::path& path, std::size_t max_batch,
                        std::size_t max_sequence, pot::linalg::execution execution) {
  gpt2_checkpoint checkpoint = load_gpt2_checkpoint(path);
  const auto found = checkpoint.metadata.find(tokenizer_metadata_key);
  if (found == checkpoint.metadata.end())
    throw std::runtime_error("pot: " + path.string() +
                             ": has no char tokenizer (metadata \"tokenizer\"); this program "
                             "reads checkpoints written by `gpt2 train`");
  char_tokenizer tokenizer = char_tokenizer::deserialize(found->second);
  if (tokenizer.vocab_size() != checkpoint.config.vocab_size)
    throw std::runtime_error("pot: " + path.string() + ": the tokenizer has " +
                             std::to_string(tokenizer.vocab_size()) + " tokens, the model " +
                             std::to_string(checkpoint.config.vocab_size));
  const std::size_t sequence = max_sequence == 0 ? checkpoint.config.block_size : max_sequence;
  auto model = std::make_unique<gpt2_model<float>>(checkpoint.config, max_batch, sequence, execution);
  model->load_parameters(checkpoint.parameters);
  return {std::move(model), std::move(tokenizer), std::move(checkpoint.metadata)};
}

}  // namespace gpt2
