/// \file
/// \brief Residual connection (elementwise sum): forward and backward.
#pragma once

#include <cstddef>

#include "pot/linalg/execution.hpp"
#include "pot/linalg/parallel_for.hpp"
#include "pot/nn/layer_execution.hpp"
#include "pot/nn/vectorize.hpp"

namespace pot::nn {

/// \brief `out[i] = a[i] + b[i]`.
/// \param out (N)
/// \param a   (N)
/// \param b   (N)
/// \param N number of values
/// \param exec threads, over ranges of values (see layer_execution)
template <class Scalar>
void residual_forward(Scalar* out, const Scalar* a, const Scalar* b, std::size_t N, linalg::execution exec = {}) {
  const simd::isa isa = detail::layer_isa<Scalar>();
  linalg::parallel_for(0, N, [&](std::size_t first, std::size_t last) {
    detail::add(out + first, a + first, b + first, last - first, isa);
  }, layer_execution<Scalar>(exec, N));
}

/// \brief Backward of residual_forward: both inputs receive `dout` (accumulated with +=).
/// \param da   (N) accumulated with +=
/// \param db   (N) accumulated with +=
/// \param dout (N)
/// \param N number of values
/// \param exec threads, over ranges of values (see layer_execution)
template <class Scalar>
void residual_backward(Scalar* da, Scalar* db, const Scalar* dout, std::size_t N, linalg::execution exec = {}) {
  const simd::isa isa = detail::layer_isa<Scalar>();
  linalg::parallel_for(0, N, [&](std::size_t first, std::size_t last) {
    detail::add(da + first, da + first, dout + first, last - first, isa);
    detail::add(db + first, db + first, dout + first, last - first, isa);
  }, layer_execution<Scalar>(exec, 2 * N));
}

}  // namespace pot::nn
