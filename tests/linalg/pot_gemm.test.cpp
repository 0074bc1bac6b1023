#include <doctest/doctest.h>

#include <cstdint>
#include <random>
#include <vector>

#include "pot/linalg/pot_gemm.hpp"
#include "../isa_variants.hpp"
#include "pot_test_weights.hpp"

namespace {

using pot::rounding;
using pot::zero_code;
using pot::linalg::pot_kernel;

using p3_no_zero = pot::pot<3, -1, 2, rounding::log, zero_code::none>;
using p4_paper = pot::pot<4, 0, 7>;
using p4_int8 = pot::pot<4, 0, 5>;  // the paper's [-2^5, 2^5] format: int16 pair adds
using p4_int8_widest = pot::pot<4, 0, 6, rounding::log, zero_code::none>;  // |w| = 64
using p5_int8 = pot::pot<5, -2, 4>;
using p6_int16 = pot::pot<6, -4, 10>;
using p8_shift = pot::pot<8, 0, 18>;
using p8_range7 = pot::pot<8, 0, 7>;  // +128 in 8-bit codes: the AVX-512 correction

template <class P, class Q>
void check_gemm(std::size_t M, std::size_t N, std::size_t K, std::int32_t zero_point, std::mt19937& rng) {
  const auto w = pot::test::random_weights<P>(N, K, rng);
  const auto a = pot::test::random_activations<Q>(M * K, rng);
  pot::test::for_each_supported_isa([&](pot::simd::isa) {
    for (const auto kernel : {pot_kernel::reference, pot_kernel::shift, pot_kernel::table})
      for (const bool with_statistics : {false, true}) {
        if (with_statistics && kernel != pot_kernel::table) continue;  // only the table kernel reads them
        std::vector<std::int32_t> c(M * N);
        pot::linalg::pot_gemm<P, Q>(with_statistics ? w.view_with_statistics() : w.view(), a, M, zero_point, c, kernel,
                                    {2});
        for (std::size_t m = 0; m < M; ++m)
          for (std::size_t n = 0; n < N; ++n) {
            INFO("kernel ", static_cast<int>(kernel), " statistics ", with_statistics, " (m, n) = (", m, ", ", n,
                 ") of ", M, "x", N, "x", K);
            REQUIRE(c[m * N + n] == pot::test::exact_dot(w, n, a.data() + m * K, zero_point));
          }
      }
  });
}

}  // namespace

TEST_CASE_TEMPLATE("every integer GEMM kernel equals the exact product", P, p3_no_zero, p4_paper,
                   p4_int8, p4_int8_widest, p5_int8, p6_int16, p8_shift, p8_range7) {
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

TEST_CASE_TEMPLATE("the uint8 x int8 GEMM is exact at vpmaddubsw's int16 edge", P, p4_int8, p4_int8_widest) {
  // Every weight +-2^MaxExp and every |u - zp| = 255: each int16 pair sum of the kernel
  // is 2 * 255 * 2^MaxExp (32640 for |w| = 64; 16320 for |w| = 32, whose two quads are
  // added in int16 to 32640), the largest it can be. Expected: K * (u - zp) * w, by hand.
  constexpr std::size_t M = 7, N = 17, K = 1000;
  constexpr int magnitude = 1 << P::max_exponent;
  for (const bool negative : {false, true}) {
    const auto code = static_cast<std::uint8_t>(P::max_exponent - P::min_exponent + (negative ? 8 : 0));
    const std::vector<std::uint8_t> codes(N * K, code);
    const std::vector<float> scales(N, 1.0f);
    const pot::packed_matrix<P> w(N, K, std::span<const std::uint8_t>(codes), scales);
    for (const auto& [u, zp] : {std::pair{255, 0}, std::pair{0, 255}}) {
      const std::vector<std::uint8_t> a(M * K, static_cast<std::uint8_t>(u));
      std::vector<std::int32_t> c(M * N);
      pot::linalg::pot_gemm<P, std::uint8_t>(w, a, M, zp, c);
      const std::int32_t expected = static_cast<std::int32_t>(K) * (u - zp) * (negative ? -magnitude : magnitude);
      for (const auto value : c) REQUIRE(value == expected);
    }
  }
}

TEST_CASE("the GEMM is exact when only a few quads hold the weight +128") {
  // Under a max-based scale only the largest weights reach 2^MaxExp: the AVX-512 kernel
  // then corrects a few listed quads of a panel and skips the rest.
  using P = p4_paper;
  std::mt19937 rng(23);
  constexpr std::size_t M = 13, N = 70, K = 300;
  auto w = pot::test::random_weights<P>(N, K, rng);
  std::bernoulli_distribution rare(0.002);
  for (std::size_t n = 0; n < N; ++n)
    for (std::size_t k = 0; k < K; ++k) {
      auto code = w.codes[n * K + k];
      // Code 7 is +128: kept rarely, and never in rows 32 to 63, the second panel of 32
      // rows, which the kernel then multiplies without the correction.
      if (code == 7 && (!rare(rng) || (n >= 32 && n < 64))) code = 6;
      w.codes[n * K + k] = code;
    }
  w.repack();
  const auto a = pot::test::random_activations<std::uint8_t>(M * K, rng);
  pot::test::for_each_supported_isa([&](pot::simd::isa) {
    for (const bool with_statistics : {false, true}) {
      std::vector<std::int32_t> c(M * N);
      pot::linalg::pot_gemm<P, std::uint8_t>(with_statistics ? w.view_with_statistics() : w.view(), a, M, 200, c);
      for (std::size_t m = 0; m < M; ++m)
        for (std::size_t n = 0; n < N; ++n) REQUIRE(c[m * N + n] == pot::test::exact_dot(w, n, a.data() + m * K, 200));
    }
  });
}
