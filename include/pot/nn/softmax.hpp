/// \file
/// \brief Row-wise softmax: forward and backward.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>

#include "pot/linalg/execution.hpp"
#include "pot/linalg/parallel_for.hpp"
#include "pot/nn/layer_execution.hpp"
#include "pot/nn/vectorize.hpp"

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
    // A vector exp instead of libm's scalar expf: attention calls this on every row of
    // every head. The row's sum is accumulated per lane, then across lanes.
    return simd::dispatch(detail::layer_isa<Scalar>(), [&](auto tag) {
      using loops = simd::layer_loops_t<decltype(tag)>;
      const float row_max = loops::row_max(inp, n);
      const float sum = loops::shifted_exponentials(probs, inp, n, row_max);
      loops::scale(probs, n, 1.0f / sum);
      return row_max + std::log(sum);
    });
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
    simd::dispatch(detail::layer_isa<Scalar>(), [&](auto tag) {
      using loops = simd::layer_loops_t<decltype(tag)>;
      loops::softmax_input_gradient(dinp, probs, dprobs, n, loops::dot(probs, dprobs, n));
    });
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
/// \param exec threads, over the rows (see layer_execution)
template <class Scalar>
void softmax_forward(Scalar* probs, const Scalar* inp, std::size_t rows, std::size_t cols,
                     linalg::execution exec = {}) {
  linalg::parallel_for(0, rows, [&](std::size_t first, std::size_t last) {
    for (std::size_t r = first; r < last; ++r) softmax_row_forward(probs + r * cols, inp + r * cols, cols);
  }, layer_execution<Scalar>(exec, rows * cols));
}

/// \brief Backward of softmax_forward; accumulates into `dinp`.
/// \param dinp   (rows, cols) accumulated with +=
/// \param probs  (rows, cols) as written by softmax_forward
/// \param dprobs (rows, cols)
/// \param rows number of rows
/// \param cols values per row
/// \param exec threads, over the rows (see layer_execution)
template <class Scalar>
void softmax_backward(Scalar* dinp, const Scalar* probs, const Scalar* dprobs,
                      std::size_t rows, std::size_t cols, linalg::execution exec = {}) {
  linalg::parallel_for(0, rows, [&](std::size_t first, std::size_t last) {
    for (std::size_t r = first; r < last; ++r)
      softmax_row_backward(dinp + r * cols, probs + r * cols, dprobs + r * cols, cols);
  }, layer_execution<Scalar>(exec, rows * cols));
}

}  // namespace pot::nn
