#pragma once
/// \file
/// \brief The per-row constants of a packed matrix that the integer kernels need besides
/// its codes, found in one pass when the matrix is packed so that no product pays for it.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "pot/core/decode_tables.hpp"
#include "pot/core/packing.hpp"
#include "pot/core/traits.hpp"

namespace pot {

/// \brief What the integer kernels need to know of one packed row beyond its codes.
struct packed_row_statistics {
  /// \brief `sum_c ±2^(e_c - MinExp)` over the row, wrapping in int32 (the integer
  /// kernels bound K so that the exact value fits): the row's weights in the kernels'
  /// units. With it one multiply per row applies the activations' zero point,
  /// `sum_k (u_k - z) w_k = sum_k u_k w_k - z sum_k w_k`, instead of a second dot product.
  std::int32_t integer_sum = 0;
  /// \brief How many weights of the row are `+2^MaxExp`. With an exponent range of 7
  /// that is +128, which the uint8 x int8 kernels store as -128 (its int8 bit pattern)
  /// and correct, in the rows that hold one only.
  std::uint32_t top_positive_count = 0;
  // Both stay 0 for formats whose exponent range exceeds 30, which no integer kernel takes.

  /// \brief Member-wise equality.
  friend bool operator==(const packed_row_statistics&, const packed_row_statistics&) = default;
};

/// \brief The statistics of one row of `cols` codes of `P` packed as in core/packing.hpp.
///
/// Codes that no value of P has count as zero weights, as every fast kernel counts them.
template <pot_type P>
packed_row_statistics compute_row_statistics(const std::byte* row, std::size_t cols) {
  constexpr int range = P::max_exponent - P::min_exponent;
  constexpr std::size_t block = 256;  // codes unpacked at a time, a multiple of 8
  packed_row_statistics statistics;
  std::array<std::uint8_t, block> codes{};
  std::uint32_t sum = 0;
  for (std::size_t first = 0; first < cols; first += block) {
    const std::size_t n = cols - first < block ? cols - first : block;
    unpack_codes(std::span<const std::byte>(row + first / 8 * static_cast<std::size_t>(P::bits), packed_bytes(n, P::bits)),
                 P::bits, std::span<std::uint8_t>(codes.data(), n));
    if constexpr (range <= 30) {
      constexpr auto table = integer_decode_table<P, std::int32_t>();
      for (std::size_t i = 0; i < n; ++i) {
        const std::int32_t weight = table[codes[i]];
        sum += static_cast<std::uint32_t>(weight);
        statistics.top_positive_count += weight == (std::int32_t{1} << range) ? 1U : 0U;
      }
    }
  }
  statistics.integer_sum = static_cast<std::int32_t>(sum);
  return statistics;
}

}  // namespace pot
