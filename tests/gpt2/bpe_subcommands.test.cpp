// GPT-2 BPE through every subcommand of the `gpt2` program, with a byte-level vocabulary
// the test writes (any text encodes, as with GPT-2's), and the wrong tokenizer refused.

#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>
#include <span>
#include <string>
#include <vector>

#include "byte_vocabulary.hpp"
#include "dataset.hpp"
#include "gpt2_checkpoint.hpp"
#include "model.hpp"
#include "packed_model.hpp"
#include "run_program.hpp"
#include "safetensors.hpp"
#include "sampling.hpp"
#include "random.hpp"

namespace {

using gpt2_test::number_after;
using gpt2_test::program_run;
using gpt2_test::run_gpt2;
using ids = std::vector<std::int32_t>;

// Letters, digits, punctuation and characters of 2 and 3 UTF-8 bytes, whose BPE tokens
// are partly merges and partly single bytes.
std::string corpus_text() {
  std::string text;
  for (int i = 0; i < 30; ++i)
    text += "the cat sat on the mat " + std::to_string(i % 7) + ". Le chat \xC3\xA9tait l\xC3\xA0, \xE7\x8C\xAB!\n";
  return text;
}

/// A directory with the byte vocabulary (vocab/), another of the same size (other/), the
/// corpus and a BPE model of one block of 8 channels trained on it for two steps (out/).
struct bpe_fixture {
  gpt2_test::temporary_directory dir;
  std::string vocab = (dir / "vocab").string();
  std::string other_vocab = (dir / "other").string();
  std::string corpus = (dir / "corpus.txt").string();
  std::string model = (dir / "out" / "model.safetensors").string();
  std::string state = (dir / "out" / "train_state.safetensors").string();
  program_run train;

  bpe_fixture() {
    gpt2_test::write_byte_vocabulary(vocab);
    auto swapped = gpt2_test::byte_vocabulary_merges;
    std::swap(swapped[0], swapped[4]);
    gpt2_test::write_byte_vocabulary(other_vocab, swapped);
    std::ofstream(corpus, std::ios::binary) << corpus_text();
    train = run_gpt2(dir, "train --tokenizer gpt2 --vocab " + vocab + " --data " + corpus + " --out " +
                              (dir / "out").string() +
                              " --n-layer 1 --n-head 1 --n-embd 8 --block 8 --steps 2 --batch 2 --warmup 0 "
                              "--eval-every 0 --eval-batches 1 --checkpoint-every 0 --threads 1");
  }

  [[nodiscard]] gpt2::bpe_tokenizer tokenizer() const { return gpt2::bpe_tokenizer::from_directory(vocab); }
};

}  // namespace

TEST_CASE("a BPE model trains on any UTF-8 text and records its tokenizer") {
  const bpe_fixture f;
  REQUIRE(f.train.exit_code == 0);
  CHECK(f.train.err.empty());
  CHECK(f.train.out.find("vocabulary GPT-2 BPE, 263 tokens") != std::string::npos);
  const gpt2::safetensors_file file = gpt2::read_safetensors(f.model);
  CHECK(file.metadata.at("tokenizer") == "gpt2");
  CHECK(file.metadata.at("tokenizer.fingerprint") == f.tokenizer().fingerprint());
  CHECK(file.metadata.at("vocab_size") == "263");
  CHECK(gpt2::read_safetensors(f.state).metadata.at("tokenizer") == "gpt2");
}

