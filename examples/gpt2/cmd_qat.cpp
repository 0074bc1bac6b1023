// `gpt2 qat`: quantization-aware fine-tuning of a float checkpoint (PoT weights and affine
// activations fake-quantized in the forward pass, straight-through estimators in the
// backward pass), as the reference's ref_pot.py qat; exports the packed model.

#include <cmath>
#include <iostream>

#include "commands.hpp"
#include "model_io.hpp"
#include "quantize_pipeline.hpp"

namespace gpt2 {

namespace {

// Built on use: the format list comes from another translation unit.
std::string usage() {
  return R"(usage: gpt2 qat --model FILE --out FILE [options]

Calibrates the activation observers on training batches (as PTQ), then fine-tunes with
fresh AdamW at a constant lr, the observers moving on during the steps (the reference's
train mode) and frozen for evaluation; the weight scale is max|w| / 2^MaxExp at every
step (learned from there with --ste lsq). Writes the packed model.

  --model FILE                 float checkpoint
  --out FILE                   packed model to write
)" + quantization_options_help(true) +
                          R"(  --steps 500                  QAT steps (the reference's)
  --lr 1e-4                    constant learning rate
  --calibration-batches 50     training batches for the observers before QAT
  --eval-batches 200           fixed val batches for the reported losses
  --seed 2024                  batch order
  --threads N                  default: every hardware thread
)";
}

}  // namespace

int run_qat(arguments& args) {
  if (args.help()) {
    std::cout << usage();
    return 0;
  }
  const auto model_path = args.optional_text("model");
  const auto out_path = args.optional_text("out");
  const quantization_options options = read_quantization_options(args, true);
  qat_settings settings;
  settings.steps = args.count("steps", settings.steps);
  settings.learning_rate = args.real("lr", settings.learning_rate);
  settings.eval_batches = args.count("eval-batches", settings.eval_batches);
  settings.seed = args.seed("seed", settings.seed);
  calibration_settings calibration;
  calibration.batches = args.count("calibration-batches", calibration.batches);
  const auto execution = threads_option(args);
  args.finish();
  if (!model_path || !out_path) throw std::invalid_argument("pot: qat needs --model FILE and --out FILE");
  if (options.activations == activation_type::none)
    throw std::invalid_argument("pot: the exported packed model needs --activations uint8 or int8");

  loaded_model loaded = load_model(*model_path, settings.batch_size, 0, execution);
  const std::size_t T = loaded.model->config().block_size;
  const token_split split =
      corpus_split(required_metadata(loaded.metadata, "corpus", *model_path), loaded.tokenizer);
  fake_quant_linears linears(loaded.model->config(), options);
  install_calibrated_linears(*loaded.model, linears, split.train, calibration, settings.batch_size, T);
  const double before = validation_loss(*loaded.model, split.val, settings.batch_size, T, settings.eval_batches);
  std::cout << "PTQ " << format_name(options.format) << ": val loss " << before << "\n";
  const double after = fine_tune(*loaded.model, &linears, split.train, split.val, settings,
                                 "QAT " + format_name(options.format) + " (" + estimator_name(options.estimator) + " STE)");
  std::cout << "QAT " << format_name(options.format) << ": val loss " << after << ", perplexity " << std::exp(after)
            << "\n";
  const packed_model packed = pack_model(loaded.model->config(), loaded.model->parameters(), options,
                                         linears.activation_parameters(), loaded.metadata);
  print_weight_memory(std::cout, packed);
  save_packed_model(*out_path, packed);
  std::cout << "wrote " << *out_path << "\n";
  return 0;
}

}  // namespace gpt2
