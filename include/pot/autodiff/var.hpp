#pragma once
/// \file
/// \brief Reverse-mode automatic differentiation: `var<T>`, its operators and math functions.
///
/// A var is a value plus the index of its node on the calling thread's tape (see
/// tape.hpp); copying one is cheap and shares the node. Derivatives are read with
/// derivatives() or gradient() (derivatives.hpp).

#include <cmath>
#include <compare>
#include <cstdint>
#include <numbers>
#include <ostream>
#include <type_traits>

#include "pot/autodiff/tape.hpp"

namespace pot::ad {

/// \brief A scalar whose operations are recorded on the calling thread's tape, so that the
/// derivatives of a result with respect to its inputs can be computed in one reverse sweep.
///
/// Constructing a var from a number makes a new independent variable (a leaf), so generic
/// code that writes `T(0)` or `var<double> x = 1.5` works. Every arithmetic operation and
/// math function records one node. A var must be used on the thread that made it and
/// before that thread's tape is cleared; otherwise operations throw std::logic_error.
///
/// \tparam T float or double
template <class T>
class var {
  static_assert(std::is_floating_point_v<T>, "pot: var<T> needs a floating-point T");

 public:
  /// \brief The element type of the value and the derivatives.
  using value_type = T;

  /// \brief A new independent variable with value 0.
  var() : var(T(0)) {}

  /// \brief A new independent variable with value `value` (implicit on purpose: generic
  /// code mixes numbers and vars freely).
  var(T value) : value_(value) {  // NOLINT(google-explicit-constructor)
    tape<T>& recorder = active_tape<T>();
    index_ = recorder.record_leaf();
    epoch_ = recorder.epoch();
  }

  /// \brief The value, readable even after the tape was cleared.
  T value() const noexcept { return value_; }

  /// \brief The position of this var's node on its tape.
  typename tape<T>::index_type index() const noexcept { return index_; }

  /// \brief The epoch of the tape this var was recorded on (see tape::epoch()).
  std::uint32_t epoch() const noexcept { return epoch_; }

  /// \brief The result of a custom operation of one argument: value `value`, whose
  /// derivative with respect to `x` is `partial`.
  /// \throws std::logic_error if `x` belongs to a cleared tape or another thread.
  static var from_unary(T value, const var& x, T partial) {
    tape<T>& recorder = active_tape<T>();
    recorder.require_current(x.epoch_);
    return var(value, recorder.record_unary(x.index_, partial), recorder.epoch());
  }

  /// \brief The result of a custom operation of two arguments: value `value`, with
  /// partial derivatives `partial_a` and `partial_b` towards `a` and `b`.
  /// \throws std::logic_error if `a` or `b` belongs to a cleared tape or another thread.
  static var from_binary(T value, const var& a, T partial_a, const var& b, T partial_b) {
    tape<T>& recorder = active_tape<T>();
    recorder.require_current(a.epoch_);
    recorder.require_current(b.epoch_);
    return var(value, recorder.record_binary(a.index_, partial_a, b.index_, partial_b),
               recorder.epoch());
  }

  /// \brief `+x` (records a node, so the result is a var distinct from x).
  friend var operator+(const var& x) { return from_unary(x.value_, x, T(1)); }
  /// \brief `-x`.
  friend var operator-(const var& x) { return from_unary(-x.value_, x, T(-1)); }

  /// \brief Sum.
  friend var operator+(const var& a, const var& b) {
    return from_binary(a.value_ + b.value_, a, T(1), b, T(1));
  }
  /// \brief Sum with a constant.
  friend var operator+(const var& a, T b) { return from_unary(a.value_ + b, a, T(1)); }
  /// \brief Sum with a constant.
  friend var operator+(T a, const var& b) { return from_unary(a + b.value_, b, T(1)); }

  /// \brief Difference.
  friend var operator-(const var& a, const var& b) {
    return from_binary(a.value_ - b.value_, a, T(1), b, T(-1));
  }
  /// \brief Difference with a constant.
  friend var operator-(const var& a, T b) { return from_unary(a.value_ - b, a, T(1)); }
  /// \brief Difference from a constant.
  friend var operator-(T a, const var& b) { return from_unary(a - b.value_, b, T(-1)); }

  /// \brief Product.
  friend var operator*(const var& a, const var& b) {
    return from_binary(a.value_ * b.value_, a, b.value_, b, a.value_);
  }
  /// \brief Product with a constant.
  friend var operator*(const var& a, T b) { return from_unary(a.value_ * b, a, b); }
  /// \brief Product with a constant.
  friend var operator*(T a, const var& b) { return from_unary(a * b.value_, b, a); }

  /// \brief Quotient.
  friend var operator/(const var& a, const var& b) {
    const T quotient = a.value_ / b.value_;
    return from_binary(quotient, a, T(1) / b.value_, b, -quotient / b.value_);
  }
  /// \brief Quotient by a constant.
  friend var operator/(const var& a, T b) { return from_unary(a.value_ / b, a, T(1) / b); }
  /// \brief Quotient of a constant.
  friend var operator/(T a, const var& b) {
    const T quotient = a / b.value_;
    return from_unary(quotient, b, -quotient / b.value_);
  }

