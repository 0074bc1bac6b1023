/// \file
/// \brief Float training: AdamW, warmup + cosine schedule, gradient clipping, the val-loss
/// protocol, and checkpoints from which a run resumes exactly.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <iosfwd>
#include <map>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "dataset.hpp"
#include "model.hpp"

namespace gpt2 {

/// \brief Training hyperparameters; the defaults are the reference's (ref_train.py).
struct training_options {
  std::size_t steps = 2000;            ///< optimizer steps; also the cosine's decay length
  std::size_t batch_size = 12;         ///< B
  std::size_t sequence_length = 64;    ///< T
  double learning_rate = 1e-3;         ///< peak lr after warmup
  double min_learning_rate = 1e-4;     ///< lr at the end of the cosine
  std::size_t warmup_steps = 100;      ///< linear warmup length
  double beta1 = 0.9;                  ///< AdamW
  double beta2 = 0.99;                 ///< AdamW
  double epsilon = 1e-8;               ///< AdamW
  double weight_decay = 0.1;           ///< on matrices and embeddings only
  double gradient_clip = 1.0;          ///< max global gradient norm; 0 disables clipping
  std::size_t eval_every = 250;        ///< val loss before every this many steps; 0: only at the end
  std::size_t eval_batches = eval_batch_count;  ///< fixed val batches per evaluation
  std::size_t checkpoint_every = 500;  ///< checkpoint after every this many steps; 0: never
  std::uint64_t seed = 1337;           ///< model initialisation and batch order

  /// \brief Checks the values make a run (positive sizes, 0 <= betas < 1, ...).
  /// \throws std::invalid_argument naming the offending option
  void validate() const;
};

/// \brief nanoGPT's get_lr as common.py's cosine_lr with decay_iters = options.steps:
/// lr (it+1)/(warmup+1) during warmup, then a cosine from lr to min_lr.
double cosine_learning_rate(std::size_t step, const training_options& options);

/// \brief One row of the loss curve. NaN marks a value not measured at that step.
struct loss_point {
  std::size_t step = 0;      ///< the step this row belongs to (its update is step + 1)
  float train_loss = 0.0f;   ///< the training batch's loss before the update
  float val_loss = 0.0f;     ///< val loss before the update (NaN between evaluations)
  float learning_rate = 0.0f;  ///< lr of this step's update
};

/// \brief Everything besides the parameters that a resumed run needs.
struct optimizer_state {
  std::size_t step = 0;                 ///< steps done
  std::uint64_t sampler_state = 0;      ///< the training batch generator
  std::vector<float> first_moment;      ///< AdamW m, parameter layout
  std::vector<float> second_moment;     ///< AdamW v, parameter layout
  std::vector<loss_point> curve;        ///< the loss curve so far
};

/// \brief Thrown when a loss or the gradient norm is not finite (the run diverged, e.g.
/// at too high a learning rate). The trainer's state is still that after the last
/// finished step: the diverged step changed nothing.
class training_diverged : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// \brief Trains a float model on a token stream.
class trainer {
 public:
  /// \brief Called after a step; gets the trainer to save a checkpoint from.
  using step_callback = std::function<void(const trainer&)>;

  /// \brief Trains \p model (which must hold batches of options.batch_size x
  /// options.sequence_length) on \p train, evaluating on \p val. Both spans must
  /// outlive the trainer. With \p resume the run continues from that state.
  /// \throws std::invalid_argument for invalid options or a state that does not fit
  trainer(gpt2_model<float>& model, const training_options& options,
          std::span<const std::int32_t> train, std::span<const std::int32_t> val,
          std::optional<optimizer_state> resume = std::nullopt);

  /// \brief Runs until step() == min(\p stop_at, options.steps); at options.steps it
  /// also records the final val loss. \p after_step runs after every step.
  /// \throws training_diverged for a non-finite training or val loss or gradient norm
  void run(std::size_t stop_at, const step_callback& after_step = {});

  /// \brief One optimizer step on the next training batch; returns its loss.
  /// \throws training_diverged (see run())
  float train_step();

  /// \brief Mean loss over the fixed val batches (common.py's evaluate()).
  double evaluate();

  [[nodiscard]] const training_options& options() const noexcept { return options_; }
  [[nodiscard]] const optimizer_state& state() const noexcept { return state_; }
  [[nodiscard]] const gpt2_model<float>& model() const noexcept { return model_; }
  /// \brief Whether every step has run and the final val loss is recorded.
  [[nodiscard]] bool finished() const noexcept;

 private:
  void require_finite(double value, const char* what) const;
  void clip_gradients();
  void update_parameters(double learning_rate);

  gpt2_model<float>& model_;
  training_options options_;
  batch_sampler sampler_;
  std::vector<token_batch> val_batches_;
  optimizer_state state_;
};

/// \brief A training checkpoint read back: sizes, parameters, options, optimizer state
/// and the caller's metadata (tokenizer, corpus).
struct training_checkpoint {
  gpt2_config config;
  std::vector<float> parameters;
  training_options options;
  optimizer_state state;
  std::map<std::string, std::string> metadata;  ///< the extra entries given to save
};

/// \brief Saves the trainer's model, options and state atomically in one safetensors
/// file, so a crash leaves the previous checkpoint or the new one, never a mix.
/// \p extra_metadata may not use the keys "config.*", "train.*" or "state.*".
void save_training_checkpoint(const std::filesystem::path& path, const trainer& run,
                              const std::map<std::string, std::string>& extra_metadata);

/// \brief Reads a file written by save_training_checkpoint.
/// \throws std::runtime_error "pot: <path>: <problem>" for a bad file, a missing entry
///   or tensors that disagree with the config
training_checkpoint load_training_checkpoint(const std::filesystem::path& path);

/// \brief Writes \p curve as CSV: step,train_loss,val_loss,lr (empty where not measured).
void write_loss_csv(const std::filesystem::path& path, std::span<const loss_point> curve);

}  // namespace gpt2
