/// \file
/// \brief Token plus position embedding: forward and backward.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "pot/nn/ids.hpp"

namespace pot::nn {

/// \brief `out[b, t] = wte[tokens[b, t]] + wpe[first_position + t]`.
/// \param out    (B, T, C)
/// \param tokens (B, T) token ids in [0, V)
/// \param wte    (V, C) token embedding table
/// \param wpe    (maxT, C) position embedding table
/// \param B batch size
/// \param T sequence length
/// \param C channels
/// \param V vocabulary size (number of classes)
/// \param maxT rows of the position table
/// \param first_position position of the first token of each sequence (the positions a
///   KV cache already holds when decoding)
/// \throws std::out_of_range if a token id is outside [0, V).
/// \throws std::invalid_argument if first_position + T > maxT.
template <class Scalar>
void embedding_forward(Scalar* out, const std::int32_t* tokens, const Scalar* wte,
                       const Scalar* wpe, std::size_t B, std::size_t T, std::size_t C,
                       std::size_t V, std::size_t maxT, std::size_t first_position = 0) {
  if (T > maxT || first_position > maxT - T)
    throw std::invalid_argument("pot: embedding_forward got positions " + std::to_string(first_position) +
                                " to " + std::to_string(first_position + T) +
                                " but the position table has maxT = " + std::to_string(maxT));
  check_ids(tokens, B * T, V, "token id");
  for (std::size_t b = 0; b < B; ++b) {
    for (std::size_t t = 0; t < T; ++t) {
      Scalar* out_row = out + (b * T + t) * C;
      const Scalar* token_row = wte + static_cast<std::size_t>(tokens[b * T + t]) * C;
      const Scalar* position_row = wpe + (first_position + t) * C;
      for (std::size_t i = 0; i < C; ++i) out_row[i] = token_row[i] + position_row[i];
    }
  }
}

/// \brief Backward of embedding_forward: scatters `dout` into the rows it came from.
/// \param dwte   (V, C) accumulated with += (a token seen twice gets both gradients)
/// \param dwpe   (maxT, C) accumulated with += (rows T..maxT untouched)
/// \param dout   (B, T, C)
/// \param tokens (B, T)
/// \param B batch size
/// \param T sequence length
/// \param C channels
/// \param V vocabulary size (number of classes)
/// \throws std::out_of_range if a token id is outside [0, V).
template <class Scalar>
void embedding_backward(Scalar* dwte, Scalar* dwpe, const Scalar* dout,
                        const std::int32_t* tokens, std::size_t B, std::size_t T, std::size_t C,
                        std::size_t V) {
  check_ids(tokens, B * T, V, "token id");
  for (std::size_t b = 0; b < B; ++b) {
    for (std::size_t t = 0; t < T; ++t) {
      const Scalar* dout_row = dout + (b * T + t) * C;
      Scalar* dtoken_row = dwte + static_cast<std::size_t>(tokens[b * T + t]) * C;
      Scalar* dposition_row = dwpe + t * C;
      for (std::size_t i = 0; i < C; ++i) {
        dtoken_row[i] += dout_row[i];
        dposition_row[i] += dout_row[i];
      }
    }
  }
}

}  // namespace pot::nn
