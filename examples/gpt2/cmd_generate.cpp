// `gpt2 generate`: sample text from a float checkpoint or a packed model (integer path)
// with temperature and top-k.

#include <algorithm>
#include <iostream>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "commands.hpp"
#include "model_io.hpp"
#include "packed_model.hpp"
#include "random.hpp"
#include "sampling.hpp"

namespace gpt2 {

namespace {

std::string usage() {
  return std::string(R"(usage: gpt2 generate --model FILE [options]

Samples text from a float checkpoint, one token at a time with a KV cache: the prompt
runs once, then each new token is one decode step over the cached keys and values. When
the context reaches block_size tokens, its last block_size / 2 run again as a new
prompt. A packed model runs through the integer path (as `gpt2 infer`).

  --model FILE           model.safetensors (written by `gpt2 train`, or Hugging Face's),
                         or a packed model written by `gpt2 quantize` / `gpt2 qat`
  --prompt TEXT          starting text (default: a newline); for a char model every
                         character must be in its vocabulary
  --tokens 300           number of tokens to sample
  --temperature 0.8      divides the logits; 0 picks the most likely token
  --top-k 200            sample among the k most likely tokens (0: all)
  --seed 1337            sampling seed
)") + model_options_help +
         R"(  --threads N            default: every hardware thread
)";
}

// Prints \p prompt and then \p tokens tokens sampled from \p model one at a time. The
// prompt's last block_size tokens are run once (a prefill into the KV cache), then each
// sampled token is one decode step. When the cache is full, the last block_size / 2
// tokens are run again as a new prefill: GPT-2's learned position embeddings cannot be
// shifted, so this is what keeps a long generation from recomputing the whole window
// for every token.
void sample_text(gpt2_model<float>& model, const text_tokenizer& tokenizer, const std::string& prompt,
                 std::size_t tokens, double temperature, std::size_t top_k, splitmix64& random) {
  std::vector<std::int32_t> context = tokenizer.encode(prompt);
  if (context.empty()) throw std::invalid_argument("pot: --prompt must not be empty");
  const std::size_t block = model.config().block_size;
  const std::size_t V = model.config().vocab_size;
  const auto prefill = [&](std::size_t keep) {
    const std::size_t T = std::min(keep, context.size());
    model.clear_cache();
    model.forward_cached(std::span<const std::int32_t>(context.data() + context.size() - T, T), 1, T);
    return T;
  };
  std::cout << prompt << std::flush;
  std::size_t new_positions = prefill(block);
  for (std::size_t i = 0; i < tokens; ++i) {
    const auto last_logits = model.logits().subspan((new_positions - 1) * V, V);
    const std::int32_t next = sample_token(last_logits, temperature, top_k, random);
    context.push_back(next);
    std::cout << tokenizer.decode(std::span(&next, 1)) << std::flush;
    if (i + 1 == tokens) break;
    if (model.cached_positions() == block) {
      new_positions = prefill(std::max<std::size_t>(1, block / 2));
    } else {
      model.forward_cached(std::span(&next, 1), 1, 1);
      new_positions = 1;
    }
  }
  std::cout << "\n";
}

}  // namespace

int run_generate(arguments& args) {
  if (args.help()) {
    std::cout << usage();
    return 0;
  }
  const auto model_path = args.optional_text("model");
  const std::string prompt = args.text("prompt", "\n");
  const std::size_t tokens = args.count("tokens", 300);
  const double temperature = args.real("temperature", 0.8);
  const std::size_t top_k = args.count("top-k", 200);
  splitmix64 random(args.seed("seed", 1337));
  const model_request request = read_model_request(args);
  const auto execution = threads_option(args);
  args.finish();
  if (!model_path) throw std::invalid_argument("pot: generate needs --model FILE (see --help)");
  if (temperature < 0) throw std::invalid_argument("pot: --temperature must be >= 0");

  if (is_packed_model_file(*model_path)) {
    require_no_n_head(request);
    const packed_model packed = load_packed_model(*model_path);
    const text_tokenizer tokenizer =
        stored_tokenizer(packed.metadata, packed.config.vocab_size, *model_path, request.tokenizer);
    const std::unique_ptr<gpt2_model<float>> model =
        make_packed_float_model(packed, 1, packed.config.block_size, execution);
    const integer_linears integer(packed);
    model->set_linears(integer.layers());
    std::cerr << "generate: packed model, integer path\n";
    sample_text(*model, tokenizer, prompt, tokens, temperature, top_k, random);
    model->set_linears({});
    return 0;
  }
  loaded_model loaded = load_model(*model_path, 1, 0, execution, request);
  std::cerr << "generate: float checkpoint, float path\n";
  sample_text(*loaded.model, loaded.tokenizer, prompt, tokens, temperature, top_k, random);
  return 0;
}

}  // namespace gpt2
