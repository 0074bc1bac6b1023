/// \file
/// \brief The tokenizer of a model: the reference's char-level one or GPT-2's BPE, how a
/// checkpoint records which one it needs, and the check that refuses the wrong one.
///
/// Checkpoint metadata: "tokenizer" holds the char tokenizer's vocabulary (its
/// serialize(); a sorted, repeat-free string of code points) or the marker "gpt2" (never a
/// char vocabulary: 't' > '2' is out of order). A GPT-2 BPE model also records
/// "tokenizer.fingerprint" (bpe_tokenizer::fingerprint()). encoder.json is too large to
/// copy into every checkpoint, so a BPE model is read with `--vocab DIR` again. Hugging
/// Face's GPT-2 files record no tokenizer; they are read with `--tokenizer gpt2 --vocab DIR`.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "bpe_tokenizer.hpp"
#include "tokenizer.hpp"

namespace gpt2 {

/// \brief The metadata key under which checkpoints record their tokenizer.
inline constexpr const char* tokenizer_metadata_key = "tokenizer";
/// \brief The "tokenizer" value of a GPT-2 BPE model.
inline constexpr const char* gpt2_tokenizer_marker = "gpt2";
/// \brief The metadata key of a GPT-2 BPE model's vocabulary fingerprint.
inline constexpr const char* bpe_fingerprint_metadata_key = "tokenizer.fingerprint";

/// \brief The two tokenizers a model can have.
enum class tokenizer_kind {
  character,  ///< one token per code point of the training text (the reference's)
  gpt2_bpe,   ///< GPT-2's byte-level BPE (encoder.json + vocab.bpe)
};

/// \brief "char" or "gpt2", as `--tokenizer` spells them.
std::string_view tokenizer_kind_name(tokenizer_kind kind);

/// \brief What the command line asks for (`--tokenizer`, `--vocab`).
struct tokenizer_request {
  std::optional<tokenizer_kind> kind;               ///< --tokenizer; --vocab alone means gpt2
  std::optional<std::filesystem::path> vocabulary;  ///< --vocab DIR (encoder.json, vocab.bpe)

  /// \brief From the option values: "char" or "gpt2", and a directory or none.
  /// \throws std::invalid_argument for another name, or --vocab with --tokenizer char
  static tokenizer_request parse(const std::optional<std::string>& kind,
                                 const std::optional<std::string>& vocabulary);

  /// \brief The kind asked for: the explicit one, gpt2 if only --vocab was given.
  [[nodiscard]] std::optional<tokenizer_kind> requested_kind() const;
};

/// \brief A model's tokenizer, char-level or GPT-2 BPE, behind one interface.
class text_tokenizer {
 public:
  explicit text_tokenizer(char_tokenizer tokenizer);
  explicit text_tokenizer(bpe_tokenizer tokenizer);

  /// \brief The tokenizer for a new model trained on \p corpus (UTF-8): the corpus's
  /// characters (the default), or GPT-2's BPE from the requested directory.
  /// \throws std::invalid_argument for gpt2 without --vocab; std::runtime_error for a bad
  ///   vocabulary directory or invalid UTF-8
  static text_tokenizer for_training(const tokenizer_request& request, std::string_view corpus);

  /// \brief The tokenizer \p file (a model of \p vocab_size tokens) records in its
  /// \p metadata, or the one \p request names for a file that records none.
  /// \throws std::runtime_error "pot: <file>: <problem>" when the request contradicts
  ///   the file (another kind, --vocab for a char model, no --vocab for a BPE model,
  ///   another BPE vocabulary), when the vocabulary size differs from the model's, or
  ///   when the file records no tokenizer and none was asked for
  static text_tokenizer for_model(const std::map<std::string, std::string>& metadata, std::size_t vocab_size,
                                  const std::filesystem::path& file, const tokenizer_request& request);

  [[nodiscard]] tokenizer_kind kind() const noexcept;
  [[nodiscard]] std::size_t vocab_size() const noexcept;

  /// \brief Token ids of UTF-8 \p text.
  /// \throws std::runtime_error for invalid UTF-8; std::invalid_argument for a character
  ///   outside a char vocabulary
  [[nodiscard]] std::vector<std::int32_t> encode(std::string_view text) const;

  /// \brief The bytes of \p tokens (a BPE token may hold part of a UTF-8 character).
  /// \throws std::out_of_range naming an id outside the vocabulary
  [[nodiscard]] std::string decode(std::span<const std::int32_t> tokens) const;

  /// \brief The entries that record this tokenizer in a checkpoint (see the file comment).
  [[nodiscard]] std::map<std::string, std::string> metadata() const;

  /// \brief "char-level, 113 characters" or "GPT-2 BPE, 50257 tokens", for output.
  [[nodiscard]] std::string description() const;

 private:
  std::variant<char_tokenizer, bpe_tokenizer> tokenizer_;
};

}  // namespace gpt2
