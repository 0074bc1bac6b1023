#include "bpe_tokenizer.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <limits>
#include <optional>
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

namespace {

/// A token or file text as a JSON string, quoted and escaped, for error messages.
std::string quote(std::string_view text) {
  return nlohmann::json(std::string(text)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

/// The byte each byte symbol stands for, indexed by the symbol (all are below 324).
constexpr std::size_t symbol_count = 324;
const std::array<int, symbol_count>& symbol_bytes() {
  static const auto bytes = [] {
    std::array<int, symbol_count> table{};
    table.fill(-1);
    for (unsigned byte = 0; byte < 256; ++byte) table[byte_to_symbol(static_cast<std::uint8_t>(byte))] = static_cast<int>(byte);
    return table;
  }();
  return bytes;
}

/// The bytes of a token, or nothing if it is empty, not UTF-8 or holds a non-symbol.
std::optional<std::string> token_to_bytes(const std::string& token) {
  if (token.empty()) return std::nullopt;
  std::u32string symbols;
  try {
    symbols = decode_utf8(token, "BPE token");
  } catch (const std::runtime_error&) {
    return std::nullopt;
  }
  std::string bytes;
  for (char32_t symbol : symbols) {
    if (symbol >= symbol_count || symbol_bytes()[symbol] < 0) return std::nullopt;
    bytes.push_back(static_cast<char>(symbol_bytes()[symbol]));
  }
  return bytes;
}

/// encoder.json's object, read as a stream of SAX events so that every id is checked as
/// the JSON number it is (nlohmann's get<std::int32_t>() would wrap 4294967296 to 0) and
/// a repeated token is seen (a DOM keeps only its last id).
class encoder_reader final : public nlohmann::json_sax<nlohmann::json> {
 public:
  std::map<std::string, std::int32_t> encoder;
  std::string problem;  // empty while the file is fine

  bool number_integer(number_integer_t value) override { return id(value, std::to_string(value)); }
  bool number_unsigned(number_unsigned_t value) override {
    return value > static_cast<number_unsigned_t>(std::numeric_limits<std::int32_t>::max())
               ? out_of_range(std::to_string(value))
               : id(static_cast<number_integer_t>(value), std::to_string(value));
  }
  bool number_float(number_float_t, const string_t& text) override { return out_of_range(text); }
  bool null() override { return not_an_id("null"); }
  bool boolean(bool) override { return not_an_id("a boolean"); }
  bool string(string_t&) override { return not_an_id("a string"); }
  bool binary(binary_t&) override { return not_an_id("binary data"); }
  bool start_object(std::size_t) override { return depth_++ == 0 || not_an_id("an object"); }
  bool end_object() override {
    --depth_;
    return true;
  }
  bool start_array(std::size_t) override { return not_an_id("an array"); }
  bool end_array() override { return true; }
  bool key(string_t& token) override {
    token_ = token;
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::json::exception& error) override {
    problem = std::string("invalid JSON: ") + error.what();
    return false;
  }

 private:
  bool id(number_integer_t value, const std::string& text) {
    if (depth_ == 0) return not_an_id("a number");
    if (value < 0 || value > std::numeric_limits<std::int32_t>::max()) return out_of_range(text);
    if (!encoder.emplace(token_, static_cast<std::int32_t>(value)).second)
      return fail("token " + quote(token_) + " appears twice");
    return true;
  }
  bool out_of_range(const std::string& text) {
    if (depth_ == 0) return not_an_id("a number");
    return fail("the id of token " + quote(token_) + " is " + text +
                "; ids must be integers in [0, 2147483647]");
  }
  bool not_an_id(const std::string& what) {
    if (depth_ == 0) return fail("not a JSON object of token: id");
    return fail("the id of token " + quote(token_) + " is " + what + ", not an integer");
  }
  bool fail(std::string what) {
    problem = std::move(what);
    return false;
  }

  int depth_ = 0;
  std::string token_;
};

/// What is wrong with a vocabulary (empty if nothing): repeated ids, ids that are not
/// 0..n-1, tokens that are not byte symbols. Fills \p token_bytes (id -> bytes).
std::string vocabulary_problem(const std::map<std::string, std::int32_t>& encoder,
                               std::vector<std::string>& token_bytes) {
  const std::size_t n = encoder.size();
  if (n == 0) return "has no tokens";
  std::vector<const std::string*> tokens(n, nullptr);
  token_bytes.assign(n, {});
  for (const auto& [token, id] : encoder) {
    if (id < 0 || static_cast<std::size_t>(id) >= n) {
      return "the id of token " + quote(token) + " is " + std::to_string(id) + ", but the " +
             std::to_string(n) + " ids must be 0.." + std::to_string(n - 1);
    }
    const auto index = static_cast<std::size_t>(id);
    if (tokens[index] != nullptr) {
      return "tokens " + quote(*tokens[index]) + " and " + quote(token) + " both have id " + std::to_string(id);
    }
    tokens[index] = &token;
    auto bytes = token_to_bytes(token);
    if (!bytes) {
      return "token " + quote(token) + " (id " + std::to_string(id) +
             ") is not a non-empty string of GPT-2's byte symbols";
    }
    token_bytes[index] = std::move(*bytes);
  }
  return {};
}

}  // namespace

namespace {

/// FNV-1a, 64 bits, over length-prefixed strings (a token may hold any byte, NUL too).
class fnv1a {
 public:
  void add(std::string_view text) {
    std::uint64_t length = text.size();
    for (int i = 0; i < 8; ++i, length >>= 8) add_byte(static_cast<std::uint8_t>(length & 0xFFu));
    for (const char c : text) add_byte(static_cast<std::uint8_t>(c));
  }
  [[nodiscard]] std::string hex() const {
    char digits[17];
    std::snprintf(digits, sizeof digits, "%016llx", static_cast<unsigned long long>(hash_));
    return digits;
  }

 private:
  void add_byte(std::uint8_t byte) { hash_ = (hash_ ^ byte) * 0x100000001B3u; }
  std::uint64_t hash_ = 0xCBF29CE484222325u;
};

}  // namespace

bpe_tokenizer::bpe_tokenizer(const std::map<std::string, std::int32_t>& encoder,
                             std::vector<std::pair<std::string, std::string>> merges)
    : encoder_(encoder.begin(), encoder.end()) {
  const std::string problem = vocabulary_problem(encoder, token_bytes_);
  if (!problem.empty()) throw std::invalid_argument("pot: BPE vocabulary: " + problem);
  fnv1a hash;
  for (const std::string& bytes : token_bytes_) hash.add(bytes);
  for (const auto& [left, right] : merges) {
    hash.add(left);
    hash.add(right);
  }
  fingerprint_ = hash.hex();
  for (std::size_t rank = 0; rank < merges.size(); ++rank) {
    const auto [place, inserted] = merge_ranks_.emplace(std::move(merges[rank]), rank);
    if (!inserted) {
      throw std::invalid_argument("pot: BPE vocabulary: merge " + quote(place->first.first + " " + place->first.second) +
                                  " has ranks " + std::to_string(place->second) + " and " + std::to_string(rank));
    }
  }
}

namespace {

std::string read_vocabulary_file(const std::filesystem::path& path) {
  std::error_code error;
  const auto size = std::filesystem::file_size(path, error);
  if (error) throw std::runtime_error("pot: " + path.string() + ": cannot read: " + error.message());
  if (size > bpe_tokenizer::max_file_bytes) {
    throw std::runtime_error("pot: " + path.string() + ": " + std::to_string(size) +
                             " bytes, more than a vocabulary file may have (" +
                             std::to_string(bpe_tokenizer::max_file_bytes) + ")");
  }
  return read_file_bytes(path);
}

std::map<std::string, std::int32_t> read_encoder_json(const std::filesystem::path& path) {
  const std::string json = read_vocabulary_file(path);
  encoder_reader reader;
  if (!nlohmann::json::sax_parse(json, &reader) || !reader.problem.empty()) {
    throw std::runtime_error("pot: " + path.string() + ": " +
                             (reader.problem.empty() ? std::string("invalid JSON") : reader.problem));
  }
  std::vector<std::string> token_bytes;
  const std::string problem = vocabulary_problem(reader.encoder, token_bytes);
  if (!problem.empty()) throw std::runtime_error("pot: " + path.string() + ": " + problem);
  return std::move(reader.encoder);
}

std::vector<std::pair<std::string, std::string>> read_vocab_bpe(const std::filesystem::path& path) {
  const std::string text = read_vocabulary_file(path);
  static_cast<void>(decode_utf8(text, path.string()));  // names the offset of bad UTF-8
  std::vector<std::pair<std::string, std::string>> merges;
  std::map<std::pair<std::string, std::string>, std::size_t> first_line;
  std::size_t line_number = 0;
  for (std::size_t start = 0; start < text.size(); ++line_number) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + start, end - start);
    start = end + 1;
    if (line.ends_with('\r')) line.remove_suffix(1);
    // GPT-2's encoder.py skips the first line ("#version: 0.2") whatever it holds.
    if (line_number == 0 || line.empty()) continue;
    const auto space = line.find(' ');
    if (space == std::string::npos || space == 0 || space + 1 == line.size() ||
        line.find(' ', space + 1) != std::string::npos) {
      throw std::runtime_error("pot: " + path.string() + ": line " + std::to_string(line_number + 1) +
                               " is not a merge 'left right'");
    }
    std::pair<std::string, std::string> merge(line.substr(0, space), line.substr(space + 1));
    const auto [place, inserted] = first_line.emplace(merge, line_number + 1);
    if (!inserted) {
      throw std::runtime_error("pot: " + path.string() + ": line " + std::to_string(line_number + 1) +
                               " repeats the merge of line " + std::to_string(place->second));
    }
    merges.push_back(std::move(merge));
  }
  return merges;
}

}  // namespace

