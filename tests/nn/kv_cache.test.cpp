#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <random>
#include <stdexcept>
#include <vector>

#include "pot/nn/attention.hpp"
#include "pot/nn/kv_cache.hpp"

namespace {

template <class S>
std::vector<S> random_qkv(std::size_t B, std::size_t T, std::size_t C, unsigned seed) {
  std::mt19937 generator(seed);
  std::uniform_real_distribution<double> uniform(-2.0, 2.0);  // scores of order 1 and more
  std::vector<S> qkv(B * T * 3 * C);
  for (S& value : qkv) value = static_cast<S>(uniform(generator));
  return qkv;
}

/// Rows [first, first + count) of every sequence of a (B, T, width) tensor.
template <class S>
std::vector<S> rows_of(const std::vector<S>& tensor, std::size_t B, std::size_t T, std::size_t width,
                       std::size_t first, std::size_t count) {
  std::vector<S> rows;
  for (std::size_t b = 0; b < B; ++b) {
    const auto begin = tensor.begin() + static_cast<std::ptrdiff_t>((b * T + first) * width);
    rows.insert(rows.end(), begin, begin + static_cast<std::ptrdiff_t>(count * width));
  }
  return rows;
}

/// attention_forward over all T positions against a prefill of `prefill` positions and
/// then steps of `step` positions through the cache; returns the largest difference.
template <class S>
double cached_versus_full(std::size_t B, std::size_t T, std::size_t C, std::size_t NH, std::size_t prefill,
                          std::size_t step, unsigned seed) {
  const std::vector<S> qkv = random_qkv<S>(B, T, C, seed);
  std::vector<S> full(B * T * C), att(B * NH * T * T);
  pot::nn::attention_forward(full.data(), att.data(), qkv.data(), B, T, C, NH);

  pot::nn::kv_cache<S> cache(B, T, C, NH);
  double largest = 0;
  for (std::size_t first = 0; first < T;) {
    const std::size_t count = std::min(T - first, first == 0 ? prefill : step);
    const std::vector<S> new_qkv = rows_of(qkv, B, T, 3 * C, first, count);
    std::vector<S> out(B * count * C);
    pot::nn::attention_forward_cached(out.data(), new_qkv.data(), count, cache);
    const std::vector<S> expected = rows_of(full, B, T, C, first, count);
    for (std::size_t i = 0; i < out.size(); ++i)
      largest = std::max(largest, std::abs(static_cast<double>(out[i]) - static_cast<double>(expected[i])));
    first += count;
    CHECK(cache.length() == first);
  }
  return largest;
}

}  // namespace

TEST_CASE("KV-cache attention equals attention over the whole sequence") {
  struct shape {
    std::size_t B, T, C, NH, prefill, step;
  };
  // Prefill then single tokens (decoding), prefills inside and across blocks of
  // attention_row_block query rows, and multi-token steps.
  const shape shapes[] = {{1, 1, 6, 1, 1, 1},    {2, 5, 12, 3, 1, 1},   {2, 9, 12, 3, 4, 1},
                          {1, 70, 8, 2, 1, 1},   {1, 70, 8, 2, 33, 1},  {1, 70, 8, 2, 40, 7},
                          {3, 40, 16, 4, 40, 1}, {1, 67, 24, 3, 64, 3}};
  unsigned seed = 1;
  for (const shape& s : shapes) {
    CAPTURE(s.B);
    CAPTURE(s.T);
    CAPTURE(s.C);
    CAPTURE(s.NH);
    CAPTURE(s.prefill);
    CAPTURE(s.step);
    // The same products summed over a key range that ends at the position instead of
    // the end of the query block: equal up to a few roundings of values of order 1.
    CHECK(cached_versus_full<double>(s.B, s.T, s.C, s.NH, s.prefill, s.step, seed) <= 1e-13);
    CHECK(cached_versus_full<float>(s.B, s.T, s.C, s.NH, s.prefill, s.step, seed) <= 2e-6);
    ++seed;
  }
}

TEST_CASE("a prefill of the whole sequence is bit-identical to attention_forward") {
  // Same blocks, same GEMM shapes: the cache changes only where keys and values are read.
  const std::size_t B = 2, T = 45, C = 12, NH = 3;
  const std::vector<float> qkv = random_qkv<float>(B, T, C, 7);
  std::vector<float> full(B * T * C), att(B * NH * T * T), cached(B * T * C);
  pot::nn::attention_forward(full.data(), att.data(), qkv.data(), B, T, C, NH);
  pot::nn::kv_cache<float> cache(B, T, C, NH);
  pot::nn::attention_forward_cached(cached.data(), qkv.data(), T, cache);
  CHECK(cached == full);
}

TEST_CASE("KV-cache attention gives the same bits on every thread count") {
  const std::size_t B = 2, T = 20, C = 16, NH = 4;
  const std::vector<float> qkv = random_qkv<float>(B, T, C, 11);
  std::vector<float> outputs[2];
  for (unsigned threads : {1u, 2u}) {
    pot::nn::kv_cache<float> cache(B, T, C, NH);
    std::vector<float>& out = outputs[threads - 1];
    out.resize(B * T * C);
    pot::nn::attention_forward_cached(out.data(), qkv.data(), T, cache, pot::linalg::execution{threads});
  }
  CHECK(outputs[0] == outputs[1]);
}

TEST_CASE("kv_cache refuses positions beyond its capacity and bad shapes") {
  pot::nn::kv_cache<float> cache(1, 4, 6, 2);
  const std::vector<float> qkv = random_qkv<float>(1, 5, 6, 3);
  std::vector<float> out(5 * 6);
  pot::nn::attention_forward_cached(out.data(), qkv.data(), 3, cache);
  CHECK(cache.length() == 3);
  CHECK_THROWS_AS(pot::nn::attention_forward_cached(out.data(), qkv.data(), 2, cache), std::length_error);
  CHECK(cache.length() == 3);  // nothing appended
  CHECK_NOTHROW(pot::nn::attention_forward_cached(out.data(), qkv.data(), 1, cache));
  CHECK(cache.length() == 4);
  cache.clear();
  CHECK(cache.length() == 0);

  CHECK_THROWS_AS(pot::nn::kv_cache<float>(1, 4, 6, 4), std::invalid_argument);  // 4 heads, 6 channels
  CHECK_THROWS_AS(pot::nn::kv_cache<float>(0, 4, 6, 2), std::invalid_argument);
  CHECK_THROWS_AS(pot::nn::kv_cache<float>(1, 0, 6, 2), std::invalid_argument);
  CHECK_THROWS_AS(pot::nn::kv_cache<float>(std::size_t{1} << 40, std::size_t{1} << 30, 6, 2), std::length_error);
}
