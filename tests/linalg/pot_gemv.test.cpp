#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "pot/linalg/pot_gemv.hpp"
#include "../isa_variants.hpp"
#include "pot_test_weights.hpp"

namespace {

using pot::rounding;
using pot::zero_code;
using pot::linalg::pot_kernel;

// Every width 3..8, int8-table ranges (<= 6), int16-table ranges (7..14) and shift-only
// ranges (15..23), with and without a zero code, negative and positive MinExp. (Aliases,
// because the doctest macros split template arguments at their commas.)
using p3_zero = pot::pot<3, 0, 2>;
using p3_no_zero = pot::pot<3, -1, 2, rounding::log, zero_code::none>;
using p4_paper = pot::pot<4, 0, 7>;
using p4_zero = pot::pot<4, -2, 3>;
using p4_int8 = pot::pot<4, 0, 5>;            // the paper's [-2^5, 2^5] format
using p4_int8_widest = pot::pot<4, 0, 6, rounding::log, zero_code::none>;  // |w| = 64: vpmaddubsw's edge
using p5_int8 = pot::pot<5, 0, 6>;
using p5_int16 = pot::pot<5, 1, 15>;
using p6_int16 = pot::pot<6, -4, 10>;
using p6_shift = pot::pot<6, 3, 26>;
using p7_int16 = pot::pot<7, 0, 14>;
using p8_int8 = pot::pot<8, 0, 6>;
using p8_shift = pot::pot<8, -5, 15>;
using p8_widest = pot::pot<8, 0, 23, rounding::linear, zero_code::flush>;
using p6_float = pot::pot<6, -20, 10>;
using p8_float = pot::pot<8, -60, 60>;
#define POT_GEMV_FORMATS                                                                   \
  p3_zero, p3_no_zero, p4_paper, p4_zero, p4_int8, p4_int8_widest, p5_int8, p5_int16, p6_int16, p6_shift, p7_int16, \
      p8_int8, p8_shift, p8_widest

// 300: two whole 128-code blocks of the AVX-512 uint8 kernel and a tail, no 64-block.
constexpr std::size_t kShapes[] = {1, 3, 17, 63, 65, 300, 1000};

template <class P, class Q>
void check_all_kernels_exact(std::size_t rows, std::size_t cols, std::int32_t zero_point,
                             std::mt19937& rng) {
  const auto w = pot::test::random_weights<P>(rows, cols, rng);
  const auto x = pot::test::random_activations<Q>(cols, rng);
  pot::test::for_each_supported_isa([&](pot::simd::isa) {
    for (const auto kernel : {pot_kernel::reference, pot_kernel::shift, pot_kernel::table})
      for (const bool with_statistics : {false, true}) {
        if (with_statistics && kernel != pot_kernel::table) continue;  // only the table kernel reads them
        std::vector<std::int32_t> out(rows);
        pot::linalg::pot_gemv<P, Q>(with_statistics ? w.view_with_statistics() : w.view(), x, zero_point, out, kernel,
                                    {1});
        for (std::size_t r = 0; r < rows; ++r) {
          INFO("kernel ", static_cast<int>(kernel), " statistics ", with_statistics, " row ", r, " of ", rows, "x", cols);
          REQUIRE(out[r] == pot::test::exact_dot(w, r, x.data(), zero_point));
        }
      }
  });
}

}  // namespace

TEST_CASE_TEMPLATE("every integer GEMV kernel equals the exact dot product", P, POT_GEMV_FORMATS) {
  std::mt19937 rng(7);
  for (const std::size_t rows : {std::size_t{1}, std::size_t{3}, std::size_t{17}})
    for (const std::size_t cols : kShapes) {
      if (cols > pot::linalg::max_exact_int32_depth<P>) continue;  // must throw: tested below
      check_all_kernels_exact<P, std::uint8_t>(rows, cols, 131, rng);
      check_all_kernels_exact<P, std::uint8_t>(rows, cols, 0, rng);
      check_all_kernels_exact<P, std::int8_t>(rows, cols, -37, rng);
      check_all_kernels_exact<P, std::int8_t>(rows, cols, 127, rng);
    }
  // The deepest exact K, which for the widest ranges is the only depth with a full vector.
  constexpr std::size_t k_max = pot::linalg::max_exact_int32_depth<P>;
  check_all_kernels_exact<P, std::uint8_t>(65, k_max < 1000 ? k_max : 1000, 255, rng);
}

