#pragma once
/// \file
/// \brief The transpose flag of gemm and the checks every gemm variant applies to its
/// arguments.

#include <cstddef>
#include <stdexcept>
#include <string>

namespace pot::linalg {

/// \brief Whether gemm reads an operand as stored (no) or transposed (yes).
enum class transpose : bool { no, yes };

/// \brief Throws std::invalid_argument, naming the parameter, if a gemm call's leading
/// dimensions or pointers cannot describe the matrices.
///
/// Row-major storage: op(A) is (M, K), so A is stored (M, K) for transpose::no and
/// (K, M) for transpose::yes, and \p lda must be at least its stored width; likewise B
/// is stored (K, N) or (N, K), and C is (M, N) with \p ldc >= N. A pointer may only be
/// null when its matrix has no element.
inline void check_gemm_arguments(transpose ta, transpose tb, std::size_t M, std::size_t N,
                                 std::size_t K, const void* A, std::size_t lda,
                                 const void* B, std::size_t ldb, const void* C,
                                 std::size_t ldc) {
  auto fail = [](const char* what) {
    throw std::invalid_argument(std::string("pot: gemm: ") + what);
  };
  if (lda < (ta == transpose::no ? K : M))
    fail(ta == transpose::no ? "lda < K for an untransposed A (M, K)"
                             : "lda < M for a transposed A stored (K, M)");
  if (ldb < (tb == transpose::no ? N : K))
    fail(tb == transpose::no ? "ldb < N for an untransposed B (K, N)"
                             : "ldb < K for a transposed B stored (N, K)");
  if (ldc < N) fail("ldc < N for C (M, N)");
  if (A == nullptr && M != 0 && K != 0) fail("A is null but op(A) has elements");
  if (B == nullptr && K != 0 && N != 0) fail("B is null but op(B) has elements");
  if (C == nullptr && M != 0 && N != 0) fail("C is null but has elements");
}

}  // namespace pot::linalg
