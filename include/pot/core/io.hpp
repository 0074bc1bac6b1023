/// \file
/// \brief Printing pot values: the value itself and the bits of its code.
#pragma once

#include <array>
#include <charconv>
#include <ostream>
#include <string>
#include <string_view>

#include "pot/core/pot.hpp"

namespace pot {

/// \brief The code of `p` as `0b<sign>.<index bits>`, e.g. `"0b1.011"` for -2^3 in pot<4,0,7>.
template <pot_type P>
std::string to_binary(const P& p) {
  std::string text = "0b";
  const unsigned code = p.code();
  for (int bit = P::bits - 1; bit >= 0; --bit) {
    text += ((code >> bit) & 1u) != 0 ? '1' : '0';
    if (bit == P::bits - 1) {
      text += '.';
    }
  }
  return text;
}

/// \brief Writes the value of `p` as the shortest decimal that reads back as the same
/// double, e.g. `-8`, `0.25`, `0`, `8.98846567431158e+307`.
template <pot_type P>
std::ostream& operator<<(std::ostream& out, const P& p) {
  // The shortest round-trip form of any double needs at most 24 characters.
  std::array<char, 32> buffer{};
  const auto result = std::to_chars(buffer.data(), buffer.data() + buffer.size(),
                                    static_cast<double>(p));
  return out << std::string_view(buffer.data(), static_cast<std::size_t>(result.ptr - buffer.data()));
}

}  // namespace pot