TEST_CASE_TEMPLATE("the largest K allowed is exact and K + 1 throws", P, p4_paper, p8_widest,
                   p7_int16, p8_int8) {
  constexpr std::size_t k_max = pot::linalg::max_exact_int32_depth<P>;
  // The bound by hand: 2^31 - 1 over 255 * 2^range.
  CHECK(k_max == static_cast<std::size_t>(2147483647LL / (255LL << (P::max_exponent - P::min_exponent))));
  // Worst case: every |q - zp| = 255 and every weight +2^MaxExp, so the sum is K * 255 * 2^range.
  const std::size_t stride = (pot::packed_bytes(k_max + 1, P::bits) + 63) / 64 * 64;
  std::vector<std::uint8_t> codes(k_max + 1, static_cast<std::uint8_t>(P::max_exponent - P::min_exponent));
  std::vector<std::byte> bytes(stride);
  pot::pack_codes(codes, P::bits, bytes);
  const std::vector<float> scale{1.0f};
  const std::vector<std::uint8_t> x(k_max + 1, 255);
  const std::int64_t expected = static_cast<std::int64_t>(k_max) * (255LL << (P::max_exponent - P::min_exponent));
  pot::test::for_each_supported_isa([&](pot::simd::isa) {
    for (const auto kernel : {pot_kernel::reference, pot_kernel::shift, pot_kernel::table}) {
      std::int32_t out = 0;
      const pot::linalg::packed_weights_view<P> exact{bytes.data(), 1, k_max, stride, scale};
      pot::linalg::pot_gemv<P, std::uint8_t>(exact, std::span(x).first(k_max), 0, std::span(&out, 1), kernel);
      CHECK(out == expected);
      const pot::linalg::packed_weights_view<P> too_deep{bytes.data(), 1, k_max + 1, stride, scale};
      CHECK_THROWS_AS((pot::linalg::pot_gemv<P, std::uint8_t>(too_deep, x, 0, std::span(&out, 1), kernel)),
                      std::invalid_argument);
    }
  });
}

TEST_CASE("range 7: rows with and without +128 in every grouping are exact") {
  // The uint8 kernels that take range 7 store +128 as -128 and correct only the groups of
  // rows that hold one (by the rows' statistics): rows without the code of +128 mixed
  // with rows that hold it at various places, so groups of every kind occur, at depths
  // with whole 128-code blocks, a 64-code block and a tail.
  using P = pot::pot<4, 0, 7>;
  constexpr std::uint8_t plus128 = 7;
  std::mt19937 rng(29);
  for (const std::size_t cols : {std::size_t{1}, std::size_t{65}, std::size_t{200}, std::size_t{768}}) {
    auto w = pot::test::random_weights<P>(33, cols, rng);
    std::bernoulli_distribution keeps(0.4);
    std::uniform_int_distribution<int> other(0, 14);
    for (std::size_t r = 0; r < w.rows; ++r) {
      const bool keep = keeps(rng);
      for (std::size_t c = 0; c < cols; ++c) {
        auto& code = w.codes[r * cols + c];
        if (keep || code != plus128) continue;
        const int replacement = other(rng);  // any code but 7
        code = static_cast<std::uint8_t>(replacement < plus128 ? replacement : replacement + 1);
      }
    }
    w.codes[5 * cols + cols - 1] = plus128;  // one +128 in the last column only
    w.repack();
    std::size_t rows_with = 0;
    for (const auto& s : w.statistics) rows_with += s.top_positive_count != 0 ? 1 : 0;
    INFO("cols ", cols, ": ", rows_with, " of 33 rows hold +128");
    CHECK(rows_with > 0);
    CHECK(rows_with < w.rows);
    const auto x = pot::test::random_activations<std::uint8_t>(cols, rng);
    pot::test::for_each_supported_isa([&](pot::simd::isa) {
      for (const bool with_statistics : {false, true}) {
        std::vector<std::int32_t> out(w.rows);
        pot::linalg::pot_gemv<P, std::uint8_t>(with_statistics ? w.view_with_statistics() : w.view(), x, 77, out,
                                               pot_kernel::table, {1});
        for (std::size_t r = 0; r < w.rows; ++r) {
          INFO("row ", r, " statistics ", with_statistics);
          REQUIRE(out[r] == pot::test::exact_dot(w, r, x.data(), 77));
        }
      }
    });
  }
}

