#include <doctest/doctest.h>

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

#include "../isa_variants.hpp"
#include "pot/simd/float_dot.hpp"
#include "pot/simd/integer_dot.hpp"
#include "pot/simd/shift_accumulate.hpp"

// The fused 4-bit kernels against sums written out here, for tables that no PoT format
// produces (pot_gemv's tests cover the PoT ones): the general int16 path with high bytes
// from a table lookup, and the order permutations.

namespace {

/// `rows` rows of `count` random 4-bit codes, packed two per byte, low nibble first, each
/// row `stride` bytes.
std::vector<std::byte> random_packed_rows(std::size_t rows, std::size_t count, std::size_t stride,
                                          std::vector<unsigned>& codes, std::mt19937& rng) {
  std::uniform_int_distribution<unsigned> nibble(0, 15);
  codes.resize(rows * count);
  std::vector<std::byte> bytes(rows * stride + 64, std::byte{0x5A});
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t k = 0; k < count; ++k) {
      const unsigned code = nibble(rng);
      codes[r * count + k] = code;
      auto& byte = bytes[r * stride + k / 2];
      if (k % 2 == 0) byte = std::byte{0};
      byte |= static_cast<std::byte>(k % 2 == 0 ? code : code << 4);
    }
  return bytes;
}

template <class Position>
bool is_permutation_of_indices(std::size_t count, Position position) {
  std::vector<int> hits(count, 0);
  for (std::size_t k = 0; k < count; ++k) {
    const std::size_t p = position(k, count);
    if (p >= count) return false;
    ++hits[p];
  }
  for (const int h : hits)
    if (h != 1) return false;
  // order_activations() reuses the first period's positions for every whole period: it
  // must place every element where `position` says.
  std::vector<std::uint32_t> x(count), ordered(count);
  for (std::size_t k = 0; k < count; ++k) x[k] = static_cast<std::uint32_t>(k);
  pot::simd::order_activations(x.data(), count, ordered.data(), [&](std::size_t k) { return position(k, count); });
  for (std::size_t k = 0; k < count; ++k)
    if (ordered[position(k, count)] != k) return false;
  return true;
}

}  // namespace

TEST_CASE("the activation orders of the fused 4-bit kernels are permutations that order_activations follows") {
  pot::test::for_each_supported_isa([](pot::simd::isa isa) {
    pot::simd::dispatch(isa, [](auto tag) {
      for (const std::size_t count : {std::size_t{1}, std::size_t{63}, std::size_t{64}, std::size_t{65},
                                      std::size_t{200}, std::size_t{256}, std::size_t{300}, std::size_t{768},
                                      std::size_t{1000}, std::size_t{3072} + 192 + 32 + 5}) {
        INFO("count ", count);
        CHECK(is_permutation_of_indices(count, [&](std::size_t k, std::size_t n) -> std::size_t { return pot::simd::packed4_s16_position(tag, k, n); }));
        CHECK(is_permutation_of_indices(count, [&](std::size_t k, std::size_t n) -> std::size_t { return pot::simd::packed4_u8_position(tag, k, n); }));
        CHECK(is_permutation_of_indices(count, [&](std::size_t k, std::size_t n) -> std::size_t { return pot::simd::packed4_shift_position(tag, k, n); }));
        CHECK(is_permutation_of_indices(count, [&](std::size_t k, std::size_t n) -> std::size_t { return pot::simd::float_packed4_position(tag, k, n); }));
      }
    });
  });
#if defined(POT_SIMD_X86)
  // The x86 layouts by hand (their headers are compiled only for x86 targets).
  // In a whole AVX2 block, code 1 (the high nibble of byte 0) is the first odd code.
  constexpr pot::simd::avx2_tag avx2;
  CHECK(pot::simd::packed4_u8_position(avx2, 1, 64) == 32);
  CHECK(pot::simd::packed4_u8_position(avx2, 2, 64) == 1);
  CHECK(pot::simd::packed4_u8_position(avx2, 64, 65) == 64);  // the tail keeps its place
  // Byte 8 is widened by vpunpckhbw: code 16 goes to the second vector of 16.
  CHECK(pot::simd::packed4_s16_position(avx2, 16, 64) == 16);
  CHECK(pot::simd::packed4_s16_position(avx2, 1, 64) == 32);
  // AVX-512: blocks of 128 codes, then one of 64, then the tail.
  constexpr pot::simd::avx512_tag avx512;
  CHECK(pot::simd::packed4_u8_position(avx512, 1, 128) == 64);
  CHECK(pot::simd::packed4_u8_position(avx512, 129, 192) == 128 + 32);
  CHECK(pot::simd::packed4_u8_position(avx512, 192, 193) == 192);
#endif
#if defined(POT_SIMD_AARCH64)
  // The NEON layout by hand: blocks of 32 codes (one 16-byte load), even codes then odd.
  constexpr pot::simd::neon_tag neon;
  constexpr pot::simd::neon_dotprod_tag neon_dotprod;  // shares the neon order
  CHECK(pot::simd::packed4_u8_position(neon, 1, 32) == 16);
  CHECK(pot::simd::packed4_u8_position(neon, 2, 32) == 1);
  CHECK(pot::simd::packed4_u8_position(neon_dotprod, 33, 64) == 32 + 16);
  CHECK(pot::simd::packed4_u8_position(neon_dotprod, 31, 63) == 31);  // the odd code 15 of block 0 is last
  CHECK(pot::simd::packed4_u8_position(neon, 33, 63) == 33);          // the tail keeps its place
  CHECK(pot::simd::packed4_s16_position(neon, 3, 32) == 17);
  CHECK(pot::simd::packed4_s16_position(neon, 32, 33) == 32);
#endif
}

