#include "pot/linalg/pot_matmul.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <random>
#include <vector>

#include "../isa_variants.hpp"
#include "pot/linalg/epilogue.hpp"
#include "pot/linalg/thread_pool.hpp"
#include "pot_test_weights.hpp"

namespace {

using pot::linalg::pot_kernel;

using p4_paper = pot::pot<4, 0, 7>;   // int16 GEMM (AVX2), +128 correction (AVX-512)
using p4_int8 = pot::pot<4, 0, 5>;    // uint8 x int8 GEMM
using p8_shift = pot::pot<8, 0, 18>;  // the shift kernel

// Runs pot_matmul and records, for every column, how often a finished block held it and
// whether its sums were already the exact ones when the block was handed over.
template <class P, class Q>
void check_blocks(std::size_t M, std::size_t N, std::size_t K, std::int32_t zero_point, pot_kernel kernel,
                  std::mt19937& rng) {
  const auto w = pot::test::random_weights<P>(N, K, rng);
  const auto a = pot::test::random_activations<Q>(M * K, rng);
  std::vector<std::int32_t> exact(M * N);
  for (std::size_t m = 0; m < M; ++m)
    for (std::size_t n = 0; n < N; ++n) exact[m * N + n] = pot::test::exact_dot(w, n, a.data() + m * K, zero_point);
  pot::linalg::thread_pool pool(3);
  for (const unsigned threads : {1U, 3U}) {
    std::vector<std::int32_t> c(M * N);
    std::vector<int> times_finished(N, 0);
    std::vector<int> final_when_finished(N, 0);
    std::mutex record;
    pot::linalg::pot_matmul<P, Q>(w.view(), a, M, zero_point, c, [&](std::size_t first, std::size_t last) {
      const std::lock_guard lock(record);
      for (std::size_t n = first; n < last; ++n) {
        ++times_finished[n];
        bool final = true;
        for (std::size_t m = 0; m < M; ++m) final = final && c[m * N + n] == exact[m * N + n];
        final_when_finished[n] += final ? 1 : 0;
      }
    }, kernel, {threads, &pool});
    INFO("M = ", M, ", N = ", N, ", K = ", K, ", kernel ", static_cast<int>(kernel), ", threads ", threads);
    CHECK(c == exact);
    CHECK(times_finished == std::vector<int>(N, 1));
    CHECK(final_when_finished == std::vector<int>(N, 1));
  }
}

}  // namespace

TEST_CASE_TEMPLATE("pot_matmul finishes every block of columns once, after its sums are exact", P, p4_paper,
                   p4_int8, p8_shift) {
  std::mt19937 rng(41);
  pot::test::for_each_supported_isa([&](pot::simd::isa) {
    for (const auto kernel : {pot_kernel::reference, pot_kernel::shift, pot_kernel::table})
      for (const std::size_t M : {std::size_t{1}, std::size_t{3}, std::size_t{17}})
        for (const std::size_t N : {std::size_t{1}, std::size_t{33}, std::size_t{65}}) {
          check_blocks<P, std::uint8_t>(M, N, 31, 77, kernel, rng);
          check_blocks<P, std::int8_t>(M, N, 17, -100, kernel, rng);
        }
  });
}

TEST_CASE("output stages fused into the GEMM's blocks give the bits of the stages applied afterwards") {
  using P = p4_paper;
  std::mt19937 rng(43);
  const std::size_t M = 67, N = 100, K = 130;
  const auto w = pot::test::random_weights<P>(N, K, rng);
  const auto a = pot::test::random_activations<std::uint8_t>(M * K, rng);
  std::vector<float> bias(N);
  for (std::size_t n = 0; n < N; ++n) bias[n] = 0.01f * static_cast<float>(n) - 0.3f;
  const pot::linalg::output_rescale rescale(w.view(), 0.021f);
  std::vector<std::int32_t> acc(M * N);
  pot::linalg::pot_gemm<P, std::uint8_t>(w.view(), a, M, 128, acc);
  std::vector<float> afterwards(M * N);
  rescale(acc, bias, afterwards);
  pot::linalg::thread_pool pool(3);
  for (const unsigned threads : {1U, 2U, 3U}) {
    std::vector<std::int32_t> fused_acc(M * N);
    std::vector<float> fused(M * N);
    pot::linalg::pot_matmul<P, std::uint8_t>(w.view(), a, M, 128, fused_acc, [&](std::size_t first, std::size_t last) {
      rescale(fused_acc, bias, fused, first, last);
    }, pot_kernel::table, {threads, &pool});
    CHECK(std::memcmp(fused.data(), afterwards.data(), fused.size() * sizeof(float)) == 0);
  }
}

TEST_CASE("pot_matmul reports mismatched sizes as the kernels do") {
  using P = p4_paper;
  std::mt19937 rng(47);
  const auto w = pot::test::random_weights<P>(8, 16, rng);
  const auto a = pot::test::random_activations<std::uint8_t>(15, rng);
  std::vector<std::int32_t> c(8);
  const auto nothing = [](std::size_t, std::size_t) {};
  CHECK_THROWS_AS((pot::linalg::pot_matmul<P, std::uint8_t>(w.view(), a, 1, 0, c, nothing)), std::invalid_argument);
  const auto two_rows = pot::test::random_activations<std::uint8_t>(32, rng);
  CHECK_THROWS_AS((pot::linalg::pot_matmul<P, std::uint8_t>(w.view(), two_rows, 2, 0, c, nothing)),
                  std::invalid_argument);
}
