/// \file
/// \brief The character-level tokenizer of the reference (common.py).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace gpt2 {

/// \brief One token per Unicode code point; ids are ranks in the sorted vocabulary.
///
/// The reference builds its vocabulary with Python's `sorted(set(text))` over the
/// decoded string, i.e. code points sorted by value; from_text() does the same, so a
/// text gets the same token ids here and in PyTorch.
class char_tokenizer {
 public:
  /// \brief The vocabulary of \p text: its distinct code points, sorted.
  static char_tokenizer from_text(std::u32string_view text);

  /// \brief Restores a tokenizer from serialize()'s output.
  /// \throws std::invalid_argument if the text is not UTF-8 or not strictly increasing
  static char_tokenizer deserialize(std::string_view serialized);

  /// \brief The vocabulary as UTF-8, one code point per token in id order (for the
  /// checkpoint's "__metadata__", whose values must be strings).
  [[nodiscard]] std::string serialize() const;

  /// \brief Number of tokens.
  [[nodiscard]] std::size_t vocab_size() const noexcept { return vocabulary_.size(); }

  /// \brief Token ids of \p text.
  /// \throws std::invalid_argument naming the first character not in the vocabulary
  [[nodiscard]] std::vector<std::int32_t> encode(std::u32string_view text) const;

  /// \brief Token ids of UTF-8 \p text.
  /// \throws std::runtime_error for invalid UTF-8; std::invalid_argument as above
  [[nodiscard]] std::vector<std::int32_t> encode_utf8(std::string_view text) const;

  /// \brief The UTF-8 text of \p tokens.
  /// \throws std::out_of_range naming an id outside [0, vocab_size())
  [[nodiscard]] std::string decode(std::span<const std::int32_t> tokens) const;

 private:
  explicit char_tokenizer(std::u32string sorted_vocabulary);

  std::u32string vocabulary_;  // strictly increasing code points
};

}  // namespace gpt2
