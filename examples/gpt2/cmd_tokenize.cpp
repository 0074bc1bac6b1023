// `gpt2 tokenize`: GPT-2 BPE token ids of a text, and text of token ids.

#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include "commands.hpp"
#include "strict_number.hpp"
#include "utf8.hpp"

namespace gpt2 {

namespace {

constexpr const char* usage = R"(usage: gpt2 tokenize --tokenizer gpt2 --vocab DIR [--data FILE] [--decode]

Prints the GPT-2 BPE token ids of a UTF-8 text, space-separated on one line. With
--decode it reads token ids separated by white space instead and writes the bytes they
stand for, adding nothing: decoding the ids of a text gives the text back.

  --tokenizer gpt2       the tokenizer (GPT-2's byte-level BPE; implied by --vocab)
  --vocab DIR            encoder.json and vocab.bpe (or vocab.json and merges.txt)
  --data FILE            the input (default: standard input)
  --decode               token ids to text
)";

std::string read_input(const std::optional<std::string>& path) {
  if (path) return read_file_bytes(*path);
  std::cin.exceptions(std::ios::badbit);
  return {std::istreambuf_iterator<char>(std::cin), {}};
}

/// The ids of \p text, words separated by white space, each a token id of \p bpe.
std::vector<std::int32_t> parse_ids(std::string_view text, const std::string& source) {
  std::vector<std::int32_t> ids;
  constexpr std::string_view space = " \t\n\r\f\v";
  for (std::size_t start = text.find_first_not_of(space); start != std::string_view::npos;) {
    const std::size_t end = std::min(text.find_first_of(space, start), text.size());
    const std::string_view word = text.substr(start, end - start);
    const auto id = parse_strict_number<std::int32_t>(word);
    if (!id || *id < 0)
      throw std::invalid_argument("pot: " + source + ": word " + std::to_string(ids.size() + 1) + " (\"" +
                                  std::string(word.substr(0, 32)) + "\") is not a token id");
    ids.push_back(*id);
    start = text.find_first_not_of(space, end);
  }
  return ids;
}

}  // namespace

int run_tokenize(arguments& args) {
  if (args.help()) {
    std::cout << usage;
    return 0;
  }
  const tokenizer_request request =
      tokenizer_request::parse(args.optional_text("tokenizer"), args.optional_text("vocab"));
  const auto data = args.optional_text("data");
  const bool decode = args.flag("decode");
  args.finish();
  if (request.requested_kind() != tokenizer_kind::gpt2_bpe || !request.vocabulary)
    throw std::invalid_argument("pot: tokenize needs --tokenizer gpt2 --vocab DIR (a char tokenizer lives in its model)");

  const bpe_tokenizer bpe = bpe_tokenizer::from_directory(*request.vocabulary);
  const std::string input = read_input(data);
  const std::string source = data ? *data : "standard input";
  if (decode) {
    const std::vector<std::int32_t> ids = parse_ids(input, source);
    for (std::size_t i = 0; i < ids.size(); ++i)
      if (static_cast<std::size_t>(ids[i]) >= bpe.vocab_size())
        throw std::invalid_argument("pot: " + source + ": word " + std::to_string(i + 1) + ", id " +
                                    std::to_string(ids[i]) + ", is not in the vocabulary of " +
                                    std::to_string(bpe.vocab_size()) + " tokens");
    const std::string text = bpe.decode(ids);
    std::cout.write(text.data(), static_cast<std::streamsize>(text.size()));
    return 0;
  }
  static_cast<void>(decode_utf8(input, source));  // names the offset of invalid UTF-8 in the input
  const std::vector<std::int32_t> ids = bpe.encode(input);
  std::string line;
  for (const std::int32_t id : ids) {
    if (!line.empty()) line += ' ';
    line += std::to_string(id);
  }
  std::cout << line << "\n";
  return 0;
}

}  // namespace gpt2
