// PoT GEMV at GPT-2 shapes, weights streamed from memory: every kernel of
// linalg/pot_gemv.hpp (4-bit pot<4, 0, 7> weights, int8 or float activations; and the
// paper's [-2^5, 2^5] format pot<4, 0, 5>, whose table kernel takes the vpmaddubsw
// path) next to
// OpenBLAS cblas_sgemv on float weights, and a streaming-sum read-bandwidth figure
// measured in the same program. The plain names run the instruction set the kernels
// choose; NAME@ISA runs them forced to each instruction set this CPU supports.
//
// Each benchmark cycles through enough copies of its weight matrix to span >= 96 MiB,
// three times a 32 MiB L3, so every pass reads the weights from DRAM. The counter
// "weight_GBps" is weight bytes read per second; compare it with read_bandwidth's
// "GBps". Arguments: {K (inputs), N (outputs), threads}.

#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <stdexcept>
#include <vector>

#include "pot/core/packing.hpp"
#include "pot/core/pot.hpp"
#include "pot/linalg/pot_gemv.hpp"

#include "bench_main.hpp"

namespace {

using weight_format = pot::pot<4, 0, 7>;   // range 7: the int16 (vpmaddwd) table kernel
using int8_format = pot::pot<4, 0, 5>;     // range 5: the uint8 x int8 (vpmaddubsw) table kernel
constexpr std::size_t kStreamBytes = std::size_t{96} << 20;

std::size_t copies_for(std::size_t bytes) { return std::max<std::size_t>(1, kStreamBytes / bytes); }

/// Every code of P that stands for a value (from_code throws on the others).
template <class P>
std::vector<unsigned> valid_codes() {
  std::vector<unsigned> codes;
  for (unsigned code = 0; code < 16; ++code) {
    try {
      (void)P::from_code(static_cast<typename P::code_type>(code));
      codes.push_back(code);
    } catch (const std::invalid_argument&) {
    }
  }
  return codes;
}

/// `copies` packed 4-bit matrices of N x K random valid codes of P, one contiguous buffer.
template <class P = weight_format>
struct packed_copies {
  std::size_t stride, matrix_bytes, copies;
  std::vector<std::byte> bytes;
  std::vector<float> scales;
  packed_copies(std::size_t N, std::size_t K)
      : stride((pot::packed_bytes(K, 4) + 63) / 64 * 64), matrix_bytes(N * stride),
        copies(copies_for(N * stride)), bytes(copies * N * stride), scales(N, 0.01f) {
    const auto codes = valid_codes<P>();
    std::mt19937 rng(1);
    std::uniform_int_distribution<std::size_t> pick(0, codes.size() - 1);
    for (auto& b : bytes) b = static_cast<std::byte>(codes[pick(rng)] | codes[pick(rng)] << 4);
  }
  pot::linalg::packed_weights_view<P> view(std::size_t copy, std::size_t N, std::size_t K) const {
    return {bytes.data() + copy * matrix_bytes, N, K, stride, scales};
  }
};

void report(benchmark::State& state, std::size_t weight_bytes) {
  state.counters["weight_GBps"] = benchmark::Counter(
      static_cast<double>(weight_bytes) * static_cast<double>(state.iterations()) * 1e-9,
      benchmark::Counter::kIsRate);
}

template <pot::linalg::pot_kernel Kernel, class P = weight_format>
void pot_int8(benchmark::State& state) {
  const auto K = static_cast<std::size_t>(state.range(0)), N = static_cast<std::size_t>(state.range(1));
  const pot::linalg::execution threads{static_cast<unsigned>(state.range(2))};
  packed_copies<P> w(N, K);
  std::vector<std::int8_t> x(K, 3);
  std::vector<std::int32_t> y(N);
  std::size_t copy = 0;
  for (auto _ : state) {
    pot::linalg::pot_gemv<P, std::int8_t>(w.view(copy, N, K), x, -5, y, Kernel, threads);
    benchmark::DoNotOptimize(y.data());
    copy = (copy + 1) % w.copies;
  }
  report(state, w.matrix_bytes);
}

void pot_float_activations(benchmark::State& state) {
  const auto K = static_cast<std::size_t>(state.range(0)), N = static_cast<std::size_t>(state.range(1));
  const pot::linalg::execution threads{static_cast<unsigned>(state.range(2))};
  packed_copies<> w(N, K);
  std::vector<float> x(K, 0.5f), y(N);
  std::size_t copy = 0;
  for (auto _ : state) {
    pot::linalg::pot_gemv<weight_format>(w.view(copy, N, K), std::span<const float>(x), y,
                                         pot::linalg::pot_kernel::table, threads);
    benchmark::DoNotOptimize(y.data());
    copy = (copy + 1) % w.copies;
  }
  report(state, w.matrix_bytes);
}

#if defined(POT_HAVE_OPENBLAS)
void openblas_sgemv(benchmark::State& state) {
  const auto K = static_cast<std::size_t>(state.range(0)), N = static_cast<std::size_t>(state.range(1));
  openblas_set_num_threads(static_cast<int>(state.range(2)));
  const std::size_t matrix = N * K, copies = copies_for(matrix * sizeof(float));
  std::vector<float> a(copies * matrix, 0.25f), x(K, 0.5f), y(N);
  std::size_t copy = 0;
  for (auto _ : state) {
    cblas_sgemv(CblasRowMajor, CblasNoTrans, static_cast<int>(N), static_cast<int>(K), 1.0f,
                a.data() + copy * matrix, static_cast<int>(K), x.data(), 1, 0.0f, y.data(), 1);
    benchmark::DoNotOptimize(y.data());
    copy = (copy + 1) % copies;
  }
  report(state, matrix * sizeof(float));
}
#endif

/// The read-bandwidth floor: a vectorizable sum over 256 MiB (8 partial sums, so the adds
/// are never the limit).
void read_bandwidth(benchmark::State& state) {
  std::vector<std::uint64_t> data(std::size_t{32} << 20, 1);
  for (auto _ : state) {
    std::uint64_t partial[8] = {};
    for (std::size_t i = 0; i < data.size(); i += 8)
      for (std::size_t j = 0; j < 8; ++j) partial[j] += data[i + j];
    std::uint64_t total = 0;
    for (auto p : partial) total += p;
    benchmark::DoNotOptimize(total);
  }
  state.counters["GBps"] = benchmark::Counter(
      static_cast<double>(data.size() * sizeof(std::uint64_t)) * static_cast<double>(state.iterations()) * 1e-9,
      benchmark::Counter::kIsRate);
}

void gpt2_shapes(benchmark::internal::Benchmark* b) {
  for (const auto& [K, N] : {std::pair{768, 768}, {768, 2304}, {768, 3072}, {3072, 768}, {4096, 4096}})
    b->Args({K, N, 1});
  b->Args({4096, 4096, 2});
  b->ArgNames({"K", "N", "threads"})->Unit(benchmark::kMicrosecond)->UseRealTime();
}

/// The shapes the variants forced to each instruction set run at.
void forced_shapes(benchmark::internal::Benchmark* b) {
  b->Args({4096, 4096, 1})->Args({768, 3072, 1});
  b->ArgNames({"K", "N", "threads"})->Unit(benchmark::kMicrosecond)->UseRealTime();
}

BENCHMARK(read_bandwidth)->Unit(benchmark::kMillisecond)->UseRealTime();
#if defined(POT_HAVE_OPENBLAS)
BENCHMARK(openblas_sgemv)->Apply(gpt2_shapes);
#endif
BENCHMARK(pot_int8<pot::linalg::pot_kernel::table>)->Name("pot4_int8_table")->Apply(gpt2_shapes);
BENCHMARK(pot_int8<pot::linalg::pot_kernel::table, int8_format>)->Name("pot4r5_int8_table")->Apply(gpt2_shapes);
BENCHMARK(pot_int8<pot::linalg::pot_kernel::shift>)->Name("pot4_int8_shift")->Apply(gpt2_shapes);
BENCHMARK(pot_int8<pot::linalg::pot_kernel::reference>)->Name("pot4_int8_reference")
    ->Args({768, 768, 1})->ArgNames({"K", "N", "threads"})->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(pot_float_activations)->Name("pot4_float_table")->Apply(gpt2_shapes);

}  // namespace

int main(int argc, char** argv) {
  using pot::linalg::pot_kernel;
  pot::bench::register_forced_variants("pot4_int8_table", pot_int8<pot_kernel::table>, forced_shapes);
  pot::bench::register_forced_variants("pot4r5_int8_table", pot_int8<pot_kernel::table, int8_format>, forced_shapes);
  pot::bench::register_forced_variants("pot4_int8_shift", pot_int8<pot_kernel::shift>, forced_shapes);
  pot::bench::register_forced_variants("pot4_float_table", pot_float_activations, forced_shapes);
  return pot::bench::run(argc, argv);
}
