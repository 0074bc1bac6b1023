#pragma once
/// \file
/// \brief Forward-mode automatic differentiation: `dual<T>`, a value and one tangent.
///
/// Nothing is recorded: each operation carries the derivative along with the value, so
/// one pass gives the derivative of every intermediate with respect to the one input whose
/// tangent was seeded with 1. The functions mirror var<T>'s (same subgradient choices).

#include <cmath>
#include <compare>
#include <numbers>
#include <ostream>
#include <type_traits>

namespace pot::ad {

/// \brief A value and its derivative (tangent) with respect to one chosen input.
///
/// Seed the input with `dual<T>(x, 1)`; constants are `dual<T>(c)` (tangent 0, and
/// implicit, so generic code may write `T(0)`).
/// \tparam T float or double
template <class T>
class dual {
  static_assert(std::is_floating_point_v<T>, "pot: dual<T> needs a floating-point T");

 public:
  /// \brief The element type of the value and the tangent.
  using value_type = T;

  /// \brief The constant 0.
  constexpr dual() noexcept = default;
  /// \brief A constant (tangent 0); implicit so that numbers mix with duals.
  constexpr dual(T value) noexcept : value_(value) {}  // NOLINT(google-explicit-constructor)
  /// \brief A value with the given tangent (1 for the input being differentiated).
  constexpr dual(T value, T tangent) noexcept : value_(value), tangent_(tangent) {}

  /// \brief The value.
  constexpr T value() const noexcept { return value_; }
  /// \brief The derivative of the value with respect to the seeded input.
  constexpr T tangent() const noexcept { return tangent_; }

  /// \brief `+x`.
  friend constexpr dual operator+(const dual& x) noexcept { return x; }
  /// \brief `-x`.
  friend constexpr dual operator-(const dual& x) noexcept { return {-x.value_, -x.tangent_}; }
  /// \brief Sum.
  friend constexpr dual operator+(const dual& a, const dual& b) noexcept {
    return {a.value_ + b.value_, a.tangent_ + b.tangent_};
  }
  /// \brief Difference.
  friend constexpr dual operator-(const dual& a, const dual& b) noexcept {
    return {a.value_ - b.value_, a.tangent_ - b.tangent_};
  }
  /// \brief Product.
  friend constexpr dual operator*(const dual& a, const dual& b) noexcept {
    return {a.value_ * b.value_, a.tangent_ * b.value_ + a.value_ * b.tangent_};
  }
  /// \brief Quotient.
  friend constexpr dual operator/(const dual& a, const dual& b) noexcept {
    const T quotient = a.value_ / b.value_;
    return {quotient, (a.tangent_ - quotient * b.tangent_) / b.value_};
  }
  /// \brief Sum with a number.
  friend constexpr dual operator+(const dual& a, T b) noexcept { return a + dual(b); }
  /// \brief Sum with a number.
  friend constexpr dual operator+(T a, const dual& b) noexcept { return dual(a) + b; }
  /// \brief Difference with a number.
  friend constexpr dual operator-(const dual& a, T b) noexcept { return a - dual(b); }
  /// \brief Difference from a number.
  friend constexpr dual operator-(T a, const dual& b) noexcept { return dual(a) - b; }
  /// \brief Product with a number.
  friend constexpr dual operator*(const dual& a, T b) noexcept { return {a.value_ * b, a.tangent_ * b}; }
  /// \brief Product with a number.
  friend constexpr dual operator*(T a, const dual& b) noexcept { return {a * b.value_, a * b.tangent_}; }
  /// \brief Quotient by a number.
  friend constexpr dual operator/(const dual& a, T b) noexcept { return {a.value_ / b, a.tangent_ / b}; }
  /// \brief Quotient of a number.
  friend constexpr dual operator/(T a, const dual& b) noexcept { return dual(a) / b; }

  /// \brief `*this = *this + b`.
  constexpr dual& operator+=(const dual& b) noexcept { return *this = *this + b; }
  /// \brief `*this = *this - b`.
  constexpr dual& operator-=(const dual& b) noexcept { return *this = *this - b; }
  /// \brief `*this = *this * b`.
  constexpr dual& operator*=(const dual& b) noexcept { return *this = *this * b; }
  /// \brief `*this = *this / b`.
  constexpr dual& operator/=(const dual& b) noexcept { return *this = *this / b; }

