#include "trainer.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include "atomic_file.hpp"
#include "file_error.hpp"
#include "pot/nn/adamw.hpp"
#include "pot/nn/gradient_clipping.hpp"
#include "pot/nn/learning_rate_schedule.hpp"
#include "safetensors.hpp"
#include "strict_number.hpp"

namespace gpt2 {

namespace {

constexpr float not_measured = std::numeric_limits<float>::quiet_NaN();

void require(bool condition, const std::string& problem) {
  if (!condition) throw std::invalid_argument("pot: training option " + problem);
}

// Shortest decimal that reads back as the same double, so a checkpoint's options
// survive the metadata's string form exactly.
std::string exact_decimal(double value) {
  char buffer[32];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  return {buffer, result.ptr};
}

}  // namespace

void training_options::validate() const {
  require(steps > 0, "steps must be > 0");
  require(batch_size > 0, "batch_size must be > 0");
  require(sequence_length > 0, "sequence_length must be > 0");
  require(learning_rate > 0 && std::isfinite(learning_rate), "learning_rate must be > 0");
  require(min_learning_rate >= 0 && min_learning_rate <= learning_rate,
          "min_learning_rate must be in [0, learning_rate]");
  require(warmup_steps < steps, "warmup_steps must be < steps");
  require(beta1 >= 0 && beta1 < 1, "beta1 must be in [0, 1)");
  require(beta2 >= 0 && beta2 < 1, "beta2 must be in [0, 1)");
  require(epsilon > 0, "epsilon must be > 0");
  require(weight_decay >= 0, "weight_decay must be >= 0");
  require(gradient_clip >= 0, "gradient_clip must be >= 0 (0 disables clipping)");
  require(eval_batches > 0, "eval_batches must be > 0");
}

double cosine_learning_rate(std::size_t step, const training_options& options) {
  return pot::nn::warmup_cosine_schedule{options.learning_rate, options.min_learning_rate,
                                         options.warmup_steps, options.steps}(step);
}

trainer::trainer(gpt2_model<float>& model, const training_options& options,
                 std::span<const std::int32_t> train, std::span<const std::int32_t> val,
                 std::optional<optimizer_state> resume)
    : model_(model),
      options_((options.validate(), options)),
      sampler_(train, options.batch_size, options.sequence_length, options.seed),
      val_batches_(fixed_eval_batches(val, options.batch_size, options.sequence_length,
                                      options.eval_batches)) {
  const std::size_t count = model.parameters().size();
  if (resume) {
    if (resume->first_moment.size() != count || resume->second_moment.size() != count)
      throw std::invalid_argument("pot: the optimizer state holds " +
                                  std::to_string(resume->first_moment.size()) +
                                  " moments, the model has " + std::to_string(count) + " parameters");
    if (resume->step > options.steps)
      throw std::invalid_argument("pot: the checkpoint is at step " + std::to_string(resume->step) +
                                  ", past the run's " + std::to_string(options.steps) + " steps");
    state_ = std::move(*resume);
    sampler_.restore(state_.sampler_state);
  } else {
    state_.first_moment.assign(count, 0.0f);
    state_.second_moment.assign(count, 0.0f);
    state_.sampler_state = sampler_.state();
  }
}

bool trainer::finished() const noexcept {
  return state_.step == options_.steps && !state_.curve.empty() &&
         state_.curve.back().step == options_.steps;
}

double trainer::evaluate() {
  return mean_batch_loss(std::span<const token_batch>(val_batches_), [&](const token_batch& batch) {
    return static_cast<double>(
        model_.forward(batch.inputs, batch.targets, batch.batch_size, batch.sequence_length));
  });
}

void trainer::clip_gradients() {
  const double norm =
      pot::nn::clip_by_global_norm(model_.gradients(), options_.gradient_clip, model_.execution());
  require_finite(norm, "the gradient norm");
}

void trainer::update_parameters(double learning_rate) {
  const pot::nn::adamw_options adamw{learning_rate, options_.beta1, options_.beta2,
                                     options_.epsilon, options_.weight_decay};
  float* parameters = model_.parameters().data();
  const float* gradients = model_.gradients().data();
  for (const auto& tensor : model_.parameter_tensors())
    pot::nn::adamw_update(parameters + tensor.offset, gradients + tensor.offset,
                          state_.first_moment.data() + tensor.offset, state_.second_moment.data() + tensor.offset,
                          tensor.size, state_.step + 1, adamw, tensor.weight_decay, model_.execution());
}

void trainer::require_finite(double value, const char* what) const {
  if (std::isfinite(value)) return;
  throw training_diverged("pot: training diverged at step " + std::to_string(state_.step) + ": " + what +
                          " is " + std::to_string(value) + " (learning rate " +
                          exact_decimal(cosine_learning_rate(state_.step, options_)) +
                          "); stopped with the state of the last finished step");
}

float trainer::train_step() {
  const double learning_rate = cosine_learning_rate(state_.step, options_);
  sampler_.restore(state_.sampler_state);
  const token_batch batch = sampler_.next();
  const float loss =
      model_.forward(batch.inputs, batch.targets, batch.batch_size, batch.sequence_length);
  // A diverged step stops before it changes the state (parameters, moments, batch
  // generator), so the run can still be saved as it was after the last good step.
  require_finite(loss, "the training loss");
  model_.backward();
  clip_gradients();
  update_parameters(learning_rate);
  state_.sampler_state = sampler_.state();
  if (state_.curve.empty() || state_.curve.back().step != state_.step)
    state_.curve.push_back({state_.step, loss, not_measured, static_cast<float>(learning_rate)});
  else {
    state_.curve.back().train_loss = loss;
    state_.curve.back().learning_rate = static_cast<float>(learning_rate);
  }
  ++state_.step;
  return loss;
}

void trainer::run(std::size_t stop_at, const step_callback& after_step) {
  const auto record_val_loss = [&] {
    const double loss = evaluate();
    require_finite(loss, "the val loss");
    state_.curve.push_back({state_.step, not_measured, static_cast<float>(loss), not_measured});
  };
  const std::size_t last = std::min(stop_at, options_.steps);
  while (state_.step < last) {
    if (options_.eval_every != 0 && state_.step % options_.eval_every == 0) record_val_loss();
    train_step();
    if (after_step) after_step(*this);
  }
  if (state_.step == options_.steps && !finished()) record_val_loss();
}

namespace {

const std::string options_prefix = "train.";

std::map<std::string, std::string> options_metadata(const training_options& o) {
  auto count = [](std::size_t value) { return std::to_string(value); };
  return {{"train.steps", count(o.steps)},
          {"train.batch_size", count(o.batch_size)},
          {"train.sequence_length", count(o.sequence_length)},
          {"train.learning_rate", exact_decimal(o.learning_rate)},
          {"train.min_learning_rate", exact_decimal(o.min_learning_rate)},
          {"train.warmup_steps", count(o.warmup_steps)},
          {"train.beta1", exact_decimal(o.beta1)},
          {"train.beta2", exact_decimal(o.beta2)},
          {"train.epsilon", exact_decimal(o.epsilon)},
          {"train.weight_decay", exact_decimal(o.weight_decay)},
          {"train.gradient_clip", exact_decimal(o.gradient_clip)},
          {"train.eval_every", count(o.eval_every)},
          {"train.eval_batches", count(o.eval_batches)},
          {"train.checkpoint_every", count(o.checkpoint_every)},
          {"train.seed", std::to_string(o.seed)}};
}

// Reads metadata entries of a checkpoint, naming the file in every error.
class metadata_reader {
 public:
  metadata_reader(const std::filesystem::path& path, const std::map<std::string, std::string>& entries)
      : path_(path), entries_(entries) {}

