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
  CHECK_THROWS_WITH_AS(static_cast<void>(tokenizer.decode(ids{19})), doctest::Contains("token id 19"), std::out_of_range);
  CHECK_THROWS_AS(static_cast<void>(tokenizer.encode("\xFF")), std::runtime_error);

  const gpt2_test::temporary_directory dir;
  std::ofstream(dir / "bad.json") << "{\"a\": 1,";
  CHECK_THROWS_WITH_AS(gpt2::bpe_tokenizer::from_files(dir / "bad.json", data_dir / "vocab.bpe"),
                       doctest::Contains("bad.json: invalid JSON"), std::runtime_error);
  std::ofstream(dir / "ids.json") << "{\"a\": \"x\"}";
  CHECK_THROWS_WITH_AS(gpt2::bpe_tokenizer::from_files(dir / "ids.json", data_dir / "vocab.bpe"),
                       doctest::Contains("ids.json: id of 'a' is not an integer"), std::runtime_error);
  std::ofstream(dir / "bad.bpe") << "#version: 0.2\nh e\nhe\n";
  CHECK_THROWS_WITH_AS(gpt2::bpe_tokenizer::from_files(data_dir / "encoder.json", dir / "bad.bpe"),
                       doctest::Contains("bad.bpe: line 3 is not a merge"), std::runtime_error);
  CHECK_THROWS_WITH_AS(gpt2::bpe_tokenizer::from_files(data_dir / "encoder.json", dir / "absent.bpe"),
                       doctest::Contains("absent.bpe: cannot open"), std::runtime_error);
  CHECK_THROWS_AS(gpt2::bpe_tokenizer({{"a", 0}, {"b", 0}}, {}), std::invalid_argument);
  // Found by fuzzing: a repeated id escaped from_files as an invalid_argument without the file.
  std::ofstream(dir / "twice.json") << "{\"a\": 2, \"b\": 2}";
  CHECK_THROWS_WITH_AS(gpt2::bpe_tokenizer::from_files(dir / "twice.json", data_dir / "vocab.bpe"),
                       doctest::Contains("twice.json: BPE vocabulary gives id 2 twice"), std::runtime_error);
}
