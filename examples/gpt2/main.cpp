// gpt2: GPT-2 training, evaluation, sampling and gradient dumps on pot's kernels.
// Usage: gpt2 <subcommand> [--option value ...]; `gpt2 <subcommand> --help` lists options.

#include <cstdio>
#include <exception>
#include <iostream>
#include <span>
#include <string_view>

#include "commands.hpp"

namespace {

struct subcommand {
  std::string_view name;
  std::string_view summary;
  int (*run)(gpt2::arguments&);
};

// New subcommands go here (and in commands.hpp), one source file each.
constexpr subcommand subcommands[] = {
    {"train", "train a float model (AdamW, cosine lr), with checkpoints and --resume", gpt2::run_train},
    {"eval", "val loss and perplexity of a checkpoint", gpt2::run_eval},
    {"generate", "sample text from a checkpoint (temperature, top-k)", gpt2::run_generate},
    {"dump", "write loss, logits and every gradient of a token batch, for PyTorch", gpt2::run_dump},
    {"demo", "train the paper's nanoGPT config briefly and report val loss", gpt2::run_demo},
    {"quantize", "post-training PoT quantization of a checkpoint into a packed model", gpt2::run_quantize},
    {"qat", "quantization-aware fine-tuning with STE, exporting a packed model", gpt2::run_qat},
    {"infer", "integer shift path of a packed model vs its fake-quant forward", gpt2::run_infer},
    {"paper", "the paper's PTQ/QAT tables into docs/results.md", gpt2::run_paper},
    {"speed", "prompt and decode tokens/s of a 124M or nano model, float or PoT (KV cache)", gpt2::run_speed},
    {"tokenize", "GPT-2 BPE token ids of a text, or (--decode) the text of token ids", gpt2::run_tokenize},
};

void print_usage(std::ostream& out) {
  out << "usage: gpt2 <subcommand> [--option value ...]\n\nsubcommands:\n";
  for (const subcommand& command : subcommands)
    out << "  " << command.name << std::string(10 - command.name.size(), ' ') << command.summary << "\n";
  out << "\n`gpt2 <subcommand> --help` lists a subcommand's options.\n";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::string_view(argv[1]) == "--help" || std::string_view(argv[1]) == "help") {
    print_usage(argc < 2 ? std::cerr : std::cout);
    return argc < 2 ? 2 : 0;
  }
  const std::string_view name = argv[1];
  for (const subcommand& command : subcommands) {
    if (command.name != name) continue;
    try {
      gpt2::arguments args(std::span<const char* const>(argv + 2, static_cast<std::size_t>(argc - 2)));
      return command.run(args);
    } catch (const std::exception& error) {
      std::cerr << "gpt2 " << name << ": " << error.what() << "\n";
      return 1;
    }
  }
  std::cerr << "gpt2: unknown subcommand \"" << name << "\"\n\n";
  print_usage(std::cerr);
  return 2;
}
