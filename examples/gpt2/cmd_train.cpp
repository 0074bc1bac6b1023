// `gpt2 train`: float training with checkpoints, --resume, a progress line, CSV and SVG.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "atomic_file.hpp"
#include "commands.hpp"
#include "gpt2_checkpoint.hpp"
#include "loss_plot.hpp"
#include "model_io.hpp"
#include "pot/simd/isa.hpp"

namespace gpt2 {

namespace {

constexpr const char* usage = R"(usage: gpt2 train [options]

Trains a float GPT-2 on a corpus, char-level or GPT-2 BPE (defaults: the paper's nanoGPT
config on the fortunes corpus, char-level, as the PyTorch reference ref_train.py). Writes
to --out:
  model.safetensors        the model (Hugging Face names; tokenizer in the metadata)
  train_state.safetensors  model + AdamW state + batch generator + loss curve (--resume)
  loss.csv, loss.svg       the loss curve (step, train_loss, val_loss, lr) and its chart

  --data fortunes|FILE   corpus, UTF-8 (default fortunes: Debian's fortunes package)
  --tokenizer char|gpt2  char: one token per character of the corpus (default); gpt2:
                         GPT-2's BPE (vocabulary 50257), needs --vocab
  --vocab DIR            encoder.json and vocab.bpe (or vocab.json and merges.txt)
  --out DIR              output directory (default gpt2-out)
  --n-layer 4 --n-head 4 --n-embd 128 --block 64    model size; block = sequence length
  --steps 2000 --batch 12 --lr 1e-3 --min-lr 1e-4 --warmup 100
  --weight-decay 0.1 --beta1 0.9 --beta2 0.99 --eps 1e-8 --clip 1.0 (0: no clipping)
  --eval-every 250 --eval-batches 200   val loss on fixed batches (0: only at the end)
  --checkpoint-every 500                save train_state every N steps (0: only at the end)
  --seed 1337            initialisation and batch order
  --resume FILE          continue a train_state.safetensors exactly; the run's options
                         come from the file (only --out, --threads, --log-every apply,
                         and --vocab, which a GPT-2 BPE model needs again)
  --threads N            default: every hardware thread
  --log-every 100        progress line interval when stdout is not a terminal
)";

std::map<std::string, std::string> model_metadata(const text_tokenizer& tokenizer, const std::string& data) {
  std::map<std::string, std::string> metadata = tokenizer.metadata();
  metadata["corpus"] = data;
  return metadata;
}

}  // namespace

token_split corpus_split(const std::string& data, const text_tokenizer& tokenizer) {
  return split_train_val(tokenizer.encode(read_corpus(data)));
}

training_outcome run_training(const training_session& session) {
  require_writable_directory(session.out_directory);  // now, not at the first checkpoint
  const auto state_path = session.out_directory / "train_state.safetensors";
  const auto model_path = session.out_directory / "model.safetensors";

  std::optional<training_checkpoint> resumed;
  if (session.resume) resumed = load_training_checkpoint(*session.resume);
  const std::string data = resumed ? required_metadata(resumed->metadata, "corpus", *session.resume) : session.data;
  const std::string text = read_corpus(data);
  const text_tokenizer tokenizer =
      resumed ? stored_tokenizer(resumed->metadata, resumed->config.vocab_size, *session.resume, session.tokenizer)
              : text_tokenizer::for_training(session.tokenizer, text);
  const token_split split = split_train_val(tokenizer.encode(text));
  gpt2_config config = resumed ? resumed->config : session.config;
  config.vocab_size = tokenizer.vocab_size();
  const training_options options = resumed ? resumed->options : session.options;

  gpt2_model<float> model(config, options.batch_size, options.sequence_length, session.execution);
  if (resumed) model.load_parameters(resumed->parameters);
  else model.initialize(options.seed);
  std::cout << "corpus " << data << ": " << text.size() << " bytes, vocabulary "
            << tokenizer.description() << ", train " << split.train.size() << " / val "
            << split.val.size() << " tokens\nmodel: n_layer " << config.n_layer << ", n_head "
            << config.n_head << ", n_embd " << config.n_embd << ", block " << config.block_size
            << ", " << model.parameters().size() << " parameters; batch " << options.batch_size
            << " x " << options.sequence_length << ", " << options.steps << " steps, threads "
            << pot::linalg::thread_count(session.execution) << ", "
            << pot::simd::isa_name(pot::simd::active_isa()) << " kernels\n";
  if (resumed) std::cout << "resuming at step " << resumed->state.step << "\n";

  const auto metadata = model_metadata(tokenizer, data);
  trainer run(model, options, split.train, split.val,
              resumed ? std::optional<optimizer_state>(std::move(resumed->state)) : std::nullopt);
  progress_line progress(std::cout, options.steps, session.log_every);
  std::vector<double> step_seconds;
  auto previous = std::chrono::steady_clock::now();
  std::optional<std::size_t> saved_step;  // of the last checkpoint this run wrote
  const auto train = [&](const trainer::step_callback& after_step) {
    try {
      run.run(options.steps, after_step);
    } catch (const training_diverged& diverged) {
      progress.finish();
      const std::string kept =
          saved_step ? "the last checkpoint, step " + std::to_string(*saved_step) + ", is " + state_path.string()
          : session.resume ? "the resumed checkpoint " + session.resume->string() + " is unchanged"
                           : "no checkpoint was written yet (--checkpoint-every)";
      throw std::runtime_error(std::string(diverged.what()) + "; " + kept);
    }
  };
  train([&](const trainer& t) {
    const auto now = std::chrono::steady_clock::now();
    const loss_point& point = t.state().curve.back();
    if (!std::isnan(point.val_loss)) {
      std::ostringstream line;
      line << "step " << point.step << ": val loss " << point.val_loss;
      progress.message(line.str());
    } else {
      step_seconds.push_back(std::chrono::duration<double>(now - previous).count());
    }
    progress.update(t.state().step, point.train_loss, point.learning_rate,
                    options.batch_size * options.sequence_length);
    if (options.checkpoint_every != 0 && t.state().step % options.checkpoint_every == 0 &&
        t.state().step != options.steps) {
      save_training_checkpoint(state_path, t, metadata);
      save_gpt2_checkpoint(model_path, config, t.model().parameters(), metadata);
      saved_step = t.state().step;
    }
    previous = std::chrono::steady_clock::now();
  });
  progress.finish();

  save_training_checkpoint(state_path, run, metadata);
  save_gpt2_checkpoint(model_path, config, model.parameters(), metadata);
  write_loss_csv(session.out_directory / "loss.csv", run.state().curve);
  write_loss_plot(session.out_directory / "loss.svg", run.state().curve,
                  "GPT-2 (" + std::to_string(config.n_layer) + " layers, " +
                      std::to_string(config.n_embd) + " channels) on " + data);
  training_outcome outcome;
  outcome.val_loss = run.state().curve.back().val_loss;
  outcome.model_path = model_path;
  if (!step_seconds.empty()) {
    std::nth_element(step_seconds.begin(), step_seconds.begin() + step_seconds.size() / 2,
                     step_seconds.end());
    outcome.median_step_seconds = step_seconds[step_seconds.size() / 2];
  }
  std::cout << "final val loss " << outcome.val_loss << " (perplexity " << std::exp(outcome.val_loss)
            << "), median step " << outcome.median_step_seconds * 1e3 << " ms\nwrote "
            << model_path.string() << ", " << state_path.string() << ", loss.csv, loss.svg in "
            << session.out_directory.string() << "\n";
  return outcome;
}

int run_train(arguments& args) {
  if (args.help()) {
    std::cout << usage;
    return 0;
  }
  training_session session;
  session.out_directory = args.text("out", session.out_directory.string());
  session.execution = threads_option(args);
  session.log_every = args.count("log-every", session.log_every);
  session.tokenizer = tokenizer_request::parse(args.optional_text("tokenizer"), args.optional_text("vocab"));
  if (const auto resume = args.optional_text("resume")) {
    session.resume = *resume;
    args.finish();  // the other options are the checkpoint's
    run_training(session);
    return 0;
  }
  session.data = args.text("data", session.data);
  gpt2_config& c = session.config;
  c.n_layer = args.count("n-layer", c.n_layer, max_layers);
  c.n_head = args.count("n-head", c.n_head, max_heads);
  c.n_embd = args.count("n-embd", c.n_embd, max_channels);
  c.block_size = args.count("block", c.block_size, max_sequence);
  training_options& o = session.options;
  o.sequence_length = c.block_size;
  o.steps = args.count("steps", o.steps);
  o.batch_size = args.count("batch", o.batch_size, max_batch);
  o.learning_rate = args.real("lr", o.learning_rate);
  o.min_learning_rate = args.real("min-lr", o.min_learning_rate);
  o.warmup_steps = args.count("warmup", o.warmup_steps);
  o.weight_decay = args.real("weight-decay", o.weight_decay);
  o.beta1 = args.real("beta1", o.beta1);
  o.beta2 = args.real("beta2", o.beta2);
  o.epsilon = args.real("eps", o.epsilon);
  o.gradient_clip = args.real("clip", o.gradient_clip);
  o.eval_every = args.count("eval-every", o.eval_every);
  o.eval_batches = args.count("eval-batches", o.eval_batches);
  o.checkpoint_every = args.count("checkpoint-every", o.checkpoint_every);
  o.seed = args.seed("seed", o.seed);
  args.finish();
  o.validate();
  run_training(session);
  return 0;
}

}  // namespace gpt2