  const std::string& text(const std::string& key) const {
    const auto found = entries_.find(key);
    if (found == entries_.end()) fail("has no metadata entry \"" + key + "\"");
    return found->second;
  }

  template <class Number>
  Number number(const std::string& key) const {
    const std::string& value = text(key);
    const auto parsed = parse_strict_number<Number>(value);
    if (!parsed) fail("metadata entry \"" + key + "\" = \"" + value + "\" is not a number");
    return *parsed;
  }

  [[noreturn]] void fail(const std::string& problem) const { throw_file_error(path_, problem); }

 private:
  const std::filesystem::path& path_;
  const std::map<std::string, std::string>& entries_;
};

}  // namespace

void save_training_checkpoint(const std::filesystem::path& path, const trainer& run,
                              const std::map<std::string, std::string>& extra_metadata) {
  const gpt2_config& config = run.model().config();
  const optimizer_state& state = run.state();
  safetensors_file file;
  file.metadata = options_metadata(run.options());
  file.metadata["config.n_layer"] = std::to_string(config.n_layer);
  file.metadata["config.n_head"] = std::to_string(config.n_head);
  file.metadata["config.n_embd"] = std::to_string(config.n_embd);
  file.metadata["config.block_size"] = std::to_string(config.block_size);
  file.metadata["config.vocab_size"] = std::to_string(config.vocab_size);
  file.metadata["state.step"] = std::to_string(state.step);
  file.metadata["state.sampler"] = std::to_string(state.sampler_state);
  for (const auto& [key, value] : extra_metadata) {
    if (key.starts_with("config.") || key.starts_with("train.") || key.starts_with("state."))
      throw std::invalid_argument("pot: metadata key \"" + key + "\" is reserved for the trainer");
    file.metadata[key] = value;
  }
  const std::size_t count = run.model().parameters().size();
  file.tensors.push_back(make_f32_tensor("parameters", {count}, run.model().parameters()));
  file.tensors.push_back(make_f32_tensor("adamw.m", {count}, state.first_moment));
  file.tensors.push_back(make_f32_tensor("adamw.v", {count}, state.second_moment));
  std::vector<float> curve;  // (rows, 4): step, train_loss, val_loss, lr
  curve.reserve(state.curve.size() * 4);
  for (const loss_point& point : state.curve) {
    curve.insert(curve.end(), {static_cast<float>(point.step), point.train_loss, point.val_loss,
                               point.learning_rate});
  }
  file.tensors.push_back(make_f32_tensor("loss_curve", {state.curve.size(), 4}, curve));
  write_safetensors(path, file);
}

training_checkpoint load_training_checkpoint(const std::filesystem::path& path) {
  const safetensors_file file = read_safetensors(path);
  const metadata_reader meta(path, file.metadata);
  training_checkpoint checkpoint;
  checkpoint.config = {meta.number<std::size_t>("config.n_layer"),
                       meta.number<std::size_t>("config.n_head"),
                       meta.number<std::size_t>("config.n_embd"),
                       meta.number<std::size_t>("config.block_size"),
                       meta.number<std::size_t>("config.vocab_size")};
  try {
    validate(checkpoint.config);  // also: the parameter count below fits in size_t
  } catch (const std::invalid_argument& error) {
    meta.fail(error.what());
  }
  training_options& o = checkpoint.options;
  o.steps = meta.number<std::size_t>("train.steps");
  o.batch_size = meta.number<std::size_t>("train.batch_size");
  o.sequence_length = meta.number<std::size_t>("train.sequence_length");
  o.learning_rate = meta.number<double>("train.learning_rate");
  o.min_learning_rate = meta.number<double>("train.min_learning_rate");
  o.warmup_steps = meta.number<std::size_t>("train.warmup_steps");
  o.beta1 = meta.number<double>("train.beta1");
  o.beta2 = meta.number<double>("train.beta2");
  o.epsilon = meta.number<double>("train.epsilon");
  o.weight_decay = meta.number<double>("train.weight_decay");
  o.gradient_clip = meta.number<double>("train.gradient_clip");
  o.eval_every = meta.number<std::size_t>("train.eval_every");
  o.eval_batches = meta.number<std::size_t>("train.eval_batches");
  o.checkpoint_every = meta.number<std::size_t>("train.checkpoint_every");
  o.seed = meta.number<std::uint64_t>("train.seed");
  checkpoint.state.step = meta.number<std::size_t>("state.step");
  checkpoint.state.sampler_state = meta.number<std::uint64_t>("state.sampler");
  try {
    o.validate();
  } catch (const std::invalid_argument& error) {
    meta.fail(error.what());
  }
  if (checkpoint.state.step > o.steps)
    meta.fail("state.step " + std::to_string(checkpoint.state.step) + " is past the run's " +
              std::to_string(o.steps) + " steps");

  const std::size_t count = gpt2_parameter_count(checkpoint.config);
  auto vector_of = [&](const char* name) {
    const tensor* found = file.find(name);
    if (found == nullptr) meta.fail(std::string("has no tensor \"") + name + "\"");
    if (found->shape != std::vector<std::size_t>{count})
      meta.fail(std::string("tensor \"") + name + "\" does not hold the config's " +
                std::to_string(count) + " parameters");
    return found->to_floats();
  };
  checkpoint.parameters = vector_of("parameters");
  checkpoint.state.first_moment = vector_of("adamw.m");
  checkpoint.state.second_moment = vector_of("adamw.v");
  const tensor* curve = file.find("loss_curve");
  if (curve == nullptr || curve->shape.size() != 2 || curve->shape[1] != 4)
    meta.fail("has no (rows, 4) tensor \"loss_curve\"");
  const std::vector<float> rows = curve->to_floats();
  for (std::size_t i = 0; i < rows.size(); i += 4) {
    // A row's step is a whole number from 0 to the state's step (the final val loss sits
    // at that step itself), in order: anything else is not a curve this program wrote.
    const float step = rows[i];
    const float previous = checkpoint.state.curve.empty() ? 0.0f : static_cast<float>(checkpoint.state.curve.back().step);
    if (!(step >= previous && step <= static_cast<float>(checkpoint.state.step)) || step != std::floor(step))
      meta.fail("loss_curve row " + std::to_string(i / 4) + " has step " + std::to_string(step) +
                ", not a step from " + std::to_string(previous) + " to state.step " +
                std::to_string(checkpoint.state.step));
    checkpoint.state.curve.push_back({static_cast<std::size_t>(step), rows[i + 1], rows[i + 2], rows[i + 3]});
  }
  for (const auto& [key, value] : file.metadata) {
    if (!key.starts_with("config.") && !key.starts_with("train.") && !key.starts_with("state."))
      checkpoint.metadata[key] = value;
  }
  return checkpoint;
}

void write_loss_csv(const std::filesystem::path& path, std::span<const loss_point> curve) {
  std::string text = "step,train_loss,val_loss,lr\n";
  auto field = [&](float value) {
    if (std::isnan(value)) return;
    char buffer[32];
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
    text.append(buffer, result.ptr);
  };
  for (const loss_point& point : curve) {
    text += std::to_string(point.step) + ",";
    field(point.train_loss);
    text += ",";
    field(point.val_loss);
    text += ",";
    field(point.learning_rate);
    text += "\n";
  }
  atomic_file_writer writer(path);
  writer.write(std::as_bytes(std::span(text)));
  writer.commit();
}

}  // namespace gpt2