  /// \brief Equality of values (tangents are ignored).
  friend constexpr bool operator==(const dual& a, const dual& b) noexcept { return a.value_ == b.value_; }
  /// \brief Equality of a value and a number.
  friend constexpr bool operator==(const dual& a, T b) noexcept { return a.value_ == b; }
  /// \brief Ordering of values.
  friend constexpr std::partial_ordering operator<=>(const dual& a, const dual& b) noexcept {
    return a.value_ <=> b.value_;
  }
  /// \brief Ordering of a value and a number.
  friend constexpr std::partial_ordering operator<=>(const dual& a, T b) noexcept {
    return a.value_ <=> b;
  }

  /// \brief `e^x`.
  friend dual exp(const dual& x) {
    const T result = std::exp(x.value_);
    return {result, result * x.tangent_};
  }
  /// \brief Natural logarithm.
  friend dual log(const dual& x) { return {std::log(x.value_), x.tangent_ / x.value_}; }
  /// \brief Square root.
  friend dual sqrt(const dual& x) {
    const T root = std::sqrt(x.value_);
    return {root, x.tangent_ * T(0.5) / root};
  }
  /// \brief Hyperbolic tangent.
  friend dual tanh(const dual& x) {
    const T result = std::tanh(x.value_);
    return {result, (T(1) - result * result) * x.tangent_};
  }
  /// \brief Hyperbolic cosine.
  friend dual cosh(const dual& x) { return {std::cosh(x.value_), std::sinh(x.value_) * x.tangent_}; }
  /// \brief Hyperbolic sine.
  friend dual sinh(const dual& x) { return {std::sinh(x.value_), std::cosh(x.value_) * x.tangent_}; }
  /// \brief Sine.
  friend dual sin(const dual& x) { return {std::sin(x.value_), std::cos(x.value_) * x.tangent_}; }
  /// \brief Cosine.
  friend dual cos(const dual& x) { return {std::cos(x.value_), -std::sin(x.value_) * x.tangent_}; }
  /// \brief Error function.
  friend dual erf(const dual& x) {
    return {std::erf(x.value_), std::numbers::inv_sqrtpi_v<T> * T(2) *
                                    std::exp(-x.value_ * x.value_) * x.tangent_};
  }
  /// \brief Absolute value; the derivative at 0 is 0.
  friend dual abs(const dual& x) {
    const T sign = x.value_ > T(0) ? T(1) : (x.value_ < T(0) ? T(-1) : T(0));
    return {std::abs(x.value_), sign * x.tangent_};
  }
  /// \brief `a^b`, with var<T>'s conventions at `a == 0` and `b == 0`.
  friend dual pow(const dual& a, const dual& b) {
    const T result = std::pow(a.value_, b.value_);
    const T base_partial =
        b.value_ == T(0) ? T(0) : b.value_ * std::pow(a.value_, b.value_ - T(1));
    const T exponent_partial =
        a.value_ == T(0) && b.value_ >= T(0) ? T(0) : result * std::log(a.value_);
    return {result, base_partial * a.tangent_ + exponent_partial * b.tangent_};
  }
  /// \brief The larger argument; on a tie (or NaN) the first, as `std::max`.
  friend constexpr dual max(const dual& a, const dual& b) noexcept { return a.value_ < b.value_ ? b : a; }
  /// \brief The smaller argument; on a tie (or NaN) the first, as `std::min`.
  friend constexpr dual min(const dual& a, const dual& b) noexcept { return b.value_ < a.value_ ? b : a; }

  /// \brief Writes the value.
  friend std::ostream& operator<<(std::ostream& out, const dual& x) { return out << x.value_; }

 private:
  T value_ = T(0);
  T tangent_ = T(0);
};

/// \brief The value of a dual.
template <class T>
constexpr T value(const dual<T>& x) noexcept {
  return x.value();
}

}  // namespace pot::ad
