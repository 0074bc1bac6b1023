#include "bpe_tokenizer.hpp"

#include <doctest/doctest.h>

#include <fstream>
#include <stdexcept>

#include "temporary_directory.hpp"

namespace {

using ids = std::vector<std::int32_t>;
using pieces = std::vector<std::string>;

const std::filesystem::path data_dir = std::filesystem::path(POT_GPT2_TEST_DIR) / "data";

gpt2::bpe_tokenizer hand_made() {
  return gpt2::bpe_tokenizer::from_files(data_dir / "encoder.json", data_dir / "vocab.bpe");
}

}  // namespace

TEST_CASE("pre-tokenization follows GPT-2's pattern") {
  CHECK(gpt2::gpt2_pretokenize("hello hello world") == pieces{"hello", " hello", " world"});
  CHECK(gpt2::gpt2_pretokenize("it's 42!") == pieces{"it", "'s", " 42", "!"});
  CHECK(gpt2::gpt2_pretokenize("we'll've they're I'M") ==
        pieces{"we", "'ll", "'ve", " they", "'re", " I", "'", "M"});
  CHECK(gpt2::gpt2_pretokenize("a  b") == pieces{"a", " ", " b"});
  CHECK(gpt2::gpt2_pretokenize("a \n\nb") == pieces{"a", " \n", "\n", "b"});
  CHECK(gpt2::gpt2_pretokenize("x  ") == pieces{"x", "  "});
  CHECK(gpt2::gpt2_pretokenize("x\ny") == pieces{"x", "\n", "y"});
  CHECK(gpt2::gpt2_pretokenize("?! ...a1b") == pieces{"?!", " ...", "a", "1", "b"});
  // Non-ASCII letters (é, ö, CJK) and numbers (Arabic-Indic three U+0663, superscript two).
  CHECK(gpt2::gpt2_pretokenize("h\xC3\xA9llo w\xC3\xB6rld \xE6\x97\xA5\xE6\x9C\xAC \xD9\xA3\xC2\xB2") ==
        pieces{"h\xC3\xA9llo", " w\xC3\xB6rld", " \xE6\x97\xA5\xE6\x9C\xAC", " \xD9\xA3\xC2\xB2"});
  // A no-break space U+00A0 is white space, not a letter or a symbol.
  CHECK(gpt2::gpt2_pretokenize("a\xC2\xA0" "b") == pieces{"a", "\xC2\xA0", "b"});
  CHECK(gpt2::gpt2_pretokenize("").empty());
}

TEST_CASE("bytes map to GPT-2's printable symbols") {
  CHECK(gpt2::byte_to_symbol('!') == U'!');
  CHECK(gpt2::byte_to_symbol('~') == U'~');
  CHECK(gpt2::byte_to_symbol(0xA1) == U'\u00A1');
  CHECK(gpt2::byte_to_symbol(0xFF) == U'\u00FF');
  // Bytes outside the printable ranges get 256, 257, ... in byte order:
  // 0x00..0x20 are the first 33, then 0x7F..0xA0 (34 more), then 0xAD.
  CHECK(gpt2::byte_to_symbol(0x00) == 256);
  CHECK(gpt2::byte_to_symbol(' ') == 256 + 32);  // 'Ġ'
  CHECK(gpt2::byte_to_symbol('\n') == 256 + 10);  // 'Ċ'
  CHECK(gpt2::byte_to_symbol(0x7F) == 256 + 33);
  CHECK(gpt2::byte_to_symbol(0xA0) == 256 + 33 + 33);
  CHECK(gpt2::byte_to_symbol(0xAD) == 256 + 33 + 34);
}

TEST_CASE("the hand-made vocabulary encodes as worked out by hand") {
  const auto tokenizer = hand_made();
  CHECK(tokenizer.vocab_size() == 19);
  // " hello": Ġ h e l l o -> (h,e) rank 0 before (Ġ,h) rank 4 -> Ġ he l l o -> (l,l) -> Ġ he ll o
  // -> (he,ll) -> Ġ hell o -> (hell,o) -> Ġ hello -> (Ġ,hello) -> Ġhello.
  // " world": Ġ w o r l d -> (o,r) rank 6 -> (Ġ,w) rank 7 -> Ġw or l d.
  CHECK(tokenizer.encode("hello hello world") == ids{11, 13, 15, 14, 2, 7});
  // " lll": (l,l) merges left to right without overlap: Ġ ll l.
  CHECK(tokenizer.encode("hello lll") == ids{11, 4, 9, 2});
  // "é" is the bytes C3 A9, whose symbols are 'Ã' and '©'; "\n" is 'Ċ'.
  CHECK(tokenizer.encode("\xC3\xA9\n") == ids{16, 17, 18});
  CHECK(tokenizer.decode(ids{11, 13, 15, 14, 2, 7}) == "hello hello world");
  CHECK(tokenizer.decode(ids{16, 17, 18}) == "\xC3\xA9\n");
  CHECK(tokenizer.decode(ids{16}) == "\xC3");  // half a character comes back as its byte
}

