#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "gpt2_checkpoint.hpp"
#include "model_io.hpp"
#include "safetensors.hpp"
#include "temporary_directory.hpp"
#include "trainer.hpp"

namespace {

const gpt2::gpt2_config tiny{.n_layer = 2, .n_head = 2, .n_embd = 8, .block_size = 5, .vocab_size = 11};

gpt2::training_options tiny_options() {
  gpt2::training_options options;
  options.steps = 9;
  options.batch_size = 2;
  options.sequence_length = 5;
  options.warmup_steps = 2;
  options.learning_rate = 1e-2;
  options.min_learning_rate = 1e-3;
  options.eval_every = 3;
  options.eval_batches = 2;
  options.checkpoint_every = 4;
  options.seed = 5;
  return options;
}

// A token stream with structure to learn: a repeating pattern with a few variations.
std::vector<std::int32_t> tokens(std::size_t first, std::size_t count) {
  std::vector<std::int32_t> stream(count);
  for (std::size_t i = first; i < first + count; ++i)
    stream[i - first] = static_cast<std::int32_t>((i * 3 + i / 7) % 11);
  return stream;
}

const std::vector<std::int32_t> train_tokens = tokens(0, 400);
const std::vector<std::int32_t> val_tokens = tokens(400, 100);

// Bitwise equality of float sequences, NaN matching NaN (the curve's "not measured").
bool same_bits(float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; }

void check_same_curve(const std::vector<gpt2::loss_point>& a, const std::vector<gpt2::loss_point>& b) {
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    CHECK(a[i].step == b[i].step);
    CHECK(same_bits(a[i].train_loss, b[i].train_loss));
    CHECK(same_bits(a[i].val_loss, b[i].val_loss));
    CHECK(same_bits(a[i].learning_rate, b[i].learning_rate));
  }
}

}  // namespace

TEST_CASE("cosine_learning_rate follows common.py's cosine_lr (hand-computed values)") {
  const gpt2::training_options options;  // lr 1e-3, min 1e-4, warmup 100, 2000 steps
  CHECK(gpt2::cosine_learning_rate(0, options) == doctest::Approx(1e-3 / 101));
  CHECK(gpt2::cosine_learning_rate(99, options) == doctest::Approx(1e-3 * 100 / 101));
  CHECK(gpt2::cosine_learning_rate(100, options) == doctest::Approx(1e-3));
  CHECK(gpt2::cosine_learning_rate(1050, options) == doctest::Approx(5.5e-4));  // cos(pi/2) = 0
  CHECK(gpt2::cosine_learning_rate(2000, options) == doctest::Approx(1e-4));
  CHECK(gpt2::cosine_learning_rate(2500, options) == doctest::Approx(1e-4));
}

TEST_CASE("training lowers the loss, and the curve holds every step and each evaluation") {
  gpt2::gpt2_model<float> model(tiny, 2, 5, {1});
  model.initialize(1);
  auto options = tiny_options();
  options.steps = 60;
  options.eval_every = 30;
  gpt2::trainer run(model, options, train_tokens, val_tokens);
  run.run(options.steps);
  const auto& curve = run.state().curve;
  REQUIRE(curve.size() == 61);  // steps 0..59, then the final val loss at step 60
  CHECK(curve[30].step == 30);
  CHECK(!std::isnan(curve[30].val_loss));
  CHECK(std::isnan(curve[31].val_loss));
  CHECK(std::isnan(curve.back().train_loss));
  CHECK(curve.back().val_loss < curve.front().val_loss - 0.5f);  // starts near log(11) = 2.4
  CHECK(run.finished());
}

TEST_CASE("a run resumed from a checkpoint reproduces the uninterrupted run bitwise") {
  const gpt2_test::temporary_directory dir;
  const auto options = tiny_options();

  gpt2::gpt2_model<float> uninterrupted(tiny, 2, 5, {2});
  uninterrupted.initialize(11);
  gpt2::trainer full(uninterrupted, options, train_tokens, val_tokens);
  full.run(options.steps);

  // A run that checkpoints every 4 steps and dies at step 6: steps 4 and 5 are lost.
  gpt2::gpt2_model<float> killed_model(tiny, 2, 5, {2});
  killed_model.initialize(11);
  gpt2::trainer killed(killed_model, options, train_tokens, val_tokens);
  killed.run(6, [&](const gpt2::trainer& t) {
    if (t.state().step % t.options().checkpoint_every == 0)
      gpt2::save_training_checkpoint(dir / "state.safetensors", t, {{"corpus", "test"}});
  });

  auto at4 = gpt2::load_training_checkpoint(dir / "state.safetensors");
  CHECK(at4.config == tiny);
  REQUIRE(at4.state.step == 4);
  CHECK(at4.metadata.at("corpus") == "test");
  CHECK(at4.options.learning_rate == options.learning_rate);
  gpt2::gpt2_model<float> resumed_model(at4.config, 2, 5, {1});  // thread count differs
  resumed_model.load_parameters(at4.parameters);
  gpt2::trainer resumed(resumed_model, at4.options, train_tokens, val_tokens, std::move(at4.state));
  resumed.run(at4.options.steps);

  check_same_curve(full.state().curve, resumed.state().curve);
  CHECK(std::memcmp(uninterrupted.parameters().data(), resumed_model.parameters().data(),
                    uninterrupted.parameters().size_bytes()) == 0);
}

