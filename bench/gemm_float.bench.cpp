// Float GEMM at GPT-2 small shapes: pot::linalg::gemm next to OpenBLAS cblas_sgemm
// (when built with POT_HAVE_OPENBLAS) in the same run, and the cost of one parallel_for.
//
// Arguments of the gemm benchmarks: M, N, K, threads, transpose A, transpose B.
// M = 768 rows of activations (B*T); (N, K) are the Linear layers' (out, in) features.
#include <benchmark/benchmark.h>

#include <cstddef>
#include <random>
#include <string>
#include <vector>

#include "pot/linalg/gemm.hpp"
#include "pot/linalg/parallel_for.hpp"
#include "pot/linalg/thread_pool.hpp"

#include "bench_main.hpp"

namespace {

using pot::linalg::transpose;

struct gemm_operands {
  std::size_t M, N, K;
  transpose ta, tb;
  std::vector<float> A, B, C;

  explicit gemm_operands(const benchmark::State& state)
      : M(static_cast<std::size_t>(state.range(0))),
        N(static_cast<std::size_t>(state.range(1))),
        K(static_cast<std::size_t>(state.range(2))),
        ta(state.range(4) != 0 ? transpose::yes : transpose::no),
        tb(state.range(5) != 0 ? transpose::yes : transpose::no),
        A(M * K), B(K * N), C(M * N) {
    std::mt19937 random(1);
    std::uniform_real_distribution<float> uniform(-1.0F, 1.0F);
    for (float& value : A) value = uniform(random);
    for (float& value : B) value = uniform(random);
  }
  std::size_t lda() const { return ta == transpose::no ? K : M; }
  std::size_t ldb() const { return tb == transpose::no ? N : K; }
};

void report_flops(benchmark::State& state, const gemm_operands& operands) {
  const double flops = 2.0 * static_cast<double>(operands.M) * static_cast<double>(operands.N) *
                       static_cast<double>(operands.K);
  state.counters["GFLOP/s"] =
      benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

void pot_gemm(benchmark::State& state) {
  gemm_operands operands(state);
  const pot::linalg::execution settings{static_cast<unsigned>(state.range(3))};
  for (auto _ : state) {
    pot::linalg::gemm<float>(operands.ta, operands.tb, operands.M, operands.N, operands.K, 1.0F,
                             operands.A.data(), operands.lda(), operands.B.data(),
                             operands.ldb(), 0.0F, operands.C.data(), operands.N, settings);
    benchmark::DoNotOptimize(operands.C.data());
    benchmark::ClobberMemory();
  }
  report_flops(state, operands);
}

#ifdef POT_HAVE_OPENBLAS
void openblas_sgemm(benchmark::State& state) {
  gemm_operands operands(state);
  openblas_set_num_threads(static_cast<int>(state.range(3)));
  auto blas_transpose = [](transpose t) { return t == transpose::no ? CblasNoTrans : CblasTrans; };
  for (auto _ : state) {
    cblas_sgemm(CblasRowMajor, blas_transpose(operands.ta), blas_transpose(operands.tb),
                static_cast<int>(operands.M), static_cast<int>(operands.N),
                static_cast<int>(operands.K), 1.0F, operands.A.data(),
                static_cast<int>(operands.lda()), operands.B.data(),
                static_cast<int>(operands.ldb()), 0.0F, operands.C.data(),
                static_cast<int>(operands.N));
    benchmark::DoNotOptimize(operands.C.data());
    benchmark::ClobberMemory();
  }
  report_flops(state, operands);
}
#endif

void gpt2_shapes(benchmark::internal::Benchmark* benchmark) {
  benchmark->ArgNames({"M", "N", "K", "threads", "ta", "tb"});
  for (int threads : {1, 2}) {
    // The target shape, C = A B.
    benchmark->Args({768, 3072, 768, threads, 0, 0});
    // Linear forward out (M, OC) = inp (M, C) W^T, W stored (OC, C).
    for (auto [out, in] : {std::pair{768, 768}, {2304, 768}, {3072, 768}, {768, 3072}})
      benchmark->Args({768, out, in, threads, 0, 1});
    // Linear backward: dinp = dout W (no, no) and dW = dout^T inp (yes, no).
    benchmark->Args({768, 768, 3072, threads, 1, 0});
    // More rows of activations (B*T = 3072).
    benchmark->Args({3072, 768, 768, threads, 0, 1});
  }
  benchmark->UseRealTime()->Unit(benchmark::kMillisecond);
}

BENCHMARK(pot_gemm)->Apply(gpt2_shapes);
#ifdef POT_HAVE_OPENBLAS
BENCHMARK(openblas_sgemm)->Apply(gpt2_shapes);
#endif

// One parallel_for call with an empty body, over and over: its fixed cost.
void time_empty_parallel_for(benchmark::State& state, pot::linalg::execution settings) {
  for (auto _ : state) {
    pot::linalg::parallel_for(0, 64, [](std::size_t first, std::size_t last) {
      benchmark::DoNotOptimize(first + last);
    }, settings);
  }
}

// Starting and joining the workers of each call: the fixed cost every multi-threaded
// gemm call pays without a pool.
void parallel_for_overhead(benchmark::State& state) {
  time_empty_parallel_for(state, {static_cast<unsigned>(state.range(0))});
}
BENCHMARK(parallel_for_overhead)->ArgName("threads")->Arg(1)->Arg(2)->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

// The same call on a thread_pool's workers, which stay alive (and poll) between calls:
// what each call of a training step pays when the caller owns a pool.
void parallel_for_overhead_pool(benchmark::State& state) {
  pot::linalg::thread_pool pool(static_cast<unsigned>(state.range(0)));
  time_empty_parallel_for(state, {0, &pool});
}
BENCHMARK(parallel_for_overhead_pool)->ArgName("threads")->Arg(1)->Arg(2)->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

}  // namespace

int main(int argc, char** argv) { return pot::bench::run(argc, argv); }
