// Fuzz target: the char tokenizer on an input "vocabulary\0text". A vocabulary either
// deserializes into a tokenizer that serializes back to the same bytes, whose encoding of
// the text (when every character is in it) decodes back to the text, or fails with a
// "pot: " message; so does decoding the text's bytes read as token ids.

#include <cstring>

#include "fuzz_input.hpp"
#include "tokenizer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto parts = pot_fuzz::split_at_nul(pot_fuzz::as_text(data, size), 2);
  std::optional<gpt2::char_tokenizer> tokenizer;
  try {
    tokenizer = gpt2::char_tokenizer::deserialize(parts[0]);
  } catch (const std::invalid_argument& error) {
    pot_fuzz::require_pot_message(error);
    return 0;
  }
  if (tokenizer->serialize() != parts[0]) pot_fuzz::fail("serialize(deserialize(v)) != v");
  try {
    const std::vector<std::int32_t> tokens = tokenizer->encode_utf8(parts[1]);
    if (tokenizer->decode(tokens) != parts[1]) pot_fuzz::fail("decode(encode(text)) != text");
  } catch (const std::exception& error) {  // invalid UTF-8, or a character not in the vocabulary
    pot_fuzz::require_pot_message(error);
  }
  std::vector<std::int32_t> ids(parts[1].size() / sizeof(std::int32_t));
  if (!ids.empty()) std::memcpy(ids.data(), parts[1].data(), ids.size() * sizeof(std::int32_t));
  try {
    (void)tokenizer->decode(ids);
  } catch (const std::out_of_range& error) {
    pot_fuzz::require_pot_message(error);
  }
  return 0;
}
