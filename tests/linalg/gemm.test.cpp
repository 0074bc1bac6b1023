#include <doctest/doctest.h>

#include <cmath>
#include <cstddef>
#include <cstring>
#include <limits>
#include <random>
#include <stdexcept>
#include <vector>

#include "pot/linalg/gemm.hpp"
#include "../isa_variants.hpp"

using pot::linalg::execution;
using pot::linalg::gemm;
using pot::linalg::gemm_reference;
using pot::linalg::transpose;

namespace {

constexpr transpose both[] = {transpose::no, transpose::yes};

/// A row-major matrix stored with a leading dimension of at least its width; the
/// padding holds NaN so that a kernel reading it would poison its result.
template <class T>
struct stored_matrix {
  std::size_t rows, cols, ld;
  std::vector<T> values;

  stored_matrix(std::size_t rows_, std::size_t cols_, std::size_t padding, std::mt19937& random)
      : rows(rows_), cols(cols_), ld(cols_ + padding),
        values(rows_ * (cols_ + padding), std::numeric_limits<T>::quiet_NaN()) {
    std::uniform_real_distribution<float> uniform(-1.0F, 1.0F);
    for (std::size_t r = 0; r < rows; ++r)
      for (std::size_t c = 0; c < cols; ++c) values[r * ld + c] = static_cast<T>(uniform(random));
  }
};

template <class From>
std::vector<long double> widen(const std::vector<From>& values, bool absolute = false) {
  std::vector<long double> wide(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    const long double value = values[i];
    wide[i] = absolute ? std::fabs(value) : value;
  }
  return wide;
}

/// Runs gemm<T> and checks it against gemm_reference in long double on the same inputs:
/// |error| <= (K + 2) * epsilon * (|alpha| |op(A)| |op(B)| + |beta| |C|), the textbook
/// bound for a sum of K products, computed elementwise by a second long double gemm.
/// Also checks that C's padding columns are not written.
template <class T>
void check_against_reference(transpose ta, transpose tb, std::size_t M, std::size_t N,
                             std::size_t K, T alpha, T beta, std::size_t padding,
                             execution settings, bool nan_in_c = false) {
  CAPTURE(static_cast<bool>(ta));
  CAPTURE(static_cast<bool>(tb));
  CAPTURE(M);
  CAPTURE(N);
  CAPTURE(K);
  CAPTURE(alpha);
  CAPTURE(beta);
  std::mt19937 random(static_cast<unsigned>(M * 1000003 + N * 1009 + K));
  const stored_matrix<T> A = ta == transpose::no ? stored_matrix<T>(M, K, padding, random)
                                                 : stored_matrix<T>(K, M, padding, random);
  const stored_matrix<T> B = tb == transpose::no ? stored_matrix<T>(K, N, padding, random)
                                                 : stored_matrix<T>(N, K, padding, random);
  stored_matrix<T> C(M, N, padding, random);
  if (nan_in_c)
    for (std::size_t r = 0; r < M; ++r)
      for (std::size_t c = 0; c < N; ++c) C.values[r * C.ld + c] = std::numeric_limits<T>::quiet_NaN();

  std::vector<long double> expected = widen(C.values);
  gemm_reference<long double>(ta, tb, M, N, K, alpha, widen(A.values).data(), A.ld,
                              widen(B.values).data(), B.ld, beta, expected.data(), C.ld);
  std::vector<long double> bound = widen(C.values, true);
  if (nan_in_c) std::fill(bound.begin(), bound.end(), 0.0L);
  gemm_reference<long double>(ta, tb, M, N, K, std::fabs(alpha), widen(A.values, true).data(),
                              A.ld, widen(B.values, true).data(), B.ld, std::fabs(beta),
                              bound.data(), C.ld);

  std::vector<T> result = C.values;
  gemm<T>(ta, tb, M, N, K, alpha, A.values.data(), A.ld, B.values.data(), B.ld, beta,
          result.data(), C.ld, settings);

  const long double tolerance =
      static_cast<long double>(K + 2) * std::numeric_limits<T>::epsilon();
  std::size_t wrong = 0;
  for (std::size_t r = 0; r < M; ++r) {
    for (std::size_t c = 0; c < C.ld; ++c) {
      const std::size_t i = r * C.ld + c;
      if (c >= N) {  // padding: must still be the NaN that was there
        if (!std::isnan(result[i])) ++wrong;
        continue;
      }
      const long double error = std::fabs(static_cast<long double>(result[i]) - expected[i]);
      if (!(error <= tolerance * bound[i] + std::numeric_limits<T>::denorm_min())) {
        if (wrong++ == 0) {
          CAPTURE(r);
          CAPTURE(c);
          CAPTURE(static_cast<double>(result[i]));
          CAPTURE(static_cast<double>(expected[i]));
          FAIL_CHECK("element differs from the long double reference");
        }
      }
    }
  }
  CHECK(wrong == 0);
}

template <class T>
std::vector<T> gemm_with_threads(transpose ta, transpose tb, std::size_t M, std::size_t N,
                                 std::size_t K, unsigned threads,
                                 pot::linalg::thread_pool* pool = nullptr) {
  std::mt19937 random(42);
  const stored_matrix<T> A = ta == transpose::no ? stored_matrix<T>(M, K, 0, random)
                                                 : stored_matrix<T>(K, M, 0, random);
  const stored_matrix<T> B = tb == transpose::no ? stored_matrix<T>(K, N, 0, random)
                                                 : stored_matrix<T>(N, K, 0, random);
  stored_matrix<T> C(M, N, 0, random);
  gemm<T>(ta, tb, M, N, K, T(0.75), A.values.data(), A.ld, B.values.data(), B.ld, T(-0.5),
          C.values.data(), C.ld, execution{threads, pool});
  return C.values;
}

}  // namespace

