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

  --model FILE                 float checkpoint (gpt2 train's model.safetensors, or
                               Hugging Face's GPT-2 model.safetensors)
  --out FILE                   packed model to write
  --data fortunes|FILE         corpus: the first 90% calibrates, the rest is the val set
                               (default: the one the model records; needed for a
                               Hugging Face file)
)" + quantization_options_help(false) +
         R"(  --calibration-batches 50     training batches for the observers (seed 4321)
  --eval-batches 200           fixed val batches for the reported loss; 0 skips it
  --batch 12                   sequences per batch
  --sequence 64                tokens per sequence (the paper's; at most the block size)
)" + model_options_help +
         R"(  --threads N                  default: every hardware thread
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
  const auto data = args.optional_text("data");
  const quantization_options options = read_quantization_options(args, false);
  calibration_settings calibration;
  calibration.batches = args.count("calibration-batches", calibration.batches);
  const std::size_t eval_batches = args.count("eval-batches", eval_batch_count);
  const std::size_t B = args.count("batch", 12, max_batch);
  const std::size_t sequence = args.count("sequence", 0, max_sequence);
  const model_request request = read_model_request(args);
  const auto execution = threads_option(args);
  args.finish();
  if (!model_path || !out_path) throw std::invalid_argument("pot: quantize needs --model FILE and --out FILE");
  if (options.activations == activation_type::none)
    throw std::invalid_argument("pot: a packed model needs --activations uint8 or int8");
  if (B == 0) throw std::invalid_argument("pot: --batch must be > 0");

  model_file file = read_model_file(*model_path, request);
  const std::string corpus = corpus_of(file.checkpoint.metadata, data, *model_path);
  const std::size_t T = sequence_length(sequence, file.checkpoint.config.block_size);
  loaded_model loaded = load_model(std::move(file), B, T, execution);
  std::cout << "model " << *model_path << ": " << describe_model(loaded) << "\n";
  const token_split split = corpus_split(corpus, loaded.tokenizer);
  fake_quant_linears linears(loaded.model->config(), options);
  std::cout << "calibrating " << activation_type_name(options.activations) << " activation observers on "
            << calibration.batches << " training batches of " << B << " x " << T << " (" << corpus << ")\n";
  install_calibrated_linears(*loaded.model, linears, split.train, calibration, B, T);
  const packed_model packed = pack_model(loaded.model->config(), loaded.model->parameters(), options,
                                         linears.activation_parameters(), derived_metadata(loaded, corpus));
  print_weight_memory(std::cout, packed);
  save_packed_model(*out_path, packed);
  std::cout << "wrote " << *out_path << "\n";
  if (eval_batches > 0) {
    const double loss = validation_loss(*loaded.model, split.val, B, T, eval_batches);
    std::cout << "PTQ " << format_name(options.format) << " + " << activation_type_name(options.activations)
              << ": val loss " << loss << ", perplexity " << std::exp(loss) << " (" << eval_batches
              << " val batches of " << B << " x " << T << ")\n";
  }
  print_peak_memory(std::cout);
  return 0;
}

}  // namespace gpt2