  /// \brief `*this = *this + b`.
  var& operator+=(const var& b) { return *this = *this + b; }
  /// \brief `*this = *this + b`.
  var& operator+=(T b) { return *this = *this + b; }
  /// \brief `*this = *this - b`.
  var& operator-=(const var& b) { return *this = *this - b; }
  /// \brief `*this = *this - b`.
  var& operator-=(T b) { return *this = *this - b; }
  /// \brief `*this = *this * b`.
  var& operator*=(const var& b) { return *this = *this * b; }
  /// \brief `*this = *this * b`.
  var& operator*=(T b) { return *this = *this * b; }
  /// \brief `*this = *this / b`.
  var& operator/=(const var& b) { return *this = *this / b; }
  /// \brief `*this = *this / b`.
  var& operator/=(T b) { return *this = *this / b; }

  /// \brief Equality of values (records nothing).
  friend bool operator==(const var& a, const var& b) noexcept { return a.value_ == b.value_; }
  /// \brief Equality of a value and a number.
  friend bool operator==(const var& a, T b) noexcept { return a.value_ == b; }
  /// \brief Ordering of values (NaN is unordered).
  friend std::partial_ordering operator<=>(const var& a, const var& b) noexcept {
    return a.value_ <=> b.value_;
  }
  /// \brief Ordering of a value and a number.
  friend std::partial_ordering operator<=>(const var& a, T b) noexcept { return a.value_ <=> b; }

  /// \brief `e^x`.
  friend var exp(const var& x) {
    const T result = std::exp(x.value_);
    return from_unary(result, x, result);
  }
  /// \brief Natural logarithm.
  friend var log(const var& x) { return from_unary(std::log(x.value_), x, T(1) / x.value_); }
  /// \brief Square root; the derivative at 0 is +inf.
  friend var sqrt(const var& x) {
    const T root = std::sqrt(x.value_);
    return from_unary(root, x, T(0.5) / root);
  }
  /// \brief Hyperbolic tangent.
  friend var tanh(const var& x) {
    const T result = std::tanh(x.value_);
    return from_unary(result, x, T(1) - result * result);
  }
  /// \brief Hyperbolic cosine.
  friend var cosh(const var& x) { return from_unary(std::cosh(x.value_), x, std::sinh(x.value_)); }
  /// \brief Hyperbolic sine.
  friend var sinh(const var& x) { return from_unary(std::sinh(x.value_), x, std::cosh(x.value_)); }
  /// \brief Sine.
  friend var sin(const var& x) { return from_unary(std::sin(x.value_), x, std::cos(x.value_)); }
  /// \brief Cosine.
  friend var cos(const var& x) { return from_unary(std::cos(x.value_), x, -std::sin(x.value_)); }
  /// \brief Error function; derivative `2/sqrt(pi) * e^(-x^2)`.
  friend var erf(const var& x) {
    return from_unary(std::erf(x.value_), x,
                      std::numbers::inv_sqrtpi_v<T> * T(2) * std::exp(-x.value_ * x.value_));
  }
  /// \brief Absolute value; the derivative at 0 is 0 (the subgradient PyTorch uses).
  friend var abs(const var& x) {
    const T sign = x.value_ > T(0) ? T(1) : (x.value_ < T(0) ? T(-1) : T(0));
    return from_unary(std::abs(x.value_), x, sign);
  }

  /// \brief `a^b`. As in PyTorch, the derivative towards `b` is 0 where `a == 0` and
  /// `b >= 0` (instead of `0 * log 0`), and the one towards `a` is 0 where `b == 0`.
  friend var pow(const var& a, const var& b) {
    const T result = std::pow(a.value_, b.value_);
    return from_binary(result, a, base_partial(a.value_, b.value_), b,
                       exponent_partial(a.value_, b.value_, result));
  }
  /// \brief `a^b` with a constant exponent.
  friend var pow(const var& a, T b) {
    return from_unary(std::pow(a.value_, b), a, base_partial(a.value_, b));
  }
  /// \brief `a^b` with a constant base.
  friend var pow(T a, const var& b) {
    const T result = std::pow(a, b.value_);
    return from_unary(result, b, exponent_partial(a, b.value_, result));
  }

  /// \brief The larger argument; on a tie (or NaN) the first, as `std::max`. The result is
  /// a copy of the chosen var, so the derivative goes to that argument alone.
  friend var max(const var& a, const var& b) { return a.value_ < b.value_ ? b : a; }
  /// \brief The smaller argument; on a tie (or NaN) the first, as `std::min`.
  friend var min(const var& a, const var& b) { return b.value_ < a.value_ ? b : a; }

  /// \brief Writes the value.
  friend std::ostream& operator<<(std::ostream& out, const var& x) { return out << x.value_; }

 private:
  var(T value, typename tape<T>::index_type index, std::uint32_t epoch) noexcept
      : value_(value), index_(index), epoch_(epoch) {}

  static T base_partial(T base, T exponent) {
    return exponent == T(0) ? T(0) : exponent * std::pow(base, exponent - T(1));
  }
  static T exponent_partial(T base, T exponent, T result) {
    return base == T(0) && exponent >= T(0) ? T(0) : result * std::log(base);
  }

  T value_;
  typename tape<T>::index_type index_;
  std::uint32_t epoch_;
};

/// \brief The value of a var (generic code calls `value(x)` for vars and numbers alike).
template <class T>
T value(const var<T>& x) noexcept {
  return x.value();
}

/// \brief A plain number is its own value.
template <class A>
  requires std::is_arithmetic_v<A>
constexpr A value(A x) noexcept {
  return x;
}

}  // namespace pot::ad