TEST_CASE("eval, generate and train --resume run a BPE model on its BPE tokens") {
  const bpe_fixture f;
  REQUIRE(f.train.exit_code == 0);
  const auto& dir = f.dir;

  // eval: the val protocol over the BPE tokens of the corpus, the oracle computed here
  // from the tokenizer and the model directly.
  const program_run eval =
      run_gpt2(dir, "eval --model " + f.model + " --vocab " + f.vocab + " --batches 3 --batch 2 --threads 1");
  REQUIRE(eval.exit_code == 0);
  CHECK(eval.out.find("vocabulary GPT-2 BPE, 263 tokens") != std::string::npos);
  const gpt2::gpt2_checkpoint checkpoint = gpt2::load_gpt2_checkpoint(f.model);
  gpt2::gpt2_model<float> model(checkpoint.config, 2, 8, {1});
  model.load_parameters(checkpoint.parameters);
  const gpt2::token_split split = gpt2::split_train_val(f.tokenizer().encode(corpus_text()));
  const auto batches = gpt2::fixed_eval_batches(split.val, 2, 8, 3);
  const double expected = gpt2::mean_batch_loss(std::span<const gpt2::token_batch>(batches), [&](const auto& b) {
    return static_cast<double>(model.forward(b.inputs, b.targets, 2, 8));
  });
  CHECK(number_after(eval.out, "val loss ") == doctest::Approx(expected).epsilon(1e-5));

  // generate: greedy tokens from full forwards over the windows the KV cache holds.
  const program_run generate = run_gpt2(dir, "generate --model " + f.model + " --vocab " + f.vocab +
                                                 " --prompt 'the cat' --tokens 12 --temperature 0 --threads 1");
  REQUIRE(generate.exit_code == 0);
  ids context = f.tokenizer().encode("the cat");
  REQUIRE(context == ids{257, 262});
  std::size_t window = context.size();
  gpt2::splitmix64 unused(1);
  for (int i = 0; i < 12; ++i) {
    model.forward(std::span<const std::int32_t>(context).last(window), {}, 1, window);
    const auto logits = model.logits().subspan((window - 1) * 263, 263);
    context.push_back(gpt2::sample_token(logits, 0.0, 200, unused));
    window = window == 8 ? 4 : window + 1;
  }
  CHECK(generate.out == f.tokenizer().decode(context) + "\n");

  // train --resume needs the vocabulary again; the finished run saves the same model.
  const std::string resume = "train --resume " + f.state + " --out " + (dir / "resumed").string() + " --threads 1";
  const program_run without = run_gpt2(dir, resume);
  CHECK(without.exit_code == 1);
  CHECK(without.err == "gpt2 train: pot: " + f.state +
                           ": the model uses GPT-2's BPE tokenizer: pass --vocab DIR (the folder of encoder.json and "
                           "vocab.bpe)\n");
  const program_run with = run_gpt2(dir, resume + " --vocab " + f.vocab);
  CHECK(with.exit_code == 0);
  CHECK(gpt2::load_gpt2_checkpoint(dir / "resumed" / "model.safetensors").parameters == checkpoint.parameters);
}

TEST_CASE("quantize, qat, infer, eval, generate and paper run a BPE model, and its packed model records BPE") {
  const bpe_fixture f;
  REQUIRE(f.train.exit_code == 0);
  const auto& dir = f.dir;
  const std::string packed = (dir / "q.safetensors").string();
  const std::string small = " --batch 2 --threads 1 --vocab " + f.vocab;

  const program_run quantize = run_gpt2(dir, "quantize --model " + f.model + " --out " + packed +
                                                 " --calibration-batches 2 --eval-batches 1" + small);
  REQUIRE(quantize.exit_code == 0);
  CHECK(quantize.out.find("batches of 2 x 8") != std::string::npos);
  CHECK(quantize.out.find("peak resident memory: ") != std::string::npos);
  const gpt2::packed_model model = gpt2::load_packed_model(packed);
  CHECK(model.metadata.at("tokenizer") == "gpt2");
  CHECK(model.metadata.at("tokenizer.fingerprint") == f.tokenizer().fingerprint());
  CHECK(model.metadata.at("corpus") == f.corpus);

  const program_run qat = run_gpt2(dir, "qat --model " + f.model + " --out " + (dir / "qat.safetensors").string() +
                                            " --steps 1 --calibration-batches 1 --eval-batches 1" + small);
  CHECK(qat.exit_code == 0);
  CHECK(gpt2::load_packed_model(dir / "qat.safetensors").metadata.at("tokenizer") == "gpt2");

  const program_run infer = run_gpt2(dir, "infer --model " + packed + " --batches 2" + small);
  REQUIRE(infer.exit_code == 0);
  CHECK(infer.out.find("top-1 agreement") != std::string::npos);
  CHECK(infer.out.find("peak resident memory: ") != std::string::npos);

  const program_run generate = run_gpt2(dir, "generate --model " + packed + " --vocab " + f.vocab +
                                                 " --prompt 'the cat' --tokens 5 --temperature 0 --threads 1");
  CHECK(generate.exit_code == 0);
  CHECK(generate.out.starts_with("the cat"));
  CHECK(generate.err == "generate: packed model, integer path\n");

  const program_run paper =
      run_gpt2(dir, "paper --checkpoint " + f.model + " --vocab " + f.vocab + " --qat-steps 1 --eval-batches 1 " +
                        "--threads 1 --out " + (dir / "paper").string() + " --results " + (dir / "results.md").string());
  REQUIRE(paper.exit_code == 0);
  const std::string results = gpt2_test::read_all(dir / "results.md");
  CHECK(results.find("tokenizer GPT-2 BPE, 263 tokens (batches of 12 x 8)") != std::string::npos);
  CHECK(results.find("reference PTQ") == std::string::npos);
  CHECK(results.find(dir.path().string()) == std::string::npos);
}

