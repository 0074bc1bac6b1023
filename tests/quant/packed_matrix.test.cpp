#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <span>
#include <stdexcept>
#include <utility>
#include <vector>

#include "pot/quant/packed_matrix.hpp"

using pot::packed_matrix;
using pot::scale_granularity;
using pot::scale_rule;

namespace {

using paper = pot::pot<4, 0, 7>;
using three_bit = pot::pot<3, 0, 3>;
using with_zero = pot::pot<3, 0, 2>;

template <class P>
std::vector<std::uint8_t> random_codes(std::size_t count, std::mt19937& rng) {
  std::uniform_int_distribution<int> code(0, (1 << P::bits) - 1);
  std::vector<std::uint8_t> codes(count);
  for (auto& c : codes) c = static_cast<std::uint8_t>(code(rng));
  return codes;
}

}  // namespace

TEST_CASE("codes round-trip through a packed matrix, with the documented layout") {
  std::mt19937 rng(9);
  for (const std::size_t rows : {1u, 3u, 5u}) {
    for (const std::size_t cols : {1u, 3u, 17u, 63u, 65u, 200u}) {
      CAPTURE(rows);
      CAPTURE(cols);
      const auto codes = random_codes<three_bit>(rows * cols, rng);
      std::vector<float> scales(rows, 0.5f);
      const packed_matrix<three_bit> m(rows, cols, codes, scales);
      std::vector<std::uint8_t> back(rows * cols);
      m.unpack(back);
      REQUIRE(back == codes);
      for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t c = 0; c < cols; ++c) REQUIRE(m.code(r, c) == codes[r * cols + c]);
      // Rows are 64-byte aligned and padded with zeros.
      REQUIRE(reinterpret_cast<std::uintptr_t>(m.data()) % 64 == 0);
      REQUIRE(m.row_stride_bytes() % 64 == 0);
      REQUIRE(m.row(rows - 1) == m.data() + (rows - 1) * m.row_stride_bytes());
      const std::size_t used = (cols * 3 + 7) / 8;
      for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t b = used; b < m.row_stride_bytes(); ++b)
          REQUIRE(m.row(r)[b] == std::byte{0});
    }
  }
  // 4 bits: row 0 codes 1, 2, 3 -> bytes 0x21, 0x03.
  const std::vector<std::uint8_t> codes{1, 2, 3, 15, 14, 13};
  const packed_matrix<paper> m(2, 3, codes, {1.0f});
  CHECK(m.row(0)[0] == std::byte{0x21});
  CHECK(m.row(0)[1] == std::byte{0x03});
  CHECK(m.row(1)[0] == std::byte{0xEF});
  CHECK(m.row(1)[1] == std::byte{0x0D});
}

TEST_CASE("weights read back as scale * 2^e with the row's scale") {
  // Row 0 codes {7, 14} with scale 0.5: 0.5 * 2^7 = 64, 0.5 * -2^6 = -32.
  // Row 1 codes {0, 9} with scale 0.25: 0.25 * 2^0 = 0.25, 0.25 * -2^1 = -0.5.
  const std::vector<std::uint8_t> codes{7, 14, 0, 9};
  const packed_matrix<paper> m(2, 2, codes, {0.5f, 0.25f});
  CHECK(m.per_channel());
  CHECK(m.scale(1) == 0.25f);
  CHECK(m.weight(0, 0) == 64.0f);
  CHECK(m.weight(0, 1) == -32.0f);
  CHECK(m.weight(1, 0) == 0.25f);
  CHECK(m.weight(1, 1) == -0.5f);
  std::vector<float> all(4);
  m.dequantize(all);
  CHECK(all == std::vector<float>{64.0f, -32.0f, 0.25f, -0.5f});
  CHECK(m.value(1, 1).exponent() == 1);
  CHECK_THROWS_AS(m.code(2, 0), std::out_of_range);
  CHECK_THROWS_AS(m.code(0, 2), std::out_of_range);
}