TEST_CASE("high bytes are the code's sign only for tables within [-256, 255] split at code 8") {
  std::array<std::int16_t, 16> table{1, 2, 4, 8, 16, 32, 64, 128, -1, -2, -4, -8, -16, -32, -64, -128};
  CHECK(pot::simd::high_bytes_are_code_sign(table));
  table[7] = 256;
  CHECK_FALSE(pot::simd::high_bytes_are_code_sign(table));
  table[7] = 0;
  table[8] = 0;  // a zero among the negative codes: high byte 0x00, not 0xFF
  CHECK_FALSE(pot::simd::high_bytes_are_code_sign(table));
}

TEST_CASE("the fused int16 4-bit kernel equals the sum written out, for any table") {
  std::mt19937 rng(5);
  std::uniform_int_distribution<int> weight(-16384, 16383), activation(-255, 255);
  constexpr std::size_t rows = 4, stride = 640;
  for (const std::size_t count : {std::size_t{1}, std::size_t{64}, std::size_t{127}, std::size_t{1000}}) {
    std::array<std::int16_t, 16> table{};
    for (auto& t : table) t = static_cast<std::int16_t>(weight(rng));
    std::vector<unsigned> codes;
    const auto bytes = random_packed_rows(rows, count, stride, codes, rng);
    std::vector<std::int16_t> x(count), ordered(count);
    for (auto& v : x) v = static_cast<std::int16_t>(activation(rng));
    pot::test::for_each_supported_isa([&](pot::simd::isa isa) {
      pot::simd::dispatch(isa, [&](auto tag) {
        pot::simd::order_activations(x.data(), count, ordered.data(),
                                     [&](std::size_t k) { return pot::simd::packed4_s16_position(tag, k, count); });
        std::array<std::int32_t, rows> four{};
        pot::simd::dot_s16_packed4_rows<rows>(tag, ordered.data(), bytes.data(), stride, bytes.data(), table, count,
                                              four.data());
        for (std::size_t r = 0; r < rows; ++r) {
          std::int64_t expected = 0;
          for (std::size_t k = 0; k < count; ++k) expected += std::int64_t{x[k]} * table[codes[r * count + k]];
          std::int32_t one = 0;
          pot::simd::dot_s16_packed4_rows<1>(tag, ordered.data(), bytes.data() + r * stride, stride, bytes.data(), table,
                                             count, &one);
          INFO("count ", count, " row ", r);
          CHECK(four[r] == expected);  // |expected| <= 1000 * 255 * 16384 < 2^32: fits int32
          CHECK(one == expected);
        }
      });
    });
  }
}

TEST_CASE("the fused uint8 4-bit kernel subtracts the zero point exactly at |w| = 64") {
  // Worst case for vpmaddubsw's int16 pairs: every activation 255, zero point 0, weights
  // all +64 or all -64, so a pair is +-32640 (and the zero-point term 0); and zero point
  // 255 with activations 0 for the opposite sign.
  constexpr std::size_t count = 130, stride = 128;
  pot::simd::u8_packed4_tables tables;
  tables.weights[3] = 64;
  tables.weights[12] = -64;
  for (const unsigned code : {3u, 12u})
    for (const auto& [u_value, zp_value] : {std::pair{255, 0}, std::pair{0, 255}, std::pair{200, 17}}) {
      // Copies: clang 14 cannot capture structured bindings in the lambdas INFO makes.
      const int u = u_value, zp = zp_value;
      std::vector<std::byte> row(stride, static_cast<std::byte>(code | code << 4));
      const std::vector<std::uint8_t> ordered(count, static_cast<std::uint8_t>(u));  // constant: any order
      const std::int32_t weight_sum = static_cast<std::int32_t>(count) * tables.weights[code];
      const std::int64_t expected = static_cast<std::int64_t>(count) * (u - zp) * tables.weights[code];
      pot::test::for_each_supported_isa([&](pot::simd::isa isa) {
        pot::simd::dispatch(isa, [&](auto tag) {
          std::int32_t out = 0;
          pot::simd::dot_u8_packed4_rows<1>(tag, ordered.data(), zp, &weight_sum, row.data(), stride, row.data(), tables,
                                            count, &out);
          INFO("code ", code, " u ", u, " zero point ", zp);
          CHECK(out == expected);
        });
      });
    }
}

