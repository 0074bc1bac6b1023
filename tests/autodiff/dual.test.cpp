#include "pot/autodiff/dual.hpp"

#include <doctest/doctest.h>

#include <cmath>

#include "finite_difference.hpp"
#include "pot/autodiff/derivatives.hpp"
#include "pot/autodiff/var.hpp"

using pot::ad::dual;
using pot::ad::var;

namespace {

// A function that uses every operation dual and var share, written once for both
// (and for double, the finite-difference reference).
template <class S>
S everything(S x) {
  using std::exp, std::log, std::sqrt, std::tanh, std::sin, std::cos, std::sinh, std::cosh,
      std::erf, std::abs, std::pow, std::max, std::min;
  S y = x * x - 3.0 * x + 2.0 / (1.0 + x * x);
  y += exp(-x) * sin(x) - cos(2.0 * x) / 3.0;
  y -= tanh(x) * sinh(x / 2.0) + cosh(x / 3.0);
  y *= 1.0 + erf(x - 0.5);
  y /= 2.0 + abs(x);
  y = y + log(1.0 + x * x) + sqrt(4.0 + x) + pow(S(1.5) + x * x, S(0.7) + x / 4.0);
  y = y + max(x, S(0.2)) - min(x, S(-0.1));
  return -y;
}

}  // namespace

TEST_CASE("dual and var compute the same derivative, equal to finite differences") {
  for (const double x0 : {-1.3, -0.35, 0.6, 1.9}) {
    CAPTURE(x0);
    const dual<double> forward = everything(dual<double>(x0, 1.0));
    var<double> x = x0;
    const var<double> reverse = everything(x);
    CHECK(forward.value() == reverse.value());
    CHECK(forward.value() == doctest::Approx(everything(x0)).epsilon(1e-15));
    const double reverse_derivative = pot::ad::derivatives(reverse, pot::ad::wrt(x))[0];
    CHECK(forward.tangent() == doctest::Approx(reverse_derivative).epsilon(1e-13));
    CHECK(forward.tangent() ==
          doctest::Approx(pot_test::central_difference([](double v) { return everything(v); }, x0))
              .epsilon(1e-7));
  }
}

TEST_CASE("dual arithmetic follows the product and quotient rules") {
  constexpr dual<double> x(3.0, 1.0);
  constexpr dual<double> product = x * x * 2.0;  // 2x^2, derivative 4x
  static_assert(product.value() == 18.0 && product.tangent() == 12.0);
  constexpr dual<double> quotient = 1.0 / x;  // derivative -1/x^2
  static_assert(quotient.tangent() == -1.0 / 9.0);
  constexpr dual<double> constant = 5.0;
  static_assert(constant.tangent() == 0.0);
  CHECK(pot::ad::value(product) == 18.0);
  CHECK(x < 4.0);
  CHECK(x == 3.0);
  CHECK(2.0 < x);
}

TEST_CASE("dual pow, abs, max and min match var's conventions") {
  const dual<double> zero(0.0, 1.0);
  CHECK(abs(zero).tangent() == 0.0);
  CHECK(pow(zero, dual<double>(2.0)).tangent() == 0.0);
  CHECK(pow(dual<double>(0.0), dual<double>(2.0, 1.0)).tangent() == 0.0);
  CHECK(pow(zero, dual<double>(0.0)).tangent() == 0.0);
  const dual<double> a(1.0, 1.0);
  const dual<double> b(1.0, 0.0);
  CHECK(max(a, b).tangent() == 1.0);  // tie: the first
  CHECK(min(b, a).tangent() == 0.0);
}
