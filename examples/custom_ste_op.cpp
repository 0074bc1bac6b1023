// A custom autodiff operation with a straight-through estimator, and a check of its
// gradient. The op binarizes: forward sign(x) in {-1, +1}; backward passes the gradient
// where |x| <= 1 (the derivative of the surrogate hardtanh(x) = clamp(x, -1, 1)), as
// BinaryConnect does. Exits 1 if a gradient disagrees with its independent reference.

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "pot/autodiff/derivatives.hpp"
#include "pot/autodiff/var.hpp"

namespace {

using pot::ad::var;

// The whole custom op: the exact forward value and the estimator's local derivative,
// recorded as one node by var<T>::from_unary.
template <class T>
var<T> binarize(const var<T>& x) {
  const T v = x.value();
  const T sign = v >= T(0) ? T(1) : T(-1);
  const T straight_through = std::abs(v) <= T(1) ? T(1) : T(0);
  return var<T>::from_unary(sign, x, straight_through);
}

double hardtanh(double x) { return std::clamp(x, -1.0, 1.0); }

bool close(double a, double b, double tolerance) {
  return std::abs(a - b) <= tolerance * std::max(1.0, std::abs(b));
}

}  // namespace

int main() {
  int failures = 0;
  // Points away from the surrogate's kinks at -1 and +1, on both sides of them.
  const std::array<double, 6> inputs{-2.5, -0.7, -0.1, 0.3, 0.9, 1.6};

  // 1. The op's local derivative equals the central difference of its surrogate.
  for (const double x0 : inputs) {
    var<double> x = x0;
    const double tape = pot::ad::derivatives(binarize(x), pot::ad::wrt(x))[0];
    const double h = 1e-6;
    const double numeric = (hardtanh(x0 + h) - hardtanh(x0 - h)) / (2 * h);
    if (!close(tape, numeric, 1e-6)) {
      std::printf("local derivative at x = %g: tape %g, surrogate %g\n", x0, tape, numeric);
      ++failures;
    }
  }

  // 2. Inside a loss, the chain rule carries the STE: for L = sum_i (w_i b(x_i) - t_i)^2,
  //    dL/dx_i = 2 (w_i b_i - t_i) w_i [|x_i| <= 1] and dL/dw_i = 2 (w_i b_i - t_i) b_i.
  const std::array<double, 6> weights{0.5, -1.25, 2.0, 0.75, -0.5, 1.5};
  const std::array<double, 6> targets{0.2, 1.0, -0.3, 0.6, 0.1, -1.0};
  std::array<var<double>, 6> x;
  std::array<var<double>, 6> w;
  var<double> loss = 0.0;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    x[i] = inputs[i];
    w[i] = weights[i];
    const var<double> residual = w[i] * binarize(x[i]) - targets[i];
    loss += residual * residual;
  }
  const auto dx = pot::ad::gradient(loss, x);
  const auto dw = pot::ad::gradient(loss, w);
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const double b = inputs[i] >= 0 ? 1.0 : -1.0;
    const double residual = weights[i] * b - targets[i];
    const double expected_dx = std::abs(inputs[i]) <= 1.0 ? 2 * residual * weights[i] : 0.0;
    const double expected_dw = 2 * residual * b;
    if (!close(dx[i], expected_dx, 1e-14) || !close(dw[i], expected_dw, 1e-14)) {
      std::printf("element %zu: dL/dx %g (expected %g), dL/dw %g (expected %g)\n", i, dx[i],
                  expected_dx, dw[i], expected_dw);
      ++failures;
    }
  }

  pot::ad::active_tape<double>().clear();
  std::printf("%s: %d gradient mismatch(es)\n", failures == 0 ? "ok" : "FAILED", failures);
  return failures == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
