#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <stdexcept>
#include <vector>

#include "pot/linalg/thread_pool.hpp"
#include "pot/nn/gradient_clipping.hpp"

namespace {

std::vector<float> random_gradients(std::size_t n, unsigned seed) {
  std::mt19937 generator(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> values(n);
  for (float& value : values) value = normal(generator);
  return values;
}

}  // namespace

TEST_CASE("global_norm: hand-computed norms, over block boundaries") {
  const std::vector<float> three_four{3.0f, 4.0f};
  CHECK(pot::nn::global_norm(three_four) == 5.0);
  CHECK(pot::nn::global_norm(std::span<const float>{}) == 0.0);
  // 40000 values of 0.5 (more than four of the 8192-value blocks, the last one partial):
  // sqrt(40000 * 0.25) = 100 exactly.
  const std::vector<float> halves(40000, 0.5f);
  CHECK(pot::nn::global_norm(halves) == 100.0);
}

TEST_CASE("global_norm: the same bits on 1, 2 and 3 threads, with and without a pool") {
  const std::vector<float> gradients = random_gradients(100003, 7);
  const double one = pot::nn::global_norm(gradients, {1, nullptr});
  long double reference = 0;
  for (const float g : gradients) reference += static_cast<long double>(g) * g;
  CHECK(one == doctest::Approx(static_cast<double>(std::sqrt(reference))).epsilon(1e-12));
  pot::linalg::thread_pool pool(3);
  for (const unsigned threads : {2U, 3U}) {
    CHECK(pot::nn::global_norm(gradients, {threads, nullptr}) == one);
    CHECK(pot::nn::global_norm(gradients, {threads, &pool}) == one);
  }
}

TEST_CASE("clip_by_global_norm: scales by max_norm / (norm + 1e-6) only above max_norm") {
  std::vector<float> gradients{3.0f, 4.0f};
  CHECK(pot::nn::clip_by_global_norm(gradients, 10.0) == 5.0);  // below: unchanged
  CHECK(gradients == std::vector<float>{3.0f, 4.0f});
  CHECK(pot::nn::clip_by_global_norm(gradients, 0.0) == 5.0);  // 0: clipping off
  CHECK(gradients == std::vector<float>{3.0f, 4.0f});
  CHECK(pot::nn::clip_by_global_norm(gradients, 1.0) == 5.0);  // torch: 1 / (5 + 1e-6)
  const auto factor = static_cast<float>(1.0 / (5.0 + 1e-6));
  CHECK(gradients[0] == 3.0f * factor);
  CHECK(gradients[1] == 4.0f * factor);
  CHECK(pot::nn::global_norm(gradients) == doctest::Approx(1.0).epsilon(1e-6));

  std::vector<float> many = random_gradients(50000, 11);
  std::vector<float> threaded = many;
  const double norm = pot::nn::clip_by_global_norm(many, 2.0, {1, nullptr});
  CHECK(pot::nn::clip_by_global_norm(threaded, 2.0, {2, nullptr}) == norm);
  CHECK(std::memcmp(many.data(), threaded.data(), many.size() * sizeof(float)) == 0);
}

TEST_CASE("clip_by_global_norm: a non-finite norm is returned, the gradients left as they are") {
  std::vector<float> gradients{1.0f, std::numeric_limits<float>::infinity(), 2.0f};
  CHECK(std::isinf(pot::nn::clip_by_global_norm(gradients, 1.0)));
  CHECK(gradients[0] == 1.0f);
  CHECK(gradients[2] == 2.0f);
  gradients[1] = std::numeric_limits<float>::quiet_NaN();
  CHECK(std::isnan(pot::nn::clip_by_global_norm(gradients, 1.0)));
  CHECK(gradients[0] == 1.0f);
}

TEST_CASE("clip_by_global_norm: a negative or non-finite max_norm is refused") {
  std::vector<float> gradients{3.0f, 4.0f};
  CHECK_THROWS_WITH_AS(pot::nn::clip_by_global_norm(gradients, -1.0),
                       doctest::Contains("max_norm >= 0"), std::invalid_argument);
  CHECK_THROWS_AS(pot::nn::clip_by_global_norm(gradients, std::nan("")), std::invalid_argument);
  CHECK(gradients == std::vector<float>{3.0f, 4.0f});
}
