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

  --model FILE                 float checkpoint (gpt2 train's, or Hugging Face's)
  --out FILE                   packed model to write
  --data fortunes|FILE         corpus: the first 90% trains, the rest is the val set
                               (default: the one the model records; needed for a
                               Hugging Face file)
)" + quantization_options_help(true) +
         R"(  --steps 500                  QAT steps (the reference's)
  --lr 1e-4                    constant learning rate
  --calibration-batches 50     training batches for the observers before QAT
  --eval-batches 200           fixed val batches for the reported losses
  --batch 12                   sequences per batch (the paper's)
  --sequence 64                tokens per sequence (the paper's; at most the block size)
  --seed 2024                  batch order
)" + model_options_help +
         R"(  --threads N                  default: every hardware thread
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
  const auto data = args.optional_text("data");
  const quantization_options options = read_quantization_options(args, true);
  qat_settings settings;
  settings.steps = args.count("steps", settings.steps);
  settings.learning_rate = args.real("lr", settings.learning_rate);
  settings.eval_batches = args.count("eval-batches", settings.eval_batches);
  settings.batch_size = args.count("batch", settings.batch_size, max_batch);
  const std::size_t sequence = args.count("sequence", 0, max_sequence);
  settings.seed = args.seed("seed", settings.seed);
  calibration_settings calibration;
  calibration.batches = args.count("calibration-batches", calibration.batches);
  const model_request request = read_model_request(args);
  const auto execution = threads_option(args);
  args.finish();
  if (!model_path || !out_path) throw std::invalid_argument("pot: qat needs --model FILE and --out FILE");
  if (options.activations == activation_type::none)
    throw std::invalid_argument("pot: the exported packed model needs --activations uint8 or int8");

  model_file file = read_model_file(*model_path, request);
  const std::string corpus = corpus_of(file.checkpoint.metadata, data, *model_path);
  settings.sequence_length = sequence_length(sequence, file.checkpoint.config.block_size);
  const std::size_t B = settings.batch_size, T = settings.sequence_length;
  loaded_model loaded = load_model(std::move(file), B, T, execution);
  std::cout << "model " << *model_path << ": " << describe_model(loaded) << "; batches of " << B << " x " << T
            << " from " << corpus << "\n";
  const token_split split = corpus_split(corpus, loaded.tokenizer);
  fake_quant_linears linears(loaded.model->config(), options);
  install_calibrated_linears(*loaded.model, linears, split.train, calibration, B, T);
  const double before = validation_loss(*loaded.model, split.val, B, T, settings.eval_batches);
  std::cout << "PTQ " << format_name(options.format) << ": val loss " << before << "\n";
  const double after = fine_tune(*loaded.model, &linears, split.train, split.val, settings,
                                 "QAT " + format_name(options.format) + " (" + estimator_name(options.estimator) + " STE)");
  std::cout << "QAT " << format_name(options.format) << ": val loss " << after << ", perplexity " << std::exp(after)
            << "\n";
  const packed_model packed = pack_model(loaded.model->config(), loaded.model->parameters(), options,
                                         linears.activation_parameters(), derived_metadata(loaded, corpus));
  print_weight_memory(std::cout, packed);
  save_packed_model(*out_path, packed);
  std::cout << "wrote " << *out_path << "\n";
  print_peak_memory(std::cout);
  return 0;
}

}  // namespace gpt2
