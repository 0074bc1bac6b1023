// Hugging Face's GPT-2 files (no config, GPT-2 BPE, with or without "transformer.", F32
// or F16) through the `gpt2` program's subcommands, and eval's whole-text perplexity
// against an oracle that scores each token by a forward pass of its own.

#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <span>
#include <string>
#include <vector>

#include "byte_vocabulary.hpp"
#include "gpt2_checkpoint.hpp"
#include "hugging_face_layout.hpp"
#include "model.hpp"
#include "packed_model.hpp"
#include "random.hpp"
#include "run_program.hpp"

namespace {

using gpt2_test::number_after;
using gpt2_test::program_run;
using gpt2_test::run_gpt2;

// 128 channels, so that n_head comes from n_embd / 64 = 2, as for a real GPT-2 file.
const gpt2::gpt2_config hf_config{.n_layer = 1, .n_head = 2, .n_embd = 128, .block_size = 16,
                                  .vocab_size = gpt2_test::byte_vocabulary_size};

const std::string text =
    "the cat sat on the mat.\nLe chat \xC3\xA9tait l\xC3\xA0. 42 cats, 7 mats; the end of the cat's tale!\n";

/// Random parameters exact in F16 (multiples of 1/512 up to 1/8; LayerNorm weights near 1),
/// so that the F16 file holds the same model as the F32 one.
std::vector<float> random_parameters() {
  std::vector<float> values(gpt2::gpt2_parameter_count(hf_config));
  gpt2::splitmix64 random(7);
  for (float& value : values) value = static_cast<float>(static_cast<int>(random.next() % 129) - 64) / 512.0f;
  for (const gpt2::parameter_tensor& p : gpt2::gpt2_parameters(hf_config))
    if (p.name.find("ln_") != std::string::npos && p.name.ends_with(".weight"))
      for (std::size_t i = 0; i < p.size; ++i) values[p.offset + i] += 1.0f;
  return values;
}

/// The whole-text loss by another route: each target t is predicted by one forward over
/// exactly the tokens before it in the window that scores it (the first window, starting
/// at a multiple of \p stride, that reaches past t), with no bookkeeping shared with eval.
/// Targets that start a window (stride == window) are not scored, as there.
struct oracle_loss {
  double sum = 0;
  std::size_t scored = 0;
};
oracle_loss per_target_loss(gpt2::gpt2_model<float>& model, std::span<const std::int32_t> tokens, std::size_t window,
                            std::size_t stride) {
  oracle_loss loss;
  const std::size_t n = tokens.size();
  for (std::size_t target = 1; target < n; ++target) {
    std::size_t begin = 0;
    while (std::min(begin + window, n) <= target) begin += stride;
    if (begin == target) continue;  // the first token of a window has no context in it
    const std::size_t T = target - begin;
    model.forward(tokens.subspan(begin, T), tokens.subspan(begin + 1, T), 1, T);
    loss.sum += static_cast<double>(model.losses()[T - 1]);
    ++loss.scored;
  }
  return loss;
}

/// A Hugging Face file of random_parameters(), the byte vocabulary and the text, in one directory.
struct hf_fixture {
  gpt2_test::temporary_directory dir;
  std::string vocab = (dir / "vocab").string();
  std::string data = (dir / "text.txt").string();
  std::string f32 = (dir / "model.safetensors").string();
  std::string f16 = (dir / "model-f16.safetensors").string();
  std::vector<float> parameters = random_parameters();

  hf_fixture() {
    gpt2_test::write_byte_vocabulary(vocab);
    std::ofstream(data, std::ios::binary) << text;
    gpt2_test::write_hugging_face_file(f32, hf_config, parameters);
    gpt2_test::write_hugging_face_file(f16, hf_config, parameters, {.transformer_prefix = true, .half = true});
  }
};

}  // namespace

