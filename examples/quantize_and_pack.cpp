// Quantize a float weight matrix to 4-bit powers of two and pack it.
//
// An 8 x 20 matrix of random normal weights (std 0.02, as GPT-2's initialization) is
// quantized per output channel (row) to the paper's pot<4, 0, 7>: w ≈ scale * (±2^e),
// e in 0..7. Two scale rules are compared: the paper's max rule, scale = max|w| / 2^7,
// and the error-minimising search. The codes are packed two per byte in a
// pot::packed_matrix.
//
// Checked, independently of the library's decoding: every unpacked weight equals
// scale * (±2^e) read by hand from its code (sign bit 3, exponent in bits 0..2), the
// largest weight of each row comes back exactly under the max rule, and the search's
// squared error is never above the max rule's. Exits 1 on a mismatch.
#include <pot/core/io.hpp>
#include <pot/core/pot.hpp>
#include <pot/quant/packed_matrix.hpp>
#include <pot/quant/pot_quantizer.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <random>
#include <span>
#include <vector>

namespace {

using weight_pot = pot::pot<4, 0, 7>;
constexpr std::size_t rows = 8;   // output channels
constexpr std::size_t cols = 20;  // inputs

// The weight a code stands for, decoded by hand from the documented code layout
// (docs/number-format.md) rather than through the library.
double weight_from_code(unsigned code, float scale) {
  const bool negative = (code & 0b1000u) != 0;
  const int exponent = static_cast<int>(code & 0b0111u);  // MinExp = 0: the index is e
  return static_cast<double>(scale) * std::ldexp(negative ? -1.0 : 1.0, exponent);
}

// Sum over row r of (w - dequantized w)^2, in double.
double row_squared_error(std::span<const float> weights, std::span<const float> dequantized,
                         std::size_t r) {
  double sum = 0.0;
  for (std::size_t c = 0; c < cols; ++c) {
    const double error = static_cast<double>(weights[r * cols + c]) - dequantized[r * cols + c];
    sum += error * error;
  }
  return sum;
}

}  // namespace

int main() {
  std::mt19937 rng(2024);
  std::normal_distribution<float> gpt2_init(0.0f, 0.02f);
  std::vector<float> weights(rows * cols);  // (rows, cols), row-major
  for (float& w : weights) w = gpt2_init(rng);

  // Quantize and pack in one step: one scale per row, chosen by the rule.
  const pot::packed_matrix<weight_pot> max_rule(weights, rows, cols,
                                                pot::scale_granularity::per_channel,
                                                pot::scale_rule::max_abs);
  const pot::packed_matrix<weight_pot> searched(weights, rows, cols,
                                                pot::scale_granularity::per_channel,
                                                pot::scale_rule::min_error);

  std::printf("row 0, max rule (scale %.3e): code, value\n", static_cast<double>(max_rule.scale(0)));
  for (std::size_t c = 0; c < 6; ++c) {
    const weight_pot p = max_rule.value(0, c);
    std::printf("  w = %+.5f  code %2u %s  %+4g * scale = %+.5f\n",
                static_cast<double>(weights[c]), static_cast<unsigned>(p.code()),
                pot::to_binary(p).c_str(), static_cast<double>(p),
                static_cast<double>(max_rule.weight(0, c)));
  }

  std::printf("\nmemory of %zu x %zu weights: float32 %zu bytes; packed %zu bytes of codes + %zu "
              "of scales = %zu (%.1f%% saved); in memory, rows padded to %zu bytes: %zu\n",
              rows, cols, max_rule.float32_bytes(), max_rule.packed_code_bytes(),
              max_rule.scale_bytes(), max_rule.packed_bytes_total(),
              100.0 * max_rule.packed_saving(), max_rule.row_stride_bytes(),
              max_rule.padded_bytes_total());

  int failures = 0;
  const auto check_round_trip = [&](const pot::packed_matrix<weight_pot>& m, const char* name,
                                    std::vector<float>& dequantized) {
    std::vector<std::uint8_t> codes(rows * cols);
    m.unpack(codes);
    m.dequantize(dequantized);
    for (std::size_t r = 0; r < rows; ++r)
      for (std::size_t c = 0; c < cols; ++c) {
        const double expected = weight_from_code(codes[r * cols + c], m.scale(r));
        if (static_cast<double>(dequantized[r * cols + c]) != expected) {
          std::printf("%s (%zu, %zu): code %u unpacks to %g, expected %g\n", name, r, c,
                      static_cast<unsigned>(codes[r * cols + c]),
                      static_cast<double>(dequantized[r * cols + c]), expected);
          ++failures;
        }
      }
  };
  std::vector<float> max_rule_weights(rows * cols);
  std::vector<float> searched_weights(rows * cols);
  check_round_trip(max_rule, "max rule", max_rule_weights);
  check_round_trip(searched, "search", searched_weights);

  std::printf("\nsquared error per row: max rule, search (scale / max-rule scale)\n");
  double max_rule_total = 0.0;
  double searched_total = 0.0;
  for (std::size_t r = 0; r < rows; ++r) {
    // Under the max rule the largest |w| of a row maps onto ±2^7 exactly.
    float largest = 0.0f;
    for (std::size_t c = 0; c < cols; ++c)
      if (std::fabs(weights[r * cols + c]) > std::fabs(largest)) largest = weights[r * cols + c];
    for (std::size_t c = 0; c < cols; ++c)
      if (weights[r * cols + c] == largest && max_rule_weights[r * cols + c] != largest) {
        std::printf("row %zu: the largest weight %g came back as %g\n", r,
                    static_cast<double>(largest), static_cast<double>(max_rule_weights[r * cols + c]));
        ++failures;
      }

    // The search tries the max rule's scale first, so it can only do better, row by row.
    const double max_rule_error = row_squared_error(weights, max_rule_weights, r);
    const double searched_error = row_squared_error(weights, searched_weights, r);
    std::printf("  row %zu: %.3e  %.3e (%.3f)\n", r, max_rule_error, searched_error,
                static_cast<double>(searched.scale(r) / max_rule.scale(r)));
    if (searched_error > max_rule_error) {
      std::printf("row %zu: the search's error %g exceeds the max rule's %g\n", r, searched_error,
                  max_rule_error);
      ++failures;
    }
    max_rule_total += max_rule_error;
    searched_total += searched_error;
  }
  std::printf("  total: %.3e  %.3e (search: %.1f%% less)\n", max_rule_total, searched_total,
              100.0 * (1.0 - searched_total / max_rule_total));

  std::printf("%s: %d mismatch(es)\n", failures == 0 ? "ok" : "FAILED", failures);
  return failures == 0 ? 0 : 1;
}
