/// \file
/// \brief Type-level facts about pot types: the trait `is_pot`, the concept `pot_type`
/// and the readable name `type_tag`.
#pragma once

#include <string>
#include <type_traits>

#include "pot/core/rounding.hpp"

namespace pot {

// Declared here so generic code can name pot types without the full definition; the
// default policies are given where the class is defined (core/pot.hpp).
template <int Bits, int MinExp, int MaxExp, rounding Rounding, zero_code Zero>
class pot;

/// \brief True for every specialisation of `pot::pot` (cv-qualified too, as `std::is_integral`).
template <class T>
struct is_pot : std::false_type {};

/// \brief The specialisation that recognises pot types.
template <int Bits, int MinExp, int MaxExp, rounding Rounding, zero_code Zero>
struct is_pot<pot<Bits, MinExp, MaxExp, Rounding, Zero>> : std::true_type {};

/// \brief Strips cv-qualifiers so `is_pot<const pot<...>>` holds too.
template <class T>
  requires(!std::is_same_v<T, std::remove_cv_t<T>>)
struct is_pot<T> : is_pot<std::remove_cv_t<T>> {};

/// \brief `is_pot<T>::value`.
template <class T>
inline constexpr bool is_pot_v = is_pot<T>::value;

/// \brief A specialisation of `pot::pot` (possibly cv-qualified).
template <class T>
concept pot_type = is_pot_v<T>;

/// \brief The name of the pot type `P` with its resolved policies, e.g. `"pot<4,0,7,log,nozero>"`.
template <pot_type P>
std::string type_tag() {
  using plain = std::remove_cv_t<P>;
  return "pot<" + std::to_string(plain::bits) + "," + std::to_string(plain::min_exponent) + "," +
         std::to_string(plain::max_exponent) + "," +
         (plain::rounding_policy == rounding::log ? "log" : "linear") + "," +
         (plain::has_zero ? "zero" : "nozero") + ">";
}

/// \brief The name of the type of `p`, as `type_tag<P>()`.
template <pot_type P>
std::string type_tag(const P& /*p*/) {
  return type_tag<P>();
}

}  // namespace pot
