#pragma once
/// \file
/// \brief A row-major matrix of pot codes packed `P::bits` bits each, with its scales.
///
/// Layout (the contract with the simd and linalg kernels): row `r` starts at
/// `data() + r * row_stride_bytes()`; its `cols` codes are packed as core/packing.hpp
/// describes (first code in the lowest bits of the first byte); `row_stride_bytes()` is
/// `packed_bytes(cols, P::bits)` rounded up to a multiple of 64, so a 64-byte load
/// anywhere in a row stays inside it. Padding bytes are zero. data() is 64-byte aligned.
/// The weight at (r, c) is `scale(r) * double(P::from_code(code(r, c)))`, where scale(r)
/// is the row's scale (per channel) or the one tensor scale.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <stdexcept>
#include <utility>
#include <vector>

#include "pot/core/affine.hpp"
#include "pot/core/packing.hpp"
#include "pot/core/pot.hpp"
#include "pot/core/traits.hpp"
#include "pot/quant/aligned_bytes.hpp"
#include "pot/quant/pot_quantizer.hpp"
#include "pot/quant/row_statistics.hpp"

namespace pot {

/// \brief rows x cols pot codes of type `P`, packed row by row, with one float scale per
/// row or one for the tensor (see the file comment for the layout).
template <pot_type P>
class packed_matrix {
  static_assert(P::bits <= max_packed_bits, "pot: packed_matrix packs codes of at most 8 bits");

 public:
  /// \brief The pot type of the entries.
  using value_type = P;
  /// \brief The integer type of one code.
  using code_type = typename P::code_type;
  /// \brief Rows start at multiples of this many bytes.
  static constexpr std::size_t row_alignment = aligned_bytes::alignment;

  /// \brief Quantizes a row-major (rows, cols) float matrix (pot_quantizer.hpp) and packs it.
  /// \throws std::invalid_argument on an empty shape or a size mismatch; std::domain_error
  /// on NaN/inf weights (see pot_scale()).
  packed_matrix(std::span<const float> weights, std::size_t rows, std::size_t cols,
                scale_granularity granularity = scale_granularity::per_channel,
                scale_rule rule = scale_rule::max_abs)
      : packed_matrix(rows, cols, pot_scales<P>(weights, rows, cols, granularity, rule)) {
    std::vector<code_type> row_codes(cols_);
    for (std::size_t r = 0; r < rows_; ++r) {
      quantize_pot<P>(weights.subspan(r * cols_, cols_), scale(r), std::span<code_type>(row_codes));
      pack_codes(row_codes, P::bits, row_bytes(r));
    }
    compute_statistics();
  }

  /// \brief Packs row-major codes with the given scales (1 for the tensor, or `rows`).
  /// \throws std::invalid_argument on an empty shape, a size mismatch, a wrong number of
  /// scales, a non-finite or negative scale, or a code that no value of `P` has.
  packed_matrix(std::size_t rows, std::size_t cols, std::span<const code_type> codes,
                std::vector<float> scales)
      : packed_matrix(rows, cols, std::move(scales)) {
    detail::require_same_size(codes.size(), rows_ * cols_, "packed_matrix codes");
    for (const code_type code : codes) P::from_code(code);  // throws on a code without value
    for (std::size_t r = 0; r < rows_; ++r)
      pack_codes(codes.subspan(r * cols_, cols_), P::bits, row_bytes(r));
    compute_statistics();
  }

  /// \brief Number of rows (output channels).
  std::size_t rows() const noexcept { return rows_; }
  /// \brief Number of columns (inputs).
  std::size_t cols() const noexcept { return cols_; }
  /// \brief Bytes from the start of one row to the next (a multiple of 64).
  std::size_t row_stride_bytes() const noexcept { return row_stride_; }
  /// \brief The packed codes (64-byte aligned), `rows() * row_stride_bytes()` bytes.
  const std::byte* data() const noexcept { return storage_.data(); }
  /// \brief The first byte of row `r` (unchecked, for kernels).
  const std::byte* row(std::size_t r) const noexcept { return storage_.data() + r * row_stride_; }
  /// \brief Whether there is one scale per row (else one for the tensor).
  bool per_channel() const noexcept { return per_channel_; }
  /// \brief The scale of row `r` (the tensor scale when not per channel; unchecked).
  float scale(std::size_t r) const noexcept { return scales_[per_channel_ ? r : 0]; }
  /// \brief All scales: `rows()` of them per channel, else one.
  std::span<const float> scales() const noexcept { return scales_; }
  /// \brief Per row, the constants the integer kernels need besides the codes
  /// (quant/row_statistics.hpp), found when the matrix was packed.
  std::span<const packed_row_statistics> row_statistics() const noexcept { return statistics_; }

  /// \brief The code at (r, c).
  /// \throws std::out_of_range outside the matrix.
  code_type code(std::size_t r, std::size_t c) const {
    if (r >= rows_ || c >= cols_)
      throw std::out_of_range(detail::message("(", r, ", ", c, ") is outside a ", rows_, " x ",
                                              cols_, " packed_matrix"));
    const std::size_t bit = c * static_cast<std::size_t>(P::bits);
    const std::byte* first = row(r) + bit / 8;
    const unsigned shift = bit % 8;
    unsigned value = std::to_integer<unsigned>(first[0]) >> shift;
    if (shift + P::bits > 8) value |= std::to_integer<unsigned>(first[1]) << (8 - shift);
    return static_cast<code_type>(value & ((1u << P::bits) - 1u));
  }

