#include "dataset.hpp"

#include <algorithm>
#include <fstream>
#include <stdexcept>
#include <system_error>

#include "checked_size.hpp"
#include "utf8.hpp"

namespace gpt2 {

std::string read_file_bytes(const std::filesystem::path& path) {
  std::error_code error;
  const auto size = std::filesystem::file_size(path, error);
  if (error) throw std::runtime_error("pot: " + path.string() + ": cannot read: " + error.message());
  std::ifstream in(path, std::ios::binary);
  std::string bytes(size, '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(size));
  if (!in) throw std::runtime_error("pot: " + path.string() + ": read error");
  return bytes;
}

std::string read_fortunes_corpus(const std::filesystem::path& directory) {
  std::error_code error;
  std::filesystem::directory_iterator entries(directory, error);
  if (error) {
    throw std::runtime_error("pot: " + directory.string() + ": cannot list the fortunes (" +
                             error.message() + "); install Debian's `fortunes` package");
  }
  std::vector<std::filesystem::path> files;
  for (const auto& entry : entries) {
    const auto extension = entry.path().extension();
    // is_regular_file follows symbolic links, as the reference's os.path.isfile does.
    if (extension == ".dat" || extension == ".u8" || !std::filesystem::is_regular_file(entry.path())) {
      continue;
    }
    files.push_back(entry.path());
  }
  // Python sorts the names by code point; UTF-8 byte order is the same order.
  std::sort(files.begin(), files.end(), [](const auto& a, const auto& b) {
    return a.filename().string() < b.filename().string();
  });
  std::string corpus;
  for (const auto& file : files) corpus += read_file_bytes(file);
  return corpus;
}

std::string read_utf8_text_file(const std::filesystem::path& path) {
  std::string bytes = read_file_bytes(path);
  static_cast<void>(decode_utf8(bytes, path.string()));  // names the offset of invalid UTF-8
  return bytes;
}

token_split split_train_val(std::span<const std::int32_t> tokens) {
  const auto train_count = static_cast<std::size_t>(0.9 * static_cast<double>(tokens.size()));
  return {{tokens.begin(), tokens.begin() + static_cast<std::ptrdiff_t>(train_count)},
          {tokens.begin() + static_cast<std::ptrdiff_t>(train_count), tokens.end()}};
}

batch_sampler::batch_sampler(std::span<const std::int32_t> data, std::size_t batch_size,
                             std::size_t sequence_length, std::uint64_t seed)
    : data_(data), batch_size_(batch_size), sequence_length_(sequence_length), state_(seed) {
  if (batch_size == 0 || sequence_length == 0) {
    throw std::invalid_argument("pot: batch size and sequence length must be positive");
  }
  if (data.size() <= sequence_length) {
    throw std::invalid_argument("pot: " + std::to_string(data.size()) +
                                " tokens are too few for sequences of " +
                                std::to_string(sequence_length) + " plus one target");
  }
}

std::uint64_t batch_sampler::next_random() noexcept {
  state_ += 0x9E3779B97F4A7C15u;
  std::uint64_t z = state_;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
  return z ^ (z >> 31);
}

std::uint64_t batch_sampler::uniform_below(std::uint64_t bound) noexcept {
  // Outputs below 2^64 mod bound would make the low residues more likely.
  const std::uint64_t threshold = (0 - bound) % bound;
  std::uint64_t value = next_random();
  while (value < threshold) value = next_random();
  return value % bound;
}

token_batch batch_sampler::next() {
  const std::size_t T = sequence_length_;
  token_batch batch{batch_size_, T, std::vector<std::int32_t>(batch_size_ * T),
                    std::vector<std::int32_t>(batch_size_ * T)};
  for (std::size_t b = 0; b < batch_size_; ++b) {
    const std::size_t start = uniform_below(data_.size() - T);
    std::copy_n(data_.begin() + static_cast<std::ptrdiff_t>(start), T,
                batch.inputs.begin() + static_cast<std::ptrdiff_t>(b * T));
    std::copy_n(data_.begin() + static_cast<std::ptrdiff_t>(start + 1), T,
                batch.targets.begin() + static_cast<std::ptrdiff_t>(b * T));
  }
  return batch;
}

std::vector<token_batch> fixed_eval_batches(std::span<const std::int32_t> val,
                                            std::size_t batch_size, std::size_t sequence_length,
                                            std::size_t count, std::uint64_t seed) {
  batch_sampler sampler(val, batch_size, sequence_length, seed);
  require_memory(checked_size(count) * batch_size * sequence_length * (2 * sizeof(std::int32_t)),
                 std::to_string(count) + " fixed val batches of " + std::to_string(batch_size) + " x " +
                     std::to_string(sequence_length) + " tokens");
  std::vector<token_batch> batches;
  batches.reserve(count);
  for (std::size_t i = 0; i < count; ++i) batches.push_back(sampler.next());
  return batches;
}

}  // namespace gpt2
