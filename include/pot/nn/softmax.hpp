/// \file
/// \brief Row-wise softmax: forward and backward.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>

#include "pot/nn/vectorize.hpp"
#include "pot/simd/xsimd_compat.hpp"

namespace pot::nn {

/// \brief Softmax of one row of `n` values: `probs[i] = exp(inp[i] - max) / sum`.
///
/// Subtracting the row maximum keeps every exponent <= 0, so no term overflows and the
/// largest term is exactly 1 (the sum is at least 1, never 0). `probs` may equal `inp`.
/// \returns log(sum_i exp(inp[i])), computed as max + log(sum), for a loss that must not
///          take the log of an underflowed probability; 0 for an empty row.
template <class Scalar>
Scalar softmax_row_forward(Scalar* probs, const Scalar* inp, std::size_t n) {
  using std::exp;
  using std::log;
  using std::max;
  if (n == 0) return Scalar(0);
  if constexpr (has_simd_path<Scalar>) {
    // xsimd's exp instead of libm's scalar expf: attention calls this on every row of
    // every head. The row's sum is accumulated per lane, then across lanes.
    using batch = detail::float_batch;
    constexpr float ignored = -std::numeric_limits<float>::infinity();  // exp gives 0
    batch lane_max(ignored);
    for (std::size_t i = 0; i < n; i += batch::size)
      lane_max = xsimd::max(lane_max, detail::load_batch(inp + i, std::min(batch::size, n - i), ignored));
    alignas(batch::arch_type::alignment()) float lanes[batch::size];
    lane_max.store_aligned(lanes);
    const batch row_max(*std::max_element(lanes, lanes + batch::size));
    batch lane_sum(0.0f);
    for (std::size_t i = 0; i < n; i += batch::size) {
      const std::size_t count = std::min(batch::size, n - i);
      const batch term = xsimd::exp(detail::load_batch(inp + i, count, ignored) - row_max);
      detail::store_batch(probs + i, term, count);
      lane_sum += term;
    }
    const float sum = xsimd_compat::reduce_add(lane_sum);
    const batch inverse_sum(1.0f / sum);
    for (std::size_t i = 0; i < n; i += batch::size) {
      const std::size_t count = std::min(batch::size, n - i);
      detail::store_batch(probs + i, detail::load_batch(probs + i, count) * inverse_sum, count);
    }
    return row_max.get(0) + std::log(sum);
  } else {
    Scalar row_max = inp[0];
    for (std::size_t i = 1; i < n; ++i) row_max = max(row_max, inp[i]);
    Scalar sum = Scalar(0);
    for (std::size_t i = 0; i < n; ++i) {
      probs[i] = exp(inp[i] - row_max);
      sum += probs[i];
    }
    const Scalar inverse_sum = Scalar(1) / sum;
    for (std::size_t i = 0; i < n; ++i) probs[i] *= inverse_sum;
    return row_max + log(sum);
  }
}

/// \brief Backward of softmax_row_forward: `dinp[i] += p[i] * (dprobs[i] - sum_j p[j] dprobs[j])`.
template <class Scalar>
void softmax_row_backward(Scalar* dinp, const Scalar* probs, const Scalar* dprobs,
                          std::size_t n) {
  if constexpr (has_simd_path<Scalar>) {
    using batch = detail::float_batch;
    batch lane_sum(0.0f);
    for (std::size_t i = 0; i < n; i += batch::size) {
      const std::size_t count = std::min(batch::size, n - i);
      lane_sum = xsimd::fma(detail::load_batch(probs + i, count), detail::load_batch(dprobs + i, count), lane_sum);
    }
    const batch weighted(xsimd_compat::reduce_add(lane_sum));
    for (std::size_t i = 0; i < n; i += batch::size) {
      const std::size_t count = std::min(batch::size, n - i);
      const batch p = detail::load_batch(probs + i, count);
      const batch d = detail::load_batch(dprobs + i, count);
      detail::store_batch(dinp + i, xsimd::fma(p, d - weighted, detail::load_batch(dinp + i, count)), count);
    }
  } else {
    Scalar weighted = Scalar(0);
    for (std::size_t i = 0; i < n; ++i) weighted += probs[i] * dprobs[i];
    for (std::size_t i = 0; i < n; ++i) dinp[i] += probs[i] * (dprobs[i] - weighted);
  }
}

/// \brief Softmax over the last axis of a (rows, cols) row-major matrix.
/// \param probs (rows, cols) output; the cache softmax_backward needs.
/// \param inp   (rows, cols)
/// \param rows number of rows
/// \param cols values per row
template <class Scalar>
void softmax_forward(Scalar* probs, const Scalar* inp, std::size_t rows, std::size_t cols) {
  for (std::size_t r = 0; r < rows; ++r) softmax_row_forward(probs + r * cols, inp + r * cols, cols);
}

/// \brief Backward of softmax_forward; accumulates into `dinp`.
/// \param dinp   (rows, cols) accumulated with +=
/// \param probs  (rows, cols) as written by softmax_forward
/// \param dprobs (rows, cols)
/// \param rows number of rows
/// \param cols values per row
template <class Scalar>
void softmax_backward(Scalar* dinp, const Scalar* probs, const Scalar* dprobs,
                      std::size_t rows, std::size_t cols) {
  for (std::size_t r = 0; r < rows; ++r)
    softmax_row_backward(dinp + r * cols, probs + r * cols, dprobs + r * cols, cols);
}

}  // namespace pot::nn
