#pragma once
/// \file
/// \brief A zero-initialised byte buffer aligned to a cache line, with value semantics.

#include <algorithm>
#include <cstddef>
#include <memory>
#include <new>
#include <span>
#include <utility>

namespace pot {

/// \brief Owns `size()` zeroed bytes starting at a 64-byte boundary, so that rows stored
/// at 64-byte strides start on cache lines and aligned SIMD loads are possible.
class aligned_bytes {
 public:
  /// \brief The alignment of data(), in bytes.
  static constexpr std::size_t alignment = 64;

  /// \brief An empty buffer.
  aligned_bytes() = default;

  /// \brief `size` zero bytes.
  /// \throws std::bad_alloc when the allocation fails.
  explicit aligned_bytes(std::size_t size) : size_(size), data_(allocate(size)) {
    std::fill_n(data_.get(), size_, std::byte{0});
  }

  /// \brief A copy of `other`'s bytes.
  aligned_bytes(const aligned_bytes& other) : size_(other.size_), data_(allocate(other.size_)) {
    std::copy_n(other.data_.get(), size_, data_.get());
  }

  /// \brief Replaces the bytes by a copy of `other`'s.
  aligned_bytes& operator=(const aligned_bytes& other) {
    if (this != &other) *this = aligned_bytes(other);
    return *this;
  }

  /// \brief Takes `other`'s bytes, leaving it empty.
  aligned_bytes(aligned_bytes&& other) noexcept
      : size_(std::exchange(other.size_, 0)), data_(std::move(other.data_)) {}
  /// \brief Takes `other`'s bytes, leaving it empty.
  aligned_bytes& operator=(aligned_bytes&& other) noexcept {
    size_ = std::exchange(other.size_, 0);
    data_ = std::move(other.data_);
    return *this;
  }
  ~aligned_bytes() = default;

  /// \brief The first byte (64-byte aligned; null when empty).
  std::byte* data() noexcept { return data_.get(); }
  /// \copydoc data()
  const std::byte* data() const noexcept { return data_.get(); }
  /// \brief Number of bytes.
  std::size_t size() const noexcept { return size_; }
  /// \brief The bytes as a span.
  std::span<std::byte> bytes() noexcept { return {data_.get(), size_}; }
  /// \copydoc bytes()
  std::span<const std::byte> bytes() const noexcept { return {data_.get(), size_}; }

 private:
  struct aligned_delete {
    void operator()(std::byte* bytes) const noexcept {
      ::operator delete[](bytes, std::align_val_t{alignment});
    }
  };

  static std::byte* allocate(std::size_t size) {
    if (size == 0) return nullptr;
    return static_cast<std::byte*>(::operator new[](size, std::align_val_t{alignment}));
  }

  std::size_t size_ = 0;
  std::unique_ptr<std::byte[], aligned_delete> data_;
};

}  // namespace pot
