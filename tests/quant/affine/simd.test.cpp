#include <doctest/doctest.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <bit>
#include <limits>
#include <span>
#include <stdexcept>
#include <type_traits>
#include <vector>

#include "../../isa_variants.hpp"
#include "pot/quant/affine/fake_quant.hpp"
#include "pot/quant/affine/quantize.hpp"

// The vector bodies of quant/affine/simd/, through the span functions that run them
// (quantize and fake_quantize_affine_forward), against the scalar functions of one
// value, which are the reference (quantize.test.cpp checks them against PyTorch's
// definition), on every instruction set this CPU has: every value of
// a strided sweep over all 2^32 float bit patterns, and every float near each tie and
// each code for several scales, zero points and ranges, in spans of odd lengths and
// offsets so that both the registers and the scalar tail are used.

namespace {

constexpr float not_a_number = std::numeric_limits<float>::quiet_NaN();
constexpr float infinity = std::numeric_limits<float>::infinity();

float from_bits(std::uint32_t bits) {
  float value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

/// Quantizes `x` with both functions, in spans starting at offsets 0 to `offsets - 1`
/// (so the vector loads are unaligned in different ways and values move between the
/// registers and the scalar tail), and counts the values that differ.
template <class Q>
std::size_t mismatches(const std::vector<float>& x, const pot::affine_params<Q>& params, std::size_t offsets = 3) {
  std::size_t differing = 0;
  for (std::size_t offset = 0; offset < offsets && offset < x.size(); ++offset) {
    const std::span<const float> input = std::span(x).subspan(offset);
    std::vector<Q> expected(input.size()), actual(input.size());
    for (std::size_t i = 0; i < input.size(); ++i) expected[i] = pot::quantize(input[i], params);
    pot::quantize<Q>(input, params, actual);
    for (std::size_t i = 0; i < input.size(); ++i)
      if (expected[i] != actual[i]) {
        if (differing < 5)
          MESSAGE("x = " << input[i] << " (bits " << std::hex
                         << std::bit_cast<std::uint32_t>(input[i]) << std::dec << "): scalar "
                         << +expected[i] << ", simd " << +actual[i]);
        ++differing;
      }
  }
  return differing;
}

/// Every float bit pattern `k * stride` (NaNs, infinities, subnormals, zeros of both
/// signs and every binade included), in chunks of an odd length.
template <class Q>
std::size_t sweep_mismatches(const pot::affine_params<Q>& params, std::uint32_t stride) {
  std::size_t differing = 0;
  std::vector<float> chunk;
  constexpr std::size_t chunk_size = 4099;
  std::uint64_t bits = 0;
  while (bits <= std::numeric_limits<std::uint32_t>::max()) {
    chunk.clear();
    for (; chunk.size() < chunk_size && bits <= std::numeric_limits<std::uint32_t>::max(); bits += stride)
      chunk.push_back(from_bits(static_cast<std::uint32_t>(bits)));
    differing += mismatches(chunk, params, 1);
  }
  return differing;
}

/// For every code from qmin - 3 to qmax + 3: the floats within 8 steps of the input that
/// scales to the code itself and of the inputs that scale to the ties on either side.
template <class Q>
std::vector<float> near_codes_and_ties(const pot::affine_params<Q>& params) {
  std::vector<float> x;
  for (std::int64_t code = std::int64_t{params.qmin} - 3; code <= std::int64_t{params.qmax} + 3; ++code)
    for (const double offset : {-0.5, 0.0, 0.5}) {
      float value = static_cast<float>((static_cast<double>(code - params.zero_point) + offset) *
                                       static_cast<double>(params.scale));
      for (int step = 0; step < 8; ++step) value = std::nextafter(value, -infinity);
      for (int step = 0; step < 17; ++step) {
        x.push_back(value);
        value = std::nextafter(value, infinity);
      }
    }
  return x;
}

template <class Q>
void check_against_scalar(const pot::affine_params<Q>& params) {
  CAPTURE(params.scale);
  CAPTURE(params.zero_point);
  CAPTURE(params.qmin);
  CAPTURE(params.qmax);
  pot::test::for_each_supported_isa([&](pot::simd::isa) {
    CHECK(mismatches(near_codes_and_ties(params), params) == 0);
    CHECK(sweep_mismatches(params, 1021) == 0);
  });
}

}  // namespace

TEST_CASE("vector quantize: hand-worked values, ties to even, NaN, infinities") {
  const auto unit = pot::make_affine_params<std::uint8_t>(1.0f, 0);
  const std::vector<float> x = {0.5f, 1.5f, 2.5f, -0.5f, 254.5f, 255.5f, 300.0f, -1.0f,
                                not_a_number,  infinity,  -infinity, 1e30f, 3.49f,  -0.0f,  127.5f, 128.5f};
  const std::vector<std::uint8_t> expected = {0, 2, 2, 0, 254, 255, 255, 0, 0, 255, 0, 255, 3, 0, 128, 128};
  std::vector<std::uint8_t> q(x.size());
  pot::quantize<std::uint8_t>(x, unit, q);
  CHECK(q == expected);

  // scale 0.5, zero point -3: x / 0.5 = 0.5 -> 0 -> -3; 1.5 -> 2 -> -1; -127.5 -> -128
  // -> -131 -> clamped to -128; 255 -> 252 clamped to 127; NaN -> the zero point.
  const auto half = pot::make_affine_params<std::int8_t>(0.5f, -3);
  const std::vector<float> y = {0.25f, 0.75f, -63.75f, 127.5f, not_a_number, -infinity, 1.25f, 1.75f, 0.0f};
  const std::vector<std::int8_t> expected_y = {-3, -1, -128, 127, -3, -128, -1, 1, -3};
  std::vector<std::int8_t> r(y.size());
  pot::quantize<std::int8_t>(y, half, r);
  CHECK(r == expected_y);
}

TEST_CASE("vector quantize: uint8 equals the scalar quantize for every swept input") {
  check_against_scalar(pot::make_affine_params<std::uint8_t>(1.0f, 0));
  check_against_scalar(pot::make_affine_params<std::uint8_t>(1.0f, 128));
  check_against_scalar(pot::make_affine_params<std::uint8_t>(0.1f, 37));
  check_against_scalar(pot::make_affine_params<std::uint8_t>(0.0234f, 255));
  check_against_scalar(pot::make_affine_params<std::uint8_t>(3e-5f, 0));
  check_against_scalar(pot::make_affine_params<std::uint8_t>(7.0f, 201));
  check_against_scalar(pot::make_affine_params<std::uint8_t>(3e30f, 9));
  check_against_scalar(pot::make_affine_params<std::uint8_t>(0x1p-126f, 100));
  check_against_scalar(pot::make_affine_params<std::uint8_t>(0.37f, 60, 10, 200));
}

TEST_CASE("vector quantize: int8 equals the scalar quantize for every swept input") {
  check_against_scalar(pot::make_affine_params<std::int8_t>(1.0f, 0));
  check_against_scalar(pot::make_affine_params<std::int8_t>(0.05f, -128));
  check_against_scalar(pot::make_affine_params<std::int8_t>(0.7f, 127));
  check_against_scalar(pot::make_affine_params<std::int8_t>(1.3e-3f, -5));
  check_against_scalar(pot::make_affine_params<std::int8_t>(0.015625f, 0, -127, 127));
}

TEST_CASE("vector quantize: unvalidated parameters give the scalar's codes too") {
  // qmin > qmax: the scalar tests the lower bound first, so it wins.
  const pot::affine_params<std::uint8_t> crossed{0.5f, 70, 100, 50};
  CHECK(pot::quantize_vectorizes(crossed));
  check_against_scalar(crossed);
  // Bounds beyond the code type: the codes wrap as the scalar static_cast does.
  check_against_scalar(pot::affine_params<std::int8_t>{0.25f, 3, -1000, 1000});
  // qmax is not a float: the scalar path, still equal.
  const pot::affine_params<std::int32_t> wide{1.0f, 0};
  CHECK_FALSE(pot::quantize_vectorizes(wide));
  const pot::affine_params<std::int32_t> float_bounds{1.0f, 0, -(1 << 24), 1 << 24};
  CHECK(pot::quantize_vectorizes(float_bounds));
  CHECK(sweep_mismatches(float_bounds, 1021) == 0);
  CHECK(sweep_mismatches(wide, 65521) == 0);
}

TEST_CASE("vector quantize: validated 8-bit parameters take the SIMD path when there is one") {
  CHECK(pot::quantize_vectorizes(pot::make_affine_params<std::uint8_t>(0.1f, 255)));
  CHECK(pot::quantize_vectorizes(pot::make_affine_params<std::int8_t>(0.1f, -128)));
}

TEST_CASE("vector quantize: empty spans, and spans of different lengths throw") {
  const auto params = pot::make_affine_params<std::uint8_t>(0.1f, 3);
  std::vector<std::uint8_t> none;
  pot::quantize<std::uint8_t>(std::span<const float>{}, params, none);
  const std::vector<float> x(10, 1.0f);
  std::vector<std::uint8_t> short_out(9);
  CHECK_THROWS_AS(pot::quantize<std::uint8_t>(x, params, short_out), std::invalid_argument);
}

namespace {

/// Fake-quantizes `x` with the scalar pot::fake_quantize_affine and with the span
/// function (spans at offsets 0 to 2, so values move between registers and tail)
/// and counts the values whose float bits or mask differ.
template <class Q>
std::size_t fake_mismatches(const std::vector<float>& x, const pot::affine_params<Q>& params) {
  std::size_t differing = 0;
  for (std::size_t offset = 0; offset < 3 && offset < x.size(); ++offset) {
    const std::span<const float> input = std::span(x).subspan(offset);
    std::vector<float> expected(input.size()), actual(input.size());
    std::vector<std::uint8_t> expected_mask(input.size()), actual_mask(input.size(), 7);
    for (std::size_t i = 0; i < input.size(); ++i) {
      const pot::affine_fake_quantized q = pot::fake_quantize_affine(input[i], params);
      expected[i] = q.value;
      expected_mask[i] = q.in_range ? 1 : 0;
    }
    pot::fake_quantize_affine_forward<Q>(input, params, actual, actual_mask);
    for (std::size_t i = 0; i < input.size(); ++i)
      if (std::bit_cast<std::uint32_t>(expected[i]) != std::bit_cast<std::uint32_t>(actual[i]) ||
          expected_mask[i] != actual_mask[i]) {
        if (differing < 5)
          MESSAGE("x = " << input[i] << ": scalar " << expected[i] << " mask " << +expected_mask[i]
                         << ", simd " << actual[i] << " mask " << +actual_mask[i]);
        ++differing;
      }
  }
  return differing;
}

template <class Q>
void check_fake_against_scalar(const pot::affine_params<Q>& params) {
  CAPTURE(params.scale);
  CAPTURE(params.zero_point);
  CHECK(pot::fake_quantize_affine_vectorizes(params));
  pot::test::for_each_supported_isa([&](pot::simd::isa) {
    CHECK(fake_mismatches(near_codes_and_ties(params), params) == 0);
    // A coarser sweep of all float bit patterns than the codes' (the arithmetic after the
    // code is one subtraction and one multiply), in chunks of odd length.
    std::vector<float> chunk;
    std::size_t differing = 0;
    for (std::uint64_t bits = 0; bits <= std::numeric_limits<std::uint32_t>::max();) {
      chunk.clear();
      for (; chunk.size() < 4099 && bits <= std::numeric_limits<std::uint32_t>::max(); bits += 65537)
        chunk.push_back(from_bits(static_cast<std::uint32_t>(bits)));
      differing += fake_mismatches(chunk, params);
    }
    CHECK(differing == 0);
  });
}

}  // namespace

TEST_CASE("vector fake-quantize: hand-worked values and masks") {
  // scale 0.5, zero point 10, uint8: 1.0 -> code 12 -> 1.0 in range; -6.0 -> -12 + 10 =
  // -2 -> clamped to 0 -> -5.0 out of range; 200.0 -> 410 -> 255 -> 122.5 out of range;
  // 0.25 -> 0.5 ties to 0 -> 10 -> 0.0 in range; NaN -> 0.0, mask 0; -5.0 is exactly
  // code 0: in range.
  const auto params = pot::make_affine_params<std::uint8_t>(0.5f, 10);
  const std::vector<float> x = {1.0f, -6.0f, 200.0f, 0.25f, not_a_number, -5.0f, 0.75f, 122.5f, 3.0f};
  const std::vector<float> expected = {1.0f, -5.0f, 122.5f, 0.0f, 0.0f, -5.0f, 1.0f, 122.5f, 3.0f};
  const std::vector<std::uint8_t> expected_mask = {1, 0, 0, 1, 0, 1, 1, 1, 1};
  std::vector<float> y(x.size());
  std::vector<std::uint8_t> mask(x.size());
  pot::fake_quantize_affine_forward<std::uint8_t>(x, params, y, mask);
  CHECK(y == expected);
  CHECK(mask == expected_mask);
}

TEST_CASE("vector fake-quantize equals the scalar fake-quantizer, values and masks") {
  check_fake_against_scalar(pot::make_affine_params<std::uint8_t>(1.0f, 0));
  check_fake_against_scalar(pot::make_affine_params<std::uint8_t>(0.0234f, 255));
  check_fake_against_scalar(pot::make_affine_params<std::uint8_t>(0.1f, 37));
  check_fake_against_scalar(pot::make_affine_params<std::uint8_t>(0x1p-126f, 100));
  check_fake_against_scalar(pot::make_affine_params<std::int8_t>(0.05f, -128));
  check_fake_against_scalar(pot::make_affine_params<std::int8_t>(1.3e-3f, -5));
  check_fake_against_scalar(pot::make_affine_params<std::int8_t>(3e30f, 0));
}

TEST_CASE("vector fake-quantize: wide code ranges fall back to the scalar path") {
  const pot::affine_params<std::int32_t> wide{1.0f, 0, -(1 << 24), 1 << 24};
  CHECK(pot::quantize_vectorizes(wide));
  CHECK(pot::fake_quantize_affine_vectorizes(wide));
  const pot::affine_params<std::int32_t> wider{1.0f, -(1 << 24), -(1 << 24), 1 << 24};
  CHECK_FALSE(pot::fake_quantize_affine_vectorizes(wider));
  CHECK(fake_mismatches(std::vector<float>{1.0f, 3e7f, -3e7f, 0.5f, 1.5f}, wider) == 0);
  std::vector<float> y(3);
  std::vector<std::uint8_t> short_mask(2);
  CHECK_THROWS_AS(pot::fake_quantize_affine_forward<std::uint8_t>(
                      std::vector<float>(3, 1.0f), pot::make_affine_params<std::uint8_t>(0.1f, 3), y, short_mask),
                  std::invalid_argument);
}
