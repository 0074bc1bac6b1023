/// \file
/// \brief Training text, the 90/10 split, random (B, T) batches and the val-loss protocol.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace gpt2 {

/// \brief Where Debian's `fortunes` package installs its text files.
inline const std::filesystem::path default_fortunes_directory = "/usr/share/games/fortunes";

/// \brief The default corpus, byte for byte as the reference builds it.
///
/// Every regular file of \p directory except the ".dat" and ".u8" companions, sorted by
/// name, concatenated (2,576,674 bytes, md5 4f76c26646f7055c0a751e679800855b with
/// fortunes 1:1.99.1-7.3 on Debian 12).
/// \throws std::runtime_error naming the directory if it is missing (install `fortunes`)
std::string read_fortunes_corpus(const std::filesystem::path& directory = default_fortunes_directory);

/// \brief The whole file as bytes.
/// \throws std::runtime_error naming the file if it cannot be read
std::string read_file_bytes(const std::filesystem::path& path);

/// \brief The bytes of a text file, checked to be UTF-8.
/// \throws std::runtime_error naming the file, and the byte offset of invalid UTF-8
std::string read_utf8_text_file(const std::filesystem::path& path);

/// \brief Tokens split into a training and a validation part.
struct token_split {
  std::vector<std::int32_t> train;  ///< the first int(0.9 * n) tokens
  std::vector<std::int32_t> val;    ///< the rest
};

/// \brief The reference's split: the first `int(0.9 * n)` tokens (0.9 * n computed in
/// double, then truncated, as Python does) train, the rest validate.
token_split split_train_val(std::span<const std::int32_t> tokens);

/// \brief A batch of B sequences of T tokens and their next-token targets, row-major (B, T).
struct token_batch {
  std::size_t batch_size = 0;         ///< B
  std::size_t sequence_length = 0;    ///< T
  std::vector<std::int32_t> inputs;   ///< (B, T): data[i .. i+T)
  std::vector<std::int32_t> targets;  ///< (B, T): data[i+1 .. i+T+1)
};

/// \brief Draws random batches as common.py's get_batch does: each row starts at a
/// uniform position in [0, n - T).
///
/// The generator is splitmix64 (one 64-bit word of state, so a checkpoint can store it
/// and a resumed run draws the same batches), with unbiased rejection sampling. It is
/// NOT PyTorch's generator: for the same seed the batches differ from the reference's,
/// so only statistics (losses over many batches) are comparable, not single batches.
class batch_sampler {
 public:
  /// \brief Samples from \p data, which must outlive the sampler.
  /// \throws std::invalid_argument if B or T is 0 or data has no more than T tokens
  batch_sampler(std::span<const std::int32_t> data, std::size_t batch_size,
                std::size_t sequence_length, std::uint64_t seed);

  /// \brief The next batch.
  token_batch next();

  /// \brief The generator state, to save with a checkpoint.
  [[nodiscard]] std::uint64_t state() const noexcept { return state_; }

  /// \brief Continues from a state() saved earlier.
  void restore(std::uint64_t state) noexcept { state_ = state; }

  /// \brief The next raw 64-bit output of splitmix64 (exposed for tests).
  std::uint64_t next_random() noexcept;

  /// \brief A uniform integer in [0, bound), without modulo bias.
  std::uint64_t uniform_below(std::uint64_t bound) noexcept;

 private:
  std::span<const std::int32_t> data_;
  std::size_t batch_size_;
  std::size_t sequence_length_;
  std::uint64_t state_;
};

/// \brief The reference's number of validation batches.
inline constexpr std::size_t eval_batch_count = 200;
/// \brief The reference's seed for the validation batches.
inline constexpr std::uint64_t eval_seed = 1234;

/// \brief The fixed validation batches of common.py's protocol: \p count batches drawn
/// from \p val with a generator seeded with \p seed, the same for every evaluation.
/// \throws std::length_error if they would not fit in memory (see require_memory())
std::vector<token_batch> fixed_eval_batches(std::span<const std::int32_t> val,
                                            std::size_t batch_size, std::size_t sequence_length,
                                            std::size_t count = eval_batch_count,
                                            std::uint64_t seed = eval_seed);

/// \brief The val loss of common.py's evaluate(): the plain mean of the per-batch mean
/// losses that \p batch_loss (a `double(const token_batch&)`) returns.
/// \throws std::invalid_argument for an empty batch list
template <class BatchLoss>
double mean_batch_loss(std::span<const token_batch> batches, BatchLoss&& batch_loss) {
  if (batches.empty()) throw std::invalid_argument("pot: mean_batch_loss needs at least one batch");
  double sum = 0.0;
  for (const auto& batch : batches) sum += static_cast<double>(batch_loss(batch));
  return sum / static_cast<double>(batches.size());
}

}  // namespace gpt2
