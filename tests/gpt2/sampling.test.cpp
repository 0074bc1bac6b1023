#include "sampling.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <vector>

#include "random.hpp"

// sample_token against distributions written down by hand. Logits are logarithms of
// chosen weights, so softmax(logits / temperature) is w^(1/T) / sum w^(1/T), computed
// here from the definition rather than by the code under test.

namespace {

/// How often each token is drawn in `draws` calls.
std::vector<std::size_t> draw_counts(const std::vector<float>& logits, double temperature, std::size_t top_k,
                                     std::size_t draws, std::uint64_t seed) {
  gpt2::splitmix64 random(seed);
  std::vector<std::size_t> counts(logits.size(), 0);
  std::size_t outside = 0;
  for (std::size_t i = 0; i < draws; ++i) {
    const std::int32_t token = gpt2::sample_token(logits, temperature, top_k, random);
    if (token < 0 || static_cast<std::size_t>(token) >= logits.size())
      ++outside;
    else
      ++counts[static_cast<std::size_t>(token)];
  }
  CHECK(outside == 0);
  return counts;
}

/// Checks that `counts` (from `draws` draws) fit the probabilities `p`: a count is
/// Binomial(draws, p), mean draws * p and standard deviation sqrt(draws * p * (1 - p)).
/// Five standard deviations leave a chance below 6e-7 per token (normal approximation,
/// good at these counts) that a correct sampler fails; a token of probability 0 must
/// never be drawn.
void check_frequencies(const std::vector<std::size_t>& counts, const std::vector<double>& p, std::size_t draws) {
  REQUIRE(counts.size() == p.size());
  for (std::size_t i = 0; i < p.size(); ++i) {
    CAPTURE(i);
    CAPTURE(p[i]);
    const double n = static_cast<double>(draws);
    if (p[i] == 0.0) {
      CHECK(counts[i] == 0);
      continue;
    }
    const double tolerance = 5.0 * std::sqrt(n * p[i] * (1.0 - p[i]));
    CHECK(std::abs(static_cast<double>(counts[i]) - n * p[i]) <= tolerance);
  }
}

std::vector<float> log_weights(const std::vector<double>& weights) {
  std::vector<float> logits;
  for (const double w : weights) logits.push_back(static_cast<float>(std::log(w)));
  return logits;
}

}  // namespace

TEST_CASE("sample_token: temperature 0 picks the largest logit, the lowest index among ties") {
  gpt2::splitmix64 random(1);
  CHECK(gpt2::sample_token(std::vector<float>{0.5f, -1.0f, 2.25f, 2.0f}, 0.0, 0, random) == 2);
  CHECK(gpt2::sample_token(std::vector<float>{1.0f, 3.0f, 2.0f, 3.0f}, 0.0, 0, random) == 1);
  CHECK(gpt2::sample_token(std::vector<float>{7.0f}, 0.0, 0, random) == 0);
  const float minus_infinity = -std::numeric_limits<float>::infinity();
  CHECK(gpt2::sample_token(std::vector<float>{minus_infinity, -3.0f, minus_infinity}, 0.0, 5, random) == 1);
}

TEST_CASE("sample_token: top-k 1 always gives the largest logit") {
  const std::vector<float> logits = {0.5f, 2.0f, 1.9f, -1.0f, 1.99f};
  for (const double temperature : {0.5, 1.0, 10.0}) {
    CAPTURE(temperature);
    const std::vector<std::size_t> counts = draw_counts(logits, temperature, 1, 2000, 42);
    CHECK(counts[1] == 2000);
  }
  // Tied largest logits: the lower index is the one kept.
  CHECK(draw_counts({1.0f, 4.0f, 4.0f}, 1.0, 1, 500, 7)[1] == 500);
}