bpe_tokenizer bpe_tokenizer::from_files(const std::filesystem::path& encoder_json,
                                        const std::filesystem::path& vocab_bpe) {
  auto encoder = read_encoder_json(encoder_json);
  return bpe_tokenizer(encoder, read_vocab_bpe(vocab_bpe));
}

bpe_tokenizer bpe_tokenizer::from_directory(const std::filesystem::path& directory) {
  if (!std::filesystem::is_directory(directory))
    throw std::runtime_error("pot: " + directory.string() + ": not a directory (of encoder.json and vocab.bpe)");
  const auto pick = [&](const char* openai, const char* hugging_face) {
    for (const char* name : {openai, hugging_face})
      if (std::filesystem::exists(directory / name)) return directory / name;
    throw std::runtime_error("pot: " + directory.string() + ": has no " + openai + " (nor Hugging Face's " +
                             hugging_face + ")");
  };
  const auto encoder_json = pick("encoder.json", "vocab.json");
  return from_files(encoder_json, pick("vocab.bpe", "merges.txt"));
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
  std::string bytes;
  for (std::int32_t token : tokens) {
    if (token < 0 || static_cast<std::size_t>(token) >= token_bytes_.size()) {
      throw std::out_of_range("pot: token id " + std::to_string(token) + " is not in the BPE vocabulary (ids 0.." +
                              std::to_string(token_bytes_.size() - 1) + ")");
    }
    bytes += token_bytes_[static_cast<std::size_t>(token)];
  }
  return bytes;
}

}  // namespace gpt2
