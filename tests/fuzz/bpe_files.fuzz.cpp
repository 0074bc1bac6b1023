// Fuzz target: bpe_tokenizer::from_files on an input "encoder.json\0vocab.bpe\0text". The
// files either make a tokenizer, whose encoding of the text (when every symbol is in its
// vocabulary) decodes back to the text, or fail with one std::runtime_error
// "pot: FILE: problem" naming one of them.

#include "bpe_tokenizer.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const pot_fuzz::scratch_file encoder_json("encoder.json");
  static const pot_fuzz::scratch_file vocab_bpe("vocab.bpe");
  const auto parts = pot_fuzz::split_at_nul(pot_fuzz::as_text(data, size), 3);
  encoder_json.write(parts[0]);
  vocab_bpe.write(parts[1]);
  std::optional<gpt2::bpe_tokenizer> tokenizer;
  try {
    tokenizer = gpt2::bpe_tokenizer::from_files(encoder_json.path(), vocab_bpe.path());
  } catch (const std::runtime_error& error) {
    pot_fuzz::require_file_message(error, {encoder_json.path(), vocab_bpe.path()});
    return 0;
  }
  std::vector<std::int32_t> tokens;
  try {
    tokens = tokenizer->encode(parts[2]);
  } catch (const std::exception& error) {  // invalid UTF-8, or a symbol not in the vocabulary
    pot_fuzz::require_pot_message(error);
    return 0;
  }
  if (tokenizer->decode(tokens) != parts[2]) pot_fuzz::fail("decode(encode(text)) != text");
  return 0;
}
