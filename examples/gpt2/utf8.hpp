/// \file
/// \brief Strict UTF-8 decoding and encoding of Unicode code points.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace gpt2 {

/// \brief Decodes UTF-8 into code points, rejecting every ill-formed sequence.
///
/// Overlong forms, surrogates (U+D800..U+DFFF), values above U+10FFFF and truncated
/// sequences are errors, as Python's strict "utf-8" codec treats them, so the code
/// points agree with the reference's `open(..., encoding="utf-8").read()`.
/// \param text the bytes to decode
/// \param source names the text's origin (a file name) in the error message
/// \throws std::runtime_error "pot: <source>: invalid UTF-8 at byte offset N"
std::u32string decode_utf8(std::string_view text, std::string_view source);

/// \brief Appends the UTF-8 encoding of one code point to \p out.
/// \throws std::invalid_argument for a surrogate or a value above U+10FFFF
void append_utf8(char32_t code_point, std::string& out);

/// \brief Encodes a sequence of code points as UTF-8.
/// \throws std::invalid_argument for a surrogate or a value above U+10FFFF
std::string encode_utf8(std::u32string_view code_points);

}  // namespace gpt2