TEST_CASE("thread counts 1, 2 and 3 give identical GEMV results") {
  using P = pot::pot<4, 0, 7>;
  std::mt19937 rng(11);
  const auto w = pot::test::random_weights<P>(1000, 65, rng);
  const auto x = pot::test::random_activations<std::int8_t>(65, rng);
  const auto xf = std::vector<float>(x.begin(), x.end());
  pot::test::for_each_supported_isa([&](pot::simd::isa) {
    for (const auto kernel : {pot_kernel::shift, pot_kernel::table}) {
      std::vector<std::int32_t> one(1000), two(1000), three(1000);
      pot::linalg::pot_gemv<P, std::int8_t>(w.view(), x, 3, one, kernel, {1});
      pot::linalg::pot_gemv<P, std::int8_t>(w.view(), x, 3, two, kernel, {2});
      pot::linalg::pot_gemv<P, std::int8_t>(w.view(), x, 3, three, kernel, {3});
      CHECK(one == two);
      CHECK(one == three);
    }
    std::vector<float> one(1000), three(1000);
    pot::linalg::pot_gemv<P>(w.view(), std::span<const float>(xf), one, pot_kernel::table, {1});
    pot::linalg::pot_gemv<P>(w.view(), std::span<const float>(xf), three, pot_kernel::table, {3});
    CHECK(one == three);
  });
}

TEST_CASE_TEMPLATE("float GEMV is within the summation error bound of a double reference", P,
                   p4_paper, p3_no_zero, p6_float, p8_float) {
  // Products x_k * 2^e are exact in float here (no overflow or underflow), so only the K - 1
  // additions round: |computed - exact| <= (K - 1) u sum |x_k w_k| with u = 2^-24, plus one
  // rounding for the scale multiply. We allow K u (sum |x w|) * scale + u |exact|.
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> value(-4.0f, 4.0f);
  for (const std::size_t cols : kShapes) {
    const auto w = pot::test::random_weights<P>(17, cols, rng);
    std::vector<float> x(cols);
    for (auto& v : x) v = value(rng);
    pot::test::for_each_supported_isa([&](pot::simd::isa) {
      for (const auto kernel : {pot_kernel::reference, pot_kernel::table}) {
        std::vector<float> out(17);
        pot::linalg::pot_gemv<P>(w.view(), std::span<const float>(x), out, kernel, {2});
        for (std::size_t r = 0; r < 17; ++r) {
          double exact = 0, magnitude = 0;
          for (std::size_t k = 0; k < cols; ++k) {
            exact += double{x[k]} * w.value(r, k);
            magnitude += std::abs(double{x[k]} * w.value(r, k));
          }
          const double scale = w.scales[r];
          const double bound = static_cast<double>(cols) * 0x1p-24 * magnitude * scale +
                               0x1p-24 * std::abs(exact * scale);
          INFO("kernel ", static_cast<int>(kernel), " row ", r, " K ", cols);
          CHECK(std::abs(double{out[r]} - exact * scale) <= bound);
        }
      }
    });
  }
}

