/// \file
/// \brief The power-of-two number type `pot<Bits, MinExp, MaxExp>` and its exact arithmetic.
///
/// The semantics (code layout, rounding, zero, saturation, products) are specified in
/// docs/number-format.md.
#pragma once

#include <bit>
#include <compare>
#include <concepts>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "pot/core/rounding.hpp"
#include "pot/core/traits.hpp"

namespace pot {

namespace detail {

/// \brief The exact double `±2^e`; `e` must be a normal double exponent.
constexpr double exact_power_of_two(bool negative, int e) noexcept {
  constexpr int double_exponent_bias = 1023;
  constexpr int double_fraction_bits = 52;
  return std::bit_cast<double>((std::uint64_t{negative} << 63) |
                               (static_cast<std::uint64_t>(e + double_exponent_bias)
                                << double_fraction_bits));
}

/// \brief The exact float `±2^e` when it is a normal float, else `float(±2^e)`.
constexpr float power_of_two_as_float(bool negative, int e) noexcept {
  constexpr int float_exponent_bias = 127;
  constexpr int float_fraction_bits = 23;
  if (e < 1 - float_exponent_bias || e > float_exponent_bias) {
    return static_cast<float>(exact_power_of_two(negative, e));
  }
  return std::bit_cast<float>((std::uint32_t{negative} << 31) |
                              (static_cast<std::uint32_t>(e + float_exponent_bias)
                               << float_fraction_bits));
}

/// \brief Reports a code that no value of `type` has.
[[noreturn]] inline void throw_code_without_value(unsigned code, const std::string& type) {
  throw std::invalid_argument("pot: code " + std::to_string(code) + " has no value in " + type);
}

/// \brief Reports a NaN given to a checked conversion to `type`.
[[noreturn]] inline void throw_nan_conversion(const std::string& type) {
  throw std::domain_error("pot: cannot convert NaN to " + type);
}

}  // namespace detail

/// \brief A signed power of two `±2^e`, `MinExp <= e <= MaxExp`, or 0, stored in a Bits-wide code.
///
/// The code's most significant bit is the sign (1 = negative); the low `Bits - 1` bits hold
/// the exponent index `e - MinExp`. When the format has a zero, its code is sign 0 with
/// an all-ones index. Every operation is exact; see docs/number-format.md.
///
/// \tparam Bits     code width, 2..16
/// \tparam MinExp   least exponent, at least -1022 (2^e must be a normal double)
/// \tparam MaxExp   greatest exponent, at most 1023
/// \tparam Rounding how floats are rounded to a power of two
/// \tparam Zero     whether a code is spent on 0
template <int Bits, int MinExp, int MaxExp, rounding Rounding = rounding::log,
          zero_code Zero = zero_code::automatic>
class pot {
  static_assert(Bits >= 2 && Bits <= 16, "pot: Bits must be between 2 and 16");
  static_assert(MinExp <= MaxExp, "pot: MinExp must not exceed MaxExp");
  static_assert(MinExp >= -1022 && MaxExp <= 1023,
                "pot: exponents must lie in [-1022, 1023] so that 2^e is a normal double");
  static_assert(Bits < 2 || Bits > 16 ||
                    static_cast<long long>(MaxExp) - MinExp + 1 <= (1LL << (Bits - 1)),
                "pot: too many exponents for Bits (MaxExp - MinExp + 1 must be <= 2^(Bits-1))");

  static constexpr int index_bits = Bits - 1;
  static constexpr bool code_space_has_room =
      static_cast<long long>(MaxExp) - MinExp + 1 < (1LL << index_bits);

  static_assert(Zero != zero_code::flush || code_space_has_room,
                "pot: zero_code::flush needs a spare exponent index, but every index of Bits "
                "is used by an exponent");

 public:
  /// \brief Unsigned integer that stores the code.
  using code_type = std::conditional_t<(Bits <= 8), std::uint8_t, std::uint16_t>;

  /// \brief Width of the code in bits.
  static constexpr int bits = Bits;
  /// \brief Least exponent of a non-zero value.
  static constexpr int min_exponent = MinExp;
  /// \brief Greatest exponent of a non-zero value.
  static constexpr int max_exponent = MaxExp;
  /// \brief Number of distinct exponents, `MaxExp - MinExp + 1`.
  static constexpr int exponent_count = MaxExp - MinExp + 1;
  /// \brief Whether a code stands for 0.
  static constexpr bool has_zero =
      Zero == zero_code::flush || (Zero == zero_code::automatic && code_space_has_room);
  /// \brief How floats are rounded to a power of two.
  static constexpr rounding rounding_policy = Rounding;

