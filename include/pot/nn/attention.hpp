/// \file
/// \brief Causal multi-head self-attention over packed q, k, v: forward and backward.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

#include "pot/linalg/gemm.hpp"
#include "pot/linalg/parallel_for.hpp"
#include "pot/nn/layer_execution.hpp"
#include "pot/nn/softmax.hpp"

namespace pot::nn {

/// \brief Query rows per GEMM call: the causal mask lets a block of rows [i, i + block)
/// stop at key column i + block, so the work skipped above the diagonal grows as the
/// block shrinks, while each GEMM stays large enough to run at full speed.
inline constexpr std::size_t attention_row_block = 32;

/// \brief Throws std::invalid_argument unless NH > 0 heads divide C channels.
inline void check_attention_heads(std::size_t C, std::size_t NH) {
  if (NH == 0 || C % NH != 0)
    throw std::invalid_argument("pot: attention needs the channel count C = " + std::to_string(C) +
                                " to be a multiple of the head count NH = " + std::to_string(NH));
}

/// \brief Causal self-attention: per batch b and head h, `out = softmax(q k^T / sqrt(hs)) v`
/// with hs = C / NH and position t attending to positions 0..t only.
/// \param out  (B, T, C) heads side by side: head h in channels [h*hs, (h+1)*hs)
/// \param att  (B, NH, T, T) cached attention probabilities; zero above the diagonal
/// \param qkv  (B, T, 3C) per position: q (C), then k (C), then v (C)
/// \param B batch size
/// \param T sequence length
/// \param C channels
/// \param NH attention heads
/// \param exec threads, over the (batch, head) pairs (see layer_execution)
/// \throws std::invalid_argument if NH is 0 or does not divide C.
template <class Scalar>
void attention_forward(Scalar* out, Scalar* att, const Scalar* qkv, std::size_t B, std::size_t T,
                       std::size_t C, std::size_t NH, linalg::execution exec = {}) {
  using linalg::transpose;
  check_attention_heads(C, NH);
  const std::size_t hs = C / NH;
  const std::size_t C3 = 3 * C;
  const Scalar scale = Scalar(1.0 / std::sqrt(static_cast<double>(hs)));
  const linalg::execution one_thread{1};
  linalg::parallel_for(0, B * NH, [&](std::size_t first_head, std::size_t last_head) {
    for (std::size_t head = first_head; head < last_head; ++head) {
      const std::size_t b = head / NH;
      const std::size_t h = head % NH;
      const Scalar* query = qkv + b * T * C3 + h * hs;  // (T, hs), row stride 3C
      const Scalar* key = query + C;
      const Scalar* value = query + 2 * C;
      Scalar* probs = att + head * T * T;  // (T, T)
      Scalar* head_out = out + b * T * C + h * hs;  // (T, hs), row stride C
      for (std::size_t first = 0; first < T; first += attention_row_block) {
        const std::size_t last = std::min(T, first + attention_row_block);
        // Scores of rows [first, last) against keys [0, last): the rest is masked.
        linalg::gemm<Scalar>(transpose::no, transpose::yes, last - first, last, hs, scale,
                             query + first * C3, C3, key, C3, Scalar(0), probs + first * T, T,
                             one_thread);
        for (std::size_t t = first; t < last; ++t) {
          Scalar* row = probs + t * T;
          softmax_row_forward(row, row, t + 1);
          std::fill(row + t + 1, row + T, Scalar(0));
        }
        linalg::gemm<Scalar>(transpose::no, transpose::no, last - first, hs, last, Scalar(1),
                             probs + first * T, T, value, C3, Scalar(0), head_out + first * C, C,
                             one_thread);
      }
    }
  }, layer_execution<Scalar>(exec));
}

/// \brief Backward of attention_forward; accumulates into dqkv.
/// \param dqkv (B, T, 3C) accumulated with +=
/// \param dout (B, T, C)
/// \param qkv  (B, T, 3C) the forward input
/// \param att  (B, NH, T, T) as cached by attention_forward
/// \param B batch size
/// \param T sequence length
/// \param C channels
/// \param NH attention heads
/// \param exec threads, over the (batch, head) pairs (see layer_execution)
/// \throws std::invalid_argument if NH is 0 or does not divide C.
template <class Scalar>
void attention_backward(Scalar* dqkv, const Scalar* dout, const Scalar* qkv, const Scalar* att,
                        std::size_t B, std::size_t T, std::size_t C, std::size_t NH,
                        linalg::execution exec = {}) {
  using linalg::transpose;
  check_attention_heads(C, NH);
  const std::size_t hs = C / NH;
  const std::size_t C3 = 3 * C;
  const Scalar scale = Scalar(1.0 / std::sqrt(static_cast<double>(hs)));
  const linalg::execution one_thread{1};
  linalg::parallel_for(0, B * NH, [&](std::size_t first_head, std::size_t last_head) {
    // Scratch per chunk of heads, so that threads share nothing they write.
    std::vector<Scalar> dprobs(std::min(T, attention_row_block) * T);   // (block, T)
    std::vector<Scalar> dscores(std::min(T, attention_row_block) * T);  // (block, T)
    for (std::size_t head = first_head; head < last_head; ++head) {
      const std::size_t b = head / NH;
      const std::size_t h = head % NH;
      const Scalar* query = qkv + b * T * C3 + h * hs;  // (T, hs), row stride 3C
      const Scalar* key = query + C;
      const Scalar* value = query + 2 * C;
      Scalar* dquery = dqkv + b * T * C3 + h * hs;
      Scalar* dkey = dquery + C;
      Scalar* dvalue = dquery + 2 * C;
      const Scalar* probs = att + head * T * T;  // (T, T)
      const Scalar* head_dout = dout + b * T * C + h * hs;  // (T, hs), row stride C
      for (std::size_t first = 0; first < T; first += attention_row_block) {
        const std::size_t last = std::min(T, first + attention_row_block);
        const std::size_t rows = last - first;
        // dprobs (rows, last) = dout[first:last] @ v[0:last]^T
        linalg::gemm<Scalar>(transpose::no, transpose::yes, rows, last, hs, Scalar(1),
                             head_dout + first * C, C, value, C3, Scalar(0), dprobs.data(), T,
                             one_thread);
        // dv[0:last] += probs[first:last, 0:last]^T @ dout[first:last]
        linalg::gemm<Scalar>(transpose::yes, transpose::no, last, hs, rows, Scalar(1),
                             probs + first * T, T, head_dout + first * C, C, Scalar(1), dvalue, C3,
                             one_thread);
        // dscores (rows, last): row t gets its causal part [0, t] from the softmax
        // backward and zeros above the diagonal, so the products below read no stale values.
        for (std::size_t t = first; t < last; ++t) {
          Scalar* dscores_row = dscores.data() + (t - first) * T;
          std::fill(dscores_row, dscores_row + last, Scalar(0));
          softmax_row_backward(dscores_row, probs + t * T, dprobs.data() + (t - first) * T, t + 1);
        }
        // dq[first:last] += scale * dscores @ k[0:last]
        linalg::gemm<Scalar>(transpose::no, transpose::no, rows, hs, last, scale, dscores.data(), T,
                             key, C3, Scalar(1), dquery + first * C3, C3, one_thread);
        // dk[0:last] += scale * dscores^T @ q[first:last]
        linalg::gemm<Scalar>(transpose::yes, transpose::no, last, hs, rows, scale, dscores.data(), T,
                             query + first * C3, C3, Scalar(1), dkey, C3, one_thread);
      }
    }
  }, layer_execution<Scalar>(exec));
}

}  // namespace pot::nn