TEST_CASE("bad GEMV arguments throw with a message") {
  using P = pot::pot<4, 0, 7>;
  std::mt19937 rng(5);
  const auto w = pot::test::random_weights<P>(3, 17, rng);
  const auto x = pot::test::random_activations<std::uint8_t>(16, rng);
  std::vector<std::int32_t> out(3);
  const auto wrong_depth = [&] { pot::linalg::pot_gemv<P, std::uint8_t>(w.view(), x, 0, out); };
  CHECK_THROWS_WITH_AS(wrong_depth(), doctest::Contains("K = 16"), std::invalid_argument);
  const auto x17 = pot::test::random_activations<std::uint8_t>(17, rng);
  CHECK_THROWS_AS((pot::linalg::pot_gemv<P, std::uint8_t>(w.view(), x17, 256, out)), std::invalid_argument);
  std::vector<std::int32_t> short_out(2);
  CHECK_THROWS_AS((pot::linalg::pot_gemv<P, std::uint8_t>(w.view(), x17, 0, short_out)), std::invalid_argument);
  std::vector<float> xf(17), outf(3);
  CHECK_THROWS_AS(pot::linalg::pot_gemv<P>(w.view(), std::span<const float>(xf), outf, pot_kernel::shift),
                  std::invalid_argument);
  auto two_statistics = w.view_with_statistics();
  two_statistics.statistics = two_statistics.statistics.first(2);
  CHECK_THROWS_WITH_AS((pot::linalg::pot_gemv<P, std::uint8_t>(two_statistics, x17, 0, out)),
                       doctest::Contains("0 or 3 row statistics, not 2"), std::invalid_argument);
}

TEST_CASE("GEMV over a packed_matrix equals GEMV over a view of the same rows") {
  using P = pot::pot<4, 0, 7>;
  std::mt19937 rng(19);
  const auto w = pot::test::random_weights<P>(37, 200, rng);
  const pot::packed_matrix<P> matrix(37, 200, std::span<const std::uint8_t>(w.codes), w.scales);
  const pot::linalg::packed_weights_view<P> view(matrix);
  CHECK(view.rows == 37);
  CHECK(view.cols == 200);
  CHECK(view.scale(36) == w.scales[36]);
  const auto x = pot::test::random_activations<std::int8_t>(200, rng);
  for (const auto kernel : {pot_kernel::reference, pot_kernel::shift, pot_kernel::table}) {
    std::vector<std::int32_t> from_matrix(37);
    pot::linalg::pot_gemv<P, std::int8_t>(matrix, x, -3, from_matrix, kernel);
    for (std::size_t r = 0; r < 37; ++r) REQUIRE(from_matrix[r] == pot::test::exact_dot(w, r, x.data(), -3));
  }
  const std::vector<float> xf(x.begin(), x.end());
  std::vector<float> from_matrix(37), from_view(37);
  pot::linalg::pot_gemv(matrix, std::span<const float>(xf), from_matrix);
  pot::linalg::pot_gemv(w.view(), std::span<const float>(xf), from_view);
  CHECK(from_matrix == from_view);
}

namespace {

/// Every code of P's width that no value of P has.
template <class P>
std::vector<std::uint8_t> invalid_codes() {
  const auto valid = pot::test::valid_codes<P>();
  std::vector<std::uint8_t> result;
  for (unsigned code = 0; code < (1u << P::bits); ++code)
    if (std::find(valid.begin(), valid.end(), code) == valid.end()) result.push_back(static_cast<std::uint8_t>(code));
  return result;
}

}  // namespace