TEST_CASE("gemm_reference matches a product computed by hand, for every transpose") {
  // op(A) = [[1, 2, 3], [4, 5, 6]], op(B) = [[7, 8], [9, 10], [11, 12]]:
  // op(A) op(B) = [[58, 64], [139, 154]].
  const int a[] = {1, 2, 3, 4, 5, 6};
  const int a_t[] = {1, 4, 2, 5, 3, 6};
  const int b[] = {7, 8, 9, 10, 11, 12};
  const int b_t[] = {7, 9, 11, 8, 10, 12};
  for (transpose ta : both) {
    for (transpose tb : both) {
      const bool at = ta == transpose::yes;
      const bool bt = tb == transpose::yes;
      int c[] = {1, 2, 3, 4};
      gemm_reference<int>(ta, tb, 2, 2, 3, 2, at ? a_t : a, at ? 2 : 3, bt ? b_t : b,
                          bt ? 3 : 2, 10, c, 2);
      CHECK(c[0] == 2 * 58 + 10 * 1);
      CHECK(c[1] == 2 * 64 + 10 * 2);
      CHECK(c[2] == 2 * 139 + 10 * 3);
      CHECK(c[3] == 2 * 154 + 10 * 4);
    }
  }
}

TEST_CASE("gemm of a type without a fast path gives the hand-computed product") {
  const int a[] = {1, 2, 3, 4, 5, 6};
  const int b[] = {7, 8, 9, 10, 11, 12};
  int c[] = {-1, -1, -1, -1};
  gemm<int>(transpose::no, transpose::no, 2, 2, 3, 1, a, 3, b, 2, 0, c, 2);
  CHECK(c[0] == 58);
  CHECK(c[1] == 64);
  CHECK(c[2] == 139);
  CHECK(c[3] == 154);
}

TEST_CASE("float gemm matches the long double reference for every transpose on odd shapes") {
  pot::test::for_each_supported_isa([&](pot::simd::isa) {
    const std::size_t sizes[] = {1, 3, 17, 63, 65};
    for (transpose ta : both)
      for (transpose tb : both)
        for (std::size_t M : sizes)
          for (std::size_t N : sizes)
            for (std::size_t K : sizes)
              check_against_reference<float>(ta, tb, M, N, K, 1.0F, 0.0F, 0, execution{2});
  });
}

TEST_CASE("float gemm with a 1000 dimension crosses every cache block boundary") {
  pot::test::for_each_supported_isa([&](pot::simd::isa) {
    for (transpose ta : both) {
      for (transpose tb : both) {
        check_against_reference<float>(ta, tb, 1000, 17, 65, 1.0F, 0.0F, 0, execution{2});
        check_against_reference<float>(ta, tb, 3, 1000, 63, 1.0F, 0.0F, 0, execution{2});
        check_against_reference<float>(ta, tb, 63, 17, 1000, 1.0F, 0.0F, 0, execution{2});
      }
    }
    // Wider than one packed B panel (4096 columns).
    check_against_reference<float>(transpose::no, transpose::yes, 3, 4100, 5, 1.0F, 0.0F, 0,
                                   execution{2});
  });
}

TEST_CASE("float gemm applies alpha and beta") {
  pot::test::for_each_supported_isa([&](pot::simd::isa) {
    for (transpose ta : both) {
      for (transpose tb : both) {
        check_against_reference<float>(ta, tb, 17, 65, 500, 1.0F, 1.0F, 0, execution{2});
        check_against_reference<float>(ta, tb, 65, 17, 300, -0.5F, 1.0F, 0, execution{2});
        check_against_reference<float>(ta, tb, 63, 3, 17, 2.0F, -2.5F, 0, execution{2});
        check_against_reference<float>(ta, tb, 3, 63, 1, 0.25F, 3.0F, 0, execution{1});
        // One row (a Linear's decode step: dot products when B is transposed).
        check_against_reference<float>(ta, tb, 1, 1000, 700, -0.5F, 1.5F, 0, execution{2});
      }
    }
  });
}

