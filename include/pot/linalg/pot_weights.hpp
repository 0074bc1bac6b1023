#pragma once
/// \file
/// \brief What the PoT-weight kernels read: a view of packed rows of codes with their
/// scales, the int32 overflow bound of an exact integer dot product, and centered affine
/// activations.

#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "pot/core/packing.hpp"
#include "pot/core/traits.hpp"
#include "pot/quant/packed_matrix.hpp"
#include "pot/quant/row_statistics.hpp"

namespace pot::linalg {

/// \brief A read-only view of a rows x cols matrix of packed codes of the pot type `P`
/// (the layout of quant::packed_matrix): row r starts at `data + r * row_stride_bytes`,
/// codes packed as in core/packing.hpp, one float scale per row or one per tensor, and
/// optionally each row's statistics (quant/row_statistics.hpp).
///
/// The weight at (r, c) is `scale(r) * double(P::from_code(code(r, c)))`. Build one over
/// a packed_matrix (the usual owner of such rows, which checks its codes and finds their
/// statistics), or over rows laid out elsewhere, such as a memory-mapped checkpoint; the
/// viewed bytes, scales and statistics must outlive the view. Rows from elsewhere may
/// hold codes that no value of P has: check them once with validate_codes() before use.
/// The kernels do not check (a pass over the weights would double what a GEMV reads);
/// the reference kernel throws on such a code and every fast kernel counts it as a zero
/// weight, never undefined behaviour. Without statistics, the integer GEMV finds them
/// itself on every call, a second pass over the weights: for rows from elsewhere that
/// are multiplied more than once, compute them once with row_statistics() and attach them.
template <pot_type P>
struct packed_weights_view {
  /// \brief The pot type of the codes.
  using value_type = P;

  const std::byte* data = nullptr;     ///< First byte of row 0.
  std::size_t rows = 0;                ///< Output channels (N).
  std::size_t cols = 0;                ///< Codes per row (K).
  std::size_t row_stride_bytes = 0;    ///< Bytes from one row to the next.
  std::span<const float> scales;       ///< One scale per row, or one for the tensor.
  /// \brief One entry per row, or none (then the integer kernels find them per call).
  std::span<const packed_row_statistics> statistics;

  /// \brief An empty view (no rows).
  constexpr packed_weights_view() noexcept = default;
  /// \brief Views `rows` rows of `cols` codes, `row_stride_bytes` apart, with 1 or `rows`
  /// scales and, optionally, `rows` row statistics.
  constexpr packed_weights_view(const std::byte* data, std::size_t rows, std::size_t cols,
                                std::size_t row_stride_bytes, std::span<const float> scales,
                                std::span<const packed_row_statistics> statistics = {}) noexcept
      : data(data), rows(rows), cols(cols), row_stride_bytes(row_stride_bytes), scales(scales),
        statistics(statistics) {}
  /// \brief Views all of `matrix` (its layout is the one this view describes), with its
  /// row statistics.
  explicit packed_weights_view(const packed_matrix<P>& matrix) noexcept
      : packed_weights_view(matrix.data(), matrix.rows(), matrix.cols(), matrix.row_stride_bytes(),
                            matrix.scales(), matrix.row_statistics()) {}

