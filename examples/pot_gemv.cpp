// A PoT GEMV, y = W x, on the integer path, against a float GEMV.
//
// W (16 x 64, random normal like GPT-2's weights) is quantized per row to pot<4, 0, 7> and
// packed two codes per byte; x (64 activations) is quantized to uint8 with affine
// parameters from a min/max observer. pot::linalg::pot_gemv then computes, exactly in
// int32,
//     acc[r] = sum_k (q_k - zero_point) * (±2^(e_rk - MinExp))
// and one multiply per output brings it back to real units:
//     y[r] = 2^MinExp * weight_scale[r] * activation_scale * acc[r].
//
// Checked (exits 1 on a mismatch):
//   1. every kernel (reference, shift, table) and thread count gives the same integers;
//   2. y agrees, to float rounding, with a float GEMV (pot::linalg::gemm<float>) of the
//      dequantized weights and dequantized activations: the integer path adds no error
//      of its own;
//   3. the float-activation path (pot_gemv on float x) agrees, to float rounding, with the
//      float GEMV of the dequantized weights and the original x.
// Reported, not checked: the error of both against the original float W x, which is
// the quantization error.
#include <pot/core/pot.hpp>
#include <pot/linalg/execution.hpp>
#include <pot/linalg/gemm.hpp>
#include <pot/linalg/pot_gemv.hpp>
#include <pot/linalg/pot_weights.hpp>
#include <pot/quant/affine/observer.hpp>
#include <pot/quant/affine/quantize.hpp>
#include <pot/quant/packed_matrix.hpp>

#include <cfloat>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <random>
#include <span>
#include <vector>

namespace {

using weight_pot = pot::pot<4, 0, 7>;
constexpr std::size_t outputs = 16;  // N, rows of W
constexpr std::size_t depth = 64;    // K, columns of W

// y = W x in float through the library's float GEMM: (N, K) times (K, 1).
std::vector<float> float_gemv(const std::vector<float>& w, const std::vector<float>& x) {
  std::vector<float> y(outputs);
  pot::linalg::gemm<float>(pot::linalg::transpose::no, pot::linalg::transpose::no, outputs, 1,
                           depth, 1.0f, w.data(), depth, x.data(), 1, 0.0f, y.data(), 1);
  return y;
}

// y = W x in double, the unquantized answer.
std::vector<double> exact_gemv(const std::vector<float>& w, const std::vector<float>& x) {
  std::vector<double> y(outputs, 0.0);
  for (std::size_t r = 0; r < outputs; ++r)
    for (std::size_t k = 0; k < depth; ++k)
      y[r] += static_cast<double>(w[r * depth + k]) * static_cast<double>(x[k]);
  return y;
}

// Two float computations of the same sum of K products differ by at most about
// (K + 2) * FLT_EPSILON * sum_k |w_k x_k| (the textbook bound on a float dot product,
// with room for the rounding of the dequantized inputs and of the final rescale).
int count_disagreements(std::span<const float> got, std::span<const float> expected,
                        const std::vector<float>& w, const std::vector<float>& x, const char* what) {
  int disagreements = 0;
  for (std::size_t r = 0; r < outputs; ++r) {
    double magnitude = 0.0;
    for (std::size_t k = 0; k < depth; ++k)
      magnitude += std::fabs(static_cast<double>(w[r * depth + k]) * static_cast<double>(x[k]));
    const double tolerance = static_cast<double>(depth + 2) * FLT_EPSILON * magnitude;
    const double difference = std::fabs(static_cast<double>(got[r]) - expected[r]);
    if (difference > tolerance) {
      std::printf("%s, output %zu: %.9g vs %.9g (difference %.3g > %.3g)\n", what, r,
                  static_cast<double>(got[r]), static_cast<double>(expected[r]), difference,
                  tolerance);
      ++disagreements;
    }
  }
  return disagreements;
}

// sqrt(sum (y - exact)^2 / sum exact^2).
double relative_error(std::span<const float> y, const std::vector<double>& exact) {
  double error = 0.0;
  double norm = 0.0;
  for (std::size_t r = 0; r < outputs; ++r) {
    error += (y[r] - exact[r]) * (y[r] - exact[r]);
    norm += exact[r] * exact[r];
  }
  return std::sqrt(error / norm);
}

}  // namespace

