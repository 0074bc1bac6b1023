// `gpt2 eval`: val loss and perplexity of a checkpoint under the reference's protocol.

#include <cmath>
#include <iostream>

#include "commands.hpp"
#include "model_io.hpp"
#include "packed_model.hpp"
#include "quantize_pipeline.hpp"

namespace gpt2 {

namespace {

constexpr const char* usage = R"(usage: gpt2 eval --model FILE [options]

Val loss (mean over fixed val batches, as common.py's evaluate) and perplexity of a
float checkpoint written by `gpt2 train`, or of a packed model (gpt2 quantize / qat):
its fake-quant float forward and its integer path.

  --model FILE           model.safetensors
  --data fortunes|FILE   corpus whose last 10% is the val set (default: the checkpoint's)
  --batches 200          number of fixed val batches (seed 1234)
  --batch 12             sequences per batch (B); T is the model's block size
  --threads N            default: every hardware thread
)";

}  // namespace

double validation_loss(gpt2_model<float>& model, std::span<const std::int32_t> val,
                       std::size_t B, std::size_t T, std::size_t batches) {
  const std::vector<token_batch> fixed = fixed_eval_batches(val, B, T, batches);
  return mean_batch_loss(std::span<const token_batch>(fixed), [&](const token_batch& batch) {
    return static_cast<double>(model.forward(batch.inputs, batch.targets, B, T));
  });
}

int run_eval(arguments& args) {
  if (args.help()) {
    std::cout << usage;
    return 0;
  }
  const val_options options = read_val_options(args, "eval");
  if (is_packed_model_file(options.model)) {
    report_packed_model(std::cout, options);
    return 0;
  }
  loaded_model loaded = load_model(options.model, options.batch, 0, options.execution);
  const std::string corpus =
      options.data ? *options.data : required_metadata(loaded.metadata, "corpus", options.model);
  const token_split split = corpus_split(corpus, loaded.tokenizer);
  const std::size_t T = loaded.model->config().block_size;
  const double loss = validation_loss(*loaded.model, split.val, options.batch, T, options.batches);
  std::cout << "float model " << options.model << " on " << corpus << " (" << options.batches
            << " val batches of " << options.batch << " x " << T << "): val loss " << loss
            << ", perplexity " << std::exp(loss) << "\n";
  return 0;
}

}  // namespace gpt2
