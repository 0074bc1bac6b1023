// Fuzz target: GPT-2's pre-tokenizer and BPE encode on arbitrary text, with a vocabulary
// that holds every byte symbol (so every valid text encodes). Invalid UTF-8 fails with a
// "pot: " message; valid text splits into pieces that concatenate to it, and encodes to
// tokens that decode to it.

#include <string>

#include "bpe_tokenizer.hpp"
#include "fuzz_input.hpp"
#include "utf8.hpp"

namespace {

// The 256 byte symbols, and merges that build a few English words and contractions.
gpt2::bpe_tokenizer make_tokenizer() {
  std::map<std::string, std::int32_t> encoder;
  for (unsigned byte = 0; byte < 256; ++byte) {
    std::string symbol;
    gpt2::append_utf8(gpt2::byte_to_symbol(static_cast<std::uint8_t>(byte)), symbol);
    encoder.emplace(symbol, static_cast<std::int32_t>(encoder.size()));
  }
  const std::string space = [] {
    std::string symbol;
    gpt2::append_utf8(gpt2::byte_to_symbol(' '), symbol);
    return symbol;
  }();
  const std::vector<std::pair<std::string, std::string>> merges = {
      {"t", "h"}, {"th", "e"}, {space, "the"}, {"i", "n"}, {"in", "g"}, {"'", "s"}, {"'", "t"},
      {"e", "r"}, {space, "t"}, {"o", "n"}, {space + "t", "o"}, {"1", "2"}, {"12", "3"}};
  for (const auto& [left, right] : merges)
    encoder.emplace(left + right, static_cast<std::int32_t>(encoder.size()));
  return {std::move(encoder), merges};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const gpt2::bpe_tokenizer tokenizer = make_tokenizer();
  const std::string_view text = pot_fuzz::as_text(data, size);
  std::vector<std::string> pieces;
  try {
    pieces = gpt2::gpt2_pretokenize(text);
  } catch (const std::runtime_error& error) {
    pot_fuzz::require_pot_message(error);
    return 0;
  }
  std::string joined;
  for (const std::string& piece : pieces) {
    if (piece.empty()) pot_fuzz::fail("an empty piece");
    joined += piece;
  }
  if (joined != text) pot_fuzz::fail("the pieces do not concatenate to the text");
  if (tokenizer.decode(tokenizer.encode(text)) != text) pot_fuzz::fail("decode(encode(text)) != text");
  return 0;
}
