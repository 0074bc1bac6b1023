/// \file
/// \brief Linear layer (`out = inp @ W^T + bias`) through the library's GEMM: forward and backward.
#pragma once

#include <cstddef>

#include "pot/linalg/gemm.hpp"
#include "pot/linalg/parallel_for.hpp"
#include "pot/nn/layer_execution.hpp"
#include "pot/nn/vectorize.hpp"

namespace pot::nn {

/// \brief How a backward pass writes the gradient of its input.
enum class input_gradient {
  accumulate,  ///< `dinp += ...`: for an input that several layers read.
  overwrite    ///< `dinp = ...`: saves zeroing a buffer that only this layer writes.
};

/// \brief `out = inp @ weight^T + bias`, weight in PyTorch's Linear layout (OC, C).
/// \param out    (B, T, OC)
/// \param inp    (B, T, C)
/// \param weight (OC, C)
/// \param bias   (OC), or nullptr for a Linear without bias
/// \param exec   threads for the GEMM and the bias rows
/// \param B batch size
/// \param T sequence length
/// \param C channels
/// \param OC output channels
template <class Scalar>
void matmul_forward(Scalar* out, const Scalar* inp, const Scalar* weight, const Scalar* bias,
                    std::size_t B, std::size_t T, std::size_t C, std::size_t OC,
                    linalg::execution exec = {}) {
  using linalg::transpose;
  const std::size_t rows = B * T;
  linalg::gemm<Scalar>(transpose::no, transpose::yes, rows, OC, C, Scalar(1), inp, C, weight, C,
                       Scalar(0), out, OC, exec);
  if (bias == nullptr) return;
  const simd::isa isa = detail::layer_isa<Scalar>();
  linalg::parallel_for(0, rows, [&](std::size_t first, std::size_t last) {
    for (std::size_t row = first; row < last; ++row)
      detail::add(out + row * OC, out + row * OC, bias, OC, isa);
  }, layer_execution<Scalar>(exec, rows * OC));
}

/// \brief Backward of matmul_forward: `dinp += dout @ W` (or `=`, see \p dinp_write),
/// `dweight += dout^T @ inp`, `dbias += sum over rows of dout`.
/// \param dinp    (B, T, C) accumulated with += unless \p dinp_write says overwrite
/// \param dweight (OC, C) accumulated with +=
/// \param dbias   (OC) accumulated with +=, or nullptr for a Linear without bias
/// \param dout    (B, T, OC)
/// \param inp     (B, T, C) the forward input
/// \param weight  (OC, C)
/// \param exec    threads for the GEMMs and the bias gradient
/// \param B batch size
/// \param T sequence length
/// \param C channels
/// \param OC output channels
/// \param dinp_write whether dinp is accumulated into or overwritten
///
/// The bias gradient is split over threads by columns, each summing its rows in order,
/// so it is bitwise the same for every thread count.
template <class Scalar>
void matmul_backward(Scalar* dinp, Scalar* dweight, Scalar* dbias, const Scalar* dout,
                     const Scalar* inp, const Scalar* weight, std::size_t B, std::size_t T,
                     std::size_t C, std::size_t OC, linalg::execution exec = {},
                     input_gradient dinp_write = input_gradient::accumulate) {
  using linalg::transpose;
  const std::size_t rows = B * T;
  const Scalar dinp_beta = dinp_write == input_gradient::accumulate ? Scalar(1) : Scalar(0);
  linalg::gemm<Scalar>(transpose::no, transpose::no, rows, C, OC, Scalar(1), dout, OC, weight, C,
                       dinp_beta, dinp, C, exec);
  linalg::gemm<Scalar>(transpose::yes, transpose::no, OC, C, rows, Scalar(1), dout, OC, inp, C,
                       Scalar(1), dweight, C, exec);
  if (dbias == nullptr) return;
  const simd::isa isa = detail::layer_isa<Scalar>();
  linalg::parallel_for(0, OC, [&](std::size_t first, std::size_t last) {
    detail::add_rows(dbias + first, dout + first, rows, OC, last - first, isa);
  }, layer_execution<Scalar>(exec, rows * OC));
}

}  // namespace pot::nn