TEST_CASE("a model checkpoint round-trips exactly through save and load_model") {
  const gpt2_test::temporary_directory dir;
  gpt2::gpt2_model<float> model(tiny, 1, 5, {1});
  model.initialize(3);
  const auto tokenizer = gpt2::char_tokenizer::from_text(U"abcdefghijk");
  gpt2::save_gpt2_checkpoint(dir / "model.safetensors", tiny, model.parameters(),
                             {{gpt2::tokenizer_metadata_key, tokenizer.serialize()}});
  const auto loaded = gpt2::load_model(dir / "model.safetensors", 1, 0);
  CHECK(loaded.model->config() == tiny);
  CHECK(std::memcmp(loaded.model->parameters().data(), model.parameters().data(),
                    model.parameters().size_bytes()) == 0);
  CHECK(loaded.tokenizer.metadata() == gpt2::text_tokenizer(tokenizer).metadata());
}

TEST_CASE("truncated checkpoints give an error naming the file") {
  const gpt2_test::temporary_directory dir;
  gpt2::gpt2_model<float> model(tiny, 2, 5, {1});
  model.initialize(3);
  const auto tokenizer = gpt2::char_tokenizer::from_text(U"abcdefghijk");
  const auto model_path = dir / "model.safetensors";
  gpt2::save_gpt2_checkpoint(model_path, tiny, model.parameters(),
                             {{gpt2::tokenizer_metadata_key, tokenizer.serialize()}});
  std::filesystem::resize_file(model_path, std::filesystem::file_size(model_path) - 10);
  CHECK_THROWS_WITH_AS(gpt2::load_model(model_path, 1, 0), doctest::Contains(model_path.string().c_str()),
                       std::runtime_error);

  gpt2::trainer run(model, tiny_options(), train_tokens, val_tokens);
  run.run(1);
  const auto state_path = dir / "state.safetensors";
  gpt2::save_training_checkpoint(state_path, run, {});
  std::filesystem::resize_file(state_path, std::filesystem::file_size(state_path) / 2);
  CHECK_THROWS_WITH_AS(gpt2::load_training_checkpoint(state_path),
                       doctest::Contains(state_path.string().c_str()), std::runtime_error);
}

TEST_CASE("a checkpoint without the tokenizer, or with bad options, is refused clearly") {
  const gpt2_test::temporary_directory dir;
  gpt2::gpt2_model<float> model(tiny, 1, 5, {1});
  gpt2::save_gpt2_checkpoint(dir / "bare.safetensors", tiny, model.parameters());
  CHECK_THROWS_WITH_AS(gpt2::load_model(dir / "bare.safetensors", 1, 0),
                       doctest::Contains("records no tokenizer"), std::runtime_error);
  auto options = tiny_options();
  options.warmup_steps = options.steps;
  CHECK_THROWS_WITH_AS(gpt2::trainer(model, options, train_tokens, val_tokens),
                       doctest::Contains("warmup_steps"), std::invalid_argument);
}

namespace {

// A train_state of the tiny model after 4 steps, its entries edited by \p edit, loaded back:
// the error message ("(loaded)" if none).
template <class Edit>
std::string edited_state_error(const gpt2_test::temporary_directory& dir, const Edit& edit) {
  gpt2::gpt2_model<float> model(tiny, 2, 5, {1});
  model.initialize(3);
  gpt2::trainer run(model, tiny_options(), train_tokens, val_tokens);
  run.run(4);
  gpt2::save_training_checkpoint(dir / "state.safetensors", run, {});
  gpt2::safetensors_file file = gpt2::read_safetensors(dir / "state.safetensors");
  edit(file);
  gpt2::write_safetensors(dir / "edited.safetensors", file);
  try {
    gpt2::load_training_checkpoint(dir / "edited.safetensors");
  } catch (const std::runtime_error& error) {
    return error.what();
  }
  return "(loaded)";
}

void set_curve_value(gpt2::safetensors_file& file, std::size_t index, float value) {
  for (gpt2::tensor& t : file.tensors)
    if (t.name == "loss_curve") std::memcpy(t.bytes.data() + index * sizeof value, &value, sizeof value);
}

}  // namespace

