#include "bpe_tokenizer.hpp"

#include <algorithm>
#include <array>
#include <fstream>
#include <limits>
#include <stdexcept>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "dataset.hpp"
#include "file_error.hpp"
#include "unicode_classes.hpp"
#include "utf8.hpp"

namespace gpt2 {

namespace {

template <std::size_t N>
bool in_ranges(char32_t c, const code_point_range (&ranges)[N]) {
  const auto it = std::upper_bound(std::begin(ranges), std::end(ranges), c,
                                   [](char32_t value, const code_point_range& r) { return value < r.first; });
  return it != std::begin(ranges) && c <= std::prev(it)->last;
}

bool is_letter(char32_t c) { return in_ranges(c, letter_ranges); }
bool is_number(char32_t c) { return in_ranges(c, number_ranges); }

/// Unicode's White_Space property (PropList.txt).
bool is_space(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
         c == 0x205F || c == 0x3000;
}

bool is_other(char32_t c) { return !is_space(c) && !is_letter(c) && !is_number(c); }

/// Length of the match of GPT-2's pattern at \p i (always at least 1).
std::size_t match_length(std::u32string_view s, std::size_t i) {
  if (s[i] == U'\'' && i + 1 < s.size()) {
    const char32_t a = s[i + 1];
    if (a == U's' || a == U't' || a == U'm' || a == U'd') return 2;
    const char32_t b = i + 2 < s.size() ? s[i + 2] : 0;
    if ((a == U'r' && b == U'e') || (a == U'v' && b == U'e') || (a == U'l' && b == U'l')) return 3;
  }
  // " ?\p{L}+", " ?\p{N}+", " ?[^\s\p{L}\p{N}]+": an optional space, then a run of one class.
  for (bool (*in_class)(char32_t) : {is_letter, is_number, is_other}) {
    const std::size_t start = (s[i] == U' ' && i + 1 < s.size() && in_class(s[i + 1])) ? i + 1 : i;
    if (!in_class(s[start])) continue;
    std::size_t end = start;
    while (end < s.size() && in_class(s[end])) ++end;
    return end - i;
  }
  // s[i] is white space. "\s+(?!\S)" backs off one character before a non-space so that
  // the last space can join the next word; a lone space falls through to "\s+".
  std::size_t end = i;
  while (end < s.size() && is_space(s[end])) ++end;
  if (end < s.size() && end - i >= 2) return end - i - 1;
  return end - i;
}

std::array<char32_t, 256> make_byte_symbols() {
  std::array<char32_t, 256> symbols{};
  char32_t next_unprintable = 256;
  for (unsigned byte = 0; byte < 256; ++byte) {
    const bool printable = (byte >= U'!' && byte <= U'~') || (byte >= 0xA1 && byte <= 0xAC) ||
                           (byte >= 0xAE && byte <= 0xFF);
    symbols[byte] = printable ? byte : next_unprintable++;
  }
  return symbols;
}

const std::array<char32_t, 256>& byte_symbols() {
  static const auto symbols = make_byte_symbols();
  return symbols;
}

}  // namespace

std::vector<std::string> gpt2_pretokenize(std::string_view text) {
  const std::u32string s = decode_utf8(text, "text to tokenize");
  std::vector<std::string> pieces;
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t length = match_length(s, i);
    pieces.push_back(encode_utf8(std::u32string_view(s).substr(i, length)));
    i += length;
  }
  return pieces;
}

char32_t byte_to_symbol(std::uint8_t byte) { return byte_symbols()[byte]; }

bpe_tokenizer::bpe_tokenizer(std::map<std::string, std::int32_t> encoder,
                             std::vector<std::pair<std::string, std::string>> merges)
    : encoder_(std::move(encoder)) {
  for (const auto& [token, id] : encoder_) {
    if (!decoder_.emplace(id, token).second) {
      throw std::invalid_argument("pot: BPE vocabulary gives id " + std::to_string(id) + " twice");
    }
  }
  for (std::size_t rank = 0; rank < merges.size(); ++rank) merge_ranks_.emplace(std::move(merges[rank]), rank);
}

