#pragma once
// Test helpers for the PoT-weight kernels: random valid codes packed into rows with a
// 64-byte stride (the packed_matrix layout), and expectations computed in exact
// arithmetic from the codes' double values, independently of the kernels.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <random>
#include <span>
#include <vector>

#include "pot/core/packing.hpp"
#include "pot/core/pot.hpp"
#include "pot/linalg/pot_weights.hpp"
#include "pot/quant/packed_matrix.hpp"

namespace pot::test {

template <class P>
struct packed_test_weights {
  std::size_t rows = 0, cols = 0, stride = 0;
  std::vector<std::uint8_t> codes;  // rows x cols, unpacked
  std::vector<std::byte> bytes;     // rows x stride, packed
  std::vector<float> scales;
  std::vector<packed_row_statistics> statistics;  // of each row, found by repack()

  /// The rows without their statistics (the kernels find them).
  linalg::packed_weights_view<P> view() const {
    return {bytes.data(), rows, cols, stride, scales};
  }
  /// The rows with their statistics, as a packed_matrix's view has them.
  linalg::packed_weights_view<P> view_with_statistics() const {
    return {bytes.data(), rows, cols, stride, scales, statistics};
  }
  double value(std::size_t r, std::size_t c) const {
    return static_cast<double>(P::from_code(codes[r * cols + c]));
  }
  /// Packs `codes` into `bytes` again (after a test edited them); padding holds garbage
  /// on purpose.
  void repack() {
    bytes.assign(rows * stride + 1, std::byte{0xA5});
    statistics.resize(rows);
    for (std::size_t r = 0; r < rows; ++r) {
      pack_codes(std::span<const std::uint8_t>(codes).subspan(r * cols, cols), P::bits,
                 std::span<std::byte>(bytes).subspan(r * stride, stride));
      statistics[r] = compute_row_statistics<P>(bytes.data() + r * stride, cols);
    }
  }
};

/// Every valid code of P, found by asking from_code (which throws on the others).
template <class P>
std::vector<std::uint8_t> valid_codes() {
  std::vector<std::uint8_t> result;
  for (unsigned code = 0; code < (1u << P::bits); ++code) {
    try {
      (void)P::from_code(static_cast<typename P::code_type>(code));
      result.push_back(static_cast<std::uint8_t>(code));
    } catch (const std::invalid_argument&) {
    }
  }
  return result;
}

template <class P>
packed_test_weights<P> random_weights(std::size_t rows, std::size_t cols, std::mt19937& rng) {
  packed_test_weights<P> w;
  w.rows = rows;
  w.cols = cols;
  w.stride = (packed_bytes(cols, P::bits) + 63) / 64 * 64;
  const auto codes = valid_codes<P>();
  std::uniform_int_distribution<std::size_t> pick(0, codes.size() - 1);
  std::uniform_real_distribution<float> scale(0.01f, 2.0f);
  w.codes.resize(rows * cols);
  for (auto& c : w.codes) c = codes[pick(rng)];
  w.repack();
  for (std::size_t r = 0; r < rows; ++r) w.scales.push_back(scale(rng));
  return w;
}

template <class Q>
std::vector<Q> random_activations(std::size_t count, std::mt19937& rng) {
  std::uniform_int_distribution<int> value(std::numeric_limits<Q>::min(), std::numeric_limits<Q>::max());
  std::vector<Q> x(count);
  for (auto& q : x) q = static_cast<Q>(value(rng));
  return x;
}

/// sum_k (x_k - zp) * w(r, k) / 2^MinExp, exact in long double for these sizes (every
/// term is an integer below 2^32 and the sums stay below 2^64).
template <class P, class Q>
std::int64_t exact_dot(const packed_test_weights<P>& w, std::size_t r, const Q* x, std::int32_t zp) {
  long double sum = 0;
  for (std::size_t k = 0; k < w.cols; ++k)
    sum += static_cast<long double>(std::int32_t{x[k]} - zp) * std::ldexp(w.value(r, k), -P::min_exponent);
  return static_cast<std::int64_t>(sum);
}

}  // namespace pot::test
