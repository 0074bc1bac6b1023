/// \file
/// \brief Linear layer (`out = inp @ W^T + bias`) through the library's GEMM: forward and backward.
#pragma once

#include <cstddef>

#include "pot/linalg/gemm.hpp"
#include "pot/nn/vectorize.hpp"

namespace pot::nn {

/// \brief `out = inp @ weight^T + bias`, weight in PyTorch's Linear layout (OC, C).
/// \param out    (B, T, OC)
/// \param inp    (B, T, C)
/// \param weight (OC, C)
/// \param bias   (OC), or nullptr for a Linear without bias
/// \param exec   threads for the GEMM
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
  for (std::size_t row = 0; row < rows; ++row) detail::add(out + row * OC, out + row * OC, bias, OC);
}

/// \brief Backward of matmul_forward: `dinp += dout @ W`, `dweight += dout^T @ inp`,
/// `dbias += sum over rows of dout`.
/// \param dinp    (B, T, C) accumulated with +=
/// \param dweight (OC, C) accumulated with +=
/// \param dbias   (OC) accumulated with +=, or nullptr for a Linear without bias
/// \param dout    (B, T, OC)
/// \param inp     (B, T, C) the forward input
/// \param weight  (OC, C)
/// \param exec    threads for the GEMMs
/// \param B batch size
/// \param T sequence length
/// \param C channels
/// \param OC output channels
template <class Scalar>
void matmul_backward(Scalar* dinp, Scalar* dweight, Scalar* dbias, const Scalar* dout,
                     const Scalar* inp, const Scalar* weight, std::size_t B, std::size_t T,
                     std::size_t C, std::size_t OC, linalg::execution exec = {}) {
  using linalg::transpose;
  const std::size_t rows = B * T;
  linalg::gemm<Scalar>(transpose::no, transpose::no, rows, C, OC, Scalar(1), dout, OC, weight, C,
                       Scalar(1), dinp, C, exec);
  linalg::gemm<Scalar>(transpose::yes, transpose::no, OC, C, rows, Scalar(1), dout, OC, inp, C,
                       Scalar(1), dweight, C, exec);
  if (dbias == nullptr) return;
  for (std::size_t row = 0; row < rows; ++row) detail::add(dbias, dbias, dout + row * OC, OC);
}

}  // namespace pot::nn