  /// \brief The packed codes of row `r`.
  const std::byte* row(std::size_t r) const noexcept { return data + r * row_stride_bytes; }
  /// \brief The scale of row `r` (the tensor's scale when there is only one).
  float scale(std::size_t r) const noexcept { return scales.size() == 1 ? scales[0] : scales[r]; }
};

/// \brief The statistics of every row of `w` (compute_row_statistics()), to attach to
/// views of rows from elsewhere that are multiplied more than once.
template <pot_type P>
std::vector<packed_row_statistics> row_statistics(const packed_weights_view<P>& w) {
  std::vector<packed_row_statistics> statistics(w.rows);
  for (std::size_t r = 0; r < w.rows; ++r) statistics[r] = compute_row_statistics<P>(w.row(r), w.cols);
  return statistics;
}

/// \brief Throws std::invalid_argument naming the first row and column whose code no
/// value of P has (an unused exponent index, a negative zero, or a code of a wider
/// format), or a view whose rows overlap, whose scales are neither 1 nor one per row, or
/// are not finite and >= 0, or whose row statistics are neither none nor one per row, or
/// do not match the codes.
///
/// One pass over the codes: for views of bytes that no packed_matrix produced (a file,
/// a memory map), once after loading and before the first product.
template <pot_type P>
void validate_codes(const packed_weights_view<P>& w) {
  const std::size_t row_bytes = packed_bytes(w.cols, P::bits);
  if (w.rows > 1 && w.row_stride_bytes < row_bytes)
    throw std::invalid_argument("pot: packed rows of " + std::to_string(w.cols) + " codes need " +
                                std::to_string(row_bytes) + " bytes each, but start " +
                                std::to_string(w.row_stride_bytes) + " bytes apart");
  if (w.scales.size() != 1 && w.scales.size() != w.rows)
    throw std::invalid_argument("pot: packed weights need 1 or " + std::to_string(w.rows) +
                                " scales, not " + std::to_string(w.scales.size()));
  for (std::size_t i = 0; i < w.scales.size(); ++i)
    if (!(w.scales[i] >= 0.0f && w.scales[i] <= std::numeric_limits<float>::max()))
      throw std::invalid_argument("pot: weight scale " + std::to_string(i) + " is " +
                                  std::to_string(w.scales[i]) + ", not finite and >= 0");
  if (!w.statistics.empty() && w.statistics.size() != w.rows)
    throw std::invalid_argument("pot: packed weights need 0 or " + std::to_string(w.rows) +
                                " row statistics, not " + std::to_string(w.statistics.size()));
  std::vector<std::uint8_t> codes(w.cols);
  for (std::size_t r = 0; r < w.rows; ++r) {
    if (!w.statistics.empty() && w.statistics[r] != compute_row_statistics<P>(w.row(r), w.cols))
      throw std::invalid_argument("pot: the statistics of packed row " + std::to_string(r) +
                                  " do not match its codes");
    unpack_codes(std::span<const std::byte>(w.row(r), row_bytes), P::bits, std::span<std::uint8_t>(codes));
    for (std::size_t c = 0; c < w.cols; ++c) {
      try {
        (void)P::from_code(static_cast<typename P::code_type>(codes[c]));
      } catch (const std::invalid_argument& error) {
        throw std::invalid_argument("pot: packed weights at row " + std::to_string(r) + ", column " +
                                    std::to_string(c) + ": " + error.what());
      }
    }
  }
}

/// \brief The largest |q - zero_point| of 8-bit affine activations: 255 (uint8 with zero
/// point 0 or 255, int8 with zero point -128 or 127).
inline constexpr std::int64_t max_centered_activation = 255;

/// \brief Largest K for which every exact integer dot product
/// `sum_k (q_k - zp) * sign_k * 2^(e_k - MinExp)` of 8-bit activations with weights of `P`
/// fits in int32: `floor((2^31 - 1) / (255 * 2^(MaxExp - MinExp)))`.
///
/// For pot<4, 0, 7> that is 65793. A range MaxExp - MinExp above 23 leaves no room even
/// for K = 1; such formats are rejected at compile time by the integer kernels (use the
/// float path).
template <pot_type P>
inline constexpr std::size_t max_exact_int32_depth = static_cast<std::size_t>(
    std::numeric_limits<std::int32_t>::max() /
    (max_centered_activation << (P::max_exponent - P::min_exponent)));

/// \brief Throws std::invalid_argument naming K and the bound unless an int32 dot product
/// of depth `depth` with weights of `P` is exact.
template <pot_type P>
inline void require_exact_int32_depth(std::size_t depth) {
  if (depth > max_exact_int32_depth<P>)
    throw std::invalid_argument(
        "pot: K = " + std::to_string(depth) + " exceeds the int32 bound K <= " +
        std::to_string(max_exact_int32_depth<P>) + " for exponent range " +
        std::to_string(P::max_exponent - P::min_exponent) +
        " (|q - zp| <= 255 times 2^(MaxExp - MinExp) times K must fit in int32)");
}

/// \brief 8-bit affine activations as the kernels use them: uint8 codes `u` and a zero
/// point `z` in [0, 255] with `u - z == q - zero_point`.
///
/// int8 codes move to uint8 by adding 128 to both the codes and the zero point (which
/// leaves their difference unchanged), so one unsigned kernel serves both.
struct centered_activations {
  std::span<const std::uint8_t> codes;  ///< The (shifted) codes u.
  std::int32_t zero_point = 0;          ///< z, in [0, 255].
};

/// \brief Throws std::invalid_argument unless `zero_point` is a code of `Q` (uint8_t or int8_t).
template <class Q>
inline void require_activation_zero_point(std::int32_t zero_point) {
  static_assert(std::is_same_v<Q, std::uint8_t> || std::is_same_v<Q, std::int8_t>,
                "pot: PoT-weight integer kernels take uint8_t or int8_t activations");
  if (zero_point < std::numeric_limits<Q>::min() || zero_point > std::numeric_limits<Q>::max())
    throw std::invalid_argument("pot: activation zero point " + std::to_string(zero_point) +
                                " is not a code of the activation type");
}

/// \brief Writes `q + 128` (int8) or `q` (uint8) into `out` and returns the matching zero
/// point; `out` must hold `q.size()` elements.
template <class Q>
inline centered_activations center_activations(std::span<const Q> q, std::int32_t zero_point,
                                               std::span<std::uint8_t> out) {
  require_activation_zero_point<Q>(zero_point);
  const std::int32_t offset = std::is_signed_v<Q> ? 128 : 0;
  for (std::size_t k = 0; k < q.size(); ++k) out[k] = static_cast<std::uint8_t>(q[k] + offset);
  return {out.first(q.size()), zero_point + offset};
}

}  // namespace pot::linalg
