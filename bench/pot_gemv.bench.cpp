// PoT GEMV at GPT-2 shapes, weights streamed from memory: every kernel of
// linalg/pot_gemv.hpp (4-bit pot<4, 0, 7> weights, int8 or float activations; and the
// paper's [-2^5, 2^5] format pot<4, 0, 5>) next to OpenBLAS cblas_sgemv on float
// weights, and the read bandwidth of one core measured in the same program.
// The plain names run the instruction set the kernels choose; NAME@ISA runs them forced
// to each instruction set this CPU supports.
//
// The weights are what the library makes of a trained layer: N(0, 1) floats quantized
// by packed_matrix with the paper's rule, one scale max|w| / 2^MaxExp per tensor (so
// that, as in a real model, only the largest weights reach 2^MaxExp); the `_per_channel`
// rows take one scale per row, where every row holds such weights.
// Each benchmark cycles through enough copies of its weight matrix to span
// stream_bytes(): at least twice this CPU's last-level cache and 256 MiB, so that every
// pass reads the weights from DRAM, for OpenBLAS as for pot. The counter "weight_GBps"
// is weight bytes read per second; compare it with read_bandwidth's "GBps", a sum over
// as many bytes with the widest vector loads of the instruction set the kernels run.
// Arguments: {K (inputs), N (outputs), threads}.

#include <benchmark/benchmark.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <stdexcept>
#include <tuple>
#include <vector>

#include "pot/core/packing.hpp"
#include "pot/core/pot.hpp"
#include "pot/linalg/pot_gemv.hpp"
#include "pot/linalg/thread_pool.hpp"
#include "pot/quant/packed_matrix.hpp"

#include "bench_main.hpp"
#include "streaming_read.hpp"

