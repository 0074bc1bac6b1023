#pragma once
// Normally distributed test values, reproducible from a seed.

#include <cstddef>
#include <random>
#include <vector>

namespace pot::test {

inline std::vector<float> normal_floats(std::size_t n, float scale, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, scale);
  std::vector<float> values(n);
  for (float& v : values) v = normal(rng);
  return values;
}

}  // namespace pot::test