  /// \brief The pot at (r, c).
  /// \throws std::out_of_range outside the matrix.
  P value(std::size_t r, std::size_t c) const { return P::from_code(code(r, c)); }

  /// \brief The weight at (r, c): `scale(r) * value(r, c)`, rounded once to float.
  /// \throws std::out_of_range outside the matrix.
  float weight(std::size_t r, std::size_t c) const { return dequantize_pot(value(r, c), scale(r)); }

  /// \brief All codes, row-major, into `out` (rows * cols of them).
  /// \throws std::invalid_argument if `out` has another size.
  void unpack(std::span<code_type> out) const {
    detail::require_same_size(rows_ * cols_, out.size(), "packed_matrix unpack");
    for (std::size_t r = 0; r < rows_; ++r)
      unpack_codes(std::span<const std::byte>(row(r), row_stride_), P::bits,
                   out.subspan(r * cols_, cols_));
  }

  /// \brief All weights, row-major, into `out` (rows * cols of them).
  /// \throws std::invalid_argument if `out` has another size.
  void dequantize(std::span<float> out) const {
    detail::require_same_size(rows_ * cols_, out.size(), "packed_matrix dequantize");
    std::vector<code_type> row_codes(cols_);
    for (std::size_t r = 0; r < rows_; ++r) {
      unpack_codes(std::span<const std::byte>(row(r), row_stride_), P::bits,
                   std::span<code_type>(row_codes));
      dequantize_pot<P>(std::span<const code_type>(row_codes), scale(r), out.subspan(r * cols_, cols_));
    }
  }

  /// \brief Bytes the codes need without row padding: `rows * packed_bytes(cols, bits)`.
  std::size_t packed_code_bytes() const noexcept { return rows_ * packed_bytes(cols_, P::bits); }
  /// \brief Bytes the codes take with row padding: `rows * row_stride_bytes()`.
  std::size_t padded_code_bytes() const noexcept { return rows_ * row_stride_; }
  /// \brief Bytes of the float scales.
  std::size_t scale_bytes() const noexcept { return scales_.size() * sizeof(float); }
  /// \brief Codes without padding plus scales: the size of the matrix as a file.
  std::size_t packed_bytes_total() const noexcept { return packed_code_bytes() + scale_bytes(); }
  /// \brief Codes with padding plus scales: the size of the matrix in memory.
  std::size_t padded_bytes_total() const noexcept { return padded_code_bytes() + scale_bytes(); }
  /// \brief Bytes of the same matrix in float32: `rows * cols * 4`.
  std::size_t float32_bytes() const noexcept { return rows_ * cols_ * sizeof(float); }
  /// \brief Fraction of the float32 bytes saved without padding:
  /// `1 - packed_bytes_total() / float32_bytes()`.
  double packed_saving() const noexcept {
    return 1.0 - static_cast<double>(packed_bytes_total()) / static_cast<double>(float32_bytes());
  }
  /// \brief Fraction of the float32 bytes saved in memory (with padding).
  double padded_saving() const noexcept {
    return 1.0 - static_cast<double>(padded_bytes_total()) / static_cast<double>(float32_bytes());
  }

 private:
  // Checks the shape and scales and allocates zeroed, padded rows.
  packed_matrix(std::size_t rows, std::size_t cols, std::vector<float> scales)
      : rows_(rows), cols_(cols), per_channel_(false), scales_(std::move(scales)) {
    if (rows == 0 || cols == 0)
      throw std::invalid_argument(detail::message("a packed_matrix needs at least one row and one "
                                                  "column (got ", rows, " x ", cols, ")"));
    if (scales_.size() != 1 && scales_.size() != rows)
      throw std::invalid_argument(detail::message("a ", rows, "-row packed_matrix needs 1 or ", rows,
                                                  " scales, got ", scales_.size()));
    for (const float s : scales_)
      if (!std::isfinite(s) || s < 0.0f)
        throw std::invalid_argument(detail::message("packed_matrix scale ", s,
                                                    " is not finite and >= 0"));
    // A single row with one scale is per tensor; the two readings agree.
    per_channel_ = scales_.size() == rows && rows > 1;
    row_stride_ = (packed_bytes(cols, P::bits) + row_alignment - 1) / row_alignment * row_alignment;
    if (row_stride_ != 0 && rows > std::numeric_limits<std::size_t>::max() / row_stride_)
      throw std::invalid_argument(detail::message("a ", rows, " x ", cols, " packed_matrix is too large"));
    storage_ = aligned_bytes(rows * row_stride_);
  }

  std::span<std::byte> row_bytes(std::size_t r) noexcept {
    return storage_.bytes().subspan(r * row_stride_, row_stride_);
  }

  void compute_statistics() {
    statistics_.resize(rows_);
    for (std::size_t r = 0; r < rows_; ++r) statistics_[r] = compute_row_statistics<P>(row(r), cols_);
  }

  std::size_t rows_;
  std::size_t cols_;
  bool per_channel_;
  std::vector<float> scales_;
  std::size_t row_stride_ = 0;
  aligned_bytes storage_;
  std::vector<packed_row_statistics> statistics_;
};

}  // namespace pot
