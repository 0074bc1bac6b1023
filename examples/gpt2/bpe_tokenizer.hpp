/// \file
/// \brief GPT-2's byte-level BPE tokenizer (encoder.json + vocab.bpe).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gpt2 {

/// \brief Splits UTF-8 text as GPT-2's pre-tokenization pattern does:
/// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`.
///
/// A hand-written scanner, because std::regex has no \p{L}: letters and numbers are
/// Unicode general categories L and N (unicode_classes.hpp), and \s is the Unicode
/// White_Space property, as in the Python `regex` module that GPT-2's encoder uses.
/// \throws std::runtime_error for invalid UTF-8
std::vector<std::string> gpt2_pretokenize(std::string_view text);

/// \brief The printable code point GPT-2 assigns to each byte (its bytes_to_unicode()).
char32_t byte_to_symbol(std::uint8_t byte);

/// \brief GPT-2's byte-level BPE: bytes become printable symbols, then the adjacent pair
/// of lowest merge rank is merged until no ranked pair is left.
class bpe_tokenizer {
 public:
  /// \brief Builds the tokenizer from a token -> id map and merges in rank order.
  /// \throws std::invalid_argument for repeated ids
  bpe_tokenizer(std::map<std::string, std::int32_t> encoder,
                std::vector<std::pair<std::string, std::string>> merges);

  /// \brief Reads GPT-2's encoder.json and vocab.bpe ("#version" line, then one
  /// "left right" merge per line, best first).
  /// \throws std::runtime_error naming the file and the problem
  static bpe_tokenizer from_files(const std::filesystem::path& encoder_json,
                                  const std::filesystem::path& vocab_bpe);

  /// \brief Number of tokens in encoder.json.
  [[nodiscard]] std::size_t vocab_size() const noexcept { return decoder_.size(); }

  /// \brief Token ids of UTF-8 \p text.
  /// \throws std::runtime_error for invalid UTF-8; std::invalid_argument naming a symbol
  ///   that encoder.json lacks
  [[nodiscard]] std::vector<std::int32_t> encode(std::string_view text) const;

  /// \brief The bytes of \p tokens. A token sequence that splits a multi-byte character
  /// yields an incomplete UTF-8 sequence; the bytes are returned as they are.
  /// \throws std::out_of_range naming an unknown id
  [[nodiscard]] std::string decode(std::span<const std::int32_t> tokens) const;

 private:
  std::vector<std::string> merge_word(const std::string& word) const;

  std::map<std::string, std::int32_t> encoder_;
  std::map<std::int32_t, std::string> decoder_;
  std::map<std::pair<std::string, std::string>, std::size_t> merge_ranks_;
};

}  // namespace gpt2
