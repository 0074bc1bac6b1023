/// \file
/// \brief Loading a float model and its tokenizer from a checkpoint, for the subcommands.
#pragma once

#include <cstddef>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "gpt2_checkpoint.hpp"
#include "model.hpp"
#include "text_tokenizer.hpp"

namespace gpt2 {

/// \brief What a subcommand's options add to what a model file records: the tokenizer
/// (`--tokenizer`, `--vocab`) and, for a file without config such as Hugging Face's,
/// `--n-head` (default n_embd / 64, the head size of every GPT-2 size).
struct model_request {
  tokenizer_request tokenizer;
  std::optional<std::size_t> n_head;
};

/// \brief The metadata entry \p key of \p file.
/// \throws std::runtime_error "pot: <file>: has no metadata entry "<key>"", so a file
///   written by another program fails with its name instead of "map::at"
const std::string& required_metadata(const std::map<std::string, std::string>& metadata, const std::string& key,
                                     const std::filesystem::path& file);

/// \brief The tokenizer of \p file, a model of \p vocab_size tokens with \p metadata
/// (see text_tokenizer::for_model).
text_tokenizer stored_tokenizer(const std::map<std::string, std::string>& metadata, std::size_t vocab_size,
                                const std::filesystem::path& file, const tokenizer_request& request = {});

/// \brief The corpus a subcommand runs on: \p data if given, else the one \p file was
/// trained on (metadata "corpus").
/// \throws std::runtime_error naming the file if it records none (a Hugging Face file):
///   then --data is needed
std::string corpus_of(const std::map<std::string, std::string>& metadata, const std::optional<std::string>& data,
                      const std::filesystem::path& file);

/// \brief A float GPT-2 checkpoint and its tokenizer, read before a model is sized for
/// them (the batch shape may depend on the block size).
struct model_file {
  gpt2_checkpoint checkpoint;
  text_tokenizer tokenizer;
};

/// \brief Reads a float GPT-2 checkpoint (`gpt2 train`'s, or Hugging Face's: names with
/// or without "transformer.", F32/F16/BF16) and the tokenizer it needs.
/// \throws std::runtime_error "pot: <path>: <problem>" for a bad or truncated file, a
///   tokenizer that does not fit the file (see text_tokenizer::for_model), or an n_head
///   that does not divide n_embd
model_file read_model_file(const std::filesystem::path& path, const model_request& request = {});

/// \brief A model read from a checkpoint, with its tokenizer.
struct loaded_model {
  std::unique_ptr<gpt2_model<float>> model;
  text_tokenizer tokenizer;
  std::map<std::string, std::string> metadata;  ///< every metadata entry of the file
  bool n_head_assumed = false;                   ///< the file had no n_head: n_embd / 64 or --n-head
};

/// \brief The model of \p file, its arena holding batches of up to \p max_batch
/// sequences of \p max_sequence tokens (0: the model's block_size).
/// \throws std::length_error if they do not fit in memory (see gpt2_model)
loaded_model load_model(model_file file, std::size_t max_batch, std::size_t max_sequence,
                        pot::linalg::execution execution = {});

/// \brief read_model_file, then load_model of it.
loaded_model load_model(const std::filesystem::path& path, std::size_t max_batch, std::size_t max_sequence,
                        pot::linalg::execution execution = {}, const model_request& request = {});

/// \brief The metadata of a model made from \p loaded (a packed or fine-tuned one): the
/// file's entries, the tokenizer's (so that a Hugging Face file's descendants record
/// GPT-2 BPE) and the corpus it was calibrated or trained on.
std::map<std::string, std::string> derived_metadata(const loaded_model& loaded, const std::string& corpus);

/// \brief "n_layer 12, n_head 12 (not in the file: n_embd / 64), n_embd 768, block 1024,
/// vocab 50257 (GPT-2 BPE)": what a subcommand prints about the model it loaded.
std::string describe_model(const loaded_model& loaded);

}  // namespace gpt2
