// Quickstart: quantize a few float weights to 4-bit powers of two, multiply int8
// activations by them with shifts, and compare with the float computation.
//
// The format is the paper's pot<4, 0, 7>: a sign and a 3-bit exponent, values
// ±1, ±2, ..., ±128, scaled per tensor by scale = max|w| / 2^7 so that the largest
// weight maps onto ±128. Then w ≈ scale * p and  w * x ≈ scale * (p * x), where
// p * x is an integer shift.
#include <pot/core/packing.hpp>
#include <pot/core/pot.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <vector>

int main() {
  using weight_pot = pot::pot<4, 0, 7>;

  const std::array<float, 8> weights{0.42f, -0.07f, 0.013f, -0.9f, 0.25f, 0.0031f, -0.5f, 0.11f};
  const std::array<std::int8_t, 8> activations{17, -3, 127, 45, -128, 9, 64, -77};

  float largest = 0.0f;
  for (const float w : weights) largest = std::max(largest, std::fabs(w));
  const float scale = largest / 128.0f;  // 2^MaxExp = 2^7

  std::printf("scale = max|w| / 2^7 = %.6f\n\n", static_cast<double>(scale));
  std::printf("%9s %6s %6s %10s %12s %10s\n", "w", "p", "x", "p*x shift", "scale*(p*x)",
              "w*x float");

  std::vector<std::uint8_t> codes;
  long long shifted_dot = 0;
  double float_dot = 0.0;
  bool all_exact = true;
  for (std::size_t i = 0; i < weights.size(); ++i) {
    const weight_pot p(weights[i] / scale);
    codes.push_back(p.code());

    const auto shifted = p * activations[i];  // a shift: x << exponent, negated by the sign
    // The exact product in double: 2^e * x needs at most 15 bits, so it is exact.
    const double exact = static_cast<double>(p) * activations[i];
    if (static_cast<double>(shifted) != exact) {
      std::fprintf(stderr, "quickstart: %g * %d by shift gave %lld, exactly it is %g\n",
                   static_cast<double>(p), activations[i], static_cast<long long>(shifted), exact);
      all_exact = false;
    }
    shifted_dot += shifted;
    float_dot += static_cast<double>(weights[i]) * activations[i];

    std::printf("%9.4f %6g %6d %10lld %12.4f %10.4f\n", static_cast<double>(weights[i]),
                static_cast<double>(p), activations[i], static_cast<long long>(shifted),
                static_cast<double>(scale) * static_cast<double>(shifted),
                static_cast<double>(weights[i]) * activations[i]);
  }

  // The scale is applied once, after the integer accumulation.
  const double pot_dot = static_cast<double>(scale) * static_cast<double>(shifted_dot);
  std::printf("\ndot(w, x): float %.4f, PoT %.4f (integer sum %lld times scale), "
              "difference %.4f\n",
              float_dot, pot_dot, shifted_dot, pot_dot - float_dot);

  std::vector<std::byte> packed(pot::packed_bytes(codes.size(), weight_pot::bits));
  pot::pack_codes(codes, weight_pot::bits, packed);
  const std::size_t float_bytes = weights.size() * sizeof(float);
  std::printf("memory: %zu weights take %zu bytes as float32, %zu bytes as packed 4-bit codes "
              "(+4 for the scale): %.1f%% saved\n",
              weights.size(), float_bytes, packed.size(),
              100.0 * (1.0 - static_cast<double>(packed.size()) / static_cast<double>(float_bytes)));

  if (!all_exact) return 1;
  std::printf("every shift product equals the exact product\n");
  return 0;
}
