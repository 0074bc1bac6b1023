#include "command_line.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iomanip>
#include <ostream>
#include <sstream>
#include <stdexcept>

#include "strict_number.hpp"
#include "utf8.hpp"

namespace gpt2 {

arguments::arguments(std::span<const char* const> args) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view word = args[i];
    if (!word.starts_with("--") || word.size() == 2)
      throw std::invalid_argument("pot: expected an option --name, got \"" + std::string(word) + "\"");
    const std::string name(word.substr(2));
    if (given_.contains(name)) throw std::invalid_argument("pot: option --" + name + " given twice");
    const bool has_value = i + 1 < args.size() && !std::string_view(args[i + 1]).starts_with("--");
    given_[name] = has_value ? std::optional<std::string>(args[++i]) : std::nullopt;
  }
}

std::optional<std::string> arguments::take(const std::string& name) {
  read_[name] = true;
  const auto found = given_.find(name);
  if (found == given_.end()) return std::nullopt;
  if (!found->second) throw std::invalid_argument("pot: option --" + name + " needs a value");
  return found->second;
}

bool arguments::flag(const std::string& name) {
  read_[name] = true;
  const auto found = given_.find(name);
  if (found == given_.end()) return false;
  if (found->second)
    throw std::invalid_argument("pot: option --" + name + " takes no value, got \"" +
                                *found->second + "\"");
  return true;
}

std::string arguments::text(const std::string& name, const std::string& fallback) {
  return take(name).value_or(fallback);
}

std::optional<std::string> arguments::optional_text(const std::string& name) { return take(name); }

std::size_t arguments::count(const std::string& name, std::size_t fallback, std::size_t largest) {
  const auto value = take(name);
  if (!value) return fallback;
  const auto parsed = parse_strict_number<std::size_t>(*value);
  // A number too long for size_t is beyond any bound as well: say the bound.
  const bool digits_only = !value->empty() && value->find_first_not_of("0123456789") == std::string::npos;
  if (!parsed && !digits_only)
    throw std::invalid_argument("pot: option --" + name + " needs a non-negative integer, got \"" + *value + "\"");
  if (!parsed || *parsed > largest)
    throw std::invalid_argument("pot: option --" + name + " must be at most " + std::to_string(largest) +
                                ", got " + *value);
  return *parsed;
}

std::uint64_t arguments::seed(const std::string& name, std::uint64_t fallback) {
  const auto value = take(name);
  if (!value) return fallback;
  const auto parsed = parse_strict_number<std::uint64_t>(*value);
  if (!parsed)
    throw std::invalid_argument("pot: option --" + name + " needs an integer from 0 to 2^64 - 1, got \"" + *value +
                                "\"");
  return *parsed;
}

double arguments::real(const std::string& name, double fallback) {
  const auto value = take(name);
  if (!value) return fallback;
  const auto parsed = parse_strict_number<double>(*value);
  if (!parsed) throw std::invalid_argument("pot: option --" + name + " needs a finite number, got \"" + *value + "\"");
  return *parsed;
}

void arguments::finish() const {
  std::string unknown;
  for (const auto& [name, value] : given_)
    if (!read_.contains(name)) unknown += (unknown.empty() ? "--" : ", --") + name;
  if (!unknown.empty())
    throw std::invalid_argument("pot: unknown option(s) " + unknown + " (see --help)");
}

pot::linalg::thread_pool& arguments::thread_pool(unsigned threads) {
  if (!pool_) pool_ = std::make_unique<pot::linalg::thread_pool>(threads);
  return *pool_;
}

pot::linalg::execution threads_option(arguments& args) {
  const auto threads = static_cast<unsigned>(args.count("threads", 0, max_threads));
  // One pool for the subcommand: a training step makes about a hundred parallel calls,
  // and starting threads for each would cost more than some of them compute. A later
  // call asking for more threads than the pool has starts its own per call.
  pot::linalg::thread_pool& pool = args.thread_pool(threads);
  return {threads, threads > pool.size() ? nullptr : &pool};
}

model_request read_model_request(arguments& args) {
  model_request request;
  const auto kind = args.optional_text("tokenizer");
  const auto vocabulary = args.optional_text("vocab");
  request.tokenizer = tokenizer_request::parse(kind, vocabulary);
  if (args.optional_text("n-head")) {
    request.n_head = args.count("n-head", 0, max_heads);
    if (request.n_head == 0) throw std::invalid_argument("pot: --n-head must be > 0");
  }
  return request;
}