TEST_CASE("construction from floats quantizes like the quantizer, per channel and per tensor") {
  // Rows {1, 0.3} and {0.04, -0.01} (the hand-worked cases of pot_quantizer.test.cpp):
  // per channel: row 0 scale 2^-7 -> codes 7, 5; row 1 scale 0.04/128 -> codes 7, 13.
  const std::vector<float> w{1.0f, 0.3f, 0.04f, -0.01f};
  const packed_matrix<paper> channel(w, 2, 2);
  CHECK(channel.per_channel());
  CHECK(channel.scale(1) == 0.04f / 128.0f);
  CHECK(channel.code(0, 0) == 7);
  CHECK(channel.code(0, 1) == 5);
  CHECK(channel.code(1, 0) == 7);
  CHECK(channel.code(1, 1) == 13);
  // Per tensor: one scale 2^-7; row 1 -> codes 2, 8.
  const packed_matrix<paper> tensor(w, 2, 2, scale_granularity::per_tensor);
  CHECK_FALSE(tensor.per_channel());
  CHECK(tensor.scales().size() == 1);
  CHECK(tensor.scale(1) == 0.0078125f);
  CHECK(tensor.code(1, 0) == 2);
  CHECK(tensor.code(1, 1) == 8);
  // The power-of-two rule gives power-of-two scales.
  const packed_matrix<paper> shifts(w, 2, 2, scale_granularity::per_channel, scale_rule::power_of_two);
  CHECK(shifts.scale(0) == 0x1p-7f);
  CHECK(shifts.scale(1) == 0x1p-11f);  // 0.04 / 128 = 0.0003125 -> 2^-11 = 0.000488
}

TEST_CASE("exact memory accounting") {
  // 768 x 768, 4 bits, per channel: a row packs into 768 / 2 = 384 bytes = 6 * 64, so no
  // padding; codes 768 * 384 = 294912 bytes, scales 768 * 4 = 3072 bytes, total 297984,
  // against float32 768 * 768 * 4 = 2359296: saving 1 - 297984 / 2359296 = 0.873698
  // (0.875 for the codes alone, less the scales).
  const std::vector<float> w(768 * 768, 0.5f);
  const packed_matrix<paper> big(w, 768, 768);
  CHECK(big.row_stride_bytes() == 384);
  CHECK(big.packed_code_bytes() == 294912);
  CHECK(big.padded_code_bytes() == 294912);
  CHECK(big.scale_bytes() == 3072);
  CHECK(big.packed_bytes_total() == 297984);
  CHECK(big.float32_bytes() == 2359296);
  CHECK(big.packed_saving() == doctest::Approx(1.0 - 297984.0 / 2359296.0).epsilon(1e-15));
  CHECK(big.packed_saving() == doctest::Approx(0.8736979166666666).epsilon(1e-15));

  // 3 x 100, 4 bits, one scale: 50 bytes per row padded to 64; codes 150 bytes packed,
  // 192 padded; one scale of 4 bytes; float32 3 * 100 * 4 = 1200.
  const std::vector<float> small(300, -1.0f);
  const packed_matrix<paper> m(small, 3, 100, scale_granularity::per_tensor);
  CHECK(m.row_stride_bytes() == 64);
  CHECK(m.packed_code_bytes() == 150);
  CHECK(m.padded_code_bytes() == 192);
  CHECK(m.scale_bytes() == 4);
  CHECK(m.packed_bytes_total() == 154);
  CHECK(m.padded_bytes_total() == 196);
  CHECK(m.float32_bytes() == 1200);
  CHECK(m.padded_saving() == doctest::Approx(1.0 - 196.0 / 1200.0).epsilon(1e-15));

  // 5 x 17, 3 bits: 51 bits -> 7 bytes per row, stride 64.
  const std::vector<std::uint8_t> codes(85, 1);
  const packed_matrix<three_bit> odd(5, 17, codes, {1.0f});
  CHECK(odd.packed_code_bytes() == 35);
  CHECK(odd.padded_code_bytes() == 320);
}