TEST_CASE("a train_state with impossible entries is refused naming the file and the entry") {
  const gpt2_test::temporary_directory dir;
  const std::string prefix = "pot: " + (dir / "edited.safetensors").string() + ": ";
  CHECK(edited_state_error(dir, [](gpt2::safetensors_file&) {}) == "(loaded)");
  // The curve's steps: a NaN or negative step was once cast to size_t (undefined; in
  // practice step 18446744073709551615 in loss.csv).
  for (const float step : {std::numeric_limits<float>::quiet_NaN(), -1.0f, 2.5f, 9.0f}) {
    CAPTURE(step);
    CHECK(edited_state_error(dir, [&](gpt2::safetensors_file& file) { set_curve_value(file, 4, step); })
              .starts_with(prefix + "loss_curve row 1 has step "));
  }
  // Options are checked as the command line's are: a non-finite or out-of-range value
  // is no option this program wrote.
  CHECK(edited_state_error(dir, [](gpt2::safetensors_file& file) { file.metadata["train.epsilon"] = "inf"; }) ==
        prefix + "metadata entry \"train.epsilon\" = \"inf\" is not a number");
  CHECK(edited_state_error(dir, [](gpt2::safetensors_file& file) { file.metadata["train.beta2"] = "1.5"; }) ==
        prefix + "training option beta2 must be in [0, 1)");
  CHECK(edited_state_error(dir, [](gpt2::safetensors_file& file) { file.metadata["state.step"] = "10"; }) ==
        prefix + "state.step 10 is past the run's 9 steps");
  CHECK(edited_state_error(dir, [](gpt2::safetensors_file& file) { file.metadata["config.n_layer"] = "-1"; }) ==
        prefix + "metadata entry \"config.n_layer\" = \"-1\" is not a number");
  // 2^62 channels: the parameter count overflows; it once wrapped to a model of no storage.
  CHECK(edited_state_error(dir, [](gpt2::safetensors_file& file) {
          file.metadata["config.n_embd"] = "4611686018427387904";
          file.metadata["config.n_head"] = "1";
        }).find("the parameter count overflows size_t") != std::string::npos);
}

TEST_CASE("a diverged run stops at the first non-finite loss, with the state of the last good step") {
  gpt2::gpt2_model<float> model(tiny, 2, 5, {1});
  model.initialize(1);
  auto options = tiny_options();
  options.learning_rate = 1e30;
  options.min_learning_rate = 1e29;
  options.steps = 50;
  options.eval_every = 0;
  gpt2::trainer run(model, options, train_tokens, val_tokens);
  std::vector<float> last_saved;
  std::size_t last_saved_step = 0;
  CHECK_THROWS_WITH_AS(run.run(options.steps,
                               [&](const gpt2::trainer& t) {
                                 CHECK(std::isfinite(t.state().curve.back().train_loss));
                                 last_saved.assign(t.model().parameters().begin(), t.model().parameters().end());
                                 last_saved_step = t.state().step;
                               }),
                       doctest::Contains("pot: training diverged at step "), gpt2::training_diverged);
  CHECK(run.state().step < options.steps);
  CHECK(run.state().step == last_saved_step);
  // The diverged step changed nothing a checkpoint holds.
  REQUIRE(last_saved.size() == model.parameters().size());
  CHECK(std::memcmp(last_saved.data(), model.parameters().data(), model.parameters().size_bytes()) == 0);
  for (const gpt2::loss_point& point : run.state().curve) CHECK(std::isfinite(point.train_loss));
}

TEST_CASE("sizes beyond this machine's memory are refused before anything is allocated") {
  const gpt2::gpt2_config wide{.n_layer = 1024, .n_head = 4, .n_embd = 65536, .block_size = 64, .vocab_size = 100};
  CHECK_THROWS_WITH_AS(gpt2::gpt2_model<float>(wide, 12, 64), doctest::Contains("of memory"), std::length_error);
  // Positions times channels overflow size_t: also a length_error, not a wrapped size.
  const gpt2::gpt2_config long_blocks{.n_layer = 1, .n_head = 1, .n_embd = 1, .block_size = std::size_t{1} << 40,
                                      .vocab_size = 1};
  CHECK_THROWS_AS(gpt2::gpt2_model<float>(long_blocks, std::size_t{1} << 30, std::size_t{1} << 40),
                  std::length_error);
  CHECK_THROWS_WITH_AS(gpt2::fixed_eval_batches(val_tokens, 12, 64, std::size_t{1} << 40),
                       doctest::Contains("fixed val batches of 12 x 64 tokens need"), std::length_error);
}

TEST_CASE("metadata a subcommand needs is looked up with the file named") {
  const std::map<std::string, std::string> metadata{{"tokenizer", "abc"}, {"corpus", "fortunes"}};
  CHECK(gpt2::required_metadata(metadata, "corpus", "m.safetensors") == "fortunes");
  CHECK_THROWS_WITH_AS(gpt2::required_metadata({}, "corpus", "m.safetensors"),
                       doctest::Contains("pot: m.safetensors: has no metadata entry \"corpus\""), std::runtime_error);
  CHECK(gpt2::stored_tokenizer(metadata, 3, "m.safetensors").vocab_size() == 3);
  CHECK_THROWS_WITH_AS(gpt2::stored_tokenizer(metadata, 4, "m.safetensors"),
                       doctest::Contains("pot: m.safetensors: the tokenizer has 3 tokens, the model 4"),
                       std::runtime_error);
  CHECK_THROWS_WITH_AS(gpt2::stored_tokenizer({{"tokenizer", "ba"}}, 2, "m.safetensors"),
                       doctest::Contains("pot: m.safetensors: char tokenizer vocabulary is not sorted"),
                       std::runtime_error);
}
