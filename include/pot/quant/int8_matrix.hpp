#pragma once
/// \file
/// \brief A row-major matrix of symmetric int8 weights with one float scale per row:
/// `w[r][c] ≈ scale(r) * code(r, c)`, codes in [-127, 127], `scale(r) = max_c |w[r][c]| /
/// 127`. The int8 alternative to PoT codes where a layer is kept at 8 bits (GPT-2's
/// tied embedding and output head), read by linalg::int8_gemv with float activations.
///
/// Layout: row `r` starts at `data() + r * row_stride_bytes()`, a multiple of 64 bytes
/// (so a vector load anywhere in a row stays inside it), padding zero; data() is 64-byte
/// aligned.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "pot/quant/aligned_bytes.hpp"

namespace pot {

/// \brief rows x cols symmetric int8 codes, one scale per row (see the file comment).
class int8_matrix {
 public:
  /// \brief Rows start at multiples of this many bytes.
  static constexpr std::size_t row_alignment = aligned_bytes::alignment;

  /// \brief Quantizes a row-major (rows, cols) float matrix: per row the scale
  /// max|w| / 127 and codes nearbyint(w / scale) (ties to even), so that the largest
  /// weight of a row is exactly ±127 * scale; a row of zeros gets scale 0 and codes 0.
  /// \throws std::invalid_argument on an empty shape, a size mismatch or a weight that is
  /// not finite.
  int8_matrix(std::span<const float> weights, std::size_t rows, std::size_t cols) : rows_(rows), cols_(cols) {
    if (rows == 0 || cols == 0)
      throw std::invalid_argument("pot: an int8_matrix needs at least one row and one column (got " +
                                  std::to_string(rows) + " x " + std::to_string(cols) + ")");
    if (weights.size() / cols != rows || weights.size() % cols != 0)
      throw std::invalid_argument("pot: int8_matrix of " + std::to_string(rows) + " x " + std::to_string(cols) +
                                  " given " + std::to_string(weights.size()) + " weights");
    row_stride_ = (cols + row_alignment - 1) / row_alignment * row_alignment;
    if (rows > std::numeric_limits<std::size_t>::max() / row_stride_)
      throw std::invalid_argument("pot: an int8_matrix of " + std::to_string(rows) + " x " + std::to_string(cols) +
                                  " is too large");
    storage_ = aligned_bytes(rows * row_stride_);
    scales_.resize(rows);
    for (std::size_t r = 0; r < rows; ++r) {
      const std::span<const float> row = weights.subspan(r * cols, cols);
      float largest = 0.0f;
      for (std::size_t c = 0; c < cols; ++c) {
        if (!std::isfinite(row[c]))
          throw std::invalid_argument("pot: int8_matrix weight (" + std::to_string(r) + ", " + std::to_string(c) +
                                      ") is not finite");
        largest = std::max(largest, std::abs(row[c]));
      }
      scales_[r] = largest / 127.0f;
      std::int8_t* codes = row_data(r);
      if (largest == 0.0f) continue;
      const float inverse = 127.0f / largest;
      for (std::size_t c = 0; c < cols; ++c)
        codes[c] = static_cast<std::int8_t>(std::clamp(std::nearbyint(row[c] * inverse), -127.0f, 127.0f));
    }
  }

  /// \brief A matrix of the given row-major codes (each in [-127, 127]) and per-row
  /// scales, e.g. read from a file.
  /// \throws std::invalid_argument on an empty shape, a size mismatch, a code of -128,
  /// or a scale that is not finite and >= 0.
  int8_matrix(std::size_t rows, std::size_t cols, std::span<const std::int8_t> codes, std::vector<float> scales)
      : int8_matrix(std::vector<float>(rows * cols, 0.0f), rows, cols) {
    if (codes.size() != rows * cols || scales.size() != rows)
      throw std::invalid_argument("pot: int8_matrix of " + std::to_string(rows) + " x " + std::to_string(cols) +
                                  " given " + std::to_string(codes.size()) + " codes and " +
                                  std::to_string(scales.size()) + " scales");
    for (std::size_t r = 0; r < rows; ++r) {
      if (!(scales[r] >= 0.0f && scales[r] <= std::numeric_limits<float>::max()))
        throw std::invalid_argument("pot: int8_matrix scale " + std::to_string(r) + " is not finite and >= 0");
      for (std::size_t c = 0; c < cols; ++c) {
        if (codes[r * cols + c] == -128)
          throw std::invalid_argument("pot: int8_matrix code (" + std::to_string(r) + ", " + std::to_string(c) +
                                      ") is -128; symmetric codes lie in [-127, 127]");
        row_data(r)[c] = codes[r * cols + c];
      }
    }
    scales_ = std::move(scales);
  }

  /// \brief Number of rows.
  std::size_t rows() const noexcept { return rows_; }
  /// \brief Number of columns.
  std::size_t cols() const noexcept { return cols_; }
  /// \brief Bytes from one row to the next (a multiple of 64).
  std::size_t row_stride_bytes() const noexcept { return row_stride_; }
  /// \brief The codes of row `r` (unchecked).
  const std::int8_t* row(std::size_t r) const noexcept {
    return reinterpret_cast<const std::int8_t*>(storage_.bytes().data() + r * row_stride_);
  }
  /// \brief The scale of row `r` (unchecked).
  float scale(std::size_t r) const noexcept { return scales_[r]; }
  /// \brief One scale per row.
  std::span<const float> scales() const noexcept { return scales_; }

  /// \brief `scale(r) * code(r, c)` for every c of row `r` into `out` (cols() of them),
  /// e.g. an embedding lookup that reads the head's codes.
  /// \throws std::out_of_range for a row outside the matrix; std::invalid_argument if
  /// `out` has another size.
  void dequantize_row(std::size_t r, std::span<float> out) const {
    if (r >= rows_)
      throw std::out_of_range("pot: row " + std::to_string(r) + " of a " + std::to_string(rows_) + "-row int8_matrix");
    if (out.size() != cols_)
      throw std::invalid_argument("pot: int8_matrix row of " + std::to_string(cols_) + " values into " +
                                  std::to_string(out.size()));
    const std::int8_t* codes = row(r);
    for (std::size_t c = 0; c < cols_; ++c) out[c] = scales_[r] * static_cast<float>(codes[c]);
  }

  /// \brief Bytes of the codes without row padding plus the scales: the matrix as a file.
  std::size_t packed_bytes_total() const noexcept { return rows_ * cols_ + scales_.size() * sizeof(float); }
  /// \brief Bytes of the codes with row padding plus the scales: the matrix in memory.
  std::size_t padded_bytes_total() const noexcept { return rows_ * row_stride_ + scales_.size() * sizeof(float); }

 private:
  std::int8_t* row_data(std::size_t r) noexcept {
    return reinterpret_cast<std::int8_t*>(storage_.bytes().data() + r * row_stride_);
  }

  std::size_t rows_;
  std::size_t cols_;
  std::size_t row_stride_ = 0;
  aligned_bytes storage_;
  std::vector<float> scales_;
};

}  // namespace pot
