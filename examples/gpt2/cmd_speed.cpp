// `gpt2 speed`: prompt and decode throughput of a model of a named size with random
// weights (no download), float or PoT-packed, as llama.cpp's `llama-bench -p 64 -n 128`
// measures it.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <numeric>
#include <string>
#include <vector>

#include "commands.hpp"
#include "packed_model.hpp"
#include "pot/linalg/parallel_for.hpp"
#include "pot/simd/isa.hpp"
#include "quantize_pipeline.hpp"
#include "random.hpp"

namespace gpt2 {

namespace {

std::string usage() {
  return R"(usage: gpt2 speed [options]

Times a model of a named size with random weights (GPT-2's initialisation; the speed does
not depend on the values): a prompt of --prompt-tokens tokens in one prefill, then
--decode-tokens tokens one at a time through the KV cache, as llama.cpp's
`llama-bench -p 64 -n 128`. Prints prompt and decode tokens/s, the bytes a decode step
reads (weights and KV cache) against the read bandwidth measured here, and the peak
resident memory.

  --size 124M            124M (GPT-2 small: 12 layers, 12 heads, 768 channels, vocabulary
                         50257, block 1024) or nano (the nanoGPT configuration of
                         `gpt2 train`: 4 layers, 4 heads, 128 channels, vocabulary 96,
                         block prompt + decode tokens)
  --weights float        float, or pot: the block Linears packed (the options below),
                         activations calibrated on 2 random prompts, integer path
)" + quantization_options_help(false) +
         R"(  --prompt-tokens 64
  --decode-tokens 128
  --seed 1337            weights and tokens
  --threads N            default: every hardware thread
  --json                 one line of JSON instead of the text report
)";
}

gpt2_config named_size(const std::string& size, std::size_t positions) {
  if (size == "124M") return {12, 12, 768, 1024, 50257};
  if (size == "nano") return {4, 4, 128, std::max<std::size_t>(64, positions), 96};
  throw std::invalid_argument("pot: --size must be 124M or nano, not '" + size + "'");
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

/// Bytes per second of a sum over a 1 GiB buffer on the execution's threads, the best of
/// three passes: what a decode step that streams its weights from memory can reach.
double measured_read_bandwidth(pot::linalg::execution execution) {
  std::vector<float> buffer(std::size_t{1} << 28, 1.0f);
  std::vector<double> partial(buffer.size() / (std::size_t{1} << 20));
  double best = 0;
  for (int pass = 0; pass < 3; ++pass) {
    const auto start = std::chrono::steady_clock::now();
    pot::linalg::parallel_for(0, partial.size(), [&](std::size_t first, std::size_t last) {
      for (std::size_t chunk = first; chunk < last; ++chunk) {
        const float* values = buffer.data() + (chunk << 20);
        partial[chunk] = std::accumulate(values, values + (std::size_t{1} << 20), 0.0f);
      }
    }, execution);
    const double total = std::accumulate(partial.begin(), partial.end(), 0.0);
    if (total != static_cast<double>(buffer.size())) throw std::logic_error("pot: the bandwidth pass lost values");
    best = std::max(best, static_cast<double>(buffer.size() * sizeof(float)) / seconds_since(start));
  }
  return best;
}

/// Bytes of the parameters a decode step reads besides the block Linears: the lm_head
/// (wte, float), LayerNorms, biases, and one row each of wte and wpe.
std::size_t other_parameter_bytes(const gpt2_config& config) {
  const std::size_t C = config.n_embd, V = config.vocab_size;
  const std::size_t vectors = config.n_layer * 13 * C + 2 * C;  // per block 2 LayerNorms and 4 biases; ln_f
  return (V * C + vectors + 2 * C) * sizeof(float);
}

std::size_t block_linear_weights(const gpt2_config& config) { return config.n_layer * 12 * config.n_embd * config.n_embd; }

}  // namespace