namespace {

using weight_format = pot::pot<4, 0, 7>;   // range 7: int8 with the +128 correction (AVX-512), else int16
using int8_format = pot::pot<4, 0, 5>;     // range 5: int8 on every instruction set

/// The threads of a benchmark's argument: on a pool of that many threads (as a program
/// that multiplies repeatedly keeps one), or on the calling thread alone.
struct bench_threads {
  std::unique_ptr<pot::linalg::thread_pool> pool;
  pot::linalg::execution settings;
  explicit bench_threads(std::int64_t threads)
      : pool(threads > 1 ? std::make_unique<pot::linalg::thread_pool>(static_cast<unsigned>(threads)) : nullptr),
        settings{static_cast<unsigned>(threads), pool.get()} {}
};

/// Bytes every benchmark streams through: twice the last-level cache, at least 256 MiB.
std::size_t stream_bytes() {
  const long l3 = sysconf(_SC_LEVEL3_CACHE_SIZE);  // 0 or -1 where glibc cannot tell
  return std::max<std::size_t>(std::size_t{256} << 20, l3 > 0 ? 2 * static_cast<std::size_t>(l3) : 0);
}

std::size_t copies_for(std::size_t bytes) { return std::max<std::size_t>(1, stream_bytes() / bytes); }

/// N x K weights N(0, 1) quantized to P with one scale per tensor (or per row), packed
/// once per shape and kept for every benchmark of that shape.
template <class P>
const pot::packed_matrix<P>& gaussian_weights(std::size_t N, std::size_t K, pot::scale_granularity granularity) {
  static std::map<std::tuple<std::size_t, std::size_t, pot::scale_granularity>, pot::packed_matrix<P>> made;
  const auto key = std::tuple{N, K, granularity};
  if (const auto found = made.find(key); found != made.end()) return found->second;
  std::mt19937 rng(1);
  std::normal_distribution<float> normal;
  std::vector<float> weights(N * K);
  for (auto& w : weights) w = normal(rng);
  return made.emplace(key, pot::packed_matrix<P>(weights, N, K, granularity)).first->second;
}

/// `copies` copies of one packed matrix in one contiguous buffer, each a view with the
/// matrix's scales and row statistics.
template <class P = weight_format>
struct packed_copies {
  const pot::packed_matrix<P>& matrix;
  std::size_t matrix_bytes, copies;
  std::vector<std::byte> bytes;
  packed_copies(std::size_t N, std::size_t K, pot::scale_granularity granularity = pot::scale_granularity::per_tensor)
      : matrix(gaussian_weights<P>(N, K, granularity)), matrix_bytes(matrix.padded_code_bytes()),
        copies(copies_for(matrix_bytes)), bytes(copies * matrix_bytes) {
    for (std::size_t c = 0; c < copies; ++c) std::memcpy(bytes.data() + c * matrix_bytes, matrix.data(), matrix_bytes);
  }
  pot::linalg::packed_weights_view<P> view(std::size_t copy) const {
    return {bytes.data() + copy * matrix_bytes, matrix.rows(), matrix.cols(), matrix.row_stride_bytes(),
            matrix.scales(), matrix.row_statistics()};
  }
};

void report(benchmark::State& state, std::size_t weight_bytes) {
  state.counters["weight_GBps"] = benchmark::Counter(
      static_cast<double>(weight_bytes) * static_cast<double>(state.iterations()) * 1e-9,
      benchmark::Counter::kIsRate);
}

template <pot::linalg::pot_kernel Kernel, class P = weight_format,
          pot::scale_granularity Granularity = pot::scale_granularity::per_tensor>
void pot_int8(benchmark::State& state) {
  const auto K = static_cast<std::size_t>(state.range(0)), N = static_cast<std::size_t>(state.range(1));
  const bench_threads threads(state.range(2));
  const packed_copies<P> w(N, K, Granularity);
  std::vector<std::int8_t> x(K);
  std::mt19937 rng(2);
  for (auto& q : x) q = static_cast<std::int8_t>(std::uniform_int_distribution<int>(-128, 127)(rng));
  std::vector<std::int32_t> y(N);
  std::size_t copy = 0;
  for (auto _ : state) {
    pot::linalg::pot_gemv<P, std::int8_t>(w.view(copy), x, -5, y, Kernel, threads.settings);
    benchmark::DoNotOptimize(y.data());
    copy = (copy + 1) % w.copies;
  }
  report(state, w.matrix_bytes);
}

void pot_float_activations(benchmark::State& state) {
  const auto K = static_cast<std::size_t>(state.range(0)), N = static_cast<std::size_t>(state.range(1));
  const bench_threads threads(state.range(2));
  const packed_copies<> w(N, K);
  std::vector<float> x(K, 0.5f), y(N);
  std::size_t copy = 0;
  for (auto _ : state) {
    pot::linalg::pot_gemv<weight_format>(w.view(copy), std::span<const float>(x), y, pot::linalg::pot_kernel::table,
                                         threads.settings);
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

/// The read-bandwidth floor of one core: a sum over stream_bytes() with the widest
/// loads of the active instruction set (pot::bench::streaming_read), as many in flight
/// as the core allows.
void read_bandwidth(benchmark::State& state) {
  std::vector<std::uint64_t> data(stream_bytes() / sizeof(std::uint64_t), 1);
  for (auto _ : state) benchmark::DoNotOptimize(pot::bench::streaming_read(data));
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
BENCHMARK(pot_int8<pot::linalg::pot_kernel::table, weight_format, pot::scale_granularity::per_channel>)
    ->Name("pot4_int8_table_per_channel")
    ->Args({4096, 4096, 1})->ArgNames({"K", "N", "threads"})->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace

int main(int argc, char** argv) {
  using pot::linalg::pot_kernel;
  benchmark::AddCustomContext("stream_bytes", std::to_string(stream_bytes()));
  pot::bench::register_forced_variants("pot4_int8_table", pot_int8<pot_kernel::table>, forced_shapes);
  pot::bench::register_forced_variants("pot4r5_int8_table", pot_int8<pot_kernel::table, int8_format>, forced_shapes);
  pot::bench::register_forced_variants("pot4_int8_shift", pot_int8<pot_kernel::shift>, forced_shapes);
  pot::bench::register_forced_variants("pot4_float_table", pot_float_activations, forced_shapes);
  return pot::bench::run(argc, argv);
}