TEST_CASE("float gemm with beta 0 overwrites a NaN-filled C") {
  pot::test::for_each_supported_isa([&](pot::simd::isa) {
    for (transpose ta : both)
      for (transpose tb : both)
        for (std::size_t K : {1U, 17U, 500U}) {
          check_against_reference<float>(ta, tb, 65, 63, K, 1.5F, 0.0F, 0, execution{2}, true);
          check_against_reference<float>(ta, tb, 1, 63, K, 1.5F, 0.0F, 0, execution{2}, true);
        }
  });
}

TEST_CASE("float gemm honours leading dimensions larger than the width") {
  pot::test::for_each_supported_isa([&](pot::simd::isa) {
    for (transpose ta : both)
      for (transpose tb : both)
        for (std::size_t padding : {1U, 5U, 16U})
          check_against_reference<float>(ta, tb, 17, 63, 65, 1.0F, 0.5F, padding, execution{2});
  });
}

TEST_CASE("double gemm matches the long double reference") {
  pot::test::for_each_supported_isa([&](pot::simd::isa) {
    const std::size_t sizes[] = {1, 3, 17, 65};
    for (transpose ta : both)
      for (transpose tb : both)
        for (std::size_t M : sizes)
          for (std::size_t N : sizes)
            check_against_reference<double>(ta, tb, M, N, 300, 1.0, -1.0, 3, execution{2});
  });
}

TEST_CASE("gemm with K == 0 scales C by beta, and beta 0 clears NaN") {
  float c[] = {1.0F, -2.0F, std::numeric_limits<float>::quiet_NaN(), 4.0F};
  gemm<float>(transpose::no, transpose::no, 2, 2, 0, 1.0F, nullptr, 0, nullptr, 2, 3.0F, c, 2);
  CHECK(c[0] == 3.0F);
  CHECK(c[1] == -6.0F);
  CHECK(std::isnan(c[2]));
  CHECK(c[3] == 12.0F);
  gemm<float>(transpose::no, transpose::no, 2, 2, 0, 1.0F, nullptr, 0, nullptr, 2, 0.0F, c, 2);
  for (float value : c) CHECK(value == 0.0F);
}

TEST_CASE("gemm with M == 0 or N == 0 writes nothing") {
  float c[] = {5.0F};
  const float a[] = {1.0F};
  gemm<float>(transpose::no, transpose::no, 0, 1, 1, 1.0F, a, 1, a, 1, 0.0F, c, 1);
  gemm<float>(transpose::no, transpose::no, 1, 0, 1, 1.0F, a, 1, a, 0, 0.0F, c, 0);
  CHECK(c[0] == 5.0F);
}

TEST_CASE("gemm results are bitwise identical for 1, 2 and 3 threads, with or without a pool") {
  pot::test::for_each_supported_isa([&](pot::simd::isa) {
    pot::linalg::thread_pool pool(3);
    struct shape { std::size_t M, N, K; };
    // Split over rows (M >= N) and over columns (N > M); K spans several K blocks and M
    // several row blocks, so thread chunks start inside blocks.
    const shape shapes[] = {{301, 97, 517}, {61, 1100, 400}, {1000, 40, 330}, {1, 6000, 2000}};
    for (const shape& s : shapes) {
      for (transpose ta : both) {
        for (transpose tb : both) {
          CAPTURE(s.M);
          CAPTURE(s.N);
          const std::vector<float> one = gemm_with_threads<float>(ta, tb, s.M, s.N, s.K, 1);
          for (unsigned threads : {2U, 3U}) {
            CAPTURE(threads);
            const std::vector<float> many = gemm_with_threads<float>(ta, tb, s.M, s.N, s.K, threads);
            CHECK(std::memcmp(one.data(), many.data(), one.size() * sizeof(float)) == 0);
            const std::vector<float> pooled =
                gemm_with_threads<float>(ta, tb, s.M, s.N, s.K, threads, &pool);
            CHECK(std::memcmp(one.data(), pooled.data(), one.size() * sizeof(float)) == 0);
          }
        }
      }
    }
  });
}

