/// \file
/// \brief The steps that `quantize`, `qat`, `infer`, `paper` and `demo` share: PTQ with
/// calibration, QAT, its float control, and the integer-vs-fake-quant comparison.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <string>

#include "command_line.hpp"
#include "model.hpp"
#include "packed_model.hpp"
#include "quantization.hpp"

namespace gpt2 {

/// \brief `--format`, `--granularity`, `--activations` (and `--ste` if \p with_estimator).
quantization_options read_quantization_options(arguments& args, bool with_estimator);

/// \brief The options' lines of --help text for read_quantization_options.
std::string quantization_options_help(bool with_estimator);

/// \brief The reference's calibration: 50 training batches (seed 4321).
struct calibration_settings {
  std::size_t batches = 50;
  std::uint64_t seed = 4321;
};

/// \brief Installs fresh fake-quant Linears in \p model, calibrates their observers on
/// \p train and leaves them installed and frozen.
void install_calibrated_linears(gpt2_model<float>& model, fake_quant_linears& linears,
                                std::span<const std::int32_t> train, const calibration_settings& calibration,
                                std::size_t B, std::size_t T);

/// \brief The reference's QAT (ref_pot.py): fresh AdamW, constant lr, clipping 1.0.
struct qat_settings {
  std::size_t steps = 500;
  double learning_rate = 1e-4;
  std::size_t batch_size = 12;
  std::size_t sequence_length = 64;  ///< T of the training and val batches (at most the block size)
  std::uint64_t seed = 2024;
  std::size_t eval_batches = 200;
};

/// \brief Fine-tunes \p model for settings.steps steps with \p linears installed (or float
/// when null: the fair control), observers updating during the steps as the reference's
/// train mode does, then freezes them and returns the val loss. Progress on stdout.
double fine_tune(gpt2_model<float>& model, fake_quant_linears* linears, std::span<const std::int32_t> train,
                 std::span<const std::int32_t> val, const qat_settings& settings, const std::string& label);

/// \brief Integer path against fake-quant float forward over val batches.
struct path_comparison {
  double fake_quant_loss = 0;       ///< val loss, fake-quant float forward
  double integer_loss = 0;          ///< val loss, integer path
  double max_abs_difference = 0;    ///< over every logit
  std::size_t positions = 0;        ///< compared positions
  std::size_t top1_agreements = 0;  ///< positions whose argmax agrees
  double float_tokens_per_second = 0;       ///< the unquantized float model (same weights)
  double fake_quant_tokens_per_second = 0;  ///< float forward with fake-quant Linears
  double integer_tokens_per_second = 0;     ///< integer path
};

/// \brief Runs \p batches fixed val batches (B, T) through both paths of \p packed.
path_comparison compare_paths(const packed_model& packed, std::span<const std::int32_t> val, std::size_t B,
                              std::size_t T, std::size_t batches, pot::linalg::execution execution);

/// \brief Prints the memory of the quantized weights (float32 vs packed, saving %).
void print_weight_memory(std::ostream& out, const packed_model& packed);

/// \brief Prints a path_comparison.
void print_comparison(std::ostream& out, const path_comparison& comparison, unsigned threads);

/// \brief Loads the packed model `options.model` and prints its weight memory and the
/// comparison of its integer path with its fake-quant forward on the val split of
/// `options.data` (default: the corpus the model was trained on), in batches of
/// `options.batch` x sequence_length(`options.sequence`).
void report_packed_model(std::ostream& out, const val_options& options);

}  // namespace gpt2
