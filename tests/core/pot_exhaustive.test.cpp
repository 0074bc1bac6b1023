// Every code of every format in pot_formats.hpp against a long double reference: values,
// comparisons, negation, products with pots, integers and floats, integer division.
#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <compare>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <vector>

#include "pot/core/pot.hpp"
#include "pot_formats.hpp"

namespace {

using pot_test::every_value;
using pot_test::meaning_of_code;

template <class P>
long double reference_value(P p) {
  return meaning_of_code<P>(p.code()).value;
}

template <class F>
bool same_float(F actual, F expected) {
  if (std::isnan(expected)) {
    return std::isnan(actual);
  }
  return std::bit_cast<std::conditional_t<sizeof(F) == 4, std::uint32_t, std::uint64_t>>(actual) ==
         std::bit_cast<std::conditional_t<sizeof(F) == 4, std::uint32_t, std::uint64_t>>(expected);
}

// x times the pot, computed by std::ldexp (a zero pot acts as +0.0, see number-format.md).
template <class F, class P>
F reference_float_product(P p, F x) {
  const long double value = reference_value(p);
  if (value == 0) {
    return x * F(0);
  }
  const F scaled = std::ldexp(x, std::ilogb(value));
  return value < 0 ? -scaled : scaled;
}

template <class P, class F, class Bits>
void check_float_products(std::size_t random_count) {
  const auto sample = pot_test::float_sample<F, Bits>(random_count);
  for (const P p : every_value<P>()) {
    for (const F x : sample) {
      const F expected = reference_float_product(p, x);
      if (!same_float(p * x, expected) || !same_float(x * p, expected)) {
        FAIL_CHECK("pot code " << unsigned(p.code()) << " times " << x << " gave " << p * x
                               << ", expected " << expected);
      }
    }
  }
}

template <class P, class I>
void check_integer_products() {
  if constexpr (P::min_exponent >= 0 &&
                !std::is_void_v<typename pot::detail::shift_product<I, P::max_exponent>::type>) {
    for (const P p : every_value<P>()) {
      const long double value = reference_value(p);
      for (long long x = std::numeric_limits<I>::min(); x <= std::numeric_limits<I>::max(); ++x) {
        const auto product = p * static_cast<I>(x);
        static_assert(std::is_signed_v<decltype(product)>);
        if (static_cast<long double>(product) != value * static_cast<long double>(x) ||
            static_cast<I>(x) * p != product) {
          FAIL_CHECK("pot code " << unsigned(p.code()) << " times " << x << " gave " << product);
        }
      }
    }
  }
}

// x / |2^e| rounded to nearest with ties away from zero (std::round), sign applied.
long double reference_quotient(long double x, long double divisor) {
  const long double quotient = std::round(x / std::fabs(divisor));
  return divisor < 0 ? -quotient : quotient;
}

template <class P, class I>
void check_integer_division() {
  if constexpr (P::min_exponent >= 0) {
    using limits = std::numeric_limits<I>;
    const std::vector<long long> every_x = [] {
      std::vector<long long> values;
      for (long long x = limits::min(); x <= limits::max(); ++x) {
        values.push_back(x);
      }
      return values;
    }();
    // Beyond exponent digits+1 every quotient is 0, so the extremes alone say enough there.
    const std::vector<long long> extremes = {limits::min(), limits::min() + 1, -1, 0, 1,
                                             limits::max()};
    for (const P p : every_value<P>()) {
      const long double divisor = reference_value(p);
      if (divisor == 0) {
        CHECK_THROWS_AS(I{1} / p, std::domain_error);
        continue;
      }
      const bool quotients_vary = p.exponent() <= limits::digits + 1;
      for (const long long x : quotients_vary ? every_x : extremes) {
        const long double expected = reference_quotient(static_cast<long double>(x), divisor);
        if (expected > static_cast<long double>(std::numeric_limits<I>::max())) {
          CHECK_THROWS_AS(static_cast<I>(x) / p, std::overflow_error);
          continue;
        }
        const I quotient = static_cast<I>(x) / p;
        if (static_cast<long double>(quotient) != expected) {
          FAIL_CHECK(x << " / pot code " << unsigned(p.code()) << " gave " << quotient
                       << ", expected " << expected);
        }
      }
    }
  }
}

template <class P>
void check_int64_division_edges() {
  if constexpr (P::min_exponent >= 0) {
    using limits = std::numeric_limits<std::int64_t>;
    const std::int64_t edges[] = {limits::min(), limits::min() + 1, -(std::int64_t{3} << 61),
                                  -(std::int64_t{1} << 62) - 1, -1, 0, 1,
                                  (std::int64_t{1} << 62) + 1, std::int64_t{3} << 61,
                                  limits::max() - 1, limits::max()};
    for (const P p : every_value<P>()) {
      const long double divisor = reference_value(p);
      if (divisor == 0) {
        continue;
      }
      for (const std::int64_t x : edges) {
        const long double expected = reference_quotient(static_cast<long double>(x), divisor);
        if (expected > static_cast<long double>(limits::max())) {
          CHECK_THROWS_AS(x / p, std::overflow_error);
        } else {
          CHECK(static_cast<long double>(x / p) == expected);
        }
      }
    }
  }
}

}  // namespace

