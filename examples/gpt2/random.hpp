/// \file
/// \brief The example's seeded random numbers: splitmix64 and normal deviates from it.
///
/// Hand-written rather than std::normal_distribution, whose algorithm the standard leaves
/// to the library: a seed must give the same model on every platform.
#pragma once

#include <cmath>
#include <cstdint>
#include <numbers>

namespace gpt2 {

/// \brief splitmix64 (Steele, Lea, Flood 2014): one 64-bit word of state.
class splitmix64 {
 public:
  explicit splitmix64(std::uint64_t seed) noexcept : state_(seed) {}

  /// \brief The next 64 random bits.
  std::uint64_t next() noexcept {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }

  /// \brief A uniform double in [0, 1) with 53 random bits.
  double uniform() noexcept { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

  /// \brief The state, to save and restore.
  [[nodiscard]] std::uint64_t state() const noexcept { return state_; }

 private:
  std::uint64_t state_;
};

/// \brief Standard normal deviates by the Box-Muller transform, both of each pair used.
class normal_generator {
 public:
  explicit normal_generator(std::uint64_t seed) noexcept : bits_(seed) {}

  /// \brief The next N(0, 1) deviate.
  double operator()() noexcept {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    const double radius = std::sqrt(-2.0 * std::log(1.0 - bits_.uniform()));  // 1 - u > 0
    const double angle = 2.0 * std::numbers::pi * bits_.uniform();
    spare_ = radius * std::sin(angle);
    has_spare_ = true;
    return radius * std::cos(angle);
  }

 private:
  splitmix64 bits_;
  double spare_ = 0.0;
  bool has_spare_ = false;
};

}  // namespace gpt2
