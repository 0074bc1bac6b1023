/// \file
/// \brief The one parser for numbers read from files' metadata and from the command line.
#pragma once

#include <charconv>
#include <cmath>
#include <optional>
#include <string_view>
#include <system_error>
#include <type_traits>

namespace gpt2 {

/// \brief \p text as a Number if it is exactly one, else nullopt.
///
/// Integers are decimal digits only (a '-' only for signed types): no spaces, no '+', no
/// trailing characters, no value out of the type's range (std::stoull would take "-1" as
/// 2^64 - 1 and " 1" as 1). Floating-point values are std::from_chars' general format and
/// must be finite ("nan", "inf" and "1e400" are not numbers here).
template <class Number>
std::optional<Number> parse_strict_number(std::string_view text) {
  static_assert(std::is_arithmetic_v<Number> && !std::is_same_v<Number, bool>);
  Number value{};
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  if constexpr (std::is_floating_point_v<Number>) {
    if (!std::isfinite(value)) return std::nullopt;
  }
  return value;
}

}  // namespace gpt2