int run_speed(arguments& args) {
  if (args.help()) {
    std::cout << usage();
    return 0;
  }
  const std::string size = args.text("size", "124M");
  const std::string weights = args.text("weights", "float");
  const quantization_options options = read_quantization_options(args, false);
  const std::size_t prompt_tokens = args.count("prompt-tokens", 64, max_sequence);
  const std::size_t decode_tokens = args.count("decode-tokens", 128, max_sequence);
  const std::uint64_t seed = args.seed("seed", 1337);
  const bool json = args.flag("json");
  const auto execution = threads_option(args);
  args.finish();
  if (weights != "float" && weights != "pot")
    throw std::invalid_argument("pot: --weights must be float or pot, not '" + weights + "'");
  if (prompt_tokens == 0 || decode_tokens == 0)
    throw std::invalid_argument("pot: --prompt-tokens and --decode-tokens must be at least 1");
  const bool packed_weights = weights == "pot";
  if (packed_weights && options.activations == activation_type::none)
    throw std::invalid_argument("pot: --weights pot runs the integer path: --activations uint8 or int8");
  const std::size_t positions = prompt_tokens + decode_tokens;
  const gpt2_config config = named_size(size, positions);
  if (positions > config.block_size)
    throw std::invalid_argument("pot: " + std::to_string(prompt_tokens) + " prompt and " +
                                std::to_string(decode_tokens) + " decode tokens exceed the block of " +
                                std::to_string(config.block_size));

  gpt2_model<float> model(config, 1, positions, execution);
  model.initialize(seed);
  splitmix64 random(seed + 1);
  std::vector<std::int32_t> tokens(positions);
  for (std::int32_t& token : tokens) token = static_cast<std::int32_t>(random.next() % config.vocab_size);

  std::unique_ptr<packed_model> packed;
  std::unique_ptr<integer_linears> integer;
  std::size_t linear_bytes = block_linear_weights(config) * sizeof(float);
  if (packed_weights) {
    fake_quant_linears linears(config, options);
    install_calibrated_linears(model, linears, tokens, {2, seed}, 1, prompt_tokens);
    packed = std::make_unique<packed_model>(
        pack_model(config, model.parameters(), options, linears.activation_parameters(), {}));
    model.set_linears({});
    model.load_parameters(packed->parameters);
    integer = std::make_unique<integer_linears>(*packed);
    model.set_linears(integer->layers());
    linear_bytes = packed->packed_weight_bytes();
  }

  const auto run = [&](double& prompt_seconds, double& decode_seconds) {
    model.clear_cache();
    auto start = std::chrono::steady_clock::now();
    model.forward_cached(std::span(tokens).first(prompt_tokens), 1, prompt_tokens);
    prompt_seconds = seconds_since(start);
    start = std::chrono::steady_clock::now();
    for (std::size_t t = prompt_tokens; t < positions; ++t) model.forward_cached(std::span(tokens).subspan(t, 1), 1, 1);
    decode_seconds = seconds_since(start);
  };
  double prompt_seconds = 0, decode_seconds = 0;
  run(prompt_seconds, decode_seconds);  // warm-up: pages, caches, thread pool
  run(prompt_seconds, decode_seconds);

  // A decode step at position p reads every weight once and the cache's keys and values
  // of positions 0..p in each block: on average over the steps, p = prompt + decode / 2.
  const std::size_t weight_bytes = linear_bytes + other_parameter_bytes(config);
  const double mean_cached = static_cast<double>(prompt_tokens) + static_cast<double>(decode_tokens) / 2.0;
  const double cache_bytes =
      2.0 * static_cast<double>(config.n_layer * config.n_embd * sizeof(float)) * mean_cached;
  const double bytes_per_token = static_cast<double>(weight_bytes) + cache_bytes;
  const double prompt_rate = static_cast<double>(prompt_tokens) / prompt_seconds;
  const double decode_rate = static_cast<double>(decode_tokens) / decode_seconds;
  const double bandwidth = measured_read_bandwidth(execution);
  const double decode_bandwidth = bytes_per_token * decode_rate;
  const std::string weights_name = packed_weights ? format_name(options.format) + " + " +
                                                        activation_type_name(options.activations)
                                                  : std::string("float");
  const std::string isa(pot::simd::isa_name(pot::simd::active_isa()));
  const unsigned threads = pot::linalg::thread_count(execution);
  const double resident = static_cast<double>(peak_resident_bytes());
  constexpr double MiB = 1024.0 * 1024.0;

  char line[1024];
  if (json) {
    std::snprintf(line, sizeof line,
                  "{\"size\":\"%s\",\"weights\":\"%s\",\"threads\":%u,\"kernels\":\"%s\",\"prompt_tokens\":%zu,"
                  "\"decode_tokens\":%zu,\"prompt_tokens_per_s\":%.2f,\"decode_tokens_per_s\":%.2f,"
                  "\"weight_bytes\":%zu,\"bytes_per_decoded_token\":%.0f,\"read_bandwidth_bytes_per_s\":%.4g,"
                  "\"decode_read_fraction\":%.3f,\"peak_resident_bytes\":%.0f}\n",
                  size.c_str(), weights_name.c_str(), threads, isa.c_str(), prompt_tokens, decode_tokens, prompt_rate,
                  decode_rate, weight_bytes, bytes_per_token, bandwidth, decode_bandwidth / bandwidth, resident);
    std::cout << line;
    return 0;
  }
  std::snprintf(line, sizeof line,
                "speed: %s (%zu layers, %zu heads, %zu channels, vocabulary %zu), weights %s, %u threads, %s "
                "kernels\n"
                "prompt: %zu tokens in %.3f s = %.1f tokens/s\n"
                "decode: %zu tokens in %.3f s = %.1f tokens/s\n"
                "read per decoded token: %.1f MiB (block Linears %.1f MiB, lm_head and vectors %.1f MiB float, "
                "KV cache %.1f MiB on average)\n"
                "decode reads %.2f GB/s = %.0f%% of the %.2f GB/s a 1 GiB sum reads here\n"
                "peak resident memory: %.0f MiB\n",
                size.c_str(), config.n_layer, config.n_head, config.n_embd, config.vocab_size,
                weights_name.c_str(), threads, isa.c_str(), prompt_tokens, prompt_seconds, prompt_rate, decode_tokens,
                decode_seconds, decode_rate, bytes_per_token / MiB, static_cast<double>(linear_bytes) / MiB,
                static_cast<double>(other_parameter_bytes(config)) / MiB, cache_bytes / MiB,
                decode_bandwidth / 1e9, 100.0 * decode_bandwidth / bandwidth, bandwidth / 1e9, resident / MiB);
  std::cout << line;
  return 0;
}

}  // namespace gpt2