TEST_CASE("eval of a Hugging Face file: perplexity over the whole text in strided windows") {
  const hf_fixture f;
  gpt2::gpt2_model<float> model(hf_config, 1, hf_config.block_size, {1});
  model.load_parameters(f.parameters);
  const std::vector<std::int32_t> tokens = gpt2::bpe_tokenizer::from_directory(f.vocab).encode(text);
  const std::size_t n = tokens.size();
  REQUIRE(n == 65);  // 64 = 4 x 16: non-overlapping windows would leave a window of one token

  struct windowing {
    std::string options;
    std::size_t window, stride;
  };
  // The defaults (the block size, half of it), a stride of one token, and non-overlapping windows.
  for (const windowing& w : {windowing{"", 16, 8}, windowing{" --stride 1 --sequence 5", 5, 1},
                             windowing{" --stride 16", 16, 16}}) {
    CAPTURE(w.options);
    const program_run run =
        run_gpt2(f.dir, "eval --model " + f.f32 + " --vocab " + f.vocab + " --data " + f.data + " --threads 1" + w.options);
    REQUIRE(run.exit_code == 0);
    CHECK(run.out.find("n_head 2 (not in the file: --n-head or n_embd / 64), n_embd 128, block 16") !=
          std::string::npos);
    const oracle_loss expected = per_target_loss(model, tokens, w.window, w.stride);
    // By hand: overlapping windows end when one reaches the end and score every token but
    // the first; non-overlapping ones start at every multiple of the window below n - 1 and
    // leave unscored each token at such a start (as the guide's loop with stride =
    // max_length), and the last token too when it would start a window of its own.
    const std::size_t W = w.window, S = w.stride;
    const std::size_t windows = S < W ? (n - W + S - 1) / S + 1 : (n - 1 + W - 1) / W;
    const std::size_t scored = S < W ? n - 1 : n - 1 - (n - 1) / W;
    CHECK(run.out.find("windows of " + std::to_string(w.window) + " tokens, stride " + std::to_string(w.stride) +
                       ", " + std::to_string(windows) + " windows, " + std::to_string(expected.scored) +
                       " tokens scored") != std::string::npos);
    CHECK(expected.scored == scored);
    const double mean = expected.sum / static_cast<double>(expected.scored);
    CHECK(number_after(run.out, "tokens scored: loss ") == doctest::Approx(mean).epsilon(1e-5));
    CHECK(number_after(run.out, ", perplexity ") == doctest::Approx(std::exp(mean)).epsilon(1e-5));
  }

  // The F16 file with "transformer." names holds the same model.
  const program_run f32 = run_gpt2(f.dir, "eval --model " + f.f32 + " --vocab " + f.vocab + " --data " + f.data);
  const program_run f16 = run_gpt2(f.dir, "eval --model " + f.f16 + " --vocab " + f.vocab + " --data " + f.data);
  REQUIRE(f16.exit_code == 0);
  CHECK(number_after(f16.out, "tokens scored: loss ") == number_after(f32.out, "tokens scored: loss "));
}

TEST_CASE("a Hugging Face file needs --vocab and --data, and takes --n-head") {
  const hf_fixture f;
  struct refusal {
    std::string arguments, message;
  };
  const refusal refusals[] = {
      {"eval --model " + f.f32 + " --data " + f.data,
       "gpt2 eval: pot: " + f.f32 + ": records no tokenizer (metadata \"tokenizer\"), as Hugging Face's GPT-2 files; "
       "pass --tokenizer gpt2 --vocab DIR (the folder of encoder.json and vocab.bpe)\n"},
      {"eval --model " + f.f32 + " --vocab " + f.vocab,
       "gpt2 eval: pot: " + f.f32 + ": records no training corpus (metadata \"corpus\"), as Hugging Face's files; "
       "pass --data FILE\n"},
      {"quantize --model " + f.f32 + " --vocab " + f.vocab + " --out " + (f.dir / "x").string(),
       "gpt2 quantize: pot: " + f.f32 + ": records no training corpus (metadata \"corpus\"), as Hugging Face's "
       "files; pass --data FILE\n"},
      {"eval --model " + f.f32 + " --tokenizer char --data " + f.data,
       "gpt2 eval: pot: " + f.f32 + ": has no char tokenizer (metadata \"tokenizer\"): a char model is one written "
       "by `gpt2 train`; a Hugging Face GPT-2 file needs --tokenizer gpt2 --vocab DIR\n"},
      {"eval --model " + f.f32 + " --vocab " + f.vocab + " --data " + f.data + " --n-head 3",
       "gpt2 eval: pot: " + f.f32 + ": gpt2 config: n_embd 128 is not a multiple of n_head 3\n"},
      {"eval --model " + f.f32 + " --vocab " + f.vocab + " --data " + f.data + " --sequence 17",
       "gpt2 eval: pot: --sequence 17 exceeds the model's block size 16\n"},
      {"eval --model " + f.f32 + " --vocab " + f.vocab + " --data " + f.data + " --sequence 8 --stride 9",
       "gpt2 eval: pot: --stride 9 is longer than the window of 8 tokens: tokens between windows would not be "
       "scored\n"},
  };
  for (const refusal& r : refusals) {
    CAPTURE(r.arguments);
    const program_run run = run_gpt2(f.dir, r.arguments + " --threads 1");
    CHECK(run.exit_code == 1);
    CHECK(run.err == r.message);
  }
  const program_run four_heads =
      run_gpt2(f.dir, "eval --model " + f.f32 + " --vocab " + f.vocab + " --data " + f.data + " --n-head 4");
  CHECK(four_heads.exit_code == 0);
  CHECK(four_heads.out.find("n_head 4 (not in the file") != std::string::npos);
}

