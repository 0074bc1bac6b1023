#include "dataset.hpp"

#include <doctest/doctest.h>

#include <cstdio>
#include <fstream>
#include <numeric>
#include <set>

#include "temporary_directory.hpp"
#include "tokenizer.hpp"
#include "utf8.hpp"

namespace {

/// md5 of a file by the system's md5sum, an implementation independent of ours.
std::string md5sum(const std::filesystem::path& path) {
  const std::string command = "md5sum '" + path.string() + "'";
  FILE* pipe = ::popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  char digest[33] = {};
  const std::size_t read = std::fread(digest, 1, 32, pipe);
  ::pclose(pipe);
  return std::string(digest, read);
}

std::vector<std::int32_t> positions(std::size_t n) {
  std::vector<std::int32_t> data(n);
  std::iota(data.begin(), data.end(), 0);
  return data;
}

}  // namespace

TEST_CASE("the default corpus matches the reference's size, md5 and vocabulary") {
  if (!std::filesystem::exists(gpt2::default_fortunes_directory)) {
    MESSAGE("skipped: " << gpt2::default_fortunes_directory << " is absent (apt-get install fortunes)");
    return;
  }
  const std::string corpus = gpt2::read_fortunes_corpus();
  CHECK(corpus.size() == 2576674);
  const gpt2_test::temporary_directory dir;
  std::ofstream(dir / "fortunes.txt", std::ios::binary) << corpus;
  CHECK(md5sum(dir / "fortunes.txt") == "4f76c26646f7055c0a751e679800855b");

  // Figures from the reference's Python (len(text), len(set(text)), int(0.9 * len)).
  const std::u32string text = gpt2::decode_utf8(gpt2::read_utf8_text_file(dir / "fortunes.txt"), "fortunes.txt");
  CHECK(text.size() == 2576627);
  const auto tokenizer = gpt2::char_tokenizer::from_text(text);
  CHECK(tokenizer.vocab_size() == 113);
  const auto split = gpt2::split_train_val(tokenizer.encode(text));
  CHECK(split.train.size() == 2318964);
  CHECK(split.val.size() == 2576627 - 2318964);
}

TEST_CASE("a missing fortunes directory is an error that says what to install") {
  CHECK_THROWS_WITH_AS(gpt2::read_fortunes_corpus("/nonexistent/fortunes"),
                       doctest::Contains("install Debian's `fortunes` package"), std::runtime_error);
}

TEST_CASE("the corpus skips .dat/.u8 companions and directories, and sorts by name") {
  const gpt2_test::temporary_directory dir;
  std::ofstream(dir / "b") << "B";
  std::ofstream(dir / "a") << "A";
  std::ofstream(dir / "a.dat") << "x";
  std::ofstream(dir / "a.u8") << "y";
  std::ofstream(dir / "Z") << "Z";  // upper case sorts first, as in Python
  std::filesystem::create_directory(dir / "c");
  CHECK(gpt2::read_fortunes_corpus(dir.path()) == "ZAB");
}

TEST_CASE("invalid UTF-8 in a text file is reported with the file and byte offset") {
  const gpt2_test::temporary_directory dir;
  std::ofstream(dir / "bad.txt", std::ios::binary) << "hello\xFFworld";
  CHECK_THROWS_WITH_AS(gpt2::read_utf8_text_file(dir / "bad.txt"),
                       doctest::Contains("bad.txt: invalid UTF-8 at byte offset 5"), std::runtime_error);
  CHECK_THROWS_WITH_AS(gpt2::read_utf8_text_file(dir / "absent.txt"), doctest::Contains("absent.txt"),
                       std::runtime_error);
}

TEST_CASE("the split keeps the first int(0.9 n) tokens for training") {
  const auto data = positions(25);
  const auto split = gpt2::split_train_val(data);
  CHECK(split.train.size() == 22);  // int(22.5)
  CHECK(split.val.front() == 22);
  CHECK(split.val.size() == 3);
}

TEST_CASE("the generator is splitmix64 and draws are uniform over every start") {
  const auto data = positions(12);
  gpt2::batch_sampler sampler(data, 1, 4, 0);
  // splitmix64 from state 0: published first outputs of the algorithm.
  CHECK(sampler.next_random() == 0xE220A8397B1DCDAFu);
  CHECK(sampler.next_random() == 0x6E789E6AA1B965F4u);
  CHECK(sampler.next_random() == 0x06C45D188009454Fu);

  std::vector<int> hits(8, 0);
  for (int i = 0; i < 8000; ++i) ++hits.at(sampler.next().inputs[0]);  // starts 0..7 (n - T = 8)
  for (int count : hits) CHECK((count > 850 && count < 1150));  // expected 1000, sd ~30
}

TEST_CASE("batches are (B, T) windows with targets shifted by one, reproducible from the state") {
  const auto data = positions(100);
  gpt2::batch_sampler sampler(data, 3, 5, 42);
  const auto batch = sampler.next();
  CHECK(batch.batch_size == 3);
  CHECK(batch.sequence_length == 5);
  REQUIRE(batch.inputs.size() == 15);
  for (std::size_t b = 0; b < 3; ++b) {
    const auto start = batch.inputs[b * 5];
    CHECK((start >= 0 && start < 95));
    for (std::size_t t = 0; t < 5; ++t) {
      CHECK(batch.inputs[b * 5 + t] == start + static_cast<std::int32_t>(t));
      CHECK(batch.targets[b * 5 + t] == start + static_cast<std::int32_t>(t) + 1);
    }
  }
  const auto saved = sampler.state();
  const auto second = sampler.next();
  gpt2::batch_sampler resumed(data, 3, 5, 7);
  resumed.restore(saved);
  CHECK(resumed.next().inputs == second.inputs);

  CHECK_THROWS_AS(gpt2::batch_sampler(data, 3, 100, 1), std::invalid_argument);
  CHECK_THROWS_AS(gpt2::batch_sampler(data, 0, 5, 1), std::invalid_argument);
}

TEST_CASE("the val-loss protocol: the same fixed batches every time, and a plain mean") {
  const auto val = positions(1000);
  const auto first = gpt2::fixed_eval_batches(val, 12, 64);
  const auto again = gpt2::fixed_eval_batches(val, 12, 64);
  REQUIRE(first.size() == 200);
  std::set<std::int32_t> starts;
  for (std::size_t i = 0; i < first.size(); ++i) {
    CHECK(first[i].inputs == again[i].inputs);
    starts.insert(first[i].inputs[0]);
  }
  CHECK(starts.size() > 100);  // different batches, not one batch repeated
  CHECK(gpt2::fixed_eval_batches(val, 12, 64, 200, 99)[0].inputs != first[0].inputs);

  // Per-batch losses 1, 2, ..., 200 average to 100.5.
  double next_loss = 0.0;
  CHECK(gpt2::mean_batch_loss(first, [&](const gpt2::token_batch&) { return next_loss += 1.0; }) == 100.5);
  CHECK_THROWS_AS(gpt2::mean_batch_loss(std::span<const gpt2::token_batch>{}, [](const auto&) { return 0.0; }),
                  std::invalid_argument);
}