namespace {

/// `sum_k table[codes[r * count + k]]` for each row, the weight sums the uint8 kernels take.
std::vector<std::int32_t> row_sums(const std::vector<unsigned>& codes, std::size_t rows, std::size_t count,
                                   const std::array<int, 16>& table) {
  std::vector<std::int32_t> sums(rows, 0);
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t k = 0; k < count; ++k) sums[r] += table[codes[r * count + k]];
  return sums;
}

}  // namespace

TEST_CASE("the uint8 kernels equal the sums written out, for any int8 weights where the body allows them") {
  // AVX2's vpmaddubsw needs |w| <= 64; every other body takes any int8, -128 included
  // (NEON's SDOT body flips the activations to u - 128 and adds 128 - zp times sum w).
  std::mt19937 rng(11);
  std::uniform_int_distribution<int> activation(0, 255);
  constexpr std::size_t rows = 4, stride = 640;
  for (const int largest : {64, 128})
    for (const std::size_t count : {std::size_t{1}, std::size_t{31}, std::size_t{32}, std::size_t{65}, std::size_t{1000}})
      for (const std::int32_t zero_point : {0, 131, 255}) {
        std::uniform_int_distribution<int> weight(-largest, largest - 1);
        pot::simd::u8_packed4_tables tables;
        std::array<int, 16> table{};
        for (std::size_t code = 0; code < 16; ++code) {
          table[code] = code == 0 ? -largest : weight(rng);
          tables.weights[code] = static_cast<std::int8_t>(table[code]);
        }
        std::vector<unsigned> codes;
        const auto bytes = random_packed_rows(rows, count, stride, codes, rng);
        const auto sums = row_sums(codes, rows, count, table);
        std::vector<std::uint8_t> u(count), ordered(count);
        for (auto& v : u) v = static_cast<std::uint8_t>(activation(rng));
        u[0] = 255;
        std::vector<std::int8_t> w(count);
        for (std::size_t k = 0; k < count; ++k) w[k] = tables.weights[codes[k]];
        pot::test::for_each_supported_isa([&](pot::simd::isa isa) {
          if (isa == pot::simd::isa::avx2 && largest > 64) return;
          pot::simd::dispatch(isa, [&](auto tag) {
            pot::simd::order_activations(u.data(), count, ordered.data(),
                                         [&](std::size_t k) { return pot::simd::packed4_u8_position(tag, k, count); });
            std::array<std::int32_t, rows> four{};
            pot::simd::dot_u8_packed4_rows<rows>(tag, ordered.data(), zero_point, sums.data(), bytes.data(), stride,
                                                 bytes.data(), tables, count, four.data());
            for (std::size_t r = 0; r < rows; ++r) {
              std::int64_t expected = 0;
              for (std::size_t k = 0; k < count; ++k) expected += (std::int64_t{u[k]} - zero_point) * table[codes[r * count + k]];
              INFO("largest ", largest, " count ", count, " zero point ", zero_point, " row ", r);
              CHECK(four[r] == expected);
            }
            std::int64_t products = 0, weights = 0;
            for (std::size_t k = 0; k < count; ++k) {
              products += std::int64_t{u[k]} * w[k];
              weights += w[k];
            }
            const pot::simd::u8s8_dot dot = pot::simd::dot_u8s8(tag, u.data(), w.data(), count);
            INFO("largest ", largest, " count ", count);
            CHECK(dot.products == products);
            CHECK(dot.weights == weights);
          });
        });
      }
}

