/// \file
/// \brief Residual connection (elementwise sum): forward and backward.
#pragma once

#include <cstddef>

#include "pot/nn/vectorize.hpp"

namespace pot::nn {

/// \brief `out[i] = a[i] + b[i]`.
/// \param out (N)
/// \param a   (N)
/// \param b   (N)
/// \param N number of values
template <class Scalar>
void residual_forward(Scalar* out, const Scalar* a, const Scalar* b, std::size_t N) {
  detail::add(out, a, b, N, detail::layer_isa<Scalar>());
}

/// \brief Backward of residual_forward: both inputs receive `dout` (accumulated with +=).
/// \param da   (N) accumulated with +=
/// \param db   (N) accumulated with +=
/// \param dout (N)
/// \param N number of values
template <class Scalar>
void residual_backward(Scalar* da, Scalar* db, const Scalar* dout, std::size_t N) {
  const simd::isa isa = detail::layer_isa<Scalar>();
  detail::add(da, da, dout, N, isa);
  detail::add(db, db, dout, N, isa);
}

}  // namespace pot::nn
