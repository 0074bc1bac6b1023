#include <doctest/doctest.h>

#include <cstdint>
#include <random>
#include <vector>

#include "pot/linalg/pot_gemm.hpp"
#include "pot_test_weights.hpp"

namespace {

using pot::rounding;
using pot::zero_code;
using pot::linalg::pot_kernel;

using p3_no_zero = pot::pot<3, -1, 2, rounding::log, zero_code::none>;
using p4_paper = pot::pot<4, 0, 7>;
using p5_int8 = pot::pot<5, -2, 4>;
using p6_int16 = pot::pot<6, -4, 10>;
using p8_shift = pot::pot<8, 0, 18>;

template <class P, class Q>
void check_gemm(std::size_t M, std::size_t N, std::size_t K, std::int32_t zero_point, std::mt19937& rng) {
  const auto w = pot::test::random_weights<P>(N, K, rng);
  const auto a = pot::test::random_activations<Q>(M * K, rng);
  for (const auto kernel : {pot_kernel::reference, pot_kernel::shift, pot_kernel::table}) {
    std::vector<std::int32_t> c(M * N);
    pot::linalg::pot_gemm<P, Q>(w.view(), a, M, zero_point, c, kernel, {2});
    for (std::size_t m = 0; m < M; ++m)
      for (std::size_t n = 0; n < N; ++n) {
        INFO("kernel ", static_cast<int>(kernel), " (m, n) = (", m, ", ", n, ") of ", M, "x", N, "x", K);
        REQUIRE(c[m * N + n] == pot::test::exact_dot(w, n, a.data() + m * K, zero_point));
      }
  }
}

}  // namespace

TEST_CASE_TEMPLATE("every integer GEMM kernel equals the exact product", P, p3_no_zero, p4_paper,
                   p5_int8, p6_int16, p8_shift) {
  std::mt19937 rng(13);
  const std::size_t k_max = pot::linalg::max_exact_int32_depth<P>;
  for (const std::size_t M : {std::size_t{1}, std::size_t{3}, std::size_t{17}})
    for (const std::size_t N : {std::size_t{1}, std::size_t{33}, std::size_t{65}})
      for (const std::size_t K : {std::size_t{1}, std::size_t{17}, std::size_t{63}, std::size_t{1000}}) {
        if (K > k_max) continue;
        check_gemm<P, std::uint8_t>(M, N, K, 77, rng);
        check_gemm<P, std::int8_t>(M, N, K, -100, rng);
      }
}

TEST_CASE("GEMM results do not depend on the thread count") {
  using P = p4_paper;
  std::mt19937 rng(17);
  const auto w = pot::test::random_weights<P>(100, 65, rng);
  const auto a = pot::test::random_activations<std::uint8_t>(5 * 65, rng);
  std::vector<std::int32_t> one(500), two(500), three(500);
  pot::linalg::pot_gemm<P, std::uint8_t>(w.view(), a, 5, 9, one, pot_kernel::table, {1});
  pot::linalg::pot_gemm<P, std::uint8_t>(w.view(), a, 5, 9, two, pot_kernel::table, {2});
  pot::linalg::pot_gemm<P, std::uint8_t>(w.view(), a, 5, 9, three, pot_kernel::table, {3});
  CHECK(one == two);
  CHECK(one == three);
  std::vector<std::int32_t> too_small(499);
  CHECK_THROWS_AS((pot::linalg::pot_gemm<P, std::uint8_t>(w.view(), a, 5, 9, too_small)),
                  std::invalid_argument);
}

TEST_CASE("GEMM over a packed_matrix equals the exact product") {
  using P = p4_paper;
  std::mt19937 rng(23);
  const auto w = pot::test::random_weights<P>(40, 129, rng);
  const pot::packed_matrix<P> matrix(40, 129, std::span<const std::uint8_t>(w.codes), w.scales);
  const auto a = pot::test::random_activations<std::int8_t>(3 * 129, rng);
  std::vector<std::int32_t> c(3 * 40);
  pot::linalg::pot_gemm<P, std::int8_t>(matrix, a, 3, 11, c);
  for (std::size_t m = 0; m < 3; ++m)
    for (std::size_t n = 0; n < 40; ++n)
      REQUIRE(c[m * 40 + n] == pot::test::exact_dot(w, n, a.data() + m * 129, 11));
}