 private:
  static constexpr code_type index_mask = static_cast<code_type>((1u << index_bits) - 1);
  static constexpr code_type sign_bit = static_cast<code_type>(1u << index_bits);
  static constexpr code_type zero_code_value = index_mask;
  static constexpr code_type least_magnitude_code = has_zero ? zero_code_value : code_type{0};

  struct from_valid_code {};
  constexpr pot(from_valid_code /*tag*/, code_type code) noexcept : code_(code) {}

  static constexpr code_type code_for(bool negative, int exponent) noexcept {
    return static_cast<code_type>((negative ? sign_bit : 0u) |
                                  static_cast<unsigned>(exponent - MinExp));
  }

  template <class F>
  static constexpr code_type encode(F x) noexcept {
    const rounded_power rounded = round_to_power_of_two<Rounding>(x);
    switch (rounded.kind) {
      case float_kind::nan:
        return least_magnitude_code;
      case float_kind::zero:
        return has_zero ? zero_code_value : code_for(rounded.negative, MinExp);
      case float_kind::infinite:
        return code_for(rounded.negative, MaxExp);
      case float_kind::finite:
        break;
    }
    if (rounded.exponent > MaxExp) {
      return code_for(rounded.negative, MaxExp);
    }
    if (rounded.exponent < MinExp) {
      return has_zero ? zero_code_value : code_for(rounded.negative, MinExp);
    }
    return code_for(rounded.negative, rounded.exponent);
  }

 public:
  /// \brief The value of least magnitude: 0 when the format has a zero, else `+2^MinExp`.
  constexpr pot() noexcept : code_(least_magnitude_code) {}

  /// \brief Rounds `x` under the rounding policy, then saturates to the range.
  ///
  /// Above `2^MaxExp` (and ±inf) gives `±2^MaxExp`; a rounded exponent below `MinExp`
  /// gives 0 with a zero code, else `±2^MinExp`; ±0 gives 0, or `±2^MinExp` without a
  /// zero code; NaN gives `pot()`.
  constexpr explicit pot(float x) noexcept : code_(encode(x)) {}

  /// \brief Rounds `x` under the rounding policy, then saturates to the range (as for float).
  constexpr explicit pot(double x) noexcept : code_(encode(x)) {}

  /// \brief As `pot(x)`, but reports NaN as an error.
  /// \throws std::domain_error if `x` is NaN.
  static constexpr pot checked(double x) {
    if (x != x) {
      detail::throw_nan_conversion(type_tag<pot>());
    }
    return pot(x);
  }

  /// \brief The pot whose code is `code`.
  /// \throws std::invalid_argument if no value has that code (wider than Bits, an unused
  /// exponent index, or a negative zero).
  static constexpr pot from_code(code_type code) {
    const unsigned index = code & index_mask;
    const bool fits = code < (1u << Bits);
    const bool is_exponent = index < static_cast<unsigned>(exponent_count);
    const bool is_zero_code = has_zero && code == zero_code_value;
    if (!fits || !(is_exponent || is_zero_code)) {
      detail::throw_code_without_value(code, type_tag<pot>());
    }
    return pot(from_valid_code{}, code);
  }

  /// \brief The Bits-wide code: sign bit, then the exponent index.
  constexpr code_type code() const noexcept { return code_; }

  /// \brief Whether the value is 0.
  constexpr bool is_zero() const noexcept { return has_zero && code_ == zero_code_value; }

  /// \brief Whether the value is below 0.
  constexpr bool is_negative() const noexcept { return (code_ & sign_bit) != 0; }

  /// \brief The exponent `e` of `±2^e`; unspecified for 0.
  constexpr int exponent() const noexcept { return MinExp + exponent_index(); }

  /// \brief `e - MinExp`, the shift amount of a kernel that offsets every exponent by `-MinExp`.
  constexpr int exponent_index() const noexcept { return code_ & index_mask; }

  /// \brief The exact value as a float when `2^e` is a float, else `float(double(*this))`.
  constexpr explicit operator float() const noexcept {
    return is_zero() ? 0.0f : detail::power_of_two_as_float(is_negative(), exponent());
  }

