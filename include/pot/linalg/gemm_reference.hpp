#pragma once
/// \file
/// \brief gemm_reference: the naive triple loop every fast gemm is checked against.

#include <cstddef>

#include "pot/linalg/gemm_arguments.hpp"

namespace pot::linalg {

/// \brief C (M, N) = alpha * op(A) (M, K) * op(B) (K, N) + beta * C, by the textbook loop.
///
/// Row-major with leading dimensions \p lda, \p ldb, \p ldc (see check_gemm_arguments).
/// Each C element is one sum over k in increasing order, started from `T{}` (which must
/// be zero), then `alpha * sum + beta * C`; when beta == T{} C is overwritten without
/// being read, so NaN or garbage in C does not propagate. Works for any T with +, *, ==
/// and a zero `T{}` (float, long double, autodiff variables), on the calling thread.
/// As in BLAS, C must not overlap A or B.
///
/// \throws std::invalid_argument from check_gemm_arguments.
template <class T>
void gemm_reference(transpose ta, transpose tb, std::size_t M, std::size_t N, std::size_t K,
                    T alpha, const T* A, std::size_t lda, const T* B, std::size_t ldb,
                    T beta, T* C, std::size_t ldc) {
  check_gemm_arguments(ta, tb, M, N, K, A, lda, B, ldb, C, ldc);
  const bool overwrite = beta == T{};
  for (std::size_t i = 0; i < M; ++i) {
    for (std::size_t j = 0; j < N; ++j) {
      T sum{};
      for (std::size_t k = 0; k < K; ++k) {
        const T& a = ta == transpose::no ? A[i * lda + k] : A[k * lda + i];
        const T& b = tb == transpose::no ? B[k * ldb + j] : B[j * ldb + k];
        sum = sum + a * b;
      }
      T& c = C[i * ldc + j];
      c = overwrite ? alpha * sum : alpha * sum + beta * c;
    }
  }
}

}  // namespace pot::linalg
