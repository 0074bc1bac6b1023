// Fuzz target: load_gpt2_checkpoint (float GPT-2 checkpoints, Hugging Face names). A file
// either loads into a parameter buffer of exactly its config's size that saves and loads
// back bit for bit, or fails with one std::runtime_error "pot: FILE: problem".

#include <cstring>

#include "fuzz_input.hpp"
#include "gpt2_checkpoint.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const pot_fuzz::scratch_file input("checkpoint-input");
  static const pot_fuzz::scratch_file copy("checkpoint-copy");
  const auto loaded = pot_fuzz::load_input(input, data, size, [](const auto& path) {
    return gpt2::load_gpt2_checkpoint(path);
  });
  if (!loaded) return 0;
  const gpt2::gpt2_checkpoint& checkpoint = *loaded;
  if (checkpoint.parameters.size() != gpt2::gpt2_parameter_count(checkpoint.config))
    pot_fuzz::fail("the buffer does not hold the config's parameters");
  std::map<std::string, std::string> extra = checkpoint.metadata;
  for (const char* reserved : {"format", "n_layer", "n_head", "n_embd", "block_size", "vocab_size"}) extra.erase(reserved);
  gpt2::save_gpt2_checkpoint(copy.path(), checkpoint.config, checkpoint.parameters, extra);
  const gpt2::gpt2_checkpoint again = gpt2::load_gpt2_checkpoint(copy.path());
  if (!(again.config == checkpoint.config) ||
      std::memcmp(again.parameters.data(), checkpoint.parameters.data(), again.parameters.size() * sizeof(float)) != 0)
    pot_fuzz::fail("the saved copy loads back differently");
  return 0;
}
