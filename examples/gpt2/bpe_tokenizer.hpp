/// \file
/// \brief GPT-2's byte-level BPE tokenizer (encoder.json + vocab.bpe).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
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
///
/// A vocabulary gives every token a distinct id, the ids are exactly 0..n-1 (as GPT-2's
/// 50257 are: a model's embedding has one row per id), and every token is a non-empty
/// string of byte symbols (byte_to_symbol), so that every id decodes to bytes.
class bpe_tokenizer {
 public:
  /// \brief Largest encoder.json or vocab.bpe read (GPT-2's are 1.0 MB and 0.46 MB).
  static constexpr std::uintmax_t max_file_bytes = std::uintmax_t{64} << 20;

  /// \brief Builds the tokenizer from a token -> id map and merges in rank order.
  /// \throws std::invalid_argument "pot: BPE vocabulary: ..." for ids that repeat or are
  ///   not 0..n-1, a token that is not byte symbols, or a merge given twice
  bpe_tokenizer(const std::map<std::string, std::int32_t>& encoder,
                std::vector<std::pair<std::string, std::string>> merges);

  /// \brief Reads GPT-2's encoder.json (one JSON object of token: id, ids integers in
  /// [0, 2^31), each token once) and vocab.bpe (a "#version" line, then one "left right"
  /// merge per line, best first; CRLF line ends are accepted).
  /// \throws std::runtime_error "pot: <file>: <problem>"
  static bpe_tokenizer from_files(const std::filesystem::path& encoder_json,
                                  const std::filesystem::path& vocab_bpe);

  /// \brief Reads the vocabulary of \p directory: encoder.json and vocab.bpe as OpenAI
  /// ships them, or the same files under Hugging Face's names vocab.json and merges.txt.
  /// \throws std::runtime_error naming the directory if a file is missing, or as from_files
  static bpe_tokenizer from_directory(const std::filesystem::path& directory);

  /// \brief Number of tokens in encoder.json.
  [[nodiscard]] std::size_t vocab_size() const noexcept { return token_bytes_.size(); }

  /// \brief 16 hex digits that identify the vocabulary: FNV-1a (64 bits) over every
  /// token's bytes in id order and every merge in rank order. The same for OpenAI's
  /// encoder.json + vocab.bpe and Hugging Face's vocab.json + merges.txt of one
  /// vocabulary; a checkpoint records it to refuse another vocabulary of the same size.
  [[nodiscard]] const std::string& fingerprint() const noexcept { return fingerprint_; }

  /// \brief Token ids of UTF-8 \p text.
  /// \throws std::runtime_error for invalid UTF-8; std::invalid_argument naming a symbol
  ///   that encoder.json lacks
  [[nodiscard]] std::vector<std::int32_t> encode(std::string_view text) const;

  /// \brief The bytes of \p tokens. A token sequence that splits a multi-byte character
  /// yields an incomplete UTF-8 sequence; the bytes are returned as they are.
  /// \throws std::out_of_range naming an id outside [0, vocab_size())
  [[nodiscard]] std::string decode(std::span<const std::int32_t> tokens) const;

 private:
  std::vector<std::string> merge_word(const std::string& word) const;

  std::unordered_map<std::string, std::int32_t> encoder_;  // token (byte symbols) -> id
  std::vector<std::string> token_bytes_;                   // id -> the token's bytes
  std::map<std::pair<std::string, std::string>, std::size_t> merge_ranks_;
  std::string fingerprint_;
};

}  // namespace gpt2