TEST_CASE("a BPE model without its vocabulary, or with another, and a char model with one, are refused") {
  const bpe_fixture f;
  REQUIRE(f.train.exit_code == 0);
  const auto& dir = f.dir;
  const std::string packed = (dir / "q.safetensors").string();
  REQUIRE(run_gpt2(dir, "quantize --model " + f.model + " --out " + packed + " --vocab " + f.vocab +
                            " --calibration-batches 1 --eval-batches 0 --batch 2 --threads 1")
              .exit_code == 0);
  const std::string no_vocab = ": the model uses GPT-2's BPE tokenizer: pass --vocab DIR (the folder of encoder.json "
                               "and vocab.bpe)\n";
  struct refusal {
    std::string arguments, message;
  };
  const refusal refusals[] = {
      {"eval --model " + f.model, "gpt2 eval: pot: " + f.model + no_vocab},
      {"generate --model " + f.model, "gpt2 generate: pot: " + f.model + no_vocab},
      {"quantize --model " + f.model + " --out " + (dir / "x").string(), "gpt2 quantize: pot: " + f.model + no_vocab},
      {"qat --model " + f.model + " --out " + (dir / "x").string(), "gpt2 qat: pot: " + f.model + no_vocab},
      {"infer --model " + packed, "gpt2 infer: pot: " + packed + no_vocab},
      {"generate --model " + packed, "gpt2 generate: pot: " + packed + no_vocab},
      {"eval --model " + f.model + " --tokenizer char",
       "gpt2 eval: pot: " + f.model + ": the model was trained with GPT-2's BPE tokenizer, not --tokenizer char\n"},
      {"eval --model " + f.model + " --tokenizer bpe", "gpt2 eval: pot: --tokenizer must be char or gpt2, not 'bpe'\n"},
      {"infer --model " + packed + " --vocab " + f.vocab + " --n-head 2",
       "gpt2 infer: pot: --n-head is for float files without config; a packed model records its n_head\n"},
  };
  for (const refusal& r : refusals) {
    CAPTURE(r.arguments);
    const program_run run = run_gpt2(dir, r.arguments + " --threads 1");
    CHECK(run.exit_code == 1);
    CHECK(run.err == r.message);
    CHECK(run.out.find("wrote") == std::string::npos);
  }
  CHECK_FALSE(std::filesystem::exists(dir / "x"));

  const program_run other = run_gpt2(dir, "eval --model " + f.model + " --vocab " + f.other_vocab + " --threads 1");
  CHECK(other.exit_code == 1);
  CHECK(other.err.find("gpt2 eval: pot: " + f.model + ": the model was trained with another BPE vocabulary of the "
                       "same size (fingerprint ") == 0);

  // A char model (the same corpus, char-level) refuses a vocabulary.
  REQUIRE(run_gpt2(dir, "train --data " + f.corpus + " --out " + (dir / "char").string() +
                            " --n-layer 1 --n-head 1 --n-embd 8 --block 8 --steps 1 --batch 2 --warmup 0 "
                            "--eval-every 0 --eval-batches 1 --checkpoint-every 0 --threads 1")
              .exit_code == 0);
  const std::string char_model = (dir / "char" / "model.safetensors").string();
  const program_run char_vocab = run_gpt2(dir, "eval --model " + char_model + " --vocab " + f.vocab + " --threads 1");
  CHECK(char_vocab.exit_code == 1);
  CHECK(char_vocab.err == "gpt2 eval: pot: " + char_model +
                              ": the model was trained with the char tokenizer stored in it, not --tokenizer gpt2\n");
}

