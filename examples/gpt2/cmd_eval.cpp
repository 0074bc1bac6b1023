// `gpt2 eval`: perplexity of a checkpoint, over fixed val batches as the reference
// measures it, or over a whole text in sliding windows as Hugging Face's perplexity guide.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iostream>
#include <memory>

#include "commands.hpp"
#include "model_io.hpp"
#include "packed_model.hpp"
#include "quantize_pipeline.hpp"

namespace gpt2 {

namespace {

std::string usage() {
  return std::string(R"(usage: gpt2 eval --model FILE [options]

Perplexity of a float checkpoint (written by `gpt2 train`, or Hugging Face's GPT-2
model.safetensors) or of a packed model (gpt2 quantize / qat), by one of two protocols:

val batches (the default for a model that records the corpus it was trained on): the
  mean loss over fixed random batches from the last 10% of the corpus, as the
  reference's evaluate(); a packed model reports its fake-quant float forward and its
  integer path side by side.
whole text (--stride, and the default for a file that records no corpus): every token of
  --data after the first is scored once, in windows of --sequence tokens whose starts are
  --stride tokens apart, each window scoring the tokens the previous one did not reach,
  as Hugging Face's perplexity guide does (max_length, stride); a packed model runs its
  integer path. Perplexity = exp(total loss / scored tokens).

  --model FILE           model.safetensors, or a packed model
  --data fortunes|FILE   UTF-8 text (default: the corpus the model records)
  --batches 200          val batches: how many (seed 1234)
  --batch 12             val batches: sequences per batch
  --sequence T           val batches: tokens per sequence (default 64, or the block size
                         if smaller); whole text: tokens per window (default: the block
                         size, the context the model allows)
  --stride S             whole text: tokens from one window's start to the next, 1..T
                         (default T / 2, as the guide's 512 for 1024; T: non-overlapping
                         windows, whose first tokens are then not scored)
)") + model_options_help +
         R"(  --threads N            default: every hardware thread
)";
}

/// The sum of the losses of the tokens that sliding windows score, and how many.
struct text_loss {
  double loss_sum = 0;
  std::size_t scored = 0;
  std::size_t windows = 0;
  double seconds = 0;
};

/// The windows [begin, end) of \p window tokens over \p n, starting at 0, stride,
/// 2 stride, ... until one reaches the end; a last window of a single token (non-overlapping
/// windows that leave one) predicts nothing and is left out.
std::vector<std::pair<std::size_t, std::size_t>> window_bounds(std::size_t n, std::size_t window, std::size_t stride) {
  std::vector<std::pair<std::size_t, std::size_t>> bounds;
  for (std::size_t begin = 0; begin + 1 < n; begin += stride) {
    bounds.emplace_back(begin, std::min(begin + window, n));
    if (bounds.back().second == n) break;
  }
  return bounds;
}

/// Each window runs window - 1 inputs against the next tokens as targets (the window's
/// last token is only a target, as in the guide, where its logits go unused) and adds the
/// losses of the targets that no earlier window scored.
text_loss sliding_window_loss(gpt2_model<float>& model, std::span<const std::int32_t> tokens, std::size_t window,
                              std::size_t stride) {
  const auto bounds = window_bounds(tokens.size(), window, stride);
  text_loss result;
  progress_line progress(std::cout, bounds.size(), 10);
  const auto start = std::chrono::steady_clock::now();
  std::size_t scored_until = 1;  // the first token has nothing to be predicted from
  for (const auto& [begin, end] : bounds) {
    const std::size_t T = end - begin - 1;
    model.forward(tokens.subspan(begin, T), tokens.subspan(begin + 1, T), 1, T);
    const std::span<const float> losses = model.losses();  // (T): the loss of target begin + 1 + i
    double window_sum = 0;
    const std::size_t first = std::max(scored_until, begin + 1);
    for (std::size_t target = first; target < end; ++target) window_sum += losses[target - begin - 1];
    result.loss_sum += window_sum;
    result.scored += end - first;
    scored_until = end;
    ++result.windows;
    progress.update(result.windows, result.loss_sum / static_cast<double>(result.scored), 0, T);
  }
  progress.finish();
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

/// The whole-text protocol's windows: \p sequence tokens (0: the block size) starting
/// \p stride apart (0: half a window).
struct text_windows {
  std::size_t length = 0;
  std::size_t stride = 0;
};

text_windows windows_for(std::size_t sequence, std::size_t stride, std::size_t block_size) {
  const std::size_t length = sequence == 0 ? block_size : sequence_length(sequence, block_size);
  if (length < 2) throw std::invalid_argument("pot: a window of --sequence 1 token has nothing to predict");
  if (stride > length)
    throw std::invalid_argument("pot: --stride " + std::to_string(stride) + " is longer than the window of " +
                                std::to_string(length) + " tokens: tokens between windows would not be scored");
  return {length, stride == 0 ? length / 2 : stride};
}

/// The whole-text protocol on \p model (holding the integer hooks for a packed model).
void report_text_perplexity(gpt2_model<float>& model, const text_tokenizer& tokenizer, const std::string& data,
                            text_windows windows, const std::string& label) {
  const std::vector<std::int32_t> tokens = tokenizer.encode(read_corpus(data));
  if (tokens.size() < 2)
    throw std::invalid_argument("pot: " + data + " has " + std::to_string(tokens.size()) +
                                " token(s); perplexity needs at least 2");
  const text_loss loss = sliding_window_loss(model, tokens, windows.length, windows.stride);
  const double mean = loss.loss_sum / static_cast<double>(loss.scored);
  std::cout << label << " on " << data << " (" << tokens.size() << " tokens, " << tokenizer.description()
            << "): windows of " << windows.length << " tokens, stride " << windows.stride << ", " << loss.windows
            << " windows, " << loss.scored << " tokens scored: loss " << mean << " nats/token, perplexity "
            << std::exp(mean) << " (" << static_cast<double>(loss.scored) / loss.seconds << " scored tokens/s)\n";
}

int eval_packed(const val_options& options, std::optional<std::size_t> stride) {
  require_no_n_head(options.request);
  const packed_model packed = load_packed_model(options.model);
  if (!stride && packed.metadata.contains("corpus")) {
    report_packed_model(std::cout, options);
    print_peak_memory(std::cout);
    return 0;
  }
  const text_tokenizer tokenizer =
      stored_tokenizer(packed.metadata, packed.config.vocab_size, options.model, options.request.tokenizer);
  const text_windows windows = windows_for(options.sequence, stride.value_or(0), packed.config.block_size);
  const std::unique_ptr<gpt2_model<float>> model =
      make_packed_float_model(packed, 1, windows.length - 1, options.execution);
  const integer_linears integer(packed);
  model->set_linears(integer.layers());
  report_text_perplexity(*model, tokenizer, corpus_of(packed.metadata, options.data, options.model), windows,
                         "packed model " + options.model + ", integer path");
  model->set_linears({});
  print_peak_memory(std::cout);
  return 0;
}

int eval_float(const val_options& options, std::optional<std::size_t> stride) {
  model_file file = read_model_file(options.model, options.request);
  const std::size_t block_size = file.checkpoint.config.block_size;
  const std::string corpus = corpus_of(file.checkpoint.metadata, options.data, options.model);
  if (stride || !file.checkpoint.metadata.contains("corpus")) {
    const text_windows windows = windows_for(options.sequence, stride.value_or(0), block_size);
    loaded_model loaded = load_model(std::move(file), 1, windows.length - 1, options.execution);
    std::cout << "model " << options.model << ": " << describe_model(loaded) << "\n";
    report_text_perplexity(*loaded.model, loaded.tokenizer, corpus, windows, "float model " + options.model);
  } else {
    const std::size_t T = sequence_length(options.sequence, block_size);
    loaded_model loaded = load_model(std::move(file), options.batch, T, options.execution);
    std::cout << "model " << options.model << ": " << describe_model(loaded) << "\n";
    const token_split split = corpus_split(corpus, loaded.tokenizer);
    const double loss = validation_loss(*loaded.model, split.val, options.batch, T, options.batches);
    std::cout << "float model " << options.model << " on " << corpus << " (" << options.batches
              << " val batches of " << options.batch << " x " << T << "): val loss " << loss << ", perplexity "
              << std::exp(loss) << "\n";
  }
  print_peak_memory(std::cout);
  return 0;
}

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
    std::cout << usage();
    return 0;
  }
  std::optional<std::size_t> stride;
  if (args.optional_text("stride")) {
    stride = args.count("stride", 0, max_sequence);
    if (*stride == 0) throw std::invalid_argument("pot: --stride must be > 0");
  }
  const val_options options = read_val_options(args, "eval");
  return is_packed_model_file(options.model) ? eval_packed(options, stride) : eval_float(options, stride);
}

}  // namespace gpt2
