#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <stdexcept>
#include <vector>

#include "../isa_variants.hpp"
#include "pot/linalg/int8_gemv.hpp"
#include "pot/quant/int8_matrix.hpp"

TEST_CASE("int8_matrix: per-row scale max|w| / 127, codes rounded to nearest, even on ties") {
  // Row 0: max 1.27 -> scale 0.01 (the codes are w * (127 / 1.27f) in float): -0.635
  // gives the tie -63.5, which rounds to the even -64, and 0.02 gives 2. Row 1: zeros.
  const std::vector<float> w{1.27f, -0.635f, 0.02f, -1.27f, 0.0f, 0.0f, 0.0f, 0.0f};
  const pot::int8_matrix m(w, 2, 4);
  CHECK(m.scale(0) == doctest::Approx(0.01f).epsilon(1e-6));
  CHECK(m.row(0)[0] == 127);
  CHECK(m.row(0)[1] == -64);  // -63.5 rounds to the even -64
  CHECK(m.row(0)[2] == 2);
  CHECK(m.row(0)[3] == -127);
  CHECK(m.scale(1) == 0.0f);
  for (int c = 0; c < 4; ++c) CHECK(m.row(1)[c] == 0);
  std::vector<float> back(4);
  m.dequantize_row(0, back);
  CHECK(back[0] == doctest::Approx(1.27f).epsilon(1e-6));
  CHECK(back[1] == doctest::Approx(-0.64f).epsilon(1e-6));
  CHECK(m.row_stride_bytes() == 64);
  CHECK(m.packed_bytes_total() == 8 + 2 * sizeof(float));
}

TEST_CASE("int8_matrix rejects bad input with a message") {
  const std::vector<float> three(3, 1.0f);
  CHECK_THROWS_WITH_AS(pot::int8_matrix(three, 2, 2), doctest::Contains("given 3 weights"), std::invalid_argument);
  CHECK_THROWS_AS(pot::int8_matrix(three, 0, 3), std::invalid_argument);
  const std::vector<float> nan{1.0f, std::numeric_limits<float>::quiet_NaN()};
  CHECK_THROWS_WITH_AS(pot::int8_matrix(nan, 1, 2), doctest::Contains("(0, 1) is not finite"), std::invalid_argument);
  const std::vector<std::int8_t> codes{1, -128};
  CHECK_THROWS_WITH_AS(pot::int8_matrix(1, 2, codes, {1.0f}), doctest::Contains("is -128"), std::invalid_argument);
  const pot::int8_matrix m(three, 1, 3);
  std::vector<float> wrong(2), out(1);
  std::vector<float> row(3);
  CHECK_THROWS_AS(m.dequantize_row(1, row), std::out_of_range);
  CHECK_THROWS_WITH_AS(pot::linalg::int8_gemv(m, wrong, out), doctest::Contains("K = 2"), std::invalid_argument);
}

TEST_CASE("int8_gemv is within the summation bound of the exact product, on every instruction set and thread count") {
  // Products x * code are exact in float (code has 8 bits, x 24), so only the K - 1
  // additions and the scale multiply round: |out - exact| <= K u sum |x code| scale + u |exact|.
  std::mt19937 rng(3);
  std::normal_distribution<float> normal;
  for (const std::size_t rows : {std::size_t{1}, std::size_t{5}, std::size_t{17}})
    for (const std::size_t cols : {std::size_t{1}, std::size_t{3}, std::size_t{17}, std::size_t{63}, std::size_t{65},
                                   std::size_t{1000}}) {
      std::vector<float> w(rows * cols), x(cols);
      for (auto& v : w) v = normal(rng);
      for (auto& v : x) v = normal(rng);
      const pot::int8_matrix m(w, rows, cols);
      pot::test::for_each_supported_isa([&](pot::simd::isa) {
        std::vector<float> one(rows), three(rows);
        pot::linalg::int8_gemv(m, x, one, {1});
        pot::linalg::int8_gemv(m, x, three, {3});
        CHECK(one == three);
        for (std::size_t r = 0; r < rows; ++r) {
          double exact = 0, magnitude = 0;
          for (std::size_t k = 0; k < cols; ++k) {
            const double product = double{x[k]} * m.row(r)[k];
            exact += product;
            magnitude += std::abs(product);
          }
          exact *= m.scale(r);
          const double bound = static_cast<double>(cols) * 0x1p-24 * magnitude * m.scale(r) + 0x1p-24 * std::abs(exact);
          INFO("row ", r, " of ", rows, " x ", cols);
          CHECK(std::abs(double{one[r]} - exact) <= bound);
        }
      });
    }
}
