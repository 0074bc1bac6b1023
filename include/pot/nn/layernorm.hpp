/// \file
/// \brief Layer normalisation over the channel axis: forward and backward.
#pragma once

#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <type_traits>

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
/// \param exec threads, over the rows (see layer_execution); each row is normalized the
///   same way by whichever thread, so results do not depend on them
/// \throws std::invalid_argument if C == 0.
template <class Scalar, class Accumulator = accumulator_t<Scalar>>
void layernorm_forward(Scalar* out, Scalar* mean, Scalar* rstd, const Scalar* inp,
                       const Scalar* weight, const Scalar* bias, std::size_t B, std::size_t T,
                       std::size_t C, linalg::execution exec = {}) {
  using std::sqrt;
  if (C == 0) throw std::invalid_argument("pot: layernorm_forward needs C > 0 channels");
  const Accumulator inverse_C = Accumulator(1) / Accumulator(static_cast<double>(C));
  // The dispatched float loops sum in double (accumulator_t<float>); a float
  // Accumulator, kept for measuring that choice, takes the generic loops.
  constexpr bool dispatched = has_simd_path<Scalar> && std::is_same_v<Accumulator, double>;
  const simd::isa isa = detail::layer_isa<Scalar>();
  linalg::parallel_for(0, B * T, [&](std::size_t first_row, std::size_t last_row) {
    for (std::size_t row = first_row; row < last_row; ++row) {
      const Scalar* x = inp + row * C;
      Scalar* y = out + row * C;
      if constexpr (dispatched) {
        simd::dispatch(isa, [&](auto tag) {
          using loops = simd::layer_loops_t<decltype(tag)>;
          const double row_mean = loops::sum(x, C) * inverse_C;
          const double variance = loops::squared_deviation_sum(x, C, row_mean) * inverse_C;
          mean[row] = static_cast<float>(row_mean);
          rstd[row] = static_cast<float>(1.0 / std::sqrt(variance + layernorm_epsilon));
          loops::normalize(y, x, C, mean[row], rstd[row], weight, bias);
        });
      } else {
        Accumulator sum = Accumulator(0);
        for (std::size_t i = 0; i < C; ++i) sum += Accumulator(x[i]);
        const Accumulator row_mean = sum * inverse_C;
        Accumulator squares = Accumulator(0);
        for (std::size_t i = 0; i < C; ++i) {
          const Accumulator deviation = Accumulator(x[i]) - row_mean;
          squares += deviation * deviation;
        }
        const Accumulator variance = squares * inverse_C;
        const Scalar row_rstd =
            static_cast<Scalar>(Accumulator(1) / sqrt(variance + Accumulator(layernorm_epsilon)));
        const Scalar row_mean_scalar = static_cast<Scalar>(row_mean);
        for (std::size_t i = 0; i < C; ++i) y[i] = (x[i] - row_mean_scalar) * row_rstd * weight[i] + bias[i];
        mean[row] = row_mean_scalar;
        rstd[row] = row_rstd;
      }
    }
  }, layer_execution<Scalar>(exec, B * T * C));
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
  constexpr bool dispatched = has_simd_path<Scalar> && std::is_same_v<Accumulator, double>;
  const simd::isa isa = detail::layer_isa<Scalar>();
  linalg::parallel_for(0, rows, [&](std::size_t first_row, std::size_t last_row) {
    if constexpr (dispatched) {
      simd::dispatch(isa, [&](auto tag) {
        using loops = simd::layer_loops_t<decltype(tag)>;
        for (std::size_t row = first_row; row < last_row; ++row) {
          // dinp needs the row means of dnorm and of dnorm * norm before any element is written.
          double dnorm_sum = 0.0, dnorm_norm_sum = 0.0;
          loops::normalize_backward_sums(inp + row * C, dout + row * C, weight, C, mean[row], rstd[row], &dnorm_sum,
                                         &dnorm_norm_sum);
          loops::normalize_input_gradient(dinp + row * C, inp + row * C, dout + row * C, weight, C, mean[row],
                                          rstd[row], static_cast<float>(dnorm_sum * inverse_C),
                                          static_cast<float>(dnorm_norm_sum * inverse_C));
        }
      });
      return;
    }
    for (std::size_t row = first_row; row < last_row; ++row) {
      const Scalar* x = inp + row * C;
      const Scalar* dy = dout + row * C;
      const Scalar row_mean = mean[row];
      const Scalar row_rstd = rstd[row];
      Accumulator dnorm_sum = Accumulator(0);
      Accumulator dnorm_norm_sum = Accumulator(0);
      for (std::size_t i = 0; i < C; ++i) {
        const Scalar norm = (x[i] - row_mean) * row_rstd;
        const Scalar dnorm = weight[i] * dy[i];
        dnorm_sum += Accumulator(dnorm);
        dnorm_norm_sum += Accumulator(dnorm * norm);
      }
      const Scalar dnorm_mean = static_cast<Scalar>(dnorm_sum * inverse_C);
      const Scalar dnorm_norm_mean = static_cast<Scalar>(dnorm_norm_sum * inverse_C);
      Scalar* dx = dinp + row * C;
      for (std::size_t i = 0; i < C; ++i) {
        const Scalar norm = (x[i] - row_mean) * row_rstd;
        const Scalar dnorm = weight[i] * dy[i];
        dx[i] += (dnorm - dnorm_mean - norm * dnorm_norm_mean) * row_rstd;
      }
    }
  }, threads);
  linalg::parallel_for(0, C, [&](std::size_t first, std::size_t last) {
    const std::size_t width = last - first;
    if constexpr (has_simd_path<Scalar>) {
      // Column sums stay in registers across the rows (the same additions in the same
      // order as storing them after each row).
      detail::add_rows(dbias + first, dout + first, rows, C, width, isa);
      simd::dispatch(isa, [&](auto tag) {
        simd::layer_loops_t<decltype(tag)>::normalize_weight_gradient(dweight + first, inp + first, dout + first, mean,
                                                                      rstd, rows, C, width);
      });
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
