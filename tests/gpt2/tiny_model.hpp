// The tiny GPT-2 and token batch that the model and quantization tests share.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "gpt2_checkpoint.hpp"

namespace tiny_model {

inline const gpt2::gpt2_config config{.n_layer = 2, .n_head = 2, .n_embd = 8, .block_size = 5, .vocab_size = 11};
inline constexpr std::size_t batch = 2;
inline constexpr std::size_t sequence = 5;

// Tokens and targets with repeats, so embedding rows gather several gradients.
inline const std::vector<std::int32_t> inputs{0, 3, 7, 3, 10, 5, 5, 1, 9, 2};
inline const std::vector<std::int32_t> targets{3, 7, 3, 10, 4, 5, 1, 9, 2, 0};

}  // namespace tiny_model
