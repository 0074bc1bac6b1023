#include "sampling.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

namespace gpt2 {

std::int32_t sample_token(std::span<const float> logits, double temperature, std::size_t top_k,
                          splitmix64& random) {
  if (logits.empty()) throw std::invalid_argument("pot: cannot sample a token from empty logits");
  if (!(temperature >= 0))
    throw std::invalid_argument("pot: sampling temperature must be >= 0 (got " + std::to_string(temperature) +
                                ")");
  for (std::size_t i = 0; i < logits.size(); ++i)
    if (std::isnan(logits[i]) || logits[i] == std::numeric_limits<float>::infinity())
      throw std::invalid_argument("pot: logit " + std::to_string(i) + " is " + std::to_string(logits[i]) +
                                  "; cannot sample");
  std::vector<std::int32_t> order(logits.size());
  std::iota(order.begin(), order.end(), 0);
  // Larger logit first; equal logits by index, so that the result never depends on the
  // sort's handling of ties.
  const auto before = [&](std::int32_t a, std::int32_t b) {
    const float la = logits[static_cast<std::size_t>(a)], lb = logits[static_cast<std::size_t>(b)];
    return la > lb || (la == lb && a < b);
  };
  if (temperature == 0) return *std::min_element(order.begin(), order.end(), before);
  const std::size_t kept = top_k == 0 ? order.size() : std::min(top_k, order.size());
  std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(kept), order.end(), before);
  const double largest = logits[static_cast<std::size_t>(order[0])];
  if (!std::isfinite(largest)) throw std::invalid_argument("pot: every kept logit is -infinity; cannot sample");
  std::vector<double> weights(kept);
  for (std::size_t i = 0; i < kept; ++i)
    weights[i] = std::exp((logits[static_cast<std::size_t>(order[i])] - largest) / temperature);
  double threshold = random.uniform() * std::accumulate(weights.begin(), weights.end(), 0.0);
  for (std::size_t i = 0; i < kept; ++i) {
    threshold -= weights[i];
    if (threshold < 0) return order[i];
  }
  // Rounding left the threshold at the very end: the last token of positive weight.
  for (std::size_t i = kept; i-- > 0;)
    if (weights[i] > 0) return order[i];
  return order[0];
}

}  // namespace gpt2
