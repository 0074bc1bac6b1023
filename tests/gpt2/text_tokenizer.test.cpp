// A model's tokenizer: char-level or GPT-2 BPE, recorded in a checkpoint's metadata, and
// the wrong one refused with a message that says what to pass.

#include "text_tokenizer.hpp"

#include <doctest/doctest.h>

#include <stdexcept>

#include "byte_vocabulary.hpp"
#include "temporary_directory.hpp"

namespace {

using ids = std::vector<std::int32_t>;
using metadata = std::map<std::string, std::string>;
const std::filesystem::path test_dir = POT_GPT2_TEST_DIR;

std::string model_error(const metadata& entries, std::size_t vocab_size, const gpt2::tokenizer_request& request) {
  try {
    gpt2::text_tokenizer::for_model(entries, vocab_size, "m.safetensors", request);
  } catch (const std::runtime_error& error) {
    return error.what();
  }
  return "(accepted)";
}

gpt2::tokenizer_request request(std::optional<std::string> kind, std::optional<std::string> vocabulary = {}) {
  return gpt2::tokenizer_request::parse(kind, vocabulary);
}

}  // namespace

TEST_CASE("--tokenizer and --vocab: char or gpt2, a vocabulary only for gpt2, --vocab alone means gpt2") {
  CHECK_FALSE(request({}).requested_kind());
  CHECK(request("char").requested_kind() == gpt2::tokenizer_kind::character);
  CHECK(request({}, "dir").requested_kind() == gpt2::tokenizer_kind::gpt2_bpe);
  CHECK(request("gpt2", "dir").vocabulary == std::filesystem::path("dir"));
  CHECK_THROWS_WITH_AS(request("bpe"), "pot: --tokenizer must be char or gpt2, not 'bpe'", std::invalid_argument);
  CHECK_THROWS_WITH_AS(request("char", "dir"), doctest::Contains("--vocab is for --tokenizer gpt2"),
                       std::invalid_argument);
}

