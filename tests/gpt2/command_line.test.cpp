// The `gpt2` program's answers to bad options and files, run as a user runs it.

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model_io.hpp"
#include "random.hpp"
#include "run_program.hpp"
#include "sampling.hpp"
#include "temporary_directory.hpp"
#include "trainer.hpp"

namespace {

using gpt2_test::program_run;
using gpt2_test::read_all;
using gpt2_test::run_gpt2;

/// A small UTF-8 corpus of 19 distinct characters in \p dir.
std::filesystem::path write_corpus(const gpt2_test::temporary_directory& dir) {
  std::string text;
  for (int i = 0; i < 40; ++i) text += "the cat sat on a mat, " + std::to_string(i % 7) + "\n";
  const auto path = dir / "tiny.txt";
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

/// `train` on the small corpus with a model of a few hundred parameters, two steps,
/// writing into <dir>/out; \p changes replace or add options ("" drops one).
std::string tiny_train(const gpt2_test::temporary_directory& dir, const std::map<std::string, std::string>& changes = {}) {
  std::map<std::string, std::string> options{
      {"data", write_corpus(dir).string()}, {"out", (dir / "out").string()}, {"n-layer", "1"}, {"n-head", "1"},
      {"n-embd", "8"}, {"block", "8"}, {"steps", "2"}, {"batch", "2"}, {"warmup", "0"}, {"eval-every", "0"},
      {"eval-batches", "1"}, {"checkpoint-every", "0"}, {"threads", "1"}};
  for (const auto& [name, value] : changes) options[name] = value;
  std::string arguments = "train";
  for (const auto& [name, value] : options)
    if (!value.empty()) arguments += " --" + name + " " + value;
  return arguments;
}

}  // namespace

TEST_CASE("the small training run these tests start from succeeds") {
  const gpt2_test::temporary_directory dir;
  const program_run run = run_gpt2(dir, tiny_train(dir));
  CHECK(run.exit_code == 0);
  CHECK(run.err.empty());
  CHECK(std::filesystem::exists(dir / "out" / "train_state.safetensors"));
}

TEST_CASE("size and thread options beyond their bounds get one error naming the option and the bound") {
  const gpt2_test::temporary_directory dir;
  struct bad_option { const char* name; const char* value; const char* message; };
  const bad_option cases[] = {
      // 2^32 + 1 threads was once cast to 1 thread, silently; 100000 failed in pthread_create.
      {"threads", "4294967297", "gpt2 train: pot: option --threads must be at most 1024, got 4294967297\n"},
      {"threads", "100000", "gpt2 train: pot: option --threads must be at most 1024, got 100000\n"},
      {"threads", "99999999999999999999999", "option --threads must be at most 1024"},
      {"n-layer", "100000", "option --n-layer must be at most 1024, got 100000\n"},
      {"n-embd", "4611686018427387904", "option --n-embd must be at most 65536, got 4611686018427387904\n"},
      {"batch", "1000000000", "option --batch must be at most 65536, got 1000000000\n"},
      {"block", "-3", "option --block needs a non-negative integer, got \"-3\"\n"},
      {"lr", "1e400", "option --lr needs a finite number, got \"1e400\"\n"},
  };
  for (const bad_option& bad : cases) {
    CAPTURE(bad.name);
    CAPTURE(bad.value);
    const program_run run = run_gpt2(dir, tiny_train(dir, {{bad.name, bad.value}}));
    CHECK(run.exit_code == 1);
    CHECK(run.err.find(bad.message) != std::string::npos);
    CHECK(run.err.find('\n') == run.err.size() - 1);  // one line
    CHECK(run.out.empty());
  }
  // Each size within its bound, together too large: one error about memory, no bad_alloc.
  const program_run run = run_gpt2(dir, tiny_train(dir, {{"n-layer", "1024"}, {"n-embd", "65536"}}));
  CHECK(run.exit_code == 1);
  CHECK(run.err.find("gpt2 train: pot: a model of n_layer 1024") != std::string::npos);
  CHECK(run.err.find("of memory") != std::string::npos);
}

TEST_CASE("an output directory that cannot be written is found before training starts") {
  const gpt2_test::temporary_directory dir;
  // /proc: no one may create files there, root included (permission bits would not stop
  // root). The run used to train to its end and then fail to save anything.
  const program_run run = run_gpt2(dir, tiny_train(dir, {{"out", "/proc"}}));
  CHECK(run.exit_code == 1);
  CHECK(run.err == "gpt2 train: pot: /proc: cannot create files in the output directory: No such file or directory\n");
  CHECK(run.out.empty());  // not a step trained
}

TEST_CASE("a diverged run stops with an error and keeps the last good checkpoint") {
  const gpt2_test::temporary_directory dir;
  const program_run run = run_gpt2(
      dir, tiny_train(dir, {{"lr", "1e30"}, {"steps", "50"}, {"checkpoint-every", "1"}, {"eval-every", "10"}}));
  CHECK(run.exit_code == 1);
  REQUIRE(run.err.find("gpt2 train: pot: training diverged at step ") == 0);
  CHECK_FALSE(std::filesystem::exists(dir / "out" / "loss.csv"));  // written only by a finished run
  const std::string kept = "; the last checkpoint, step ";
  const std::size_t at = run.err.find(kept);
  REQUIRE(at != std::string::npos);
  const std::size_t step = std::stoul(run.err.substr(at + kept.size()));
  const gpt2::training_checkpoint checkpoint =
      gpt2::load_training_checkpoint(dir / "out" / "train_state.safetensors");
  CHECK(checkpoint.state.step == step);
  CHECK(run.err.find("training diverged at step " + std::to_string(step) + ":") != std::string::npos);
  for (const gpt2::loss_point& point : checkpoint.state.curve) CHECK_FALSE(std::isinf(point.train_loss));
  for (const float value : checkpoint.parameters) REQUIRE(std::isfinite(value));
}

TEST_CASE("--resume of a train_state that another program wrote names the file and the missing entry") {
  const gpt2_test::temporary_directory dir;
  const gpt2::gpt2_config config{.n_layer = 1, .n_head = 1, .n_embd = 4, .block_size = 4, .vocab_size = 3};
  gpt2::gpt2_model<float> model(config, 1, 4, {1});
  gpt2::training_options options;
  options.steps = 2, options.warmup_steps = 0, options.batch_size = 1, options.sequence_length = 4;
  options.eval_batches = 1;
  const std::vector<std::int32_t> tokens{0, 1, 2, 0, 1, 2, 0, 1, 2, 0};
  const gpt2::trainer trainer(model, options, tokens, tokens);
  const auto state = dir / "state.safetensors";
  // A file "gpt2 train --resume" once answered with "map::at".
  gpt2::save_training_checkpoint(state, trainer, {{"tokenizer", "abc"}});
  program_run run = run_gpt2(dir, "train --resume " + state.string() + " --out " + (dir / "out").string());
  CHECK(run.exit_code == 1);
  CHECK(run.err == "gpt2 train: pot: " + state.string() +
                       ": has no metadata entry \"corpus\"; this program reads files written by `gpt2 train`\n");
  gpt2::save_training_checkpoint(state, trainer, {{"corpus", write_corpus(dir).string()}});
  run = run_gpt2(dir, "train --resume " + state.string() + " --out " + (dir / "out").string());
  CHECK(run.exit_code == 1);
  CHECK(run.err.find("gpt2 train: pot: " + state.string() + ": records no tokenizer") == 0);
}

TEST_CASE("gpt2 paper names the corpus it ran on, shows the reference only beside its own corpus, and no paths") {
  const gpt2_test::temporary_directory dir;
  REQUIRE(run_gpt2(dir, tiny_train(dir)).exit_code == 0);
  const program_run run = run_gpt2(dir, "paper --checkpoint " + (dir / "out" / "model.safetensors").string() +
                                            " --qat-steps 1 --eval-batches 1 --threads 1 --out " +
                                            (dir / "paper").string() + " --results " + (dir / "results.md").string());
  REQUIRE(run.exit_code == 0);
  const std::string results = read_all(dir / "results.md");
  const std::string chart = read_all(dir / "pot-quantization.svg");
  CHECK(results.find("The paper's tables on the corpus tiny.txt, a model of 1 layers") != std::string::npos);
  CHECK(results.find("fortunes (the default)") == std::string::npos);
  CHECK(results.find("The PyTorch reference's figures are for the corpus fortunes, char-level, only") != std::string::npos);
  CHECK(results.find("reference PTQ") == std::string::npos);
  CHECK(results.find("2.0343") == std::string::npos);  // a reference figure
  CHECK(chart.find("val loss on tiny.txt") != std::string::npos);
  // No directory of this machine: the files name the model and corpus by file name.
  for (const std::string& text : {results, chart}) {
    CHECK(text.find(dir.path().string()) == std::string::npos);
    CHECK(text.find("/work/") == std::string::npos);
  }
}

TEST_CASE("gpt2 generate decodes through its KV cache what full forwards over the same windows give") {
  const gpt2_test::temporary_directory dir;
  REQUIRE(run_gpt2(dir, tiny_train(dir)).exit_code == 0);
  const auto checkpoint = dir / "out" / "model.safetensors";
  // 5 prompt tokens and 20 sampled ones in a block of 8: decode steps and re-prefills.
  const std::string prompt = "the c";
  const std::size_t tokens = 20;
  const program_run run = run_gpt2(dir, "generate --model " + checkpoint.string() + " --prompt '" + prompt +
                                            "' --tokens " + std::to_string(tokens) + " --temperature 0 --threads 1");
  REQUIRE(run.exit_code == 0);

  // The oracle: greedy tokens from forward() over the window the cache holds at each step
  // (the context's last tokens; when it reaches block_size, the last block_size / 2).
  gpt2::loaded_model loaded = gpt2::load_model(checkpoint, 1, 0, {1});
  gpt2::gpt2_model<float>& model = *loaded.model;
  const std::size_t block = model.config().block_size, V = model.config().vocab_size;
  std::vector<std::int32_t> context = loaded.tokenizer.encode(prompt);
  std::size_t window = std::min(block, context.size());
  gpt2::splitmix64 unused(1);
  std::string expected = prompt;
  for (std::size_t i = 0; i < tokens; ++i) {
    model.forward(std::span<const std::int32_t>(context).last(window), {}, 1, window);
    const std::int32_t next = gpt2::sample_token(model.logits().subspan((window - 1) * V, V), 0.0, 200, unused);
    context.push_back(next);
    expected += loaded.tokenizer.decode(std::span(&next, 1));
    window = window == block ? block / 2 : window + 1;
  }
  CHECK(run.out == expected + "\n");
  CHECK(run.err == "generate: float checkpoint, float path\n");
}

TEST_CASE("gpt2 speed reports prompt and decode rates and the bytes a decode step reads") {
  const gpt2_test::temporary_directory dir;
  const std::string common = "speed --size nano --prompt-tokens 8 --decode-tokens 4 --threads 1 --json";
  const program_run float_run = run_gpt2(dir, common);
  REQUIRE(float_run.exit_code == 0);
  const auto report = nlohmann::json::parse(float_run.out);
  CHECK(report["size"] == "nano");
  CHECK(report["weights"] == "float");
  CHECK(report["prompt_tokens"] == 8);
  CHECK(report["decode_tokens"] == 4);
  CHECK(report["prompt_tokens_per_s"].get<double>() > 0);
  CHECK(report["decode_tokens_per_s"].get<double>() > 0);
  // nano: 4 blocks of 12 C^2 Linear weights (C = 128), lm_head 96 x 128, 13 C vectors
  // per block, ln_f, one wte and one wpe row; all float32.
  const std::size_t C = 128, float_bytes = (4 * 12 * C * C + 96 * C + 4 * 13 * C + 2 * C + 2 * C) * 4;
  CHECK(report["weight_bytes"] == float_bytes);
  // The KV cache of 4 blocks, 2 x 128 floats per position, at 8 + 4 / 2 positions on average.
  CHECK(report["bytes_per_decoded_token"].get<double>() == doctest::Approx(float_bytes + 2.0 * 4 * C * 4 * 10));

  const program_run pot_run = run_gpt2(dir, common + " --weights pot --format 4bit-E7-log-clamp");
  REQUIRE(pot_run.exit_code == 0);
  const auto packed = nlohmann::json::parse(pot_run.out);
  CHECK(packed["weights"] == "4bit-E7-log-clamp + uint8");
  // 4-bit codes of the Linears (two a byte) and one float scale per each block's four
  // tensors, beside the same float lm_head and vectors.
  const std::size_t packed_linears = 4 * (12 * C * C / 2 + 4 * 4);
  CHECK(packed["weight_bytes"] == float_bytes - 4 * 12 * C * C * 4 + packed_linears);

  const program_run bad_size = run_gpt2(dir, "speed --size 7B");
  CHECK(bad_size.exit_code != 0);
  CHECK(bad_size.err == "gpt2 speed: pot: --size must be 124M or nano, not '7B'\n");
  const program_run float_pot = run_gpt2(dir, "speed --size nano --weights pot --activations float");
  CHECK(float_pot.exit_code != 0);
  CHECK(float_pot.err == "gpt2 speed: pot: --weights pot runs the integer path: --activations uint8 or int8\n");
}
