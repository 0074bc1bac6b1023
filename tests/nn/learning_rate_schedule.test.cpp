#include <doctest/doctest.h>

#include <stdexcept>

#include "pot/nn/learning_rate_schedule.hpp"

TEST_CASE("warmup_cosine_schedule follows nanoGPT's get_lr (hand-computed values)") {
  const pot::nn::warmup_cosine_schedule lr{1e-3, 1e-4, 100, 2000};
  CHECK(lr(0) == doctest::Approx(1e-3 / 101));  // step 0 does not update with rate 0
  CHECK(lr(99) == doctest::Approx(1e-3 * 100 / 101));
  CHECK(lr(100) == doctest::Approx(1e-3));
  CHECK(lr(1050) == doctest::Approx(5.5e-4));  // half way: cos(pi / 2) = 0
  CHECK(lr(2000) == doctest::Approx(1e-4));
  CHECK(lr(2500) == doctest::Approx(1e-4));
  const pot::nn::warmup_cosine_schedule no_warmup{2.0, 0.0, 0, 4};
  CHECK(no_warmup(0) == doctest::Approx(2.0));
  CHECK(no_warmup(1) == doctest::Approx(1.0 + 0.5 * 2.0 * 0.7071067811865476));  // cos(pi / 4)
}

TEST_CASE("warmup_cosine_schedule::validate names what is wrong") {
  CHECK_NOTHROW(pot::nn::warmup_cosine_schedule{}.validate());
  CHECK_THROWS_WITH_AS((pot::nn::warmup_cosine_schedule{1e-3, 1e-2, 0, 10}.validate()),
                       doctest::Contains("floor <= peak"), std::invalid_argument);
  CHECK_THROWS_WITH_AS((pot::nn::warmup_cosine_schedule{1e-3, 1e-4, 10, 10}.validate()),
                       doctest::Contains("warmup_steps < decay_steps"), std::invalid_argument);
}