// A view over bytes from outside (a memory-mapped file) may hold such codes (issue 10,
// finding 14): they must be found by validate_codes() and must never be undefined
// behaviour in a kernel.
TEST_CASE_TEMPLATE("codes without a value: validate_codes names the first, the reference kernel throws, "
                   "and every fast kernel counts them as zero weights", P, p3_zero, p4_zero, p4_int8, p5_int16,
                   p8_int8, p8_shift) {
  const auto invalid = invalid_codes<P>();
  REQUIRE(!invalid.empty());
  std::mt19937 rng(23);
  constexpr std::size_t rows = 5;
  for (const std::size_t cols : kShapes) {
    if (cols > pot::linalg::max_exact_int32_depth<P>) continue;
    auto w = pot::test::random_weights<P>(rows, cols, rng);
    CHECK_NOTHROW(pot::linalg::validate_codes(w.view()));
    std::vector<bool> spoiled(rows * cols, false);
    std::bernoulli_distribution spoil(0.125);
    std::size_t next_invalid = 0;
    for (std::size_t i = 0; i < rows * cols; ++i)
      if (spoil(rng) || i == rows * cols / 2) {
        w.codes[i] = invalid[next_invalid++ % invalid.size()];
        spoiled[i] = true;
      }
    w.repack();
    const std::size_t first = static_cast<std::size_t>(std::find(spoiled.begin(), spoiled.end(), true) - spoiled.begin());
    const std::string place = "row " + std::to_string(first / cols) + ", column " + std::to_string(first % cols) + ":";
    INFO("K ", cols, ", first invalid code at ", place);
    CHECK_THROWS_WITH_AS(pot::linalg::validate_codes(w.view()), doctest::Contains(place.c_str()),
                         std::invalid_argument);

    const auto x = pot::test::random_activations<std::uint8_t>(cols, rng);
    const std::int32_t zero_point = 77;
    std::vector<std::int64_t> expected(rows, 0);
    for (std::size_t r = 0; r < rows; ++r)
      for (std::size_t k = 0; k < cols; ++k)
        if (!spoiled[r * cols + k])
          expected[r] += (std::int64_t{x[k]} - zero_point) *
                         static_cast<std::int64_t>(std::ldexp(w.value(r, k), -P::min_exponent));
    std::vector<std::int32_t> out(rows);
    const auto reference = [&] {
      pot::linalg::pot_gemv<P, std::uint8_t>(w.view(), x, zero_point, out, pot_kernel::reference);
    };
    CHECK_THROWS_AS(reference(), std::invalid_argument);
    pot::test::for_each_supported_isa([&](pot::simd::isa) {
      for (const auto kernel : {pot_kernel::shift, pot_kernel::table}) {
        std::fill(out.begin(), out.end(), -1);
        pot::linalg::pot_gemv<P, std::uint8_t>(w.view(), x, zero_point, out, kernel, {1});
        for (std::size_t r = 0; r < rows; ++r) {
          INFO("kernel ", static_cast<int>(kernel), " row ", r);
          CHECK(out[r] == expected[r]);
        }
      }
      // Float activations: the same, within float rounding.
      const std::vector<float> xf(x.begin(), x.end());
      std::vector<float> outf(rows);
      pot::linalg::pot_gemv<P>(w.view(), std::span<const float>(xf), outf, pot_kernel::table, {1});
      for (std::size_t r = 0; r < rows; ++r) {
        double exact = 0;
        for (std::size_t k = 0; k < cols; ++k)
          if (!spoiled[r * cols + k]) exact += double{xf[k]} * w.value(r, k);
        INFO("float activations, row ", r);
        CHECK(outf[r] == doctest::Approx(exact * w.scales[r]).epsilon(1e-6));
      }
    });
  }
}

TEST_CASE("validate_codes rejects overlapping rows and bad scales") {
  using P = pot::pot<4, 0, 5>;
  std::mt19937 rng(29);
  auto w = pot::test::random_weights<P>(3, 130, rng);  // 65 bytes per row
  auto view = w.view();
  view.row_stride_bytes = 64;
  CHECK_THROWS_WITH_AS(pot::linalg::validate_codes(view), doctest::Contains("65 bytes each"), std::invalid_argument);
  const std::vector<float> two_scales{1.0f, 2.0f};
  CHECK_THROWS_WITH_AS(pot::linalg::validate_codes(pot::linalg::packed_weights_view<P>(
                           w.bytes.data(), w.rows, w.cols, w.stride, two_scales)),
                       doctest::Contains("1 or 3 scales, not 2"), std::invalid_argument);
  for (const float bad : {-1.0f, std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()}) {
    w.scales[1] = bad;
    CHECK_THROWS_WITH_AS(pot::linalg::validate_codes(w.view()), doctest::Contains("weight scale 1 is"),
                         std::invalid_argument);
  }
  w.scales[1] = 1.0f;
  CHECK_NOTHROW(pot::linalg::validate_codes(w.view_with_statistics()));
  auto stale = w.statistics;  // statistics of other codes: a kernel would apply the zero point wrongly
  stale[2].integer_sum += 1;
  CHECK_THROWS_WITH_AS(pot::linalg::validate_codes(pot::linalg::packed_weights_view<P>(
                           w.bytes.data(), w.rows, w.cols, w.stride, w.scales, stale)),
                       doctest::Contains("statistics of packed row 2 do not match"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(pot::linalg::validate_codes(pot::linalg::packed_weights_view<P>(
                           w.bytes.data(), w.rows, w.cols, w.stride, w.scales, std::span(stale).first(1))),
                       doctest::Contains("0 or 3 row statistics, not 1"), std::invalid_argument);
}
