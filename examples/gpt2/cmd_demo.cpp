// `gpt2 demo`: the README's main job. Trains the paper's nanoGPT configuration briefly
// on the fortunes corpus, PoT-quantizes it to pot<4,0,7> (PTQ), fine-tunes it (QAT), checks
// the integer shift path against the fake-quant forward, and reports all three losses.

#include <cmath>
#include <iostream>

#include "commands.hpp"
#include "model_io.hpp"
#include "quantize_pipeline.hpp"

namespace gpt2 {

namespace {

constexpr const char* usage = R"(usage: gpt2 demo [options]

Trains the paper's nanoGPT configuration (4 layers, 4 heads, 128 channels, block 64,
batch 12) on the fortunes corpus for a short schedule, quantizes it to 4-bit PoT E7
(PTQ, uint8 activations), fine-tunes it (QAT), runs the integer shift path, and prints
FP32 / PTQ / QAT val loss and perplexity, the memory saving and the path agreement.

  --steps 600          training steps (the full reference run is 2000)
  --qat-steps 100      QAT steps at lr 1e-4 (the reference's QAT runs 500)
  --eval-batches 50    fixed val batches for the reported loss (the reference uses 200)
  --out DIR            where the model and loss curve go (default gpt2-demo)
  --data fortunes|FILE corpus
  --threads N          default: every hardware thread
)";

}  // namespace

int run_demo(arguments& args) {
  if (args.help()) {
    std::cout << usage;
    return 0;
  }
  training_session session;
  session.out_directory = args.text("out", "gpt2-demo");
  session.data = args.text("data", session.data);
  session.options.steps = args.count("steps", 600);
  session.options.eval_batches = args.count("eval-batches", 50);
  qat_settings qat;
  qat.steps = args.count("qat-steps", 100);
  qat.eval_batches = session.options.eval_batches;
  session.execution = threads_option(args);
  args.finish();
  // A short run keeps the reference's shape: warmup and the cosine scaled to its length.
  session.options.warmup_steps = std::min<std::size_t>(100, session.options.steps / 10);
  session.options.eval_every = 0;
  session.options.checkpoint_every = 0;
  session.options.validate();

  std::cout << "== FP32 training: " << session.options.steps << " steps ==\n";
  const training_outcome outcome = run_training(session);
  loaded_model loaded = load_model(outcome.model_path, qat.batch_size, 0, session.execution);
  const std::size_t T = loaded.model->config().block_size;
  qat.sequence_length = T;
  const token_split split = corpus_split(session.data, loaded.tokenizer);
  std::cout << "\n== PTQ to 4bit-E7-log-clamp (pot<4,0,7>), uint8 activations ==\n";
  fake_quant_linears linears(loaded.model->config(), quantization_options{});
  install_calibrated_linears(*loaded.model, linears, split.train, {}, qat.batch_size, T);
  const double ptq_loss = validation_loss(*loaded.model, split.val, qat.batch_size, T, qat.eval_batches);
  std::cout << "\n== QAT ==\n";
  const double qat_loss = fine_tune(*loaded.model, &linears, split.train, split.val, qat, "QAT 4bit-E7-log-clamp");
  const packed_model packed = pack_model(loaded.model->config(), loaded.model->parameters(), linears.options(),
                                         linears.activation_parameters(), loaded.metadata);
  save_packed_model(session.out_directory / "model-pot.safetensors", packed);
  std::cout << "\n== integer shift inference vs fake-quant ==\n";
  const path_comparison paths = compare_paths(packed, split.val, qat.batch_size, T, qat.eval_batches, session.execution);

  std::cout << "\nFP32  val loss " << outcome.val_loss << "  perplexity " << std::exp(outcome.val_loss) << "\n"
            << "PTQ   val loss " << ptq_loss << "  perplexity " << std::exp(ptq_loss) << "\n"
            << "QAT   val loss " << qat_loss << "  perplexity " << std::exp(qat_loss) << "  (" << qat.steps
            << " steps)\n";
  print_weight_memory(std::cout, packed);
  print_comparison(std::cout, paths, pot::linalg::thread_count(session.execution));
  return 0;
}

}  // namespace gpt2
