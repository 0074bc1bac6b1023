// `gpt2 demo`: the README's main job. Trains the paper's nanoGPT configuration briefly
// on the fortunes corpus and reports the float model's val loss and perplexity.

#include <cmath>
#include <iostream>

#include "commands.hpp"

namespace gpt2 {

namespace {

constexpr const char* usage = R"(usage: gpt2 demo [options]

Trains the paper's nanoGPT configuration (4 layers, 4 heads, 128 channels, block 64,
batch 12) on the fortunes corpus for a short schedule, then prints the FP32 val loss and
perplexity.

  --steps 600          training steps (the full reference run is 2000)
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
  session.execution = threads_option(args);
  args.finish();
  // A short run keeps the reference's shape: warmup and the cosine scaled to its length.
  session.options.warmup_steps = std::min<std::size_t>(100, session.options.steps / 10);
  session.options.eval_every = 0;
  session.options.checkpoint_every = 0;
  session.options.validate();

  std::cout << "== FP32 training: " << session.options.steps << " steps ==\n";
  const training_outcome outcome = run_training(session);
  std::cout << "\nFP32  val loss " << outcome.val_loss << "  perplexity " << std::exp(outcome.val_loss)
            << "\n";
  return 0;
}

}  // namespace gpt2
