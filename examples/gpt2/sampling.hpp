/// \file
/// \brief Drawing the next token from a model's logits: temperature and top-k sampling.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "random.hpp"

namespace gpt2 {

/// \brief Draws a token index from `softmax(logits / temperature)` restricted to the
/// \p top_k largest logits (0: all of them), with one `random.uniform()`.
///
/// Temperature 0 returns the index of the largest logit without drawing, the lowest
/// index among equal largest ones. Logits that tie at the edge of the top k are ranked
/// by index too (the lower one is kept), so a seed always gives the same token. A logit
/// of -infinity is a token that is never drawn.
/// \throws std::invalid_argument if \p logits is empty or holds NaN or +infinity, if no
///   kept logit is finite, or if \p temperature is negative or NaN
std::int32_t sample_token(std::span<const float> logits, double temperature, std::size_t top_k,
                          splitmix64& random);

}  // namespace gpt2
