#pragma once
// Central finite differences in double, the independent reference the autodiff tests
// compare against.

#include <cmath>

namespace pot_test {

/// \brief `(f(x + h) - f(x - h)) / 2h` with a step scaled to `x`; error O(h^2) for smooth f.
template <class F>
double central_difference(F&& f, double x) {
  const double h = 1e-6 * std::fmax(1.0, std::fabs(x));
  return (f(x + h) - f(x - h)) / (2.0 * h);
}

}  // namespace pot_test
