#include "pot/autodiff/var.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <numbers>

#include "finite_difference.hpp"
#include "pot/autodiff/derivatives.hpp"

using pot::ad::var;
using pot::ad::derivatives;
using pot::ad::wrt;
using pot_test::central_difference;

namespace {

// d f / dx through var<double>, for a generic f.
template <class F>
double reverse_derivative(F&& f, double x0) {
  var<double> x = x0;
  return derivatives(f(x), wrt(x))[0];
}

// Checks one function of one argument at x0 against a hand-derived derivative and
// against finite differences of the same function in plain double.
template <class F>
void check_unary(F&& f, double x0, double hand_derivative) {
  CAPTURE(x0);
  const double derivative = reverse_derivative(f, x0);
  CHECK(derivative == doctest::Approx(hand_derivative).epsilon(1e-12));
  CHECK(derivative == doctest::Approx(central_difference(f, x0)).epsilon(1e-7));
}

}  // namespace

TEST_CASE("a composite function's derivative equals the hand-derived formula") {
  // f(x) = x e^x / (1 + x^2); quotient rule:
  // f'(x) = e^x ((1 + x)(1 + x^2) - 2x^2) / (1 + x^2)^2 = e^x (1 + x - x^2 + x^3) / (1 + x^2)^2
  const auto f = [](auto x) {
    using std::exp;
    return x * exp(x) / (1.0 + x * x);
  };
  for (const double x : {-2.5, -0.3, 0.0, 0.7, 3.0}) {
    const double hand =
        std::exp(x) * (1.0 + x - x * x + x * x * x) / ((1.0 + x * x) * (1.0 + x * x));
    check_unary(f, x, hand);
  }
}

TEST_CASE("math functions: derivative vs hand formula and finite differences") {
  using std::exp, std::log, std::sqrt, std::tanh, std::sin, std::cos, std::sinh, std::cosh,
      std::erf, std::abs;
  for (const double x : {-1.7, -0.4, 0.25, 1.3}) {
    check_unary([](auto v) { return exp(v); }, x, std::exp(x));
    check_unary([](auto v) { return tanh(v); }, x, 1.0 / (std::cosh(x) * std::cosh(x)));
    check_unary([](auto v) { return sin(v); }, x, std::cos(x));
    check_unary([](auto v) { return cos(v); }, x, -std::sin(x));
    check_unary([](auto v) { return sinh(v); }, x, std::cosh(x));
    check_unary([](auto v) { return cosh(v); }, x, std::sinh(x));
    check_unary([](auto v) { return erf(v); }, x, 2.0 / std::sqrt(std::numbers::pi) * std::exp(-x * x));
    check_unary([](auto v) { return abs(v); }, x, x > 0 ? 1.0 : -1.0);
    check_unary([](auto v) { return -v; }, x, -1.0);
    check_unary([](auto v) { return +v; }, x, 1.0);
  }
  for (const double x : {0.1, 0.8, 2.0, 17.0}) {
    check_unary([](auto v) { return log(v); }, x, 1.0 / x);
    check_unary([](auto v) { return sqrt(v); }, x, 0.5 / std::sqrt(x));
  }
}

TEST_CASE("arithmetic with a constant on either side") {
  const double x = 1.75;
  check_unary([](auto v) { return v + 2.0; }, x, 1.0);
  check_unary([](auto v) { return 2.0 + v; }, x, 1.0);
  check_unary([](auto v) { return v - 2.0; }, x, 1.0);
  check_unary([](auto v) { return 2.0 - v; }, x, -1.0);
  check_unary([](auto v) { return v * 3.0; }, x, 3.0);
  check_unary([](auto v) { return 3.0 * v; }, x, 3.0);
  check_unary([](auto v) { return v / 4.0; }, x, 0.25);
  check_unary([](auto v) { return 3.0 / v; }, x, -3.0 / (x * x));
  using std::pow;
  check_unary([](auto v) { return pow(v, 2.5); }, x, 2.5 * std::pow(x, 1.5));
  check_unary([](auto v) { return pow(2.5, v); }, x, std::pow(2.5, x) * std::log(2.5));
}

TEST_CASE("binary operations between vars: both partial derivatives") {
  var<double> a = 1.5;
  var<double> b = -0.6;
  const auto sum = derivatives(a + b, wrt(a, b));
  CHECK(sum[0] == 1.0);
  CHECK(sum[1] == 1.0);
  const auto difference = derivatives(a - b, wrt(a, b));
  CHECK(difference[0] == 1.0);
  CHECK(difference[1] == -1.0);
  const auto product = derivatives(a * b, wrt(a, b));
  CHECK(product[0] == -0.6);
  CHECK(product[1] == 1.5);
  const auto quotient = derivatives(a / b, wrt(a, b));
  CHECK(quotient[0] == doctest::Approx(1.0 / -0.6).epsilon(1e-15));
  CHECK(quotient[1] == doctest::Approx(-1.5 / 0.36).epsilon(1e-15));
  var<double> base = 1.3;
  var<double> exponent = 2.2;
  const auto power = derivatives(pow(base, exponent), wrt(base, exponent));
  CHECK(power[0] == doctest::Approx(2.2 * std::pow(1.3, 1.2)).epsilon(1e-14));
  CHECK(power[1] == doctest::Approx(std::pow(1.3, 2.2) * std::log(1.3)).epsilon(1e-14));
}

