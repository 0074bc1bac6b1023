/// \file
/// \brief What the `gpt2` subcommands share: option parsing, the corpus, progress output.
///
/// Options are `--name value` or a bare `--flag`. A subcommand reads the options it knows
/// through the typed getters (each with its default) and then calls finish(), which
/// rejects anything it did not read, so a typo never passes silently.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "dataset.hpp"
#include "model_io.hpp"
#include "pot/linalg/execution.hpp"
#include "pot/linalg/thread_pool.hpp"

namespace gpt2 {

/// \brief A subcommand's options.
class arguments {
 public:
  /// \brief Parses \p args (the words after the subcommand's name).
  /// \throws std::invalid_argument for a word that is not an option or a repeated option
  explicit arguments(std::span<const char* const> args);

  /// \brief Whether --help was given.
  [[nodiscard]] bool help() { return flag("help"); }

  /// \brief A bare `--name`.
  bool flag(const std::string& name);
  /// \brief The value of `--name`, or \p fallback.
  std::string text(const std::string& name, const std::string& fallback);
  /// \brief The value of `--name` if given.
  std::optional<std::string> optional_text(const std::string& name);
  /// \brief A non-negative integer option of at most \p largest.
  /// \throws std::invalid_argument naming the option if the value is not one, or naming
  ///   the option and its bound if it is larger
  std::size_t count(const std::string& name, std::size_t fallback,
                    std::size_t largest = std::numeric_limits<std::size_t>::max());
  /// \brief A 64-bit seed.
  std::uint64_t seed(const std::string& name, std::uint64_t fallback);
  /// \brief A finite real option.
  double real(const std::string& name, double fallback);

  /// \brief Throws std::invalid_argument naming every option no getter read.
  void finish() const;

  /// \brief The thread pool of the subcommand these arguments are for: made by the first
  /// call with \p threads workers (0: one per hardware thread), and owned by the
  /// arguments, so that it lives exactly as long as the subcommand.
  pot::linalg::thread_pool& thread_pool(unsigned threads);

 private:
  std::optional<std::string> take(const std::string& name);

  std::map<std::string, std::optional<std::string>> given_;  // value, or none for a flag
  std::map<std::string, bool> read_;
  std::unique_ptr<pot::linalg::thread_pool> pool_;
};

/// \brief The most threads `--threads` may ask for: more only start threads that wait.
inline constexpr std::size_t max_threads = 1024;

/// \brief Bounds of the size options --n-layer, --n-head, --n-embd, --block and --batch:
/// far above the models this program trains (GPT-2 XL: 48 layers, 25 heads, 1600
/// channels, block 1024); a combination of values within them that does not fit in
/// memory is reported by gpt2_model's memory check.
inline constexpr std::size_t max_layers = 1024;
inline constexpr std::size_t max_heads = 1024;
inline constexpr std::size_t max_channels = 65536;
inline constexpr std::size_t max_sequence = 65536;
inline constexpr std::size_t max_batch = 65536;

/// \brief `--threads N` (default 0: every hardware thread; at most max_threads), on the
/// arguments' thread pool (arguments::thread_pool).
pot::linalg::execution threads_option(arguments& args);

/// \brief `--tokenizer char|gpt2 --vocab DIR --n-head N`: how to read a model file (see
/// model_request); the help text's lines for them are model_options_help.
model_request read_model_request(arguments& args);

/// \brief The --help lines of read_model_request's tokenizer options.
inline constexpr const char* tokenizer_options_help =
    "  --tokenizer char|gpt2  default: the one the model records; a Hugging Face file\n"
    "                         records none: gpt2\n"
    "  --vocab DIR            GPT-2 BPE vocabulary: encoder.json and vocab.bpe (or vocab.json\n"
    "                         and merges.txt); implies --tokenizer gpt2\n";

/// \brief The --help lines of every read_model_request option, for float checkpoints.
inline const std::string model_options_help = std::string(tokenizer_options_help) +
    "  --n-head N             heads of a file without config (Hugging Face's); default\n"
    "                         n_embd / 64, as every GPT-2 size\n";

/// \brief Throws if \p request names an n_head: a packed model records its own.
void require_no_n_head(const model_request& request);

/// \brief Tokens per sequence of the batches that calibrate, fine-tune and measure val
/// loss, unless --sequence says otherwise: the reference's and the paper's context (64),
/// or the block size of a smaller model. At 124M (block 1024) it also keeps batches of 12
/// within memory: 12 x 1024 positions would need about 23 GB of activations.
inline constexpr std::size_t default_sequence_length = 64;

/// \brief The sequence length for \p requested (`--sequence`; 0: default_sequence_length
/// or the block size if smaller) in a model of \p block_size.
/// \throws std::invalid_argument if \p requested exceeds the block size
std::size_t sequence_length(std::size_t requested, std::size_t block_size);

/// \brief The options of the subcommands that run a model over fixed val batches.
struct val_options {
  std::string model;                ///< --model FILE (required)
  std::optional<std::string> data;  ///< --data: the corpus; default: the model's own
  std::size_t batches = 0;          ///< --batches: fixed val batches (seed 1234)
  std::size_t batch = 0;            ///< --batch: sequences per batch
  std::size_t sequence = 0;         ///< --sequence: tokens per sequence (0: sequence_length's default)
  model_request request;            ///< --tokenizer, --vocab, --n-head
  pot::linalg::execution execution; ///< --threads
};

/// \brief Reads `--model --data --batches --batch --sequence --threads` and the model
/// request, and finishes \p args.
/// \throws std::invalid_argument without --model (\p command names the subcommand in the
/// message), on zero batches, or on an option no getter read.
val_options read_val_options(arguments& args, const std::string& command);

/// \brief The text named by `--data`: "fortunes" (the default corpus) or a UTF-8 file,
/// checked to be UTF-8.
std::string read_corpus(const std::string& data);

/// \brief The peak resident memory of this process so far (getrusage's ru_maxrss).
std::size_t peak_resident_bytes();

/// \brief Prints "peak resident memory: N MiB" and a newline.
void print_peak_memory(std::ostream& out);

/// \brief A progress line for long loops: redrawn in place with '\r' on a terminal,
/// a plain line every \p every steps otherwise (logs, pipes).
class progress_line {
 public:
  progress_line(std::ostream& out, std::size_t total_steps, std::size_t every);

  /// \brief Reports that step \p step (counting from 1) is done; \p work_per_step
  /// items (tokens) per step give the rate.
  void update(std::size_t step, double loss, double learning_rate, std::size_t work_per_step);
  /// \brief Prints \p message on a line of its own (ending a redrawn line first).
  void message(const std::string& message);
  /// \brief Ends the redrawn line.
  void finish();

 private:
  std::ostream& out_;
  std::size_t total_;
  std::size_t every_;
  bool terminal_;
  bool open_line_ = false;
  std::optional<std::size_t> first_step_;
  std::chrono::steady_clock::time_point start_;
};

/// \brief "1h02m", "3m05s" or "42s".
std::string format_duration(double seconds);

}  // namespace gpt2
