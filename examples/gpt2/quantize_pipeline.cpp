#include "quantize_pipeline.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iostream>

#include "commands.hpp"
#include "dataset.hpp"
#include "model_io.hpp"
#include "trainer.hpp"
#include "pot/simd/isa.hpp"

namespace gpt2 {

quantization_options read_quantization_options(arguments& args, bool with_estimator) {
  quantization_options options;
  options.format = parse_format_name(args.text("format", format_name(options.format)));
  options.granularity = parse_granularity(args.text("granularity", granularity_name(options.granularity)));
  options.activations = parse_activation_type(args.text("activations", activation_type_name(options.activations)));
  if (with_estimator) options.estimator = parse_estimator(args.text("ste", estimator_name(options.estimator)));
  return options;
}

std::string quantization_options_help(bool with_estimator) {
  std::string text = "  --format 4bit-E7-log-clamp   PoT weight format, one of:\n      " + valid_format_names() +
                     "\n"
                     "  --granularity per-tensor     or per-channel (weight scale max|w| / 2^MaxExp)\n"
                     "  --activations uint8          or int8, or float (weights only; no integer path)\n";
  if (with_estimator) text += "  --ste identity               weight gradient: identity, clipped or lsq\n";
  return text;
}

void install_calibrated_linears(gpt2_model<float>& model, fake_quant_linears& linears,
                                std::span<const std::int32_t> train, const calibration_settings& calibration,
                                std::size_t B, std::size_t T) {
  model.set_linears(linears.layers());
  if (linears.options().activations != activation_type::none)
    calibrate(model, linears, train, calibration.batches, B, T, calibration.seed);
}

double fine_tune(gpt2_model<float>& model, fake_quant_linears* linears, std::span<const std::int32_t> train,
                 std::span<const std::int32_t> val, const qat_settings& settings, const std::string& label) {
  training_options options;
  options.steps = settings.steps;
  options.batch_size = settings.batch_size;
  options.sequence_length = settings.sequence_length;
  options.learning_rate = settings.learning_rate;
  options.min_learning_rate = settings.learning_rate;
  options.warmup_steps = 0;
  options.eval_every = 0;
  options.checkpoint_every = 0;
  options.eval_batches = settings.eval_batches;
  options.seed = settings.seed;
  options.validate();
  model.set_linears(linears != nullptr ? linears->layers() : std::span<pot::nn::linear<float>* const>());
  trainer run(model, options, train, val);
  progress_line progress(std::cout, settings.steps, 100);
  progress.message(label + ": " + std::to_string(settings.steps) + " steps at lr " +
                   std::to_string(settings.learning_rate));
  if (linears != nullptr) linears->set_observing(true);
  for (std::size_t step = 1; step <= settings.steps; ++step) {
    const float loss = run.train_step();
    if (linears != nullptr) linears->update_scales(settings.learning_rate);
    progress.update(step, loss, settings.learning_rate, options.batch_size * options.sequence_length);
  }
  progress.finish();
  if (linears != nullptr) linears->set_observing(false);
  return validation_loss(model, val, options.batch_size, options.sequence_length, settings.eval_batches);
}

path_comparison compare_paths(const packed_model& packed, std::span<const std::int32_t> val, std::size_t B,
                              std::size_t T, std::size_t batches, pot::linalg::execution execution) {
  const std::size_t V = packed.config.vocab_size;
  const std::unique_ptr<gpt2_model<float>> owned = make_packed_float_model(packed, B, T, execution);
  gpt2_model<float>& model = *owned;
  const fake_quant_linears fake(packed.config, packed.options, packed.activations);
  const integer_linears integer(packed);
  path_comparison result;
  double float_seconds = 0, fake_seconds = 0, integer_seconds = 0;
  const auto timed = [&](std::span<pot::nn::linear<float>* const> linears, const token_batch& batch, double& seconds) {
    model.set_linears(linears);
    const auto start = std::chrono::steady_clock::now();
    const double loss = model.forward(batch.inputs, batch.targets, B, T);
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return loss;
  };
  progress_line progress(std::cout, batches, 50);
  std::size_t done = 0;
  for (const token_batch& batch : fixed_eval_batches(val, B, T, batches)) {
    timed({}, batch, float_seconds);
    result.fake_quant_loss += timed(fake.layers(), batch, fake_seconds);
    const std::vector<float> fake_logits(model.logits().begin(), model.logits().end());
    result.integer_loss += timed(integer.layers(), batch, integer_seconds);
    const std::span<const float> integer_logits = model.logits();
    for (std::size_t position = 0; position < B * T; ++position) {
      const auto a = std::span<const float>(fake_logits).subspan(position * V, V);
      const auto b = integer_logits.subspan(position * V, V);
      for (std::size_t v = 0; v < V; ++v)
        result.max_abs_difference = std::max(result.max_abs_difference, static_cast<double>(std::abs(a[v] - b[v])));
      result.top1_agreements += std::ranges::max_element(a) - a.begin() == std::ranges::max_element(b) - b.begin();
      ++result.positions;
    }
    ++done;
    progress.update(done, result.integer_loss / static_cast<double>(done), 0, B * T);
  }
  progress.finish();
  model.set_linears({});
  result.fake_quant_loss /= static_cast<double>(batches);
  result.integer_loss /= static_cast<double>(batches);
  const double tokens = static_cast<double>(batches * B * T);
  result.float_tokens_per_second = tokens / float_seconds;
  result.fake_quant_tokens_per_second = tokens / fake_seconds;
  result.integer_tokens_per_second = tokens / integer_seconds;
  return result;
}

void print_weight_memory(std::ostream& out, const packed_model& packed) {
  const double float_bytes = static_cast<double>(packed.float32_weight_bytes());
  const double packed_bytes = static_cast<double>(packed.packed_weight_bytes());
  out << "quantized Linear weights (" << format_name(packed.options.format) << ", "
      << granularity_name(packed.options.granularity) << "): float32 " << packed.float32_weight_bytes()
      << " bytes, packed " << packed.packed_weight_bytes() << " bytes (codes + scales), saving "
      << 100.0 * (1.0 - packed_bytes / float_bytes) << " %\n";
}

void print_comparison(std::ostream& out, const path_comparison& c, unsigned threads) {
  out << "fake-quant float forward: val loss " << c.fake_quant_loss << " (perplexity " << std::exp(c.fake_quant_loss)
      << ")\ninteger shift path:       val loss " << c.integer_loss << " (perplexity " << std::exp(c.integer_loss)
      << ")\nlogits: max |integer - fake-quant| " << c.max_abs_difference << ", top-1 agreement "
      << c.top1_agreements << " / " << c.positions << " positions ("
      << 100.0 * static_cast<double>(c.top1_agreements) / static_cast<double>(c.positions) << " %)\n"
      << "tokens/s (forward incl. lm_head, " << threads << " threads, " << pot::simd::isa_name(pot::simd::active_isa())
      << " kernels): float " << c.float_tokens_per_second
      << ", float fake-quant " << c.fake_quant_tokens_per_second << ", integer shift path "
      << c.integer_tokens_per_second << "\n";
}

void report_packed_model(std::ostream& out, const val_options& options) {
  const packed_model packed = load_packed_model(options.model);
  const text_tokenizer tokenizer =
      stored_tokenizer(packed.metadata, packed.config.vocab_size, options.model, options.request.tokenizer);
  const std::string corpus = corpus_of(packed.metadata, options.data, options.model);
  const token_split split = corpus_split(corpus, tokenizer);
  const std::size_t T = sequence_length(options.sequence, packed.config.block_size);
  print_weight_memory(out, packed);
  print_comparison(out, compare_paths(packed, split.val, options.batch, T, options.batches, options.execution),
                   pot::linalg::thread_count(options.execution));
}

}  // namespace gpt2
