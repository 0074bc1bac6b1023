#include "text_tokenizer.hpp"

#include <stdexcept>

#include "file_error.hpp"
#include "utf8.hpp"

namespace gpt2 {

std::string_view tokenizer_kind_name(tokenizer_kind kind) {
  return kind == tokenizer_kind::character ? "char" : "gpt2";
}

tokenizer_request tokenizer_request::parse(const std::optional<std::string>& kind,
                                           const std::optional<std::string>& vocabulary) {
  tokenizer_request request;
  if (kind) {
    if (*kind == "char") request.kind = tokenizer_kind::character;
    else if (*kind == "gpt2") request.kind = tokenizer_kind::gpt2_bpe;
    else throw std::invalid_argument("pot: --tokenizer must be char or gpt2, not '" + *kind + "'");
  }
  if (vocabulary) {
    if (request.kind == tokenizer_kind::character)
      throw std::invalid_argument("pot: --vocab is for --tokenizer gpt2; the char tokenizer has no vocabulary files");
    request.vocabulary = *vocabulary;
  }
  return request;
}

std::optional<tokenizer_kind> tokenizer_request::requested_kind() const {
  if (kind) return kind;
  if (vocabulary) return tokenizer_kind::gpt2_bpe;
  return std::nullopt;
}

text_tokenizer::text_tokenizer(char_tokenizer tokenizer) : tokenizer_(std::move(tokenizer)) {}
text_tokenizer::text_tokenizer(bpe_tokenizer tokenizer) : tokenizer_(std::move(tokenizer)) {}

namespace {

constexpr const char* vocab_hint = "--vocab DIR (the folder of encoder.json and vocab.bpe)";

std::string described(tokenizer_kind kind) {
  return kind == tokenizer_kind::character ? "the char tokenizer stored in it" : "GPT-2's BPE tokenizer";
}

}  // namespace

text_tokenizer text_tokenizer::for_training(const tokenizer_request& request, std::string_view corpus) {
  if (request.requested_kind() != tokenizer_kind::gpt2_bpe)
    return text_tokenizer(char_tokenizer::from_text(decode_utf8(corpus, "the corpus")));
  if (!request.vocabulary) throw std::invalid_argument(std::string("pot: --tokenizer gpt2 needs ") + vocab_hint);
  return text_tokenizer(bpe_tokenizer::from_directory(*request.vocabulary));
}

text_tokenizer text_tokenizer::for_model(const std::map<std::string, std::string>& metadata, std::size_t vocab_size,
                                         const std::filesystem::path& file, const tokenizer_request& request) {
  const std::optional<tokenizer_kind> requested = request.requested_kind();
  const auto recorded = metadata.find(tokenizer_metadata_key);
  std::optional<tokenizer_kind> recorded_kind;
  if (recorded != metadata.end())
    recorded_kind = recorded->second == gpt2_tokenizer_marker ? tokenizer_kind::gpt2_bpe : tokenizer_kind::character;
  if (!recorded_kind && !requested)
    throw_file_error(file, std::string("records no tokenizer (metadata \"tokenizer\"), as Hugging Face's GPT-2 files; "
                                       "pass --tokenizer gpt2 ") + vocab_hint);
  if (recorded_kind && requested && *recorded_kind != *requested)
    throw_file_error(file, "the model was trained with " + described(*recorded_kind) + ", not --tokenizer " +
                               std::string(tokenizer_kind_name(*requested)));

  if (recorded_kind.value_or(*requested) == tokenizer_kind::character) {
    if (!recorded_kind)
      throw_file_error(file, "has no char tokenizer (metadata \"tokenizer\"): a char model is one written by "
                             "`gpt2 train`; a Hugging Face GPT-2 file needs --tokenizer gpt2 --vocab DIR");
    if (request.vocabulary)
      throw_file_error(file, "the model uses the char tokenizer stored in it; --vocab is only for GPT-2 BPE models");
    std::optional<char_tokenizer> tokenizer;
    try {
      tokenizer = char_tokenizer::deserialize(recorded->second);
    } catch (const std::invalid_argument& error) {
      throw_file_error(file, error.what());
    }
    if (tokenizer->vocab_size() != vocab_size)
      throw_file_error(file, "the tokenizer has " + std::to_string(tokenizer->vocab_size()) + " tokens, the model " +
                                 std::to_string(vocab_size));
    return text_tokenizer(*std::move(tokenizer));
  }

  if (!request.vocabulary) throw_file_error(file, "the model uses GPT-2's BPE tokenizer: pass " + std::string(vocab_hint));
  bpe_tokenizer tokenizer = bpe_tokenizer::from_directory(*request.vocabulary);
  if (tokenizer.vocab_size() != vocab_size)
    throw_file_error(file, "the model has a vocabulary of " + std::to_string(vocab_size) + " tokens, the BPE "
                           "vocabulary in " + request.vocabulary->string() + " " +
                               std::to_string(tokenizer.vocab_size()));
  const auto fingerprint = metadata.find(bpe_fingerprint_metadata_key);
  if (fingerprint != metadata.end() && fingerprint->second != tokenizer.fingerprint())
    throw_file_error(file, "the model was trained with another BPE vocabulary of the same size (fingerprint " +
                               fingerprint->second + ") than the one in " + request.vocabulary->string() +
                               " (fingerprint " + tokenizer.fingerprint() + ")");
  return text_tokenizer(std::move(tokenizer));
}

tokenizer_kind text_tokenizer::kind() const noexcept {
  return std::holds_alternative<char_tokenizer>(tokenizer_) ? tokenizer_kind::character : tokenizer_kind::gpt2_bpe;
}

std::size_t text_tokenizer::vocab_size() const noexcept {
  return std::visit([](const auto& tokenizer) { return tokenizer.vocab_size(); }, tokenizer_);
}

std::vector<std::int32_t> text_tokenizer::encode(std::string_view text) const {
  if (const auto* characters = std::get_if<char_tokenizer>(&tokenizer_)) return characters->encode_utf8(text);
  return std::get<bpe_tokenizer>(tokenizer_).encode(text);
}

std::string text_tokenizer::decode(std::span<const std::int32_t> tokens) const {
  return std::visit([&](const auto& tokenizer) { return tokenizer.decode(tokens); }, tokenizer_);
}

std::map<std::string, std::string> text_tokenizer::metadata() const {
  if (const auto* characters = std::get_if<char_tokenizer>(&tokenizer_))
    return {{tokenizer_metadata_key, characters->serialize()}};
  return {{tokenizer_metadata_key, gpt2_tokenizer_marker},
          {bpe_fingerprint_metadata_key, std::get<bpe_tokenizer>(tokenizer_).fingerprint()}};
}

std::string text_tokenizer::description() const {
  if (kind() == tokenizer_kind::character) return "char-level, " + std::to_string(vocab_size()) + " characters";
  return "GPT-2 BPE, " + std::to_string(vocab_size()) + " tokens";
}

}  // namespace gpt2
