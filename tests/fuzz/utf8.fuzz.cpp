// Fuzz target: decode_utf8 against an independent reading of the Unicode standard's
// table of well-formed byte sequences (Table 3-7): it must accept exactly those, encode
// back to the same bytes, and report every other input with a "pot: " message giving the
// byte offset.

#include "fuzz_input.hpp"
#include "utf8.hpp"

namespace {

// Unicode 15, section 3.9, Table 3-7 "Well-Formed UTF-8 Byte Sequences".
bool well_formed(std::string_view text) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  std::size_t i = 0;
  while (i < text.size()) {
    const unsigned lead = byte(i);
    const auto follows = [&](std::size_t k, unsigned low, unsigned high) {
      return i + k < text.size() && byte(i + k) >= low && byte(i + k) <= high;
    };
    std::size_t length = 0;
    if (lead <= 0x7F) length = 1;
    else if (lead >= 0xC2 && lead <= 0xDF && follows(1, 0x80, 0xBF)) length = 2;
    else if (lead == 0xE0 && follows(1, 0xA0, 0xBF) && follows(2, 0x80, 0xBF)) length = 3;
    else if (((lead >= 0xE1 && lead <= 0xEC) || lead == 0xEE || lead == 0xEF) && follows(1, 0x80, 0xBF) &&
             follows(2, 0x80, 0xBF)) length = 3;
    else if (lead == 0xED && follows(1, 0x80, 0x9F) && follows(2, 0x80, 0xBF)) length = 3;
    else if (lead == 0xF0 && follows(1, 0x90, 0xBF) && follows(2, 0x80, 0xBF) && follows(3, 0x80, 0xBF)) length = 4;
    else if (lead >= 0xF1 && lead <= 0xF3 && follows(1, 0x80, 0xBF) && follows(2, 0x80, 0xBF) &&
             follows(3, 0x80, 0xBF)) length = 4;
    else if (lead == 0xF4 && follows(1, 0x80, 0x8F) && follows(2, 0x80, 0xBF) && follows(3, 0x80, 0xBF)) length = 4;
    else return false;
    i += length;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = pot_fuzz::as_text(data, size);
  const bool expected = well_formed(text);
  std::u32string code_points;
  try {
    code_points = gpt2::decode_utf8(text, "fuzz input");
  } catch (const std::runtime_error& error) {
    if (expected) pot_fuzz::fail("well-formed UTF-8 rejected: " + std::string(error.what()));
    if (!std::string_view(error.what()).starts_with("pot: fuzz input: invalid UTF-8 at byte offset "))
      pot_fuzz::fail("an unexpected message: " + std::string(error.what()));
    return 0;
  }
  if (!expected) pot_fuzz::fail("ill-formed UTF-8 accepted");
  if (gpt2::encode_utf8(code_points) != text) pot_fuzz::fail("encode_utf8(decode_utf8(text)) != text");
  return 0;
}