TEST_CASE("sample_token: top-k draws only among the k largest logits, in softmax proportion") {
  // Weights 1, 2, 6, 3, 0.5, 4: the three largest are tokens 2, 5 and 3 (6, 4 and 3), so
  // at temperature 1 with k = 3 they have probabilities 6/13, 4/13 and 3/13.
  const std::vector<float> logits = log_weights({1.0, 2.0, 6.0, 3.0, 0.5, 4.0});
  const std::size_t draws = 40000;
  check_frequencies(draw_counts(logits, 1.0, 3, draws, 2024), {0.0, 0.0, 6.0 / 13, 3.0 / 13, 0.0, 4.0 / 13},
                    draws);
  // k at or beyond the vocabulary keeps every token.
  check_frequencies(draw_counts(logits, 1.0, 6, draws, 5),
                    {1.0 / 16.5, 2.0 / 16.5, 6.0 / 16.5, 3.0 / 16.5, 0.5 / 16.5, 4.0 / 16.5}, draws);
}

TEST_CASE("sample_token: at temperature 1 frequencies match the softmax probabilities") {
  // Weights 1, 2, 3, 4: probabilities 0.1, 0.2, 0.3, 0.4.
  const std::size_t draws = 100000;
  check_frequencies(draw_counts(log_weights({1.0, 2.0, 3.0, 4.0}), 1.0, 0, draws, 1337), {0.1, 0.2, 0.3, 0.4},
                    draws);
}

TEST_CASE("sample_token: temperature flattens (T > 1) or sharpens (T < 1) the distribution") {
  const std::vector<float> logits = log_weights({1.0, 4.0, 9.0});
  const std::size_t draws = 60000;
  // T = 2: weights 1^(1/2), 4^(1/2), 9^(1/2) = 1, 2, 3.
  check_frequencies(draw_counts(logits, 2.0, 0, draws, 99), {1.0 / 6, 2.0 / 6, 3.0 / 6}, draws);
  // T = 0.5: weights 1, 16, 81.
  check_frequencies(draw_counts(logits, 0.5, 0, draws, 100), {1.0 / 98, 16.0 / 98, 81.0 / 98}, draws);
}

TEST_CASE("sample_token: a logit of -infinity is never drawn") {
  const float minus_infinity = -std::numeric_limits<float>::infinity();
  const std::vector<std::size_t> counts = draw_counts({0.0f, minus_infinity, 0.0f, minus_infinity}, 1.0, 0, 4000, 3);
  CHECK(counts[1] == 0);
  CHECK(counts[3] == 0);
  CHECK(counts[0] + counts[2] == 4000);
}

TEST_CASE("sample_token: bad inputs are clear errors") {
  gpt2::splitmix64 random(1);
  CHECK_THROWS_WITH_AS(gpt2::sample_token(std::vector<float>{}, 1.0, 0, random),
                       "pot: cannot sample a token from empty logits", std::invalid_argument);
  CHECK_THROWS_WITH_AS(gpt2::sample_token(std::vector<float>{}, 0.0, 0, random),
                       "pot: cannot sample a token from empty logits", std::invalid_argument);
  CHECK_THROWS_AS(gpt2::sample_token(std::vector<float>{1.0f, 2.0f}, -0.5, 0, random), std::invalid_argument);
  CHECK_THROWS_AS(gpt2::sample_token(std::vector<float>{1.0f, 2.0f}, std::nan(""), 0, random),
                  std::invalid_argument);
  CHECK_THROWS_AS(gpt2::sample_token(std::vector<float>{1.0f, std::nanf("")}, 1.0, 0, random),
                  std::invalid_argument);
  CHECK_THROWS_AS(gpt2::sample_token(std::vector<float>{std::numeric_limits<float>::infinity(), 0.0f}, 1.0, 0, random),
                  std::invalid_argument);
  const float minus_infinity = -std::numeric_limits<float>::infinity();
  CHECK_THROWS_AS(gpt2::sample_token(std::vector<float>{minus_infinity, minus_infinity}, 1.0, 0, random),
                  std::invalid_argument);
}
