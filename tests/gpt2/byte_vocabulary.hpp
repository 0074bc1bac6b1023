/// \file
/// \brief A small byte-level BPE vocabulary written by a test: GPT-2's 256 byte symbols
/// (id = byte) and a few merges, so that it encodes any text, as GPT-2's does, with a
/// model small enough for tests.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "bpe_tokenizer.hpp"
#include "utf8.hpp"

namespace gpt2_test {

/// \brief The merges of write_byte_vocabulary's default vocabulary, best first, in byte
/// symbols ("\u0120" is GPT-2's symbol for a space).
inline const std::vector<std::pair<std::string, std::string>> byte_vocabulary_merges{
    {"t", "h"}, {"th", "e"}, {"\u0120", "t"}, {"\u0120t", "he"}, {"a", "t"}, {"\u0120", "c"}, {"\u0120c", "at"}};

/// \brief Writes encoder.json (the 256 byte symbols, then one token per merge) and
/// vocab.bpe (\p merges) into \p directory, created if needed.
inline void write_byte_vocabulary(const std::filesystem::path& directory,
                                  const std::vector<std::pair<std::string, std::string>>& merges =
                                      byte_vocabulary_merges) {
  std::filesystem::create_directories(directory);
  nlohmann::ordered_json encoder = nlohmann::ordered_json::object();
  for (unsigned byte = 0; byte < 256; ++byte) {
    std::string symbol;
    gpt2::append_utf8(gpt2::byte_to_symbol(static_cast<std::uint8_t>(byte)), symbol);
    encoder[symbol] = byte;
  }
  std::string bpe = "#version: 0.2\n";
  for (const auto& [left, right] : merges) {
    const std::size_t id = encoder.size();
    encoder[left + right] = id;
    bpe += left + " " + right + "\n";
  }
  std::ofstream(directory / "encoder.json", std::ios::binary) << encoder.dump();
  std::ofstream(directory / "vocab.bpe", std::ios::binary) << bpe;
}

/// \brief The number of tokens of write_byte_vocabulary's default vocabulary.
inline constexpr std::size_t byte_vocabulary_size = 256 + 7;

}  // namespace gpt2_test