TEST_CASE("quantize, qat, infer, generate and dump run a Hugging Face file") {
  const hf_fixture f;
  const auto& dir = f.dir;
  const std::string packed = (dir / "q.safetensors").string();
  const std::string common = " --vocab " + f.vocab + " --threads 1";
  // Five times the text: its last 10% holds the 17 tokens of a sequence of 16 and its target.
  const std::string long_text = (dir / "long.txt").string();
  std::ofstream(long_text, std::ios::binary) << text + text + text + text + text;
  const program_run quantize = run_gpt2(dir, "quantize --model " + f.f16 + " --data " + long_text + " --out " + packed +
                                                 " --calibration-batches 2 --eval-batches 1 --batch 2" + common);
  REQUIRE(quantize.exit_code == 0);
  CHECK(quantize.out.find("batches of 2 x 16") != std::string::npos);  // the block is below 64
  CHECK(gpt2::load_packed_model(packed).metadata.at("tokenizer") == "gpt2");

  // The packed model records its corpus: infer and eval need neither --data nor --n-head.
  const program_run infer = run_gpt2(dir, "infer --model " + packed + " --batches 1 --batch 2" + common);
  CHECK(infer.exit_code == 0);
  CHECK(infer.out.find("top-1 agreement") != std::string::npos);
  const program_run eval = run_gpt2(dir, "eval --model " + packed + " --stride 8" + common);
  CHECK(eval.exit_code == 0);
  CHECK(eval.out.find("integer path on " + long_text) != std::string::npos);

  const program_run qat = run_gpt2(dir, "qat --model " + f.f32 + " --data " + long_text + " --out " +
                                            (dir / "qat.safetensors").string() +
                                            " --steps 1 --calibration-batches 1 --eval-batches 1 --batch 2" + common);
  CHECK(qat.exit_code == 0);
  const program_run generate =
      run_gpt2(dir, "generate --model " + f.f32 + " --prompt 'the cat' --tokens 3 --temperature 0" + common);
  CHECK(generate.exit_code == 0);
  CHECK(generate.out.starts_with("the cat"));

  // dump: the logits of a batch from a file without n_head (n_embd / 64), as the model computes them.
  gpt2::safetensors_file batch;
  const std::vector<std::int32_t> inputs{257, 262, 33, 10}, targets{262, 33, 10, 257};
  batch.tensors.push_back(gpt2::make_i32_tensor("inputs", {1, 4}, inputs));
  batch.tensors.push_back(gpt2::make_i32_tensor("targets", {1, 4}, targets));
  gpt2::write_safetensors(dir / "batch.safetensors", batch);
  const program_run dump = run_gpt2(dir, "dump --model " + f.f16 + " --batch " + (dir / "batch.safetensors").string() +
                                             " --out " + (dir / "dump.safetensors").string() + " --logits-only --threads 1");
  REQUIRE(dump.exit_code == 0);
  const gpt2::safetensors_file dumped = gpt2::read_safetensors(dir / "dump.safetensors");
  CHECK(dumped.tensors.size() == 2);  // loss and logits, no gradients
  gpt2::gpt2_model<float> model(hf_config, 1, 4, {1});
  model.load_parameters(f.parameters);
  model.forward(inputs, targets, 1, 4);
  const std::vector<float> logits = dumped.find("logits")->to_floats();
  REQUIRE(logits.size() == model.logits().size());
  CHECK(std::equal(logits.begin(), logits.end(), model.logits().begin()));
}