TEST_CASE("gpt2 tokenize: ids of a file or standard input, and --decode gives the bytes back") {
  const gpt2_test::temporary_directory dir;
  const std::string vocab = (dir / "vocab").string();
  gpt2_test::write_byte_vocabulary(vocab);
  const std::string text = corpus_text();
  std::ofstream(dir / "text.txt", std::ios::binary) << text;
  std::ofstream(dir / "hand.txt", std::ios::binary) << "the cat!";

  // By hand: "the" 257, " cat" 262, "!" 33.
  program_run run = run_gpt2(dir, "tokenize --vocab " + vocab + " --data " + (dir / "hand.txt").string());
  REQUIRE(run.exit_code == 0);
  CHECK(run.out == "257 262 33\n");
  run = run_gpt2(dir, "tokenize --tokenizer gpt2 --vocab " + vocab + " < " + (dir / "hand.txt").string());
  CHECK(run.out == "257 262 33\n");

  run = run_gpt2(dir, "tokenize --vocab " + vocab + " --data " + (dir / "text.txt").string());
  REQUIRE(run.exit_code == 0);
  std::ofstream(dir / "ids.txt", std::ios::binary) << run.out;
  run = run_gpt2(dir, "tokenize --vocab " + vocab + " --decode --data " + (dir / "ids.txt").string());
  REQUIRE(run.exit_code == 0);
  CHECK(run.out == text);

  std::ofstream(dir / "bad_ids.txt", std::ios::binary) << "257 262\n-1 33";
  run = run_gpt2(dir, "tokenize --vocab " + vocab + " --decode --data " + (dir / "bad_ids.txt").string());
  CHECK(run.exit_code == 1);
  CHECK(run.err == "gpt2 tokenize: pot: " + (dir / "bad_ids.txt").string() + ": word 3 (\"-1\") is not a token id\n");
  std::ofstream(dir / "big_id.txt", std::ios::binary) << "263";
  run = run_gpt2(dir, "tokenize --vocab " + vocab + " --decode --data " + (dir / "big_id.txt").string());
  CHECK(run.err == "gpt2 tokenize: pot: " + (dir / "big_id.txt").string() +
                       ": word 1, id 263, is not in the vocabulary of 263 tokens\n");
  std::ofstream(dir / "latin1.txt", std::ios::binary) << "caf\xE9";
  run = run_gpt2(dir, "tokenize --vocab " + vocab + " --data " + (dir / "latin1.txt").string());
  CHECK(run.exit_code == 1);
  CHECK(run.err == "gpt2 tokenize: pot: " + (dir / "latin1.txt").string() + ": invalid UTF-8 at byte offset 3 (truncated sequence)\n");
  CHECK(run.out.empty());
  run = run_gpt2(dir, "tokenize --tokenizer char --data " + (dir / "hand.txt").string());
  CHECK(run.err ==
        "gpt2 tokenize: pot: tokenize needs --tokenizer gpt2 --vocab DIR (a char tokenizer lives in its model)\n");
  run = run_gpt2(dir, "tokenize --vocab " + (dir / "none").string());
  CHECK(run.err.find("gpt2 tokenize: pot: " + (dir / "none").string() + ": not a directory") == 0);
}
