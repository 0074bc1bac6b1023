// Forward + backward time of the transformer layers (float), next to the same layer code
// with every matrix product on linalg's naive reference loop, at GPT-2 small and the
// paper's nanoGPT shapes. Figures and the command are in docs/benchmarks.md, "Layers".
//
// GPT-2 small at T = 256 and 1024
// is registered only with --large_shapes: on the naive path one step takes minutes.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <compare>
#include <cstring>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "pot/nn/adamw.hpp"
#include "pot/nn/attention.hpp"
#include "pot/nn/gelu.hpp"
#include "pot/nn/layernorm.hpp"
#include "pot/nn/softmax.hpp"
#include "pot/nn/transformer_block.hpp"

#include "bench_main.hpp"

namespace {

/// A float that linalg::gemm does not recognise, so every matrix product of a layer
/// instantiated with it runs gemm_reference (the naive triple loop); all other arithmetic
/// compiles to the same float code.
struct naive_float {
  float value;
  template <class A>
    requires std::is_arithmetic_v<A>
  constexpr naive_float(A v) : value(static_cast<float>(v)) {}  // NOLINT: as float converts
  constexpr naive_float() : value(0.0f) {}
  friend naive_float operator+(naive_float a, naive_float b) { return a.value + b.value; }
  friend naive_float operator-(naive_float a, naive_float b) { return a.value - b.value; }
  friend naive_float operator*(naive_float a, naive_float b) { return a.value * b.value; }
  friend naive_float operator/(naive_float a, naive_float b) { return a.value / b.value; }
  naive_float& operator+=(naive_float b) { value += b.value; return *this; }
  naive_float& operator*=(naive_float b) { value *= b.value; return *this; }
  friend bool operator==(naive_float a, naive_float b) { return a.value == b.value; }
  friend naive_float exp(naive_float a) { return std::exp(a.value); }
  friend naive_float log(naive_float a) { return std::log(a.value); }
  friend naive_float sqrt(naive_float a) { return std::sqrt(a.value); }
  friend naive_float tanh(naive_float a) { return std::tanh(a.value); }
  friend naive_float max(naive_float a, naive_float b) { return a.value < b.value ? b : a; }
};

template <class Scalar>
std::vector<Scalar> random_values(std::size_t n, float spread, unsigned seed) {
  std::mt19937 engine(seed);
  std::normal_distribution<float> normal(0.0f, spread);
  std::vector<Scalar> values(n);
  for (Scalar& v : values) v = Scalar(normal(engine));
  return values;
}

/// A benchmarked shape: batch, sequence, channels, heads, and threads for the GEMMs.
struct bench_shape {
  std::size_t B, T, C, NH;
  unsigned threads;
};

/// layernorm forward + backward; Accumulator float or double (the choice in accumulator.hpp).
template <class Accumulator>
void layernorm_fwd_bwd(benchmark::State& state, bench_shape shape) {
  const auto [B, T, C, NH, threads] = shape;
  const std::vector<float> inp = random_values<float>(B * T * C, 1.0f, 1);
  const std::vector<float> weight = random_values<float>(C, 1.0f, 2), bias = random_values<float>(C, 1.0f, 3);
  const std::vector<float> dout = random_values<float>(B * T * C, 1.0f, 4);
  std::vector<float> out(B * T * C), mean(B * T), rstd(B * T), dinp(B * T * C), dweight(C), dbias(C);
  for (auto _ : state) {
    pot::nn::layernorm_forward<float, Accumulator>(out.data(), mean.data(), rstd.data(), inp.data(),
                                                   weight.data(), bias.data(), B, T, C);
    pot::nn::layernorm_backward<float, Accumulator>(dinp.data(), dweight.data(), dbias.data(),
                                                    dout.data(), inp.data(), weight.data(),
                                                    mean.data(), rstd.data(), B, T, C);
    benchmark::ClobberMemory();
  }
}

/// GELU forward + backward over the MLP's (B, T, 4C) activations.
void gelu_fwd_bwd(benchmark::State& state, bench_shape shape) {
  const std::size_t N = shape.B * shape.T * 4 * shape.C;
  const std::vector<float> inp = random_values<float>(N, 1.0f, 1), dout = random_values<float>(N, 1.0f, 2);
  std::vector<float> out(N), dinp(N);
  for (auto _ : state) {
    pot::nn::gelu_forward(out.data(), inp.data(), N);
    pot::nn::gelu_backward(dinp.data(), inp.data(), dout.data(), N);
    benchmark::ClobberMemory();
  }
}

/// softmax forward + backward over attention's (B, NH, T, T) score rows.
void softmax_fwd_bwd(benchmark::State& state, bench_shape shape) {
  const std::size_t rows = shape.B * shape.NH * shape.T, cols = shape.T;
  const std::vector<float> inp = random_values<float>(rows * cols, 3.0f, 1);
  const std::vector<float> dprobs = random_values<float>(rows * cols, 1.0f, 2);
  std::vector<float> probs(rows * cols), dinp(rows * cols);
  for (auto _ : state) {
    pot::nn::softmax_forward(probs.data(), inp.data(), rows, cols);
    pot::nn::softmax_backward(dinp.data(), probs.data(), dprobs.data(), rows, cols);
    benchmark::ClobberMemory();
  }
}

/// One AdamW update of a block's parameters (12 C^2 + 13 C values).
void adamw_block(benchmark::State& state, bench_shape shape) {
  const std::size_t n = pot::nn::block_parameter_count(shape.C);
  std::vector<float> params = random_values<float>(n, 0.02f, 1), m(n), v(n);
  const std::vector<float> grads = random_values<float>(n, 0.01f, 2);
  for (auto _ : state) {
    pot::nn::adamw_update(params.data(), grads.data(), m.data(), v.data(), n, 10, {}, true);
    benchmark::ClobberMemory();
  }
}

/// attention forward + backward over a random qkv.
template <class Scalar>
void attention_fwd_bwd(benchmark::State& state, bench_shape shape) {
  const auto [B, T, C, NH, threads] = shape;
  const pot::linalg::execution exec{threads};
  const std::vector<Scalar> qkv = random_values<Scalar>(B * T * 3 * C, 1.0f, 1);
  const std::vector<Scalar> dout = random_values<Scalar>(B * T * C, 1.0f, 2);
  std::vector<Scalar> out(B * T * C), att(B * NH * T * T), dqkv(B * T * 3 * C);
  for (auto _ : state) {
    pot::nn::attention_forward(out.data(), att.data(), qkv.data(), B, T, C, NH, exec);
    pot::nn::attention_backward(dqkv.data(), dout.data(), qkv.data(), att.data(), B, T, C, NH,
                                exec);
    benchmark::ClobberMemory();
  }
}

/// A whole transformer block, forward + backward, with GPT-2's initialisation scale.
template <class Scalar>
void block_fwd_bwd(benchmark::State& state, bench_shape sizes) {
  const pot::nn::block_shape shape{sizes.B, sizes.T, sizes.C, sizes.NH};
  const pot::linalg::execution exec{sizes.threads};
  const std::size_t N = shape.B * shape.T * shape.C;
  const std::vector<Scalar> params = random_values<Scalar>(pot::nn::block_parameter_count(shape.C), 0.02f, 1);
  std::vector<Scalar> grads(params.size());
  const std::vector<Scalar> inp = random_values<Scalar>(N, 1.0f, 2), dout = random_values<Scalar>(N, 1.0f, 3);
  std::vector<Scalar> out(N), dresidual(N);
  pot::nn::transformer_block<Scalar> block(shape);
  typename pot::nn::transformer_block<Scalar>::scratch work(shape);
  const auto p = pot::nn::block_tensors_in(params.data(), shape.C);
  const auto g = pot::nn::block_tensors_in(grads.data(), shape.C);
  for (auto _ : state) {
    block.forward(out.data(), inp.data(), shape.B, shape.T, p, exec);
    std::copy(dout.begin(), dout.end(), dresidual.begin());
    block.backward(dresidual.data(), g, inp.data(), p, work, exec);
    benchmark::ClobberMemory();
  }
}

template <class Function>
void register_benchmark(const std::string& name, Function function, bench_shape shape) {
  const std::string label = name + "/B:" + std::to_string(shape.B) + "/T:" + std::to_string(shape.T) +
                            "/C:" + std::to_string(shape.C) + "/NH:" + std::to_string(shape.NH) +
                            "/threads:" + std::to_string(shape.threads);
  benchmark::RegisterBenchmark(label.c_str(), function, shape)->Unit(benchmark::kMillisecond);
}

void register_shape(std::size_t B, std::size_t T, std::size_t C, std::size_t NH) {
  register_benchmark("layernorm_fwd_bwd/acc:double", layernorm_fwd_bwd<double>, {B, T, C, NH, 1});
  register_benchmark("layernorm_fwd_bwd/acc:float", layernorm_fwd_bwd<float>, {B, T, C, NH, 1});
  register_benchmark("gelu_fwd_bwd", gelu_fwd_bwd, {B, T, C, NH, 1});
  register_benchmark("softmax_fwd_bwd", softmax_fwd_bwd, {B, T, C, NH, 1});
  register_benchmark("adamw_block", adamw_block, {B, T, C, NH, 1});
  for (unsigned threads : {1U, 2U}) {
    register_benchmark("attention_fwd_bwd/gemm", attention_fwd_bwd<float>, {B, T, C, NH, threads});
    register_benchmark("block_fwd_bwd/gemm", block_fwd_bwd<float>, {B, T, C, NH, threads});
  }
  register_benchmark("attention_fwd_bwd/naive", attention_fwd_bwd<naive_float>, {B, T, C, NH, 1});
  register_benchmark("block_fwd_bwd/naive", block_fwd_bwd<naive_float>, {B, T, C, NH, 1});
}

}  // namespace

int main(int argc, char** argv) {
  bool large_shapes = false;
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    if (std::strcmp(argv[i], "--large_shapes") == 0) large_shapes = true;
    else args.push_back(argv[i]);
  }
  register_shape(12, 64, 128, 4);  // the paper's nanoGPT
  register_shape(4, 64, 768, 12);  // GPT-2 small, short context
  if (large_shapes) {
    register_shape(4, 256, 768, 12);
    register_shape(4, 1024, 768, 12);
  }
  return pot::bench::run(static_cast<int>(args.size()), args.data());
}
