/// \file
/// \brief Layer normalisation over the channel axis: forward and backward.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <stdexcept>

#include "pot/linalg/parallel_for.hpp"
#include "pot/nn/accumulator.hpp"
#include "pot/nn/layer_execution.hpp"
#include "pot/nn/vectorize.hpp"

namespace pot::nn {

/// \brief The epsilon added to the variance, as GPT-2 and PyTorch's default.
inline constexpr double layernorm_epsilon = 1e-5;

/// \brief `out = (inp - mean) * rstd * weight + bias` per position, with the biased variance.
///
/// The variance is computed in two passes (sum of squared deviations from the mean), which
/// avoids the cancellation of `E[x^2] - E[x]^2` when the mean is large against the spread.
/// \tparam Accumulator type of the row sums; accumulator_t<Scalar> unless measuring.
/// \param out    (B, T, C)
/// \param mean   (B, T) cached for layernorm_backward
/// \param rstd   (B, T) cached: 1 / sqrt(variance + 1e-5)
/// \param inp    (B, T, C)
/// \param weight (C)
/// \param bias   (C)
/// \param B batch size
/// \param T sequence length
/// \param C channels
/// \throws std::invalid_argument if C == 0.
template <class Scalar, class Accumulator = accumulator_t<Scalar>>
void layernorm_forward(Scalar* out, Scalar* mean, Scalar* rstd, const Scalar* inp,
                       const Scalar* weight, const Scalar* bias, std::size_t B, std::size_t T,
                       std::size_t C) {
  using std::sqrt;
  if (C == 0) throw std::invalid_argument("pot: layernorm_forward needs C > 0 channels");
  const Accumulator inverse_C = Accumulator(1) / Accumulator(static_cast<double>(C));
  for (std::size_t row = 0; row < B * T; ++row) {
    const Scalar* x = inp + row * C;
    Accumulator row_mean;
    Accumulator squares;
    if constexpr (has_simd_path<Scalar>) {
      row_mean = sum_in_lanes<Accumulator>(C, [x](std::size_t i) { return Accumulator(x[i]); }) *
                 inverse_C;
      squares = sum_in_lanes<Accumulator>(C, [x, row_mean](std::size_t i) {
        const Accumulator deviation = Accumulator(x[i]) - row_mean;
        return deviation * deviation;
      });
    } else {
      Accumulator sum = Accumulator(0);
      for (std::size_t i = 0; i < C; ++i) sum += Accumulator(x[i]);
      row_mean = sum * inverse_C;
      squares = Accumulator(0);
      for (std::size_t i = 0; i < C; ++i) {
        const Accumulator deviation = Accumulator(x[i]) - row_mean;
        squares += deviation * deviation;
      }
    }
    const Accumulator variance = squares * inverse_C;
    const Scalar row_rstd =
        static_cast<Scalar>(Accumulator(1) / sqrt(variance + Accumulator(layernorm_epsilon)));
    const Scalar row_mean_scalar = static_cast<Scalar>(row_mean);
    Scalar* y = out + row * C;
    if constexpr (has_simd_path<Scalar>) {
      using batch = detail::float_batch;
      for (std::size_t i = 0; i < C; i += batch::size) {
        const std::size_t count = std::min(batch::size, C - i);
        const batch normalised = (detail::load_batch(x + i, count) - row_mean_scalar) * row_rstd;
        detail::store_batch(y + i, normalised * detail::load_batch(weight + i, count) + detail::load_batch(bias + i, count),
                            count);
      }
    } else {
      for (std::size_t i = 0; i < C; ++i) y[i] = (x[i] - row_mean_scalar) * row_rstd * weight[i] + bias[i];
    }
    mean[row] = row_mean_scalar;
    rstd[row] = row_rstd;
  }
}

/// \brief Backward of layernorm_forward; accumulates into dinp, dweight and dbias.
/// \param dinp    (B, T, C) accumulated with +=
/// \param dweight (C) accumulated with +=
/// \param dbias   (C) accumulated with +=
/// \param dout    (B, T, C)
/// \param inp     (B, T, C) the forward input
/// \param weight  (C)
/// \param mean    (B, T) as cached by layernorm_forward
/// \param rstd    (B, T) as cached by layernorm_forward
/// \param B batch size
/// \param T sequence length
/// \param C channels
/// \param exec threads (see layer_execution)
///
/// Two passes: dinp row by row, split over threads by rows; then dweight and dbias,
/// sums over the rows, split over threads by channels with each channel summing its
/// rows in order. So every result is bitwise the same for every thread count.
/// \throws std::invalid_argument if C == 0.
template <class Scalar, class Accumulator = accumulator_t<Scalar>>
void layernorm_backward(Scalar* dinp, Scalar* dweight, Scalar* dbias, const Scalar* dout,
                        const Scalar* inp, const Scalar* weight, const Scalar* mean,
                        const Scalar* rstd, std::size_t B, std::size_t T, std::size_t C,
                        linalg::execution exec = {}) {
  if (C == 0) throw std::invalid_argument("pot: layernorm_backward needs C > 0 channels");
  const std::size_t rows = B * T;
  const linalg::execution threads = layer_execution<Scalar>(exec, rows * C);
  const Accumulator inverse_C = Accumulator(1) / Accumulator(static_cast<double>(C));
  linalg::parallel_for(0, rows, [&](std::size_t first_row, std::size_t last_row) {
    for (std::size_t row = first_row; row < last_row; ++row) {
      const Scalar* x = inp + row * C;
      const Scalar* dy = dout + row * C;
      const Scalar row_mean = mean[row];
      const Scalar row_rstd = rstd[row];
      // dinp needs the row means of dnorm and of dnorm * norm before any element is written.
      Accumulator dnorm_sum = Accumulator(0);
      Accumulator dnorm_norm_sum = Accumulator(0);
      if constexpr (has_simd_path<Scalar>) {
        dnorm_sum = sum_in_lanes<Accumulator>(C, [weight, dy](std::size_t i) {
          return Accumulator(weight[i] * dy[i]);
        });
        dnorm_norm_sum = sum_in_lanes<Accumulator>(C, [=](std::size_t i) {
          const Scalar norm = (x[i] - row_mean) * row_rstd;
          return Accumulator(weight[i] * dy[i] * norm);
        });
      } else {
        for (std::size_t i = 0; i < C; ++i) {
          const Scalar norm = (x[i] - row_mean) * row_rstd;
          const Scalar dnorm = weight[i] * dy[i];
          dnorm_sum += Accumulator(dnorm);
          dnorm_norm_sum += Accumulator(dnorm * norm);
        }
      }
      const Scalar dnorm_mean = static_cast<Scalar>(dnorm_sum * inverse_C);
      const Scalar dnorm_norm_mean = static_cast<Scalar>(dnorm_norm_sum * inverse_C);
      Scalar* dx = dinp + row * C;
      if constexpr (has_simd_path<Scalar>) {
        using batch = detail::float_batch;
        for (std::size_t i = 0; i < C; i += batch::size) {
          const std::size_t count = std::min(batch::size, C - i);
          const batch norm = (detail::load_batch(x + i, count) - row_mean) * row_rstd;
          const batch dnorm = detail::load_batch(weight + i, count) * detail::load_batch(dy + i, count);
          detail::store_batch(dx + i,
                              detail::load_batch(dx + i, count) + (dnorm - dnorm_mean - norm * dnorm_norm_mean) * row_rstd,
                              count);
        }
      } else {
        for (std::size_t i = 0; i < C; ++i) {
          const Scalar norm = (x[i] - row_mean) * row_rstd;
          const Scalar dnorm = weight[i] * dy[i];
          dx[i] += (dnorm - dnorm_mean - norm * dnorm_norm_mean) * row_rstd;
        }
      }
    }
  }, threads);
  linalg::parallel_for(0, C, [&](std::size_t first, std::size_t last) {
    const std::size_t width = last - first;
    if constexpr (has_simd_path<Scalar>) {
      // Column sums stay in registers across the rows (the same additions in the same
      // order as storing them after each row).
      detail::add_rows(dbias + first, dout + first, rows, C, width);
      using batch = detail::float_batch;
      for (std::size_t i = first; i < last; i += batch::size) {
        const std::size_t count = std::min(batch::size, last - i);
        batch sum = detail::load_batch(dweight + i, count);
        for (std::size_t row = 0; row < rows; ++row) {
          const batch norm = (detail::load_batch(inp + row * C + i, count) - mean[row]) * rstd[row];
          sum += norm * detail::load_batch(dout + row * C + i, count);
        }
        detail::store_batch(dweight + i, sum, count);
      }
      return;
    }
    for (std::size_t row = 0; row < rows; ++row) {
      const Scalar* x = inp + row * C + first;
      const Scalar* dy = dout + row * C + first;
      const Scalar row_mean = mean[row];
      const Scalar row_rstd = rstd[row];
      for (std::size_t i = 0; i < width; ++i) {
        const Scalar norm = (x[i] - row_mean) * row_rstd;
        dbias[first + i] += dy[i];
        dweight[first + i] += norm * dy[i];
      }
    }
  }, threads);
}

}  // namespace pot::nn
