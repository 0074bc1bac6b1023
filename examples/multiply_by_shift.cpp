// Multiplying by a power of two without a multiplier.
//
// With p = ±2^e (here the paper's pot<4, 0, 7>, e in 0..7):
//   pot * int8           is x << e with p's sign, in an int16 (wide enough for every case)
//   pot * float          adds e to x's exponent: exactly std::ldexp(x, e) with p's sign
//   pot * pot            adds exponents: a wider pot type, chosen at compile time
//   integer / pot        shifts right, rounding to nearest with ties away from zero
//   affine<uint8> * pot  (q - zero_point) << e, the term of an integer dot product
// Each is checked over every code of the pot type against the plain multiplication (or
// division) in double, which is exact for these operands. Exits 1 on a mismatch.
#include <pot/core/pot.hpp>
#include <pot/quant/affine/activation.hpp>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <type_traits>

namespace {

using weight_pot = pot::pot<4, 0, 7>;

int failures = 0;

void expect_equal(double got, double expected, const char* what, double p, double x) {
  if (got != expected) {
    std::printf("%s: p = %g, x = %g gave %g, expected %g\n", what, p, x, got, expected);
    ++failures;
  }
}

// Calls f(p) for each of the 16 values of pot<4, 0, 7> (every code has a value: no zero code).
template <class F>
void for_each_pot(F f) {
  for (unsigned code = 0; code < 16; ++code) f(weight_pot::from_code(static_cast<std::uint8_t>(code)));
}

}  // namespace

int main() {
  const weight_pot four(4.0f);  // +2^2
  const weight_pot minus_eight(-8.0f);

  // pot * int8: an int16 holds every product (-128 * -128 = 2^14), so no overflow and no
  // shift of a negative value.
  static_assert(std::is_same_v<decltype(four * std::int8_t{1}), std::int16_t>);
  std::printf("pot * int8:   4 * 100 = %d (100 << 2),  -8 * -128 = %d\n",
              four * std::int8_t{100}, minus_eight * std::int8_t{-128});
  for_each_pot([](weight_pot p) {
    for (int x = -128; x <= 127; ++x) {
      const auto product = p * static_cast<std::int8_t>(x);
      expect_equal(product, static_cast<double>(p) * x, "pot * int8", static_cast<double>(p), x);
      // For x >= 0 and p > 0 the product is literally a left shift.
      if (x >= 0 && !p.is_negative())
        expect_equal(product, x << p.exponent(), "pot * int8 as x << e", static_cast<double>(p), x);
    }
  });

  // pot * float: the exponent add, equal to std::ldexp bit for bit, also for 0, subnormals,
  // overflow to inf, and inf (NaN stays NaN).
  const float specials[] = {1.5f, -0.3f, 0.0f, -0.0f, 1e-40f /* subnormal */,
                            std::numeric_limits<float>::max() /* overflows */,
                            std::numeric_limits<float>::infinity(),
                            std::numeric_limits<float>::quiet_NaN()};
  std::printf("pot * float:  4 * 1.5f = %g,  4 * 1e-40f = %g,  4 * FLT_MAX = %g\n",
              static_cast<double>(four * 1.5f), static_cast<double>(four * 1e-40f),
              static_cast<double>(four * std::numeric_limits<float>::max()));
  for_each_pot([&](weight_pot p) {
    for (const float x : specials) {
      const float product = p * x;
      const float ldexp = std::ldexp(p.is_negative() ? -x : x, p.exponent());
      const bool same = std::bit_cast<std::uint32_t>(product) == std::bit_cast<std::uint32_t>(ldexp) ||
                        (std::isnan(product) && std::isnan(ldexp));
      if (!same) {
        std::printf("pot * float: %g * %g gave %g, ldexp %g\n", static_cast<double>(p),
                    static_cast<double>(x), static_cast<double>(product), static_cast<double>(ldexp));
        ++failures;
      }
    }
  });

  // pot * pot: exponents 0..7 plus 0..7 need 0..14, which takes a 5-bit pot.
  using product_pot = pot::product_t<weight_pot, weight_pot>;
  std::printf("pot * pot:    %s * %s -> %s;  4 * -8 = %g\n", pot::type_tag<weight_pot>().c_str(),
              pot::type_tag<weight_pot>().c_str(), pot::type_tag<product_pot>().c_str(),
              static_cast<double>(four * minus_eight));
  for_each_pot([](weight_pot a) {
    for_each_pot([a](weight_pot b) {
      const product_pot product = a * b;
      expect_equal(static_cast<double>(product), static_cast<double>(a) * static_cast<double>(b),
                   "pot * pot", static_cast<double>(a), static_cast<double>(b));
    });
  });

  // integer / pot: x / 2^e rounded to nearest, ties away from zero (std::round's rule).
  std::printf("int / pot:    6 / 4 = %d,  -6 / 4 = %d,  5 / 4 = %d,  -2 / 4 = %d,  1 / 4 = %d\n",
              std::int16_t{6} / four, std::int16_t{-6} / four, std::int16_t{5} / four,
              std::int16_t{-2} / four, std::int16_t{1} / four);
  for_each_pot([](weight_pot p) {
    for (int x = -1000; x <= 1000; ++x) {
      const std::int16_t quotient = static_cast<std::int16_t>(x) / p;
      expect_equal(quotient, std::round(x / static_cast<double>(p)), "int16 / pot",
                   static_cast<double>(p), x);
    }
  });

  // affine<uint8_t> * pot: the activation's integer value q - zero_point, shifted. The
  // activation scale and the weight scale are applied once, after a whole dot product.
  const std::uint8_t zero_point = 117;
  const pot::affine<std::uint8_t> activation(200, zero_point);
  std::printf("affine * pot: (200 - 117) * -8 = %d\n", activation * minus_eight);
  for_each_pot([&](weight_pot p) {
    for (int q = 0; q <= 255; ++q) {
      const pot::affine<std::uint8_t> a(static_cast<std::uint8_t>(q), zero_point);
      expect_equal(a * p, (q - zero_point) * static_cast<double>(p), "affine * pot",
                   static_cast<double>(p), q);
    }
  });

  std::printf("%s: %d mismatch(es)\n", failures == 0 ? "ok" : "FAILED", failures);
  return failures == 0 ? 0 : 1;
}