TEST_CASE("a new model's tokenizer: the corpus's characters by default, GPT-2 BPE from --vocab") {
  const gpt2_test::temporary_directory dir;
  gpt2_test::write_byte_vocabulary(dir / "vocab");
  const auto characters = gpt2::text_tokenizer::for_training({}, "the cat");
  CHECK(characters.kind() == gpt2::tokenizer_kind::character);
  CHECK(characters.vocab_size() == 6);  // ' ', a, c, e, h, t
  CHECK(characters.encode("cat the") == ids{2, 1, 5, 0, 5, 4, 3});
  CHECK(characters.metadata() == metadata{{"tokenizer", " aceht"}});
  CHECK(characters.description() == "char-level, 6 characters");

  const auto bpe = gpt2::text_tokenizer::for_training(request("gpt2", (dir / "vocab").string()), "ignored");
  CHECK(bpe.kind() == gpt2::tokenizer_kind::gpt2_bpe);
  CHECK(bpe.vocab_size() == gpt2_test::byte_vocabulary_size);
  // Merges by hand: "the" = t h -> th, th e -> the (257); " cat" = "Ġ" c -> Ġc, a t -> at,
  // Ġc at -> Ġcat (262); "!" is byte 33.
  CHECK(bpe.encode("the cat!") == ids{257, 262, 33});
  CHECK(bpe.decode(ids{257, 262, 33}) == "the cat!");
  CHECK(bpe.metadata().at("tokenizer") == "gpt2");
  CHECK(bpe.metadata().at("tokenizer.fingerprint").size() == 16);
  CHECK(bpe.description() == "GPT-2 BPE, 263 tokens");

  CHECK_THROWS_WITH_AS(gpt2::text_tokenizer::for_training(request("gpt2"), "x"),
                       doctest::Contains("--tokenizer gpt2 needs --vocab DIR"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(gpt2::text_tokenizer::for_training(request({}, (dir / "none").string()), "x"),
                       doctest::Contains("none: not a directory"), std::runtime_error);
}

TEST_CASE("the BPE fingerprint is FNV-1a over the tokens and merges, the same under Hugging Face's names") {
  // Computed independently in Python from the definition (bpe_tokenizer.hpp) for the
  // hand-made vocabulary of data/: FNV-1a 64 over each token's bytes in id order, then
  // each merge's two symbols in rank order, every string prefixed by its length (8
  // bytes, little-endian).
  const auto hand_made = gpt2::bpe_tokenizer::from_files(test_dir / "data" / "encoder.json", test_dir / "data" / "vocab.bpe");
  CHECK(hand_made.fingerprint() == "7b5b29509a98ecf4");

  const gpt2_test::temporary_directory dir;
  gpt2_test::write_byte_vocabulary(dir / "openai");
  std::filesystem::create_directories(dir / "hf");
  std::filesystem::copy_file(dir / "openai" / "encoder.json", dir / "hf" / "vocab.json");
  std::filesystem::copy_file(dir / "openai" / "vocab.bpe", dir / "hf" / "merges.txt");
  const auto openai = gpt2::bpe_tokenizer::from_directory(dir / "openai");
  CHECK(gpt2::bpe_tokenizer::from_directory(dir / "hf").fingerprint() == openai.fingerprint());
  // The same tokens merged in another order is another tokenizer.
  auto swapped = gpt2_test::byte_vocabulary_merges;
  std::swap(swapped[0], swapped[4]);
  gpt2_test::write_byte_vocabulary(dir / "swapped", swapped);
  CHECK(gpt2::bpe_tokenizer::from_directory(dir / "swapped").fingerprint() != openai.fingerprint());
}

TEST_CASE("a checkpoint's tokenizer: the recorded one, and the wrong one refused saying what to pass") {
  const gpt2_test::temporary_directory dir;
  gpt2_test::write_byte_vocabulary(dir / "vocab");
  const std::string vocab = (dir / "vocab").string();
  const auto bpe = gpt2::text_tokenizer::for_training(request({}, vocab), "");
  const metadata char_model{{"tokenizer", "abc"}};
  const metadata bpe_model = bpe.metadata();
  const std::size_t V = gpt2_test::byte_vocabulary_size;

  CHECK(gpt2::text_tokenizer::for_model(char_model, 3, "m.safetensors", {}).encode("cab") == ids{2, 0, 1});
  CHECK(gpt2::text_tokenizer::for_model(char_model, 3, "m.safetensors", request("char")).vocab_size() == 3);
  CHECK(model_error(char_model, 3, request("gpt2", vocab)) ==
        "pot: m.safetensors: the model was trained with the char tokenizer stored in it, not --tokenizer gpt2");
  CHECK(model_error(char_model, 3, request({}, vocab)) ==
        "pot: m.safetensors: the model was trained with the char tokenizer stored in it, not --tokenizer gpt2");
  CHECK(model_error(char_model, 4, {}) == "pot: m.safetensors: the tokenizer has 3 tokens, the model 4");

  CHECK(gpt2::text_tokenizer::for_model(bpe_model, V, "m.safetensors", request({}, vocab)).encode("the") == ids{257});
  CHECK(model_error(bpe_model, V, {}) ==
        "pot: m.safetensors: the model uses GPT-2's BPE tokenizer: pass --vocab DIR (the folder of encoder.json "
        "and vocab.bpe)");
  CHECK(model_error(bpe_model, V, request("char")) ==
        "pot: m.safetensors: the model was trained with GPT-2's BPE tokenizer, not --tokenizer char");
  CHECK(model_error(bpe_model, V + 1, request({}, vocab)) ==
        "pot: m.safetensors: the model has a vocabulary of 264 tokens, the BPE vocabulary in " + vocab + " 263");
  auto swapped = gpt2_test::byte_vocabulary_merges;
  std::swap(swapped[0], swapped[4]);
  gpt2_test::write_byte_vocabulary(dir / "other", swapped);
  CHECK(model_error(bpe_model, V, request({}, (dir / "other").string()))
            .find("pot: m.safetensors: the model was trained with another BPE vocabulary of the same size "
                  "(fingerprint " + bpe_model.at("tokenizer.fingerprint") + ")") == 0);

  // A file that records none, as Hugging Face's: GPT-2 BPE when asked for, checked by size.
  CHECK(gpt2::text_tokenizer::for_model({{"format", "pt"}}, V, "m.safetensors", request("gpt2", vocab)).kind() ==
        gpt2::tokenizer_kind::gpt2_bpe);
  CHECK(model_error({}, V, {}) ==
        "pot: m.safetensors: records no tokenizer (metadata \"tokenizer\"), as Hugging Face's GPT-2 files; pass "
        "--tokenizer gpt2 --vocab DIR (the folder of encoder.json and vocab.bpe)");
  CHECK(model_error({}, V, request("char")).find("pot: m.safetensors: has no char tokenizer") == 0);
  CHECK(model_error({}, 50257, request("gpt2", vocab)).find("the model has a vocabulary of 50257 tokens") !=
        std::string::npos);
  // A char vocabulary is sorted, so "gpt2" ('t' > '2') can never be one.
  CHECK_THROWS_AS(gpt2::char_tokenizer::deserialize("gpt2"), std::invalid_argument);
}