int main() {
  std::mt19937 rng(7);
  std::normal_distribution<float> gpt2_init(0.0f, 0.02f);
  std::uniform_real_distribution<float> activation_value(-0.5f, 3.0f);
  std::vector<float> w(outputs * depth);  // (N, K), row-major
  std::vector<float> x(depth);            // (K)
  for (float& v : w) v = gpt2_init(rng);
  for (float& v : x) v = activation_value(rng);

  // Weights: per-channel scales by the paper's rule, codes packed two per byte.
  const pot::packed_matrix<weight_pot> packed(w, outputs, depth);
  const pot::linalg::packed_weights_view<weight_pot> weights{
      packed.data(), packed.rows(), packed.cols(), packed.row_stride_bytes(), packed.scales()};

  // Activations: affine uint8 parameters from the observed range, as PyTorch computes them.
  pot::min_max_observer<std::uint8_t> observer;
  observer.observe(x);
  const pot::affine_params<std::uint8_t> activation = observer.calculate_qparams();
  std::vector<std::uint8_t> q(depth);
  pot::quantize<std::uint8_t>(x, activation, q);
  std::printf("activations: scale %.5f, zero point %d; int32 is exact up to K = %zu\n",
              static_cast<double>(activation.scale), activation.zero_point,
              pot::linalg::max_exact_int32_depth<weight_pot>);

  // 1. The exact integer products; every kernel and thread count must agree bit for bit.
  std::vector<std::int32_t> acc(outputs);
  pot::linalg::pot_gemv<weight_pot, std::uint8_t>(weights, q, activation.zero_point, acc);
  int failures = 0;
  for (const auto kernel : {pot::linalg::pot_kernel::reference, pot::linalg::pot_kernel::shift,
                            pot::linalg::pot_kernel::table})
    for (const unsigned threads : {1u, 2u}) {
      std::vector<std::int32_t> other(outputs);
      pot::linalg::pot_gemv<weight_pot, std::uint8_t>(weights, q, activation.zero_point, other,
                                                      kernel, pot::linalg::execution{threads});
      if (other != acc) {
        std::printf("kernel %d on %u thread(s) gave other integers\n", static_cast<int>(kernel),
                    threads);
        ++failures;
      }
    }

  // The rescale: one multiply per output, after the integer sum.
  std::vector<float> y_integer(outputs);
  for (std::size_t r = 0; r < outputs; ++r)
    y_integer[r] = static_cast<float>(std::ldexp(static_cast<double>(packed.scale(r)) *
                                                     static_cast<double>(activation.scale),
                                                 weight_pot::min_exponent) *
                                      acc[r]);

  // 2. The same product in float from the dequantized operands.
  std::vector<float> w_dequantized(outputs * depth);
  std::vector<float> x_dequantized(depth);
  packed.dequantize(w_dequantized);
  pot::dequantize<std::uint8_t>(q, activation, x_dequantized);
  failures += count_disagreements(y_integer, float_gemv(w_dequantized, x_dequantized),
                                  w_dequantized, x_dequantized, "integer path vs float GEMV");

  // 3. Float activations straight into the packed weights (decode + FMA).
  std::vector<float> y_float_activations(outputs);
  pot::linalg::pot_gemv<weight_pot>(weights, std::span<const float>(x), y_float_activations);
  failures += count_disagreements(y_float_activations, float_gemv(w_dequantized, x), w_dequantized,
                                  x, "float-activation path vs float GEMV");

  const std::vector<double> exact = exact_gemv(w, x);
  std::printf("\n%6s %12s %12s %12s\n", "output", "float W x", "PoT, uint8 x", "PoT, float x");
  for (std::size_t r = 0; r < 4; ++r)
    std::printf("%6zu %12.6f %12.6f %12.6f\n", r, exact[r], static_cast<double>(y_integer[r]),
                static_cast<double>(y_float_activations[r]));
  std::printf("quantization error against the float W x (relative, over all %zu outputs):\n"
              "  4-bit PoT weights and uint8 activations: %.3f\n"
              "  4-bit PoT weights, float activations:    %.3f\n",
              outputs, relative_error(y_integer, exact), relative_error(y_float_activations, exact));

  std::printf("%s: %d mismatch(es)\n", failures == 0 ? "ok" : "FAILED", failures);
  return failures == 0 ? 0 : 1;
}