TEST_CASE("a var used twice gets both contributions") {
  var<double> x = 3.0;
  CHECK(derivatives(x * x, wrt(x))[0] == 6.0);
  CHECK(derivatives(x + x + x, wrt(x))[0] == 3.0);
  CHECK(derivatives(x - x, wrt(x))[0] == 0.0);
}

TEST_CASE("compound assignment records the same as the binary operator") {
  var<double> x = 2.0;
  var<double> y = x;
  y *= x;    // x^2
  y += 1.0;  // x^2 + 1
  y /= x;    // x + 1/x
  y -= x;    // 1/x
  y *= 3.0;  // 3/x
  y -= 1.0;
  y /= 2.0;  // (3/x - 1) / 2, derivative -3 / (2 x^2)
  y += x;    // + x, derivative + 1
  CHECK(y.value() == doctest::Approx((3.0 / 2.0 - 1.0) / 2.0 + 2.0));
  CHECK(derivatives(y, wrt(x))[0] == doctest::Approx(-3.0 / 8.0 + 1.0).epsilon(1e-15));
}

TEST_CASE("pow follows PyTorch at a zero base and a zero exponent") {
  var<double> zero = 0.0;
  var<double> two = 2.0;
  // d/db 0^b for b >= 0 would be 0 * log 0 = NaN; PyTorch (and we) define it as 0.
  const auto at_zero_base = derivatives(pow(zero, two), wrt(zero, two));
  CHECK(at_zero_base[0] == 0.0);  // 2 * 0^1
  CHECK(at_zero_base[1] == 0.0);
  var<double> x = 0.0;
  var<double> none = 0.0;
  // d/da a^0 would be 0 * a^-1 = NaN at a = 0; defined as 0.
  CHECK(derivatives(pow(x, none), wrt(x))[0] == 0.0);
  CHECK(derivatives(pow(x, 0.0), wrt(x))[0] == 0.0);
}

TEST_CASE("abs at 0 has derivative 0") {
  var<double> x = 0.0;
  CHECK(derivatives(abs(x), wrt(x))[0] == 0.0);
}

TEST_CASE("max and min pass the derivative to the chosen argument, the first on a tie") {
  var<double> a = 1.0;
  var<double> b = 2.0;
  auto larger = derivatives(max(a, b), wrt(a, b));
  CHECK(larger == std::array{0.0, 1.0});
  auto smaller = derivatives(min(a, b), wrt(a, b));
  CHECK(smaller == std::array{1.0, 0.0});
  var<double> c = 2.0;
  CHECK(derivatives(max(b, c), wrt(b, c)) == std::array{1.0, 0.0});
  CHECK(derivatives(min(c, b), wrt(b, c)) == std::array{0.0, 1.0});
  // Mixed with a number (ReLU), through the implicit conversion.
  CHECK(derivatives(max(a, 0.0), wrt(a))[0] == 1.0);
  var<double> negative = -1.0;
  CHECK(derivatives(max(negative, 0.0), wrt(negative))[0] == 0.0);
}

TEST_CASE("comparisons look at values, with numbers on either side") {
  var<double> a = 1.0;
  var<double> b = 2.0;
  CHECK(a < b);
  CHECK(a <= b);
  CHECK(b > a);
  CHECK(b >= a);
  CHECK(a != b);
  CHECK(a == 1.0);
  CHECK(1.0 == a);
  CHECK(a < 1.5);
  CHECK(0.5 < a);
  CHECK(2.0 >= b);
  CHECK_FALSE(a > 1.0);
  var<double> nan = std::nan("");
  CHECK_FALSE(nan == nan);
  CHECK_FALSE(nan < 0.0);
  CHECK_FALSE(nan >= 0.0);
}

TEST_CASE("a var made from a number is an independent variable") {
  var<double> x = 1.5;
  CHECK(x.value() == 1.5);
  CHECK(derivatives(x, wrt(x))[0] == 1.0);
  var<double> zero;
  CHECK(zero.value() == 0.0);
  CHECK(derivatives(x, wrt(zero))[0] == 0.0);
  CHECK(pot::ad::value(x) == 1.5);
  CHECK(pot::ad::value(2.5) == 2.5);
  CHECK(pot::ad::value(3) == 3);
}

TEST_CASE("var<float> records float partials") {
  var<float> x = 2.0f;
  const var<float> y = x * x * 3.0f + 1.0;  // a double constant converts to float
  CHECK(y.value() == 13.0f);
  CHECK(derivatives(y, wrt(x))[0] == 12.0f);
}
