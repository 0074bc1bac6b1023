/// \file
/// \brief Sizes computed from numbers that a file or a user supplied: sums and products
/// that report overflow instead of wrapping, and the bound every allocation derived from
/// such numbers is held to (the machine's physical memory), checked before allocating.
#pragma once

#include <cstddef>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

namespace gpt2 {

/// \brief A std::size_t whose + and * throw std::overflow_error instead of wrapping.
///
/// Converts implicitly from std::size_t, so a formula over checked_size operands reads as
/// the plain one; at least one operand of each operation must be a checked_size.
class checked_size {
 public:
  constexpr checked_size(std::size_t value = 0) noexcept : value_(value) {}  // NOLINT(google-explicit-constructor)

  /// \brief The value.
  [[nodiscard]] constexpr std::size_t value() const noexcept { return value_; }

  friend constexpr checked_size operator+(checked_size a, checked_size b) {
    if (a.value_ > std::numeric_limits<std::size_t>::max() - b.value_) overflow();
    return a.value_ + b.value_;
  }
  friend constexpr checked_size operator*(checked_size a, checked_size b) {
    if (a.value_ != 0 && b.value_ > std::numeric_limits<std::size_t>::max() / a.value_) overflow();
    return a.value_ * b.value_;
  }
  constexpr checked_size& operator+=(checked_size other) { return *this = *this + other; }
  constexpr checked_size& operator*=(checked_size other) { return *this = *this * other; }
  friend constexpr auto operator<=>(checked_size, checked_size) = default;

 private:
  [[noreturn]] static void overflow() { throw std::overflow_error("pot: a size overflows size_t"); }

  std::size_t value_;
};

/// \brief The product of \p dimensions (1 for none).
/// \throws std::overflow_error if it does not fit in std::size_t
checked_size checked_product(std::span<const std::size_t> dimensions);

/// \brief This machine's physical memory in bytes: no buffer sized from a file or an
/// option may be larger, so a corrupt size fails with a message instead of std::bad_alloc
/// or the out-of-memory killer.
std::size_t physical_memory_bytes();

/// \brief \p bytes in a readable unit ("512 bytes", "3.2 MB", "1.5 TB"; powers of 1000).
std::string format_bytes(double bytes);

/// \brief Throws std::length_error "pot: <what> needs <bytes>, more than this machine's
/// <memory> of memory" when \p bytes exceeds physical_memory_bytes().
void require_memory(checked_size bytes, std::string_view what);

}  // namespace gpt2
