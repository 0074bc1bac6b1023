/// \file
/// \brief Keys and values of the positions a decoder has seen (a KV cache), and causal
/// self-attention of new positions over them, so that a model runs its prompt once and
/// then one token at a time instead of recomputing the whole window for every token.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "pot/linalg/gemm.hpp"
#include "pot/linalg/parallel_for.hpp"
#include "pot/nn/attention.hpp"
#include "pot/nn/layer_execution.hpp"
#include "pot/nn/softmax.hpp"

namespace pot::nn {

/// \brief The keys and values of one attention layer for B sequences of up to `capacity`
/// positions each, all sequences at the same length.
///
/// Keys and values are stored per sequence as (capacity, C) rows, heads side by side as in
/// attention_forward's qkv, so that one head's keys are a strided (length, hs) matrix that
/// the GEMMs read in place.
template <class Scalar>
class kv_cache {
 public:
  /// \brief An empty cache for `B` sequences of up to `capacity` positions of `C`
  /// channels in `NH` heads.
  /// \throws std::invalid_argument if B or capacity is 0, or NH does not divide C.
  kv_cache(std::size_t B, std::size_t capacity, std::size_t C, std::size_t NH)
      : B_(B), capacity_(capacity), C_(C), NH_(NH) {
    check_attention_heads(C, NH);
    if (B == 0 || capacity == 0)
      throw std::invalid_argument("pot: kv_cache needs a batch size and capacity > 0, got B = " +
                                  std::to_string(B) + ", capacity = " + std::to_string(capacity));
    if (capacity > std::numeric_limits<std::size_t>::max() / B / C)
      throw std::length_error("pot: a kv_cache of " + std::to_string(B) + " x " + std::to_string(capacity) +
                              " x " + std::to_string(C) + " values has more than size_t counts");
    keys_.assign(B * capacity * C, Scalar(0));
    values_.assign(B * capacity * C, Scalar(0));
  }

  /// \brief Sequences (B).
  [[nodiscard]] std::size_t batch() const noexcept { return B_; }
  /// \brief Positions each sequence can hold.
  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }
  /// \brief Channels (C) of a key or value row.
  [[nodiscard]] std::size_t channels() const noexcept { return C_; }
  /// \brief Attention heads (NH); each has C / NH channels.
  [[nodiscard]] std::size_t heads() const noexcept { return NH_; }

  /// \brief Positions cached so far, per sequence.
  [[nodiscard]] std::size_t length() const noexcept { return length_; }

  /// \brief Forgets every position (the storage stays).
  void clear() noexcept { length_ = 0; }

  /// \brief Keys (capacity, C) of sequence `b`; rows [0, length()) are cached.
  [[nodiscard]] const Scalar* keys(std::size_t b) const noexcept { return keys_.data() + b * capacity_ * C_; }
  /// \brief Values (capacity, C) of sequence `b`; rows [0, length()) are cached.
  [[nodiscard]] const Scalar* values(std::size_t b) const noexcept { return values_.data() + b * capacity_ * C_; }

  /// \brief Appends the keys and values of `T` new positions per sequence, read from
  /// `qkv` (B, T, 3C) laid out as attention_forward's input.
  /// \throws std::length_error if length() + T exceeds capacity(); nothing is appended.
  void append(const Scalar* qkv, std::size_t T) {
    if (T > capacity_ - length_)
      throw std::length_error("pot: kv_cache holds " + std::to_string(length_) + " of " +
                              std::to_string(capacity_) + " positions; " + std::to_string(T) +
                              " more do not fit");
    for (std::size_t b = 0; b < B_; ++b) {
      for (std::size_t t = 0; t < T; ++t) {
        const Scalar* row = qkv + (b * T + t) * 3 * C_;
        const std::size_t slot = (b * capacity_ + length_ + t) * C_;
        std::copy(row + C_, row + 2 * C_, keys_.begin() + static_cast<std::ptrdiff_t>(slot));
        std::copy(row + 2 * C_, row + 3 * C_, values_.begin() + static_cast<std::ptrdiff_t>(slot));
      }
    }
    length_ += T;
  }

 private:
  std::size_t B_, capacity_, C_, NH_;
  std::size_t length_ = 0;
  std::vector<Scalar> keys_, values_;  // (B, capacity, C) each
};

/// \brief Causal self-attention of `T` new positions per sequence over the cached ones:
/// appends their keys and values to `cache`, then each new position p = length + t (with
/// length the cached count before the call) attends to positions 0..p.
///
/// The result equals attention_forward over the whole sequence at those rows, within
/// rounding: the scores and the weighted sum are the same dot products, but the GEMMs here
/// stop at key p + 1 where attention_forward's blocks of attention_row_block query rows
/// stop at the block's end (tests/nn/kv_cache.test.cpp states the tolerance).
/// \param out   (B, T, C) heads side by side, as attention_forward's output
/// \param qkv   (B, T, 3C) q, k, v of the new positions
/// \param T     new positions per sequence (1 for a decode step, the prompt for a prefill)
/// \param cache the layer's cache, for B = cache.batch() sequences of C = cache.channels()
/// \param exec  threads, over the (batch, head) pairs (see layer_execution)
/// \throws std::length_error if the new positions do not fit in the cache (nothing is
///   appended then).
template <class Scalar>
void attention_forward_cached(Scalar* out, const Scalar* qkv, std::size_t T, kv_cache<Scalar>& cache,
                              linalg::execution exec = {}) {
  using linalg::transpose;
  const std::size_t past = cache.length();
  cache.append(qkv, T);
  const std::size_t B = cache.batch(), C = cache.channels(), NH = cache.heads();
  const std::size_t hs = C / NH, C3 = 3 * C, L = past + T;
  const Scalar scale = Scalar(1.0 / std::sqrt(static_cast<double>(hs)));
  const linalg::execution one_thread{1};
  linalg::parallel_for(0, B * NH, [&](std::size_t first_head, std::size_t last_head) {
    // Scores of one block of new rows against every cached key; per chunk of heads, so
    // that threads share nothing they write.
    std::vector<Scalar> probs(std::min(T, attention_row_block) * L);
    for (std::size_t head = first_head; head < last_head; ++head) {
      const std::size_t b = head / NH, h = head % NH;
      const Scalar* query = qkv + b * T * C3 + h * hs;  // (T, hs), row stride 3C
      const Scalar* key = cache.keys(b) + h * hs;       // (L, hs), row stride C
      const Scalar* value = cache.values(b) + h * hs;   // (L, hs), row stride C
      Scalar* head_out = out + b * T * C + h * hs;      // (T, hs), row stride C
      for (std::size_t first = 0; first < T; first += attention_row_block) {
        const std::size_t last = std::min(T, first + attention_row_block);
        const std::size_t keys_seen = past + last;  // the last row of the block attends to these
        linalg::gemm<Scalar>(transpose::no, transpose::yes, last - first, keys_seen, hs, scale,
                             query + first * C3, C3, key, C, Scalar(0), probs.data(), L, one_thread);
        for (std::size_t t = first; t < last; ++t) {
          Scalar* row = probs.data() + (t - first) * L;
          softmax_row_forward(row, row, past + t + 1);
          std::fill(row + past + t + 1, row + keys_seen, Scalar(0));
        }
        linalg::gemm<Scalar>(transpose::no, transpose::no, last - first, hs, keys_seen, Scalar(1), probs.data(),
                             L, value, C, Scalar(0), head_out + first * C, C, one_thread);
      }
    }
  }, layer_execution<Scalar>(exec));
}

}  // namespace pot::nn
