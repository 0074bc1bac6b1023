#include "tokenizer.hpp"

#include <doctest/doctest.h>

#include <stdexcept>

#include "utf8.hpp"

namespace {
using ids = std::vector<std::int32_t>;
}

TEST_CASE("the vocabulary is the sorted set of code points, as Python's sorted(set(text))") {
  // Sorted by hand: ' ' U+20, '!' U+21, d, h, l, o, r, w, 'é' U+E9, 'ö' U+F6.
  const auto text = gpt2::decode_utf8("h\xC3\xA9llo w\xC3\xB6rld!", "test");
  const auto tokenizer = gpt2::char_tokenizer::from_text(text);
  CHECK(tokenizer.vocab_size() == 10);
  CHECK(tokenizer.encode(text) == ids{3, 8, 4, 4, 5, 0, 7, 9, 6, 4, 2, 1});
  CHECK(tokenizer.decode(ids{3, 8, 4, 4, 5, 0, 7, 9, 6, 4, 2, 1}) == "h\xC3\xA9llo w\xC3\xB6rld!");
  CHECK(tokenizer.encode_utf8("d\xC3\xB6h") == ids{2, 9, 3});
}

TEST_CASE("a character outside the Basic Multilingual Plane is one token, not four bytes") {
  const auto tokenizer = gpt2::char_tokenizer::from_text(gpt2::decode_utf8("a\xF0\x9F\x98\x80" "b", "test"));
  CHECK(tokenizer.vocab_size() == 3);
  CHECK(tokenizer.encode_utf8("\xF0\x9F\x98\x80" "ba") == ids{2, 1, 0});
}

TEST_CASE("serialize and deserialize give the same tokenizer") {
  const auto tokenizer = gpt2::char_tokenizer::from_text(gpt2::decode_utf8("z\n\xE2\x82\xAC" "a\t", "test"));
  const std::string serialized = tokenizer.serialize();
  CHECK(serialized == "\t\na" "z\xE2\x82\xAC");
  const auto restored = gpt2::char_tokenizer::deserialize(serialized);
  CHECK(restored.vocab_size() == 5);
  CHECK(restored.encode_utf8("a\xE2\x82\xAC\t") == ids{2, 4, 0});
  CHECK_THROWS_AS(gpt2::char_tokenizer::deserialize("ba"), std::invalid_argument);
  CHECK_THROWS_AS(gpt2::char_tokenizer::deserialize("aa"), std::invalid_argument);
  CHECK_THROWS_AS(gpt2::char_tokenizer::deserialize("\xFF"), std::invalid_argument);
}

TEST_CASE("unknown characters and ids are errors that name them") {
  const auto tokenizer = gpt2::char_tokenizer::from_text(U"abc");
  CHECK_THROWS_WITH_AS(static_cast<void>(tokenizer.encode(U"abq")), doctest::Contains("character 'q' (U+0071) is not in"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(static_cast<void>(tokenizer.encode(U"\x7F")), doctest::Contains("character (U+007F)"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(static_cast<void>(tokenizer.decode(ids{0, 3})), doctest::Contains("token id 3 is outside"),
                       std::out_of_range);
  CHECK_THROWS_AS(static_cast<void>(tokenizer.decode(ids{-1})), std::out_of_range);
}

TEST_CASE("UTF-8 decoding is strict and reports the byte offset") {
  CHECK(gpt2::decode_utf8("\x7F\xC2\x80\xDF\xBF\xE0\xA0\x80\xEF\xBF\xBF\xF0\x90\x80\x80\xF4\x8F\xBF\xBF", "t") ==
        std::u32string{0x7F, 0x80, 0x7FF, 0x800, 0xFFFF, 0x10000, 0x10FFFF});
  struct bad_case { std::string bytes; const char* expected; };
  const bad_case cases[] = {
      {"ab\x80", "byte offset 2 (byte cannot start"},
      {"a\xC0\xAF", "byte offset 1 (overlong"},
      {"\xE0\x80\x80", "byte offset 0 (overlong"},
      {"xy\xED\xA0\x80", "byte offset 2 (surrogate"},
      {"\xF4\x90\x80\x80", "byte offset 0 (code point above U+10FFFF"},
      {"abc\xE2\x82", "byte offset 3 (truncated"},
      {"\xC3" "a", "byte offset 0 (missing continuation"},
      {"\xF8\x88\x80\x80\x80", "byte offset 0 (byte cannot start"},
  };
  for (const auto& bad : cases) {
    CAPTURE(bad.bytes);
    const std::string message = std::string("corpus.txt: invalid UTF-8 at ") + bad.expected;
    CHECK_THROWS_WITH_AS(gpt2::decode_utf8(bad.bytes, "corpus.txt"), doctest::Contains(message.c_str()),
                         std::runtime_error);
  }
  CHECK(gpt2::encode_utf8(U"\x10FFFF\x80") == "\xF4\x8F\xBF\xBF\xC2\x80");
  CHECK_THROWS_AS(gpt2::encode_utf8(std::u32string(1, char32_t{0xD800})), std::invalid_argument);
}