TEST_CASE_TEMPLATE_DEFINE("every code: round trip, value, comparisons, negation", P, codes) {
  for (unsigned code = 0; code < (1u << P::bits) + 1 &&
                          code <= std::numeric_limits<typename P::code_type>::max();
       ++code) {
    const auto meaning = meaning_of_code<P>(code);
    const auto typed_code = static_cast<typename P::code_type>(code);
    if (!meaning.valid) {
      CHECK_THROWS_AS(P::from_code(typed_code), std::invalid_argument);
      continue;
    }
    const P p = P::from_code(typed_code);
    CHECK(p.code() == code);
    CHECK(static_cast<double>(p) == static_cast<double>(meaning.value));
    CHECK(same_float(static_cast<float>(p), static_cast<float>(meaning.value)));
    CHECK(p.is_zero() == (meaning.value == 0));
    CHECK(p.is_negative() == (meaning.value < 0));
    if (meaning.value != 0) {
      CHECK(p.exponent() == std::ilogb(meaning.value));
      CHECK(p.exponent_index() == std::ilogb(meaning.value) - P::min_exponent);
    }
    CHECK(reference_value(-p) == -meaning.value);
    CHECK(reference_value(abs(p)) == std::fabs(meaning.value));
  }
  CHECK(reference_value(P()) == (P::has_zero ? 0.0L : std::ldexp(1.0L, P::min_exponent)));

  const auto values = every_value<P>();
  for (const P a : values) {
    for (const P b : values) {
      const long double va = reference_value(a);
      const long double vb = reference_value(b);
      if ((a == b) != (va == vb) || (a <=> b) != (va <=> vb)) {
        FAIL_CHECK("codes " << unsigned(a.code()) << " and " << unsigned(b.code())
                            << " compare wrongly");
      }
    }
  }
}
TEST_CASE_TEMPLATE_APPLY(codes, pot_test::all_formats);

TEST_CASE_TEMPLATE_DEFINE("every pair of codes: pot * pot is the exact product", P, products) {
  if constexpr (2 * P::min_exponent >= -1022 && 2 * P::max_exponent <= 1023) {
    const auto values = every_value<P>();
    for (const P a : values) {
      for (const P b : values) {
        const auto product = a * b;
        if (static_cast<long double>(static_cast<double>(product)) !=
            reference_value(a) * reference_value(b)) {
          FAIL_CHECK("codes " << unsigned(a.code()) << " * " << unsigned(b.code()) << " gave "
                              << static_cast<double>(product));
        }
      }
    }
  }
}
TEST_CASE_TEMPLATE_APPLY(products, pot_test::all_formats);

TEST_CASE("pot * pot across formats is the exact product") {
  using wide = pot::pot<5, -7, 7, pot::rounding::linear>;
  using narrow = pot::pot<3, -2, 0>;
  for (const wide a : every_value<wide>()) {
    for (const narrow b : every_value<narrow>()) {
      CHECK(static_cast<double>(a * b) == static_cast<double>(reference_value(a) * reference_value(b)));
      CHECK(static_cast<double>(b * a) == static_cast<double>(reference_value(a) * reference_value(b)));
    }
  }
}

TEST_CASE_TEMPLATE_DEFINE("every code times every int8 and int16 value", P, integers) {
  check_integer_products<P, std::int8_t>();
  check_integer_products<P, std::uint8_t>();
  check_integer_products<P, std::int16_t>();
}
TEST_CASE_TEMPLATE_APPLY(integers, pot_test::all_formats);

TEST_CASE_TEMPLATE_DEFINE("every int8 and int16 value divided by every code", P, division) {
  check_integer_division<P, std::int8_t>();
  check_integer_division<P, std::int16_t>();
  check_int64_division_edges<P>();
}
TEST_CASE_TEMPLATE_APPLY(division, pot_test::all_formats);

TEST_CASE_TEMPLATE_DEFINE("every code times floats and doubles equals std::ldexp", P, floats) {
  const std::size_t random_count = pot_test::sanitized_build ? 300 : 3000;
  check_float_products<P, float, std::uint32_t>(random_count);
  check_float_products<P, double, std::uint64_t>(random_count);
}
TEST_CASE_TEMPLATE_APPLY(floats, pot_test::all_formats);