TEST_CASE("BPE errors name the problem") {
  const auto tokenizer = hand_made();
  CHECK_THROWS_WITH_AS(static_cast<void>(tokenizer.encode("z")), doctest::Contains("BPE symbol 'z'"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(static_cast<void>(tokenizer.decode(ids{19})), "pot: token id 19 is not in the BPE vocabulary (ids 0..18)",
                       std::out_of_range);
  CHECK_THROWS_WITH_AS(static_cast<void>(tokenizer.decode(ids{-1})), doctest::Contains("token id -1"), std::out_of_range);
  CHECK_THROWS_WITH_AS(static_cast<void>(tokenizer.encode("ab\xFF")), doctest::Contains("pot: text to tokenize: invalid UTF-8 at byte offset 2"),
                       std::runtime_error);

  const gpt2_test::temporary_directory dir;
  std::ofstream(dir / "bad.json") << "{\"a\": 1,";
  CHECK_THROWS_WITH_AS(gpt2::bpe_tokenizer::from_files(dir / "bad.json", data_dir / "vocab.bpe"),
                       doctest::Contains("bad.json: invalid JSON"), std::runtime_error);
  std::ofstream(dir / "bad.bpe") << "#version: 0.2\nh e\nhe\n";
  CHECK_THROWS_WITH_AS(gpt2::bpe_tokenizer::from_files(data_dir / "encoder.json", dir / "bad.bpe"),
                       doctest::Contains("bad.bpe: line 3 is not a merge"), std::runtime_error);
  CHECK_THROWS_WITH_AS(gpt2::bpe_tokenizer::from_files(data_dir / "encoder.json", dir / "absent.bpe"),
                       doctest::Contains("absent.bpe: cannot read"), std::runtime_error);
  CHECK_THROWS_WITH_AS(gpt2::bpe_tokenizer::from_files(dir / "absent.json", data_dir / "vocab.bpe"),
                       doctest::Contains("absent.json: cannot read"), std::runtime_error);
  CHECK_THROWS_WITH_AS(gpt2::bpe_tokenizer({{"a", 0}, {"b", 0}}, {}),
                       "pot: BPE vocabulary: tokens \"a\" and \"b\" both have id 0", std::invalid_argument);
  CHECK_THROWS_WITH_AS(gpt2::bpe_tokenizer({{"a", 0}}, {{"a", "a"}, {"a", "a"}}),
                       "pot: BPE vocabulary: merge \"a a\" has ranks 0 and 1", std::invalid_argument);
  // Found by fuzzing: a repeated id escaped from_files as an invalid_argument without the file.
  std::ofstream(dir / "twice.json") << "{\"a\": 2, \"b\": 2}";
  CHECK_THROWS_WITH_AS(gpt2::bpe_tokenizer::from_files(dir / "twice.json", data_dir / "vocab.bpe"),
                       doctest::Contains("twice.json"), std::runtime_error);
}

// Issue 10, finding 9: ids were read with get<std::int32_t>(), which wraps 4294967296 to 0
// and accepted -7; a repeated token silently kept its last id.
TEST_CASE("encoder.json ids are distinct integers 0..n-1") {
  const gpt2_test::temporary_directory dir;
  const auto load = [&](const std::string& json) {
    std::ofstream(dir / "encoder.json") << json;
    return gpt2::bpe_tokenizer::from_files(dir / "encoder.json", data_dir / "vocab.bpe");
  };
  const auto error_of = [&](const std::string& json) {
    try {
      static_cast<void>(load(json));
    } catch (const std::runtime_error& error) {
      return std::string(error.what());
    }
    return std::string("no error");
  };
  const std::string file = "pot: " + (dir / "encoder.json").string() + ": ";
  const std::string range = "; ids must be integers in [0, 2147483647]";
  CHECK(error_of(R"({"a": 0, "b": 4294967296})") == file + "the id of token \"b\" is 4294967296" + range);
  CHECK(error_of(R"({"a": 0, "b": -7})") == file + "the id of token \"b\" is -7" + range);
  CHECK(error_of(R"({"a": 2147483648})") == file + "the id of token \"a\" is 2147483648" + range);
  CHECK(error_of(R"({"a": 18446744073709551616})") ==
        file + "the id of token \"a\" is 18446744073709551616" + range);
  CHECK(error_of(R"({"a": 0.5})") == file + "the id of token \"a\" is 0.5" + range);
  // nlohmann reports a number beyond double's range as a parse error.
  CHECK(error_of(R"({"a": 1e400})").starts_with(file + "invalid JSON"));
  CHECK(error_of(R"({"a": 1e400})").ends_with("number overflow parsing '1e400'"));
  CHECK(error_of(R"({"a": "x"})") == file + "the id of token \"a\" is a string, not an integer");
  CHECK(error_of(R"({"a": [0]})") == file + "the id of token \"a\" is an array, not an integer");
  CHECK(error_of(R"({"a": null})") == file + "the id of token \"a\" is null, not an integer");
  CHECK(error_of(R"([0, 1])") == file + "not a JSON object of token: id");
  CHECK(error_of(R"(7)") == file + "not a JSON object of token: id");
  CHECK(error_of(R"({})") == file + "has no tokens");
  CHECK(error_of(R"({"a": 0, "b": 1, "a": 2})") == file + "token \"a\" appears twice");
  CHECK(error_of(R"({"a": 0, "b": 0})") == file + "tokens \"a\" and \"b\" both have id 0");
  CHECK(error_of(R"({"a": 0, "b": 2})") == file + "the id of token \"b\" is 2, but the 2 ids must be 0..1");
  // A space is byte 0x20, whose symbol is U+0120 'Ġ': a literal space cannot be a token.
  CHECK(error_of(R"({"a": 0, " b": 1})") == file + "token \" b\" (id 1) is not a non-empty string of GPT-2's byte symbols");
  CHECK(error_of(R"({"": 0})") == file + "token \"\" (id 0) is not a non-empty string of GPT-2's byte symbols");
  CHECK(error_of("{\"a\": 0, \"\xFF\": 1}").starts_with(file + "invalid JSON"));
  CHECK(load(R"({"h": 1, "e": 0})").vocab_size() == 2);
}

TEST_CASE("vocab.bpe: CRLF line ends, repeated merges, invalid UTF-8") {
  const gpt2_test::temporary_directory dir;
  std::ofstream(dir / "crlf.bpe", std::ios::binary) << "#version: 0.2\r\nh e\r\nl l\r\n";
  const auto crlf = gpt2::bpe_tokenizer::from_files(data_dir / "encoder.json", dir / "crlf.bpe");
  CHECK(crlf.encode("hell") == ids{8, 9});
  std::ofstream(dir / "twice.bpe") << "#version: 0.2\nh e\nl l\nh e\n";
  CHECK_THROWS_WITH_AS(gpt2::bpe_tokenizer::from_files(data_dir / "encoder.json", dir / "twice.bpe"),
                       doctest::Contains("twice.bpe: line 4 repeats the merge of line 2"), std::runtime_error);
  std::ofstream(dir / "utf8.bpe") << "#version: 0.2\nh e\n\xC3(\n";
  CHECK_THROWS_WITH_AS(gpt2::bpe_tokenizer::from_files(data_dir / "encoder.json", dir / "utf8.bpe"),
                       doctest::Contains("utf8.bpe: invalid UTF-8 at byte offset 18"), std::runtime_error);
}

TEST_CASE("a vocabulary directory under OpenAI's or Hugging Face's file names") {
  const gpt2_test::temporary_directory dir;
  CHECK_THROWS_WITH_AS(gpt2::bpe_tokenizer::from_directory(dir / "absent"), doctest::Contains("absent: not a directory"),
                       std::runtime_error);
  CHECK_THROWS_WITH_AS(gpt2::bpe_tokenizer::from_directory(dir.path()),
                       doctest::Contains(": has no encoder.json (nor Hugging Face's vocab.json)"), std::runtime_error);
  std::filesystem::copy_file(data_dir / "encoder.json", dir / "vocab.json");
  CHECK_THROWS_WITH_AS(gpt2::bpe_tokenizer::from_directory(dir.path()),
                       doctest::Contains(": has no vocab.bpe (nor Hugging Face's merges.txt)"), std::runtime_error);
  std::filesystem::copy_file(data_dir / "vocab.bpe", dir / "merges.txt");
  CHECK(gpt2::bpe_tokenizer::from_directory(dir.path()).encode("hello world") == ids{11, 15, 14, 2, 7});
  CHECK(gpt2::bpe_tokenizer::from_directory(data_dir).vocab_size() == 19);
}
