/// \file
/// \brief Loading a float model and its tokenizer from a checkpoint, for the subcommands.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "model.hpp"
#include "tokenizer.hpp"

namespace gpt2 {

/// \brief The metadata key under which checkpoints store the char tokenizer.
inline constexpr const char* tokenizer_metadata_key = "tokenizer";

/// \brief The metadata entry \p key of \p file.
/// \throws std::runtime_error "pot: <file>: has no metadata entry "<key>"", so a file
///   written by another program fails with its name instead of "map::at"
const std::string& required_metadata(const std::map<std::string, std::string>& metadata, const std::string& key,
                                     const std::filesystem::path& file);

/// \brief The char tokenizer stored in \p file's \p metadata, for a model of \p vocab_size.
/// \throws std::runtime_error naming the file if it is missing, not a serialized tokenizer,
///   or of another size
char_tokenizer stored_tokenizer(const std::map<std::string, std::string>& metadata, std::size_t vocab_size,
                                const std::filesystem::path& file);

/// \brief A model read from a checkpoint, with the tokenizer stored beside it.
struct loaded_model {
  std::unique_ptr<gpt2_model<float>> model;
  char_tokenizer tokenizer;
  std::map<std::string, std::string> metadata;  ///< every metadata entry of the file
};

/// \brief Loads a model saved by `gpt2 train` (Hugging Face names and layouts) whose
/// arena holds batches of up to \p max_batch sequences of \p max_sequence tokens (0: the
/// model's block_size).
/// \throws std::runtime_error "pot: <path>: <problem>" for a bad or truncated file, or
///   a file without a char tokenizer (e.g. a real GPT-2 checkpoint) or whose tokenizer
///   disagrees with the vocabulary size
loaded_model load_model(const std::filesystem::path& path, std::size_t max_batch,
                        std::size_t max_sequence, pot::linalg::execution execution = {});

}  // namespace gpt2
