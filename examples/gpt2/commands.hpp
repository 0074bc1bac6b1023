/// \file
/// \brief The `gpt2` program's subcommands (one source file each) and what they share.
///
/// A subcommand is `int run_NAME(arguments&)`, listed in main.cpp's table; it returns the
/// process exit code and reports errors by throwing (main prints the message).
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <span>
#include <string>

#include "command_line.hpp"
#include "model.hpp"
#include "trainer.hpp"

namespace gpt2 {

int run_train(arguments& args);
int run_eval(arguments& args);
int run_generate(arguments& args);
int run_dump(arguments& args);
int run_demo(arguments& args);
int run_quantize(arguments& args);
int run_qat(arguments& args);
int run_infer(arguments& args);
int run_paper(arguments& args);
int run_speed(arguments& args);
int run_tokenize(arguments& args);

/// \brief A float training run as `gpt2 train` performs it.
struct training_session {
  std::filesystem::path out_directory = "gpt2-out";  ///< model, state, CSV and SVG go here
  std::string data = "fortunes";                      ///< corpus: "fortunes" or a text file
  tokenizer_request tokenizer;                        ///< --tokenizer, --vocab (default: char)
  gpt2_config config{4, 4, 128, 64, 0};              ///< vocab_size comes from the corpus
  training_options options;                           ///< the reference's defaults
  std::optional<std::filesystem::path> resume;        ///< a train_state.safetensors
  pot::linalg::execution execution;                   ///< threads
  std::size_t log_every = 100;                        ///< progress lines when not on a terminal
};

/// \brief Where a training run left its results.
struct training_outcome {
  double val_loss = 0;                 ///< final val loss (nats)
  double median_step_seconds = 0;      ///< median wall time of a step in this process
  std::filesystem::path model_path;    ///< <out>/model.safetensors
};

/// \brief Trains (or resumes), saving checkpoints, the final model, loss.csv and loss.svg.
training_outcome run_training(const training_session& session);

/// \brief The corpus tokens of \p data under \p tokenizer, split 90/10.
token_split corpus_split(const std::string& data, const text_tokenizer& tokenizer);

/// \brief common.py's evaluate(): the mean loss of \p model over \p batches fixed val
/// batches of (B, T) drawn from \p val. Install fake-quant Linears in the model first to evaluate
/// a fake-quantized model.
double validation_loss(gpt2_model<float>& model, std::span<const std::int32_t> val,
                       std::size_t B, std::size_t T, std::size_t batches);

}  // namespace gpt2
