#include "utf8.hpp"

#include <stdexcept>

namespace gpt2 {

namespace {

[[noreturn]] void throw_invalid(std::string_view source, std::size_t offset, const char* why) {
  throw std::runtime_error("pot: " + std::string(source) + ": invalid UTF-8 at byte offset " +
                           std::to_string(offset) + " (" + why + ")");
}

bool is_continuation(unsigned char byte) { return (byte & 0xC0u) == 0x80u; }

}  // namespace

std::u32string decode_utf8(std::string_view text, std::string_view source) {
  std::u32string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<unsigned char>(text[i]);
    if (lead < 0x80u) {
      out.push_back(lead);
      ++i;
      continue;
    }
    std::size_t length = 0;
    char32_t value = 0;
    char32_t smallest = 0;  // below this the sequence is an overlong form
    if ((lead & 0xE0u) == 0xC0u) {
      length = 2, value = lead & 0x1Fu, smallest = 0x80;
    } else if ((lead & 0xF0u) == 0xE0u) {
      length = 3, value = lead & 0x0Fu, smallest = 0x800;
    } else if ((lead & 0xF8u) == 0xF0u) {
      length = 4, value = lead & 0x07u, smallest = 0x10000;
    } else {
      throw_invalid(source, i, "byte cannot start a character");
    }
    if (i + length > text.size()) throw_invalid(source, i, "truncated sequence");
    for (std::size_t k = 1; k < length; ++k) {
      const auto byte = static_cast<unsigned char>(text[i + k]);
      if (!is_continuation(byte)) throw_invalid(source, i, "missing continuation byte");
      value = (value << 6) | (byte & 0x3Fu);
    }
    if (value < smallest) throw_invalid(source, i, "overlong encoding");
    if (value >= 0xD800 && value <= 0xDFFF) throw_invalid(source, i, "surrogate code point");
    if (value > 0x10FFFF) throw_invalid(source, i, "code point above U+10FFFF");
    out.push_back(value);
    i += length;
  }
  return out;
}

void append_utf8(char32_t code_point, std::string& out) {
  if ((code_point >= 0xD800 && code_point <= 0xDFFF) || code_point > 0x10FFFF) {
    throw std::invalid_argument("pot: code point " + std::to_string(code_point) +
                                " has no UTF-8 encoding");
  }
  if (code_point < 0x80) {
    out.push_back(static_cast<char>(code_point));
  } else if (code_point < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (code_point >> 6)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  } else if (code_point < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (code_point >> 12)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (code_point >> 18)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  }
}

std::string encode_utf8(std::u32string_view code_points) {
  std::string out;
  out.reserve(code_points.size());
  for (char32_t c : code_points) append_utf8(c, out);
  return out;
}

}  // namespace gpt2
