// PoT-weight GEMM at GPT-2 small shapes: pot::linalg::pot_gemm (4-bit pot<4, 0, 7>
// weights: the uint8 x int8 micro-kernel with the +128 correction on AVX-512, the int16
// one on AVX2; and pot<4, 0, 5>, the paper's [-2^5, 2^5] format, uint8 x int8 on every
// instruction set; int8 activations, exact int32 result) next to our float gemm
// (pot::linalg::gemm<float>) and, where installed, OpenBLAS cblas_sgemm, in the same run.
//
// The PoT weights are what the library makes of a trained layer: N(0, 1) floats
// quantized with the paper's rule, one scale max|w| / 2^MaxExp per tensor, so that only
// the largest weights reach 2^MaxExp; `pot4_int8_gemm_per_channel` takes one scale per
// row, where every row holds such weights (the +128 correction's worst case).
//
// The counter "GFLOP/s" is 2 M N K per second for every case (multiply-adds counted as
// two operations whatever their type), so the ratios compare time to the same product.
// Arguments: M (activation rows, B*T), N (outputs), K (inputs), threads. All compute
// C (M, N) = A (M, K) W (N, K)^T, the Linear forward. The plain names run the instruction
// set the kernels choose; NAME@ISA runs them forced to each one this CPU supports.

#include <benchmark/benchmark.h>

#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include "pot/core/pot.hpp"
#include "pot/linalg/gemm.hpp"
#include "pot/linalg/pot_gemm.hpp"
#include "pot/linalg/thread_pool.hpp"
#include "pot/quant/packed_matrix.hpp"

#include "bench_main.hpp"

namespace {

using weight_format = pot::pot<4, 0, 7>;  // range 7
using int8_format = pot::pot<4, 0, 5>;    // range 5

struct shape {
  std::size_t M, N, K;
  unsigned thread_count;
  std::unique_ptr<pot::linalg::thread_pool> pool;  // as a program that multiplies repeatedly keeps one
  pot::linalg::execution threads;
  explicit shape(const benchmark::State& state)
      : M(static_cast<std::size_t>(state.range(0))), N(static_cast<std::size_t>(state.range(1))),
        K(static_cast<std::size_t>(state.range(2))), thread_count(static_cast<unsigned>(state.range(3))),
        pool(thread_count > 1 ? std::make_unique<pot::linalg::thread_pool>(thread_count) : nullptr),
        threads{thread_count, pool.get()} {}
};

std::vector<float> gaussian_floats(std::size_t count) {
  std::mt19937 rng(1);
  std::normal_distribution<float> normal;
  std::vector<float> values(count);
  for (auto& v : values) v = normal(rng);
  return values;
}

std::vector<float> random_floats(std::size_t count) {
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  std::vector<float> values(count);
  for (auto& v : values) v = uniform(rng);
  return values;
}

void report_flops(benchmark::State& state, const shape& s) {
  state.counters["GFLOP/s"] = benchmark::Counter(
      2e-9 * static_cast<double>(s.M) * static_cast<double>(s.N) * static_cast<double>(s.K),
      benchmark::Counter::kIsIterationInvariantRate);
}

template <class P = weight_format, pot::scale_granularity Granularity = pot::scale_granularity::per_tensor>
void pot4_int8_gemm(benchmark::State& state) {
  const shape s(state);
  const pot::packed_matrix<P> w(gaussian_floats(s.N * s.K), s.N, s.K, Granularity);
  std::vector<std::int8_t> a(s.M * s.K);
  std::mt19937 rng(2);
  for (auto& q : a) q = static_cast<std::int8_t>(rng());
  std::vector<std::int32_t> c(s.M * s.N);
  for (auto _ : state) {
    pot::linalg::pot_gemm<P, std::int8_t>(w, a, s.M, -3, c, pot::linalg::pot_kernel::table, s.threads);
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  report_flops(state, s);
}

void float_gemm(benchmark::State& state) {
  const shape s(state);
  const auto a = random_floats(s.M * s.K), w = random_floats(s.N * s.K);
  std::vector<float> c(s.M * s.N);
  using pot::linalg::transpose;
  for (auto _ : state) {
    pot::linalg::gemm<float>(transpose::no, transpose::yes, s.M, s.N, s.K, 1.0f, a.data(), s.K, w.data(), s.K,
                             0.0f, c.data(), s.N, s.threads);
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  report_flops(state, s);
}

#if defined(POT_HAVE_OPENBLAS)
void openblas_sgemm(benchmark::State& state) {
  const shape s(state);
  openblas_set_num_threads(static_cast<int>(s.thread_count));
  const auto a = random_floats(s.M * s.K), w = random_floats(s.N * s.K);
  std::vector<float> c(s.M * s.N);
  const auto i = [](std::size_t n) { return static_cast<int>(n); };
  for (auto _ : state) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, i(s.M), i(s.N), i(s.K), 1.0f, a.data(), i(s.K),
                w.data(), i(s.K), 0.0f, c.data(), i(s.N));
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  report_flops(state, s);
}
#endif

void gpt2_shapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"M", "N", "K", "threads"});
  for (const int threads : {1, 2})
    for (const auto& [N, K] : {std::pair{3072, 768}, {768, 768}, {2304, 768}, {768, 3072}})
      b->Args({768, N, K, threads});
  b->UseRealTime()->Unit(benchmark::kMillisecond);
}

BENCHMARK(pot4_int8_gemm<>)->Name("pot4_int8_gemm")->Apply(gpt2_shapes);
BENCHMARK(pot4_int8_gemm<int8_format>)->Name("pot4r5_int8_gemm")->Apply(gpt2_shapes);
BENCHMARK(pot4_int8_gemm<weight_format, pot::scale_granularity::per_channel>)
    ->Name("pot4_int8_gemm_per_channel")
    ->ArgNames({"M", "N", "K", "threads"})
    ->Args({768, 3072, 768, 1})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(float_gemm)->Apply(gpt2_shapes);
#if defined(POT_HAVE_OPENBLAS)
BENCHMARK(openblas_sgemm)->Apply(gpt2_shapes);
#endif

/// The shape the variants forced to each instruction set run at: the MLP's first layer.
void forced_shapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"M", "N", "K", "threads"})->Args({768, 3072, 768, 1})->UseRealTime()->Unit(benchmark::kMillisecond);
}

}  // namespace

int main(int argc, char** argv) {
  pot::bench::register_forced_variants("pot4_int8_gemm", pot4_int8_gemm<>, forced_shapes);
  pot::bench::register_forced_variants("pot4r5_int8_gemm", pot4_int8_gemm<int8_format>, forced_shapes);
  pot::bench::register_forced_variants("float_gemm", float_gemm, forced_shapes);
  return pot::bench::run(argc, argv);
}
