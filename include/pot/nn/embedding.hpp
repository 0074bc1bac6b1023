/// \file
/// \brief Token plus position embedding: forward and backward.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "pot/linalg/execution.hpp"
#include "pot/linalg/parallel_for.hpp"
#include "pot/nn/ids.hpp"
#include "pot/nn/layer_execution.hpp"

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
/// \param exec threads, over the positions (see layer_execution)
/// \throws std::out_of_range if a token id is outside [0, V).
/// \throws std::invalid_argument if first_position + T > maxT.
template <class Scalar>
void embedding_forward(Scalar* out, const std::int32_t* tokens, const Scalar* wte,
                       const Scalar* wpe, std::size_t B, std::size_t T, std::size_t C,
                       std::size_t V, std::size_t maxT, std::size_t first_position = 0,
                       linalg::execution exec = {}) {
  if (T > maxT || first_position > maxT - T)
    throw std::invalid_argument("pot: embedding_forward got positions " + std::to_string(first_position) +
                                " to " + std::to_string(first_position + T) +
                                " but the position table has maxT = " + std::to_string(maxT));
  check_ids(tokens, B * T, V, "token id");
  linalg::parallel_for(0, B * T, [&](std::size_t first, std::size_t last) {
    for (std::size_t row = first; row < last; ++row) {
      Scalar* out_row = out + row * C;
      const Scalar* token_row = wte + static_cast<std::size_t>(tokens[row]) * C;
      const Scalar* position_row = wpe + (first_position + row % T) * C;
      for (std::size_t i = 0; i < C; ++i) out_row[i] = token_row[i] + position_row[i];
    }
  }, layer_execution<Scalar>(exec, B * T * C));
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
/// \param exec threads, over ranges of channels: a token seen at several positions adds
///   to one row, so the positions stay in order on one thread and the results do not
///   depend on the threads (see layer_execution)
/// \throws std::out_of_range if a token id is outside [0, V).
template <class Scalar>
void embedding_backward(Scalar* dwte, Scalar* dwpe, const Scalar* dout,
                        const std::int32_t* tokens, std::size_t B, std::size_t T, std::size_t C,
                        std::size_t V, linalg::execution exec = {}) {
  check_ids(tokens, B * T, V, "token id");
  linalg::parallel_for(0, C, [&](std::size_t first, std::size_t last) {
    for (std::size_t row = 0; row < B * T; ++row) {
      const Scalar* dout_row = dout + row * C;
      Scalar* dtoken_row = dwte + static_cast<std::size_t>(tokens[row]) * C;
      Scalar* dposition_row = dwpe + (row % T) * C;
      for (std::size_t i = first; i < last; ++i) {
        dtoken_row[i] += dout_row[i];
        dposition_row[i] += dout_row[i];
      }
    }
  }, layer_execution<Scalar>(exec, 2 * B * T * C));
}

}  // namespace pot::nn
