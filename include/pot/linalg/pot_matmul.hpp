#pragma once
/// \file
/// \brief The exact integer product of a batch of activation rows with packed PoT
/// weights through the kernel that suits its shape: pot_gemv() for one row, pot_gemm()
/// for more, with the output stages (linalg/epilogue.hpp) applied to each finished block.

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>

#include "pot/core/traits.hpp"
#include "pot/linalg/execution.hpp"
#include "pot/linalg/pot_gemm.hpp"
#include "pot/linalg/pot_gemv.hpp"
#include "pot/linalg/pot_weights.hpp"

namespace pot::linalg {

/// \brief `c (M, N) = (a - zero_point) (M, K) * W (N, K)^T` exactly in int32, N = w.rows,
/// then `finish(first, last)` on every finished block of columns, as pot_gemm() does.
///
/// One row (a decoded token) is a matrix-vector product: pot_gemv() streams each weight
/// row once, and its one block is all N columns. More rows go to pot_gemm(), which
/// decodes each panel of weight rows once for all of them. Both give the same integers,
/// so the choice changes no result, only the speed.
/// \throws std::invalid_argument as pot_gemv() and pot_gemm() do for mismatched sizes, a
///   zero point outside Q's range or K above max_exact_int32_depth<P>
template <pot_type P, class Q, std::invocable<std::size_t, std::size_t> Finish>
void pot_matmul(const packed_weights_view<P>& w, std::span<const Q> a, std::size_t M, std::int32_t zero_point,
                std::span<std::int32_t> c, const Finish& finish, pot_kernel kernel = pot_kernel::table,
                execution settings = {}) {
  if (M == 1) {
    pot_gemv<P, Q>(w, a, zero_point, c, kernel, settings);
    finish(std::size_t{0}, w.rows);
    return;
  }
  pot_gemm<P, Q>(w, a, M, zero_point, c, finish, kernel, settings);
}

}  // namespace pot::linalg
