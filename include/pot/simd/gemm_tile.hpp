#pragma once
/// \file
/// \brief What the float/double gemm micro-kernels of every instruction set share: how a
/// finished tile is written into C, and where the kernel reads its A panel.

namespace pot::simd {

/// \brief How a finished tile of products `acc` is written into C.
enum class tile_update {
  overwrite,      ///< C = alpha * acc; C is not read (first K block, beta == 0)
  scale_and_add,  ///< C = alpha * acc + beta * C (first K block, beta != 0)
  add             ///< C = alpha * acc + C (every later K block)
};

/// \brief Where a gemm micro-kernel reads element (r, k) of its A panel.
enum class a_layout {
  packed,    ///< `a[k * rows + r]`: a panel packed k-major (any transpose, any edge)
  row_major  ///< `a[r * lda + k]`: rows of a row-major A in place (full panels only)
};

}  // namespace pot::simd
