// Fuzz target: load_gpt2_checkpoint (float GPT-2 checkpoints, Hugging Face names). A file
// either loads into a parameter buffer of exactly its config's size that saves and loads
// back bit for bit, or fails with one std::runtime_error "pot: FILE: problem". The
// tokenizer its metadata records (text_tokenizer::for_model) is a char vocabulary of the
// model's size, or the same kind of error.

#include <cstring>

#include "fuzz_input.hpp"
#include "gpt2_checkpoint.hpp"
#include "text_tokenizer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const pot_fuzz::scratch_file input("checkpoint-input");
  static const pot_fuzz::scratch_file copy("checkpoint-copy");
  const auto loaded = pot_fuzz::load_input(input, data, size, [](const auto& path) {
    return gpt2::load_gpt2_checkpoint(path);
  });
  if (!loaded) return 0;
  const gpt2::gpt2_checkpoint& checkpoint = *loaded;
  for (const char* kind : {static_cast<const char*>(nullptr), "char"}) {
    const auto request = gpt2::tokenizer_request::parse(kind ? std::optional<std::string>(kind) : std::nullopt, {});
    try {
      const auto tokenizer =
          gpt2::text_tokenizer::for_model(checkpoint.metadata, checkpoint.config.vocab_size, input.path(), request);
      if (tokenizer.vocab_size() != checkpoint.config.vocab_size)
        pot_fuzz::fail("the tokenizer does not have the model's vocabulary size");
    } catch (const std::runtime_error& error) {
      pot_fuzz::require_file_message(error, {input.path()});
    }
  }
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