TEST_CASE("bad input is rejected with a message") {
  const std::vector<std::uint8_t> codes{1, 2, 3, 4};
  CHECK_THROWS_WITH_AS(packed_matrix<paper>(0, 4, std::span<const std::uint8_t>{}, {1.0f}),
                       doctest::Contains("at least one row"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(packed_matrix<paper>(2, 2, codes, {1.0f, 1.0f, 1.0f}),
                       doctest::Contains("needs 1 or 2 scales, got 3"), std::invalid_argument);
  CHECK_THROWS_AS(packed_matrix<paper>(2, 3, codes, {1.0f}), std::invalid_argument);
  CHECK_THROWS_AS(packed_matrix<paper>(2, 2, codes, {-1.0f}), std::invalid_argument);
  // pot<3, 0, 2> has the zero code 0b011 but no negative zero 0b111.
  const std::vector<std::uint8_t> negative_zero{3, 7};
  CHECK_THROWS_AS(packed_matrix<with_zero>(1, 2, negative_zero, {1.0f}), std::invalid_argument);
  const std::vector<float> nan{1.0f, std::numeric_limits<float>::quiet_NaN()};
  CHECK_THROWS_AS(packed_matrix<paper>(nan, 1, 2), std::domain_error);
  CHECK_THROWS_AS(packed_matrix<paper>(nan, 2, 2), std::invalid_argument);
}

TEST_CASE("copies are deep and moves leave an empty buffer") {
  const std::vector<std::uint8_t> codes{1, 2, 3, 4};
  const packed_matrix<paper> m(2, 2, codes, {1.0f});
  packed_matrix<paper> copy = m;
  CHECK(copy.data() != m.data());
  CHECK(copy.code(1, 1) == 4);
  const packed_matrix<paper> moved = std::move(copy);
  CHECK(moved.code(1, 0) == 3);
}

TEST_CASE_TEMPLATE("row statistics: each row's sum of 2^(e - MinExp) with signs and its count of +2^MaxExp", P,
                   pot::pot<4, 0, 7>, pot::pot<4, -2, 3>, pot::pot<3, -1, 2, pot::rounding::log, pot::zero_code::none>,
                   pot::pot<8, 0, 23>, pot::pot<5, 1, 15>) {
  // Written out from the codes' values here, independently of compute_row_statistics.
  std::mt19937 rng(41);
  for (const std::size_t cols : {std::size_t{1}, std::size_t{7}, std::size_t{300}, std::size_t{1000}}) {
    constexpr std::size_t rows = 5;
    std::vector<typename P::code_type> codes(rows * cols);
    std::uniform_real_distribution<double> value(-3.0, 3.0);
    for (auto& code : codes) code = P(std::exp2(value(rng) * (P::max_exponent - P::min_exponent) / 3.0 +
                                                (P::min_exponent + P::max_exponent) / 2.0) *
                                       (value(rng) < 0 ? -1.0 : 1.0))
                                        .code();
    codes[cols - 1] = P(std::exp2(P::max_exponent)).code();  // a +2^MaxExp in row 0
    const pot::packed_matrix<P> matrix(rows, cols, std::span<const typename P::code_type>(codes), {1.0f});
    REQUIRE(matrix.row_statistics().size() == rows);
    for (std::size_t r = 0; r < rows; ++r) {
      std::int64_t sum = 0;
      std::uint32_t top = 0;
      for (std::size_t c = 0; c < cols; ++c) {
        const double v = static_cast<double>(P::from_code(codes[r * cols + c]));
        sum += static_cast<std::int64_t>(std::ldexp(v, -P::min_exponent));
        top += v == std::exp2(P::max_exponent) ? 1U : 0U;
      }
      INFO("cols ", cols, " row ", r);
      CHECK(matrix.row_statistics()[r].integer_sum == static_cast<std::int32_t>(sum));
      CHECK(matrix.row_statistics()[r].top_positive_count == top);
      if (r == 0) CHECK(top >= 1);
    }
  }
}