bpe_tokenizer bpe_tokenizer::from_files(const std::filesystem::path& encoder_json,
                                        const std::filesystem::path& vocab_bpe) {
  std::map<std::string, std::int32_t> encoder;
  try {
    const auto json = nlohmann::json::parse(read_file_bytes(encoder_json));
    if (!json.is_object()) throw std::runtime_error("not a JSON object");
    for (const auto& [token, id] : json.items()) {
      if (!id.is_number_integer()) throw std::runtime_error("id of '" + token + "' is not an integer");
      encoder.emplace(token, id.get<std::int32_t>());
    }
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error("pot: " + encoder_json.string() + ": invalid JSON: " + e.what());
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    if (what.starts_with("pot: ")) throw;
    throw std::runtime_error("pot: " + encoder_json.string() + ": " + what);
  }

  std::vector<std::pair<std::string, std::string>> merges;
  std::ifstream in(vocab_bpe);
  if (!in) throw std::runtime_error("pot: " + vocab_bpe.string() + ": cannot open for reading");
  std::string line;
  for (std::size_t line_number = 1; std::getline(in, line); ++line_number) {
    if (line.starts_with("#version") || line.empty()) continue;
    const auto space = line.find(' ');
    if (space == std::string::npos || space == 0 || space + 1 == line.size() ||
        line.find(' ', space + 1) != std::string::npos) {
      throw std::runtime_error("pot: " + vocab_bpe.string() + ": line " + std::to_string(line_number) +
                               " is not a merge 'left right'");
    }
    merges.emplace_back(line.substr(0, space), line.substr(space + 1));
  }
  try {
    return bpe_tokenizer(std::move(encoder), std::move(merges));
  } catch (const std::invalid_argument& e) {  // a repeated id: a problem of encoder.json
    throw_file_error(encoder_json, e.what());
  }
}

std::vector<std::string> bpe_tokenizer::merge_word(const std::string& word) const {
  std::vector<std::string> symbols;
  for (char byte : word) {
    symbols.emplace_back();
    append_utf8(byte_to_symbol(static_cast<std::uint8_t>(byte)), symbols.back());
  }
  while (symbols.size() > 1) {
    std::size_t best_rank = std::numeric_limits<std::size_t>::max();
    const std::pair<std::string, std::string>* best = nullptr;
    for (std::size_t k = 0; k + 1 < symbols.size(); ++k) {
      const auto it = merge_ranks_.find({symbols[k], symbols[k + 1]});
      if (it != merge_ranks_.end() && it->second < best_rank) best_rank = it->second, best = &it->first;
    }
    if (best == nullptr) break;
    // Merge every occurrence of the best pair, left to right, without overlaps.
    std::vector<std::string> merged;
    for (std::size_t k = 0; k < symbols.size(); ++k) {
      if (k + 1 < symbols.size() && symbols[k] == best->first && symbols[k + 1] == best->second) {
        merged.push_back(symbols[k] + symbols[k + 1]);
        ++k;
      } else {
        merged.push_back(symbols[k]);
      }
    }
    symbols = std::move(merged);
  }
  return symbols;
}

std::vector<std::int32_t> bpe_tokenizer::encode(std::string_view text) const {
  std::vector<std::int32_t> tokens;
  // Words repeat a lot in text; a cache local to the call keeps encode() thread-safe.
  std::unordered_map<std::string, std::vector<std::int32_t>> cache;
  for (const auto& word : gpt2_pretokenize(text)) {
    auto [entry, inserted] = cache.try_emplace(word);
    if (inserted) {
      for (const auto& symbol : merge_word(word)) {
        const auto it = encoder_.find(symbol);
        if (it == encoder_.end()) {
          throw std::invalid_argument("pot: BPE symbol '" + symbol + "' (from '" + word +
                                      "') is not in the encoder's vocabulary");
        }
        entry->second.push_back(it->second);
      }
    }
    tokens.insert(tokens.end(), entry->second.begin(), entry->second.end());
  }
  return tokens;
}

std::string bpe_tokenizer::decode(std::span<const std::int32_t> tokens) const {
  std::unordered_map<char32_t, char> symbol_bytes;
  for (unsigned byte = 0; byte < 256; ++byte) {
    symbol_bytes.emplace(byte_to_symbol(static_cast<std::uint8_t>(byte)), static_cast<char>(byte));
  }
  std::string bytes;
  for (std::int32_t token : tokens) {
    const auto it = decoder_.find(token);
    if (it == decoder_.end()) {
      throw std::out_of_range("pot: token id " + std::to_string(token) + " is not in the BPE vocabulary");
    }
    for (char32_t symbol : decode_utf8(it->second, "BPE vocabulary")) {
      const auto byte = symbol_bytes.find(symbol);
      if (byte == symbol_bytes.end()) {
        throw std::out_of_range("pot: BPE token " + std::to_string(token) + " holds a symbol that is no byte");
      }
      bytes.push_back(byte->second);
    }
  }
  return bytes;
}

}  // namespace gpt2