  /// \brief The exact value as a double.
  constexpr explicit operator double() const noexcept {
    return is_zero() ? 0.0 : detail::exact_power_of_two(is_negative(), exponent());
  }

  /// \brief Equality of values (codes are canonical: 0 has one code).
  friend constexpr bool operator==(pot a, pot b) noexcept { return a.code_ == b.code_; }

  /// \brief Ordering of values.
  friend constexpr std::strong_ordering operator<=>(pot a, pot b) noexcept {
    return a.signed_rank() <=> b.signed_rank();
  }

  /// \brief The negated value; the negation of 0 is 0.
  friend constexpr pot operator-(pot a) noexcept {
    return a.is_zero() ? a : pot(from_valid_code{}, static_cast<code_type>(a.code_ ^ sign_bit));
  }

  /// \brief The absolute value.
  friend constexpr pot abs(pot a) noexcept {
    return pot(from_valid_code{}, static_cast<code_type>(a.code_ & ~sign_bit));
  }

 private:
  // Ranks values by magnitude order with the sign applied; 0 ranks between the signs.
  constexpr int signed_rank() const noexcept {
    if (is_zero()) {
      return 0;
    }
    const int magnitude_rank = exponent_index() + 1;
    return is_negative() ? -magnitude_rank : magnitude_rank;
  }