void require_no_n_head(const model_request& request) {
  if (request.n_head)
    throw std::invalid_argument("pot: --n-head is for float files without config; a packed model records its n_head");
}

std::size_t sequence_length(std::size_t requested, std::size_t block_size) {
  if (requested == 0) return std::min(default_sequence_length, block_size);
  if (requested > block_size)
    throw std::invalid_argument("pot: --sequence " + std::to_string(requested) + " exceeds the model's block size " +
                                std::to_string(block_size));
  return requested;
}

val_options read_val_options(arguments& args, const std::string& command) {
  val_options options;
  const auto model = args.optional_text("model");
  options.data = args.optional_text("data");
  options.batches = args.count("batches", eval_batch_count);
  options.batch = args.count("batch", 12, max_batch);
  options.sequence = args.count("sequence", 0, max_sequence);
  options.request = read_model_request(args);
  options.execution = threads_option(args);
  args.finish();
  if (!model) throw std::invalid_argument("pot: " + command + " needs --model FILE (see --help)");
  if (options.batches == 0 || options.batch == 0)
    throw std::invalid_argument("pot: --batches and --batch must be > 0");
  options.model = *model;
  return options;
}

std::string read_corpus(const std::string& data) {
  if (data != "fortunes") return read_utf8_text_file(data);
  std::string bytes = read_fortunes_corpus();
  static_cast<void>(decode_utf8(bytes, "the fortunes corpus"));  // names the offset of invalid UTF-8
  return bytes;
}

std::size_t peak_resident_bytes() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<std::size_t>(usage.ru_maxrss) * 1024;  // KiB on Linux
}

void print_peak_memory(std::ostream& out) {
  out << "peak resident memory: " << std::fixed << std::setprecision(0)
      << static_cast<double>(peak_resident_bytes()) / (1024.0 * 1024.0) << " MiB\n" << std::defaultfloat;
}

std::string format_duration(double seconds) {
  const auto total = static_cast<long long>(std::llround(std::max(0.0, seconds)));
  char buffer[32];
  if (total >= 3600)
    std::snprintf(buffer, sizeof buffer, "%lldh%02lldm", total / 3600, total / 60 % 60);
  else if (total >= 60)
    std::snprintf(buffer, sizeof buffer, "%lldm%02llds", total / 60, total % 60);
  else
    std::snprintf(buffer, sizeof buffer, "%llds", total);
  return buffer;
}

progress_line::progress_line(std::ostream& out, std::size_t total_steps, std::size_t every)
    : out_(out), total_(total_steps), every_(every == 0 ? 1 : every),
      terminal_(::isatty(STDOUT_FILENO) == 1), start_(std::chrono::steady_clock::now()) {}

void progress_line::update(std::size_t step, double loss, double learning_rate,
                           std::size_t work_per_step) {
  const auto now = std::chrono::steady_clock::now();
  if (!first_step_) {
    // The rate counts from the first reported step, so setup time does not skew it.
    first_step_ = step;
    start_ = now;
  }
  if (!terminal_ && step % every_ != 0 && step != total_) return;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const std::size_t done = step - *first_step_;
  const double seconds_per_step = done == 0 ? 0.0 : elapsed / static_cast<double>(done);
  std::ostringstream line;
  line << "step " << step << "/" << total_ << "  loss " << std::fixed << std::setprecision(4)
       << loss << "  lr " << std::scientific << std::setprecision(2) << learning_rate;
  if (done > 0) {
    line << std::fixed << std::setprecision(0) << "  "
         << static_cast<double>(work_per_step) / seconds_per_step << " tok/s  "
         << std::setprecision(1) << seconds_per_step * 1e3 << " ms/step  ETA "
         << format_duration(seconds_per_step * static_cast<double>(total_ - step));
  }
  if (terminal_) {
    out_ << "\r" << line.str() << "\033[K" << std::flush;
    open_line_ = true;
  } else {
    out_ << line.str() << "\n" << std::flush;
  }
}

void progress_line::message(const std::string& message) {
  finish();
  out_ << message << "\n" << std::flush;
}

void progress_line::finish() {
  if (open_line_) out_ << "\n" << std::flush;
  open_line_ = false;
}

}  // namespace gpt2
