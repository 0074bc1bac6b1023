#include "tokenizer.hpp"

#include <algorithm>
#include <cstdio>
#include <stdexcept>

#include "utf8.hpp"

namespace gpt2 {

namespace {

std::string describe(char32_t c) {
  char code[16];
  std::snprintf(code, sizeof code, "U+%04X", static_cast<unsigned>(c));
  std::string text;
  if (c >= 0x20 && c != 0x7F && !(c >= 0xD800 && c <= 0xDFFF) && c <= 0x10FFFF) {
    text = "'";
    append_utf8(c, text);
    text += "' ";
  }
  return text + "(" + code + ")";
}

}  // namespace

char_tokenizer::char_tokenizer(std::u32string sorted_vocabulary)
    : vocabulary_(std::move(sorted_vocabulary)) {}

char_tokenizer char_tokenizer::from_text(std::u32string_view text) {
  std::u32string vocabulary(text);
  std::sort(vocabulary.begin(), vocabulary.end());
  vocabulary.erase(std::unique(vocabulary.begin(), vocabulary.end()), vocabulary.end());
  return char_tokenizer(std::move(vocabulary));
}

char_tokenizer char_tokenizer::deserialize(std::string_view serialized) {
  std::u32string vocabulary;
  try {
    vocabulary = decode_utf8(serialized, "char tokenizer vocabulary");
  } catch (const std::runtime_error& e) {
    throw std::invalid_argument(e.what());
  }
  if (std::adjacent_find(vocabulary.begin(), vocabulary.end(), std::greater_equal<>()) !=
      vocabulary.end()) {
    throw std::invalid_argument(
        "pot: char tokenizer vocabulary is not sorted and free of repeats; not made by serialize()");
  }
  return char_tokenizer(std::move(vocabulary));
}

std::string char_tokenizer::serialize() const { return gpt2::encode_utf8(vocabulary_); }

std::vector<std::int32_t> char_tokenizer::encode(std::u32string_view text) const {
  std::vector<std::int32_t> tokens;
  tokens.reserve(text.size());
  for (char32_t c : text) {
    const auto it = std::lower_bound(vocabulary_.begin(), vocabulary_.end(), c);
    if (it == vocabulary_.end() || *it != c) {
      throw std::invalid_argument("pot: character " + describe(c) +
                                  " is not in the tokenizer's vocabulary");
    }
    tokens.push_back(static_cast<std::int32_t>(it - vocabulary_.begin()));
  }
  return tokens;
}

std::vector<std::int32_t> char_tokenizer::encode_utf8(std::string_view text) const {
  return encode(decode_utf8(text, "text to encode"));
}

std::string char_tokenizer::decode(std::span<const std::int32_t> tokens) const {
  std::string text;
  text.reserve(tokens.size());
  for (std::int32_t token : tokens) {
    if (token < 0 || static_cast<std::size_t>(token) >= vocabulary_.size()) {
      throw std::out_of_range("pot: token id " + std::to_string(token) + " is outside the vocabulary of " +
                              std::to_string(vocabulary_.size()) + " characters");
    }
    append_utf8(vocabulary_[static_cast<std::size_t>(token)], text);
  }
  return text;
}

}  // namespace gpt2