TEST_CASE("gemm rejects leading dimensions too small for the matrices") {
  std::vector<float> a(64, 1.0F), b(64, 1.0F), c(64, 0.0F);
  auto call = [&](transpose ta, transpose tb, std::size_t lda, std::size_t ldb, std::size_t ldc) {
    gemm<float>(ta, tb, 4, 5, 3, 1.0F, a.data(), lda, b.data(), ldb, 0.0F, c.data(), ldc);
  };
  CHECK_THROWS_WITH_AS(call(transpose::no, transpose::no, 2, 5, 5),
                       doctest::Contains("lda"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(call(transpose::yes, transpose::no, 3, 5, 5),
                       doctest::Contains("lda"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(call(transpose::no, transpose::no, 3, 4, 5),
                       doctest::Contains("ldb"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(call(transpose::no, transpose::yes, 3, 2, 5),
                       doctest::Contains("ldb"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(call(transpose::no, transpose::no, 3, 5, 4),
                       doctest::Contains("ldc"), std::invalid_argument);
  CHECK_NOTHROW(call(transpose::yes, transpose::yes, 4, 3, 5));
  CHECK_THROWS_WITH_AS(gemm_reference<float>(transpose::no, transpose::no, 4, 5, 3, 1.0F,
                                             a.data(), 2, b.data(), 5, 0.0F, c.data(), 5),
                       doctest::Contains("lda"), std::invalid_argument);
}

TEST_CASE("gemm rejects a null matrix that has elements") {
  std::vector<float> a(64, 1.0F);
  CHECK_THROWS_WITH_AS(gemm<float>(transpose::no, transpose::no, 2, 2, 2, 1.0F, nullptr, 2,
                                   a.data(), 2, 0.0F, a.data(), 2),
                       doctest::Contains("A is null"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(gemm<float>(transpose::no, transpose::no, 2, 2, 2, 1.0F, a.data(), 2,
                                   nullptr, 2, 0.0F, a.data(), 2),
                       doctest::Contains("B is null"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(gemm<float>(transpose::no, transpose::no, 2, 2, 2, 1.0F, a.data(), 2,
                                   a.data(), 2, 0.0F, nullptr, 2),
                       doctest::Contains("C is null"), std::invalid_argument);
}

TEST_CASE("float gemm reads a row-major A in place with the same arithmetic as a packed one") {
  pot::test::for_each_supported_isa([&](pot::simd::isa) {
    // transpose::no lets the kernel read A's full row panels in place; the same matrix
    // stored transposed (transpose::yes) goes through packing. Each C element must get the
    // same operations either way, so the products are bitwise equal. M = 200 has row
    // panels in place and a partial last panel; lda > K checks the in-place stride.
    std::mt19937 random(7);
    for (const std::size_t K : {std::size_t{1}, std::size_t{37}, std::size_t{500}}) {
      CAPTURE(K);
      const std::size_t M = 200, N = 45;
      const stored_matrix<float> A(M, K, 3, random);
      stored_matrix<float> A_transposed(K, M, 0, random);
      for (std::size_t r = 0; r < M; ++r)
        for (std::size_t k = 0; k < K; ++k) A_transposed.values[k * M + r] = A.values[r * A.ld + k];
      const stored_matrix<float> B(K, N, 0, random);
      std::vector<float> in_place(M * N), packed(M * N);
      gemm<float>(transpose::no, transpose::no, M, N, K, 1.5F, A.values.data(), A.ld,
                  B.values.data(), B.ld, 0.0F, in_place.data(), N, execution{1});
      gemm<float>(transpose::yes, transpose::no, M, N, K, 1.5F, A_transposed.values.data(), M,
                  B.values.data(), B.ld, 0.0F, packed.data(), N, execution{1});
      CHECK(std::memcmp(in_place.data(), packed.data(), in_place.size() * sizeof(float)) == 0);
    }
  });
}

TEST_CASE("the AVX2 and AVX-512 float gemm kernels give bitwise equal results") {
  // Each C element is one FMA per k in k order in both, whatever their tile shapes.
  if (!pot::simd::isa_supported(pot::simd::isa::avx512)) return;
  std::mt19937 rng(29);
  std::uniform_real_distribution<float> value(-1.0f, 1.0f);
  constexpr std::size_t M = 37, N = 71, K = 500;
  std::vector<float> a(M * K), b(K * N), c2(M * N, 1.0f), c512(M * N, 1.0f);
  for (auto& v : a) v = value(rng);
  for (auto& v : b) v = value(rng);
  {
    const pot::simd::scoped_isa forced(pot::simd::isa::avx2);
    pot::linalg::gemm(transpose::no, transpose::no, M, N, K, 0.5f, a.data(), K, b.data(), N, 0.25f, c2.data(), N);
  }
  {
    const pot::simd::scoped_isa forced(pot::simd::isa::avx512);
    pot::linalg::gemm(transpose::no, transpose::no, M, N, K, 0.5f, a.data(), K, b.data(), N, 0.25f, c512.data(), N);
  }
  CHECK(c2 == c512);
}