TEST_CASE("the uint8 kernels that take range 7 add back the +128 stored as -128") {
  // Weights in [-128, 128]: the codes of +128 are stored as -128 and marked in `top`; the
  // bodies whose u8_packed4_max_range() is 7 correct them (CorrectsTop), exactly, at every
  // position of a row: whole 128-code blocks, the 64-code block and the scalar tail.
  std::mt19937 rng(17);
  std::uniform_int_distribution<int> activation(0, 255), weight(-128, 128);
  constexpr std::size_t rows = 4, stride = 640;
  int checked = 0;  // shapes checked on a body with the correction
  for (const std::size_t count : {std::size_t{1}, std::size_t{64}, std::size_t{127}, std::size_t{128}, std::size_t{200},
                                  std::size_t{1000}})
    for (const std::int32_t zero_point : {0, 77, 255}) {
      pot::simd::u8_packed4_tables tables;
      std::array<int, 16> table{};
      for (std::size_t code = 0; code < 16; ++code) {
        table[code] = code % 5 == 0 ? 128 : code == 1 ? -128 : weight(rng);
        tables.weights[code] = static_cast<std::int8_t>(static_cast<std::uint8_t>(table[code] & 0xFF));
        tables.top[code] = table[code] == 128 ? 1 : 0;
      }
      std::vector<unsigned> codes;
      const auto bytes = random_packed_rows(rows, count, stride, codes, rng);
      const auto sums = row_sums(codes, rows, count, table);
      std::vector<std::uint8_t> u(count), ordered(count);
      for (auto& v : u) v = static_cast<std::uint8_t>(activation(rng));
      pot::test::for_each_supported_isa([&](pot::simd::isa isa) {
        pot::simd::dispatch(isa, [&](auto tag) {
          if constexpr (pot::simd::u8_packed4_max_range(decltype(tag){}) >= 7) {
            pot::simd::order_activations(u.data(), count, ordered.data(),
                                         [&](std::size_t k) { return pot::simd::packed4_u8_position(tag, k, count); });
            std::array<std::int32_t, rows> four{};
            pot::simd::dot_u8_packed4_rows<rows, true>(tag, ordered.data(), zero_point, sums.data(), bytes.data(), stride,
                                                       bytes.data(), tables, count, four.data());
            for (std::size_t r = 0; r < rows; ++r) {
              std::int64_t expected = 0;
              for (std::size_t k = 0; k < count; ++k) expected += (std::int64_t{u[k]} - zero_point) * table[codes[r * count + k]];
              INFO("count ", count, " zero point ", zero_point, " row ", r);
              CHECK(four[r] == expected);
            }
            ++checked;
          }
        });
      });
    }
  // Where the CPU has AVX-512, its body ran on all 18 shapes; elsewhere no body has the
  // correction (the test output says which instruction sets ran).
  MESSAGE("shapes checked on a body with the +128 correction: ", checked);
  if (pot::simd::isa_supported(pot::simd::isa::avx512)) CHECK(checked == 18);
}

TEST_CASE("the fused float 4-bit kernel is within the summation bound of the sum written out, for any table") {
  // Tables whose entries are not powers of two, so that every byte of each float matters
  // (the NEON body looks up each byte of the float separately).
  std::mt19937 rng(13);
  std::uniform_real_distribution<float> value(-3.0f, 3.0f);
  constexpr std::size_t rows = 4, stride = 640;
  for (const std::size_t count : {std::size_t{1}, std::size_t{31}, std::size_t{32}, std::size_t{65}, std::size_t{1000}}) {
    std::array<float, 16> table{};
    for (auto& t : table) t = value(rng);
    std::vector<unsigned> codes;
    const auto bytes = random_packed_rows(rows, count, stride, codes, rng);
    std::vector<float> x(count), ordered(count);
    for (auto& v : x) v = value(rng);
    pot::test::for_each_supported_isa([&](pot::simd::isa isa) {
      pot::simd::dispatch(isa, [&](auto tag) {
        pot::simd::order_activations(x.data(), count, ordered.data(),
                                     [&](std::size_t k) { return pot::simd::float_packed4_position(tag, k, count); });
        std::array<float, rows> out{};
        pot::simd::dot_float_packed4_rows<rows>(tag, ordered.data(), bytes.data(), stride, bytes.data(), table, count,
                                                out.data());
        for (std::size_t r = 0; r < rows; ++r) {
          double exact = 0, magnitude = 0;
          for (std::size_t k = 0; k < count; ++k) {
            const double product = double{x[k]} * double{table[codes[r * count + k]]};
            exact += product;
            magnitude += std::abs(product);
          }
          // Each product rounds once and each of the count - 1 additions once.
          const double bound = static_cast<double>(count + 1) * 0x1p-24 * magnitude;
          INFO("count ", count, " row ", r);
          CHECK(std::abs(double{out[r]} - exact) <= bound);
        }
      });
    });
  }
}
