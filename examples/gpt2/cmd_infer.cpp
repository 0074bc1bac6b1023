// `gpt2 infer`: a packed model through the integer path, checked against the fake-quant
// float forward on the val set, with tokens/s of both paths.

#include <iostream>

#include "commands.hpp"
#include "model_io.hpp"
#include "quantize_pipeline.hpp"

namespace gpt2 {

namespace {

constexpr const char* usage = R"(usage: gpt2 infer --model FILE [options]

Runs a packed model (gpt2 quantize / qat) through the integer path: 8-bit activation
codes, exact int32 shift/table products over the packed weights, one rescale in float;
LayerNorm, attention, GELU and softmax stay float. Compares its logits with the
fake-quant float forward (max |difference|, top-1 agreement) over fixed val batches
and reports tokens/s of the float, fake-quant and integer forwards.

  --model FILE           packed model
  --data fortunes|FILE   corpus whose last 10% is the val set (default: the model's)
  --batches 200          fixed val batches (seed 1234)
  --batch 12             sequences per batch
  --threads N            default: every hardware thread
)";

}  // namespace

int run_infer(arguments& args) {
  if (args.help()) {
    std::cout << usage;
    return 0;
  }
  const auto model_path = args.optional_text("model");
  const auto data = args.optional_text("data");
  const std::size_t batches = args.count("batches", eval_batch_count);
  const std::size_t batch = args.count("batch", 12);
  const auto execution = threads_option(args);
  args.finish();
  if (!model_path) throw std::invalid_argument("pot: infer needs --model FILE (a packed model)");
  if (batches == 0 || batch == 0) throw std::invalid_argument("pot: --batches and --batch must be > 0");
  const packed_model packed = load_packed_model(*model_path);
  const char_tokenizer tokenizer = packed_tokenizer(packed);
  const token_split split = corpus_split(data ? *data : packed.metadata.at("corpus"), tokenizer);
  print_weight_memory(std::cout, packed);
  print_comparison(std::cout, compare_paths(packed, split.val, batch, batches, execution),
                   pot::linalg::thread_count(execution));
  return 0;
}

}  // namespace gpt2
