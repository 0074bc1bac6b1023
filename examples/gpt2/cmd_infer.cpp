// `gpt2 infer`: a packed model through the integer path, checked against the fake-quant
// float forward on the val set, with tokens/s of both paths.

#include <iostream>

#include "commands.hpp"
#include "quantize_pipeline.hpp"

namespace gpt2 {

namespace {

std::string usage() {
  return std::string(R"(usage: gpt2 infer --model FILE [options]

Runs a packed model (gpt2 quantize / qat) through the integer path: 8-bit activation
codes, exact int32 shift/table products over the packed weights, one rescale in float;
LayerNorm, attention, GELU and softmax stay float. Compares its logits with the
fake-quant float forward (max |difference|, top-1 agreement) over fixed val batches
and reports tokens/s of the float, fake-quant and integer forwards.

  --model FILE           packed model
  --data fortunes|FILE   corpus whose last 10% is the val set (default: the model's)
  --batches 200          fixed val batches (seed 1234)
  --batch 12             sequences per batch
  --sequence 64          tokens per sequence (the paper's; at most the block size)
)") + tokenizer_options_help +
         R"(  --threads N            default: every hardware thread
)";
}

}  // namespace

int run_infer(arguments& args) {
  if (args.help()) {
    std::cout << usage();
    return 0;
  }
  const val_options options = read_val_options(args, "infer");
  require_no_n_head(options.request);
  report_packed_model(std::cout, options);
  print_peak_memory(std::cout);
  return 0;
}

}  // namespace gpt2