  code_type code_;
};

namespace detail {

/// \brief Smallest `n` with `2^n >= count`.
constexpr int ceil_log2(long long count) noexcept {
  int n = 0;
  while ((1LL << n) < count) {
    ++n;
  }
  return n;
}

/// \brief The pot type of the product of pot types `A` and `B`: summed exponent range, a
/// zero when either has one, the fewest bits that hold it, and `A`'s rounding policy.
template <pot_type A, pot_type B>
struct pot_product {
  static constexpr long long min_exponent = static_cast<long long>(A::min_exponent) + B::min_exponent;
  static constexpr long long max_exponent = static_cast<long long>(A::max_exponent) + B::max_exponent;
  static_assert(min_exponent >= -1022 && max_exponent <= 1023,
                "pot: the product's exponent range leaves [-1022, 1023]");
  static constexpr bool has_zero = A::has_zero || B::has_zero;
  static constexpr long long level_count = max_exponent - min_exponent + 1 + (has_zero ? 1 : 0);
  static constexpr int bits = 1 + (ceil_log2(level_count) < 1 ? 1 : ceil_log2(level_count));
  static_assert(bits <= 16, "pot: the product needs more than 16 bits");
  using type = pot<bits, static_cast<int>(min_exponent), static_cast<int>(max_exponent),
                   A::rounding_policy, has_zero ? zero_code::flush : zero_code::none>;
};

/// \brief The narrowest of int16/int32/int64 holding every `I` value times `±2^MaxExp`
/// (void when none does).
template <std::integral I, int MaxExp>
struct shift_product {
  // Signed operands need one more bit: negating the product of I's minimum must not overflow.
  static constexpr int value_bits = std::numeric_limits<I>::digits + MaxExp +
                                    (std::is_signed_v<I> ? 1 : 0);
  using type = std::conditional_t<
      (value_bits <= 15), std::int16_t,
      std::conditional_t<(value_bits <= 31), std::int32_t,
                         std::conditional_t<(value_bits <= 63), std::int64_t, void>>>;
};

/// \brief An integer type a pot can multiply (`bool` is not a number here).
template <class I>
concept shiftable_integer = std::integral<I> && !std::same_as<I, bool>;

}  // namespace detail

/// \brief The pot type of `A * B`; see docs/number-format.md "Products".
template <pot_type A, pot_type B>
using product_t = typename detail::pot_product<std::remove_cv_t<A>, std::remove_cv_t<B>>::type;

/// \brief The exact product of two pots: exponents add, signs multiply, 0 absorbs.
template <pot_type A, pot_type B>
constexpr product_t<A, B> operator*(A a, B b) noexcept {
  using result = product_t<A, B>;
  if (a.is_zero() || b.is_zero()) {
    return result();
  }
  const bool negative = a.is_negative() != b.is_negative();
  const int index = a.exponent() + b.exponent() - result::min_exponent;
  return result::from_code(static_cast<typename result::code_type>(
      (negative ? (1u << (result::bits - 1)) : 0u) | static_cast<unsigned>(index)));
}

/// \brief The integer type of `pot * I`: the narrowest of int16/int32/int64 holding every
/// `I` value times `±2^MaxExp`.
template <pot_type P, detail::shiftable_integer I>
using integer_product_t = typename detail::shift_product<I, P::max_exponent>::type;

/// \brief `x * 2^e` with the pot's sign, computed as a shift in a type wide enough for any `x`.
template <pot_type P, detail::shiftable_integer I>
constexpr integer_product_t<P, I> operator*(P p, I x) noexcept {
  static_assert(P::min_exponent >= 0,
                "pot * integer needs MinExp >= 0: the product of an integer and 2^e with e < 0 "
                "is not an integer");
  static_assert(!std::is_void_v<integer_product_t<P, I>>,
                "pot * integer: no integer type up to int64 holds every product");
  using wide = integer_product_t<P, I>;
  if (p.is_zero()) {
    return 0;
  }
  // Multiplying by the signed power keeps negative x free of the UB of shifting it left.
  const wide power = static_cast<wide>(wide{1} << p.exponent());
  return static_cast<wide>(static_cast<wide>(x) * (p.is_negative() ? -power : power));
}

/// \brief `x * 2^e` with the pot's sign; see the pot * integer overload.
template <pot_type P, detail::shiftable_integer I>
constexpr integer_product_t<P, I> operator*(I x, P p) noexcept {
  return p * x;
}

/// \brief Exactly `std::ldexp(x, e)` with the pot's sign; a zero pot acts as +0.0.
///
/// `2^e` is an exact double, so one IEEE multiplication rounds the exact product once,
/// which is what ldexp returns, overflow to inf and subnormal results included.
template <pot_type P>
constexpr double operator*(P p, double x) noexcept {
  return x * static_cast<double>(p);
}

/// \brief `x * p` for a double `x`.
template <pot_type P>
constexpr double operator*(double x, P p) noexcept {
  return p * x;
}

/// \brief Exactly `std::ldexp(x, e)` in float with the pot's sign; a zero pot acts as +0.0f.
///
/// The double product of a 24-bit significand and an exact `2^e` is exact whenever it is a
/// normal double, so the one rounding to float is ldexp's. When it is not normal, both the
/// exact product and the double one lie far outside float's range on the same side (below
/// 2^-1022 or above 2^1023), so both round to the same ±0 or ±inf.
template <pot_type P>
constexpr float operator*(P p, float x) noexcept {
  return static_cast<float>(static_cast<double>(x) * static_cast<double>(p));
}

/// \brief `x * p` for a float `x`.
template <pot_type P>
constexpr float operator*(float x, P p) noexcept {
  return p * x;
}

/// \brief `x / p` rounded to nearest, ties away from zero (as gemmlowp's
/// RoundingDivideByPOT), with the pot's sign applied.
///
/// Only signed integers: the quotient of a non-zero integer and a negative pot is negative.
/// \throws std::domain_error if `p` is 0.
/// \throws std::overflow_error for the one quotient `I` cannot hold, `min(I) / -2^0`.
template <std::signed_integral I, pot_type P>
constexpr I operator/(I x, P p) {
  static_assert(P::min_exponent >= 0,
                "integer / pot needs MinExp >= 0: dividing by 2^e with e < 0 is a left shift "
                "that can overflow");
  if (p.is_zero()) {
    throw std::domain_error("pot: integer division by a zero " + type_tag<P>());
  }
  const int e = p.exponent();
  // The magnitude of the most negative I needs the unsigned type to be representable.
  const std::uint64_t magnitude =
      x < 0 ? std::uint64_t{0} - static_cast<std::uint64_t>(x) : static_cast<std::uint64_t>(x);
  std::uint64_t rounded = magnitude;
  if (e > 0) {
    const std::uint64_t whole = e < 64 ? magnitude >> e : 0;
    const std::uint64_t half_bit = e - 1 < 64 ? (magnitude >> (e - 1)) & 1u : 0;
    rounded = whole + half_bit;
  }
  const bool negative = (x < 0) != p.is_negative();
  if (!negative && rounded > static_cast<std::uint64_t>(std::numeric_limits<I>::max())) {
    throw std::overflow_error("pot: the quotient of the least value of a signed integer and "
                              "-2^0 does not fit the integer type");
  }
  // Conversion from unsigned is modular, so the negated magnitude lands on the right value.
  return static_cast<I>(negative ? std::uint64_t{0} - rounded : rounded);
}

}  // namespace pot
