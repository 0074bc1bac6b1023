// `gpt2 quantize`: post-training PoT quantization of a float checkpoint's block Linears,
// with activation observers calibrated on training batches; writes a packed model.

#include <cmath>
#include <iostream>

#include "commands.hpp"
#include "model_io.hpp"
#include "quantize_pipeline.hpp"

namespace gpt2 {

namespace {

// Built on use: the format list comes from another translation unit.
std::string usage() {
  return R"(usage: gpt2 quantize --model FILE --out FILE [options]

Quantizes every block Linear weight (attn c_attn, attn c_proj, mlp c_fc, mlp c_proj; not
the embeddings or lm_head) to a PoT format, calibrates the activations entering them
(moving-average min/max, c = 0.01) on training batches, reports the fake-quant val loss
and the weight memory, and writes the packed model (safetensors, atomically).

  --model FILE                 float checkpoint (gpt2 train's model.safetensors)
  --out FILE                   packed model to write
)" + quantization_options_help(false) +
                          R"(  --calibration-batches 50     training batches for the observers (seed 4321)
  --eval-batches 200           fixed val batches for the reported loss; 0 skips it
  --threads N                  default: every hardware thread
)";
}

}  // namespace

int run_quantize(arguments& args) {
  if (args.help()) {
    std::cout << usage();
    return 0;
  }
  const auto model_path = args.optional_text("model");
  const auto out_path = args.optional_text("out");
  const quantization_options options = read_quantization_options(args, false);
  calibration_settings calibration;
  calibration.batches = args.count("calibration-batches", calibration.batches);
  const std::size_t eval_batches = args.count("eval-batches", eval_batch_count);
  const auto execution = threads_option(args);
  args.finish();
  if (!model_path || !out_path) throw std::invalid_argument("pot: quantize needs --model FILE and --out FILE");
  if (options.activations == activation_type::none)
    throw std::invalid_argument("pot: a packed model needs --activations uint8 or int8");

  constexpr std::size_t B = 12;
  loaded_model loaded = load_model(*model_path, B, 0, execution);
  const std::size_t T = loaded.model->config().block_size;
  const token_split split =
      corpus_split(required_metadata(loaded.metadata, "corpus", *model_path), loaded.tokenizer);
  fake_quant_linears linears(loaded.model->config(), options);
  std::cout << "calibrating " << activation_type_name(options.activations) << " activation observers on "
            << calibration.batches << " training batches\n";
  install_calibrated_linears(*loaded.model, linears, split.train, calibration, B, T);
  const packed_model packed = pack_model(loaded.model->config(), loaded.model->parameters(), options,
                                         linears.activation_parameters(), loaded.metadata);
  print_weight_memory(std::cout, packed);
  save_packed_model(*out_path, packed);
  std::cout << "wrote " << *out_path << "\n";
  if (eval_batches > 0) {
    const double loss = validation_loss(*loaded.model, split.val, B, T, eval_batches);
    std::cout << "PTQ " << format_name(options.format) << " + " << activation_type_name(options.activations)
              << ": val loss " << loss << ", perplexity " << std::exp(loss) << " (" << eval_batches
              << " val batches)\n";
  }
  return 0;
}

}  // namespace gpt2
