#include <doctest/doctest.h>

#include <cmath>
#include <stdexcept>
#include <vector>

#include "../isa_variants.hpp"
#include "pot/nn/adamw.hpp"

namespace {

// One AdamW step for one scalar, written out from the formula (Loshchilov & Hutter,
// PyTorch's torch.optim.AdamW) in long double.
struct reference_state {
  long double p, m = 0.0L, v = 0.0L;
};

void reference_step(reference_state& s, long double g, int step, long double lr,
                    long double beta1, long double beta2, long double eps, long double wd) {
  s.p -= lr * wd * s.p;
  s.m = beta1 * s.m + (1 - beta1) * g;
  s.v = beta2 * s.v + (1 - beta2) * g * g;
  const long double m_hat = s.m / (1 - std::pow(beta1, static_cast<long double>(step)));
  const long double v_hat = s.v / (1 - std::pow(beta2, static_cast<long double>(step)));
  s.p -= lr * m_hat / (std::sqrt(v_hat) + eps);
}

}  // namespace

TEST_CASE("adamw: one and two steps follow the update formula, decay only when asked") {
  const pot::nn::adamw_options options{0.01, 0.9, 0.99, 1e-8, 0.1};
  const std::vector<double> start = {0.5, -1.5, 2.0, 0.0};
  const std::vector<double> grads1 = {0.1, -0.2, 0.0, 3.0};
  const std::vector<double> grads2 = {-0.3, 0.4, 1e-3, 3.0};
  for (bool decay : {true, false}) {
    INFO("decay " << decay);
    std::vector<double> params = start, m(4, 0.0), v(4, 0.0);
    std::vector<reference_state> expected;
    for (double p : start) expected.push_back({p});
    const long double wd = decay ? 0.1L : 0.0L;

    pot::nn::adamw_update(params.data(), grads1.data(), m.data(), v.data(), 4, 1, options, decay);
    for (std::size_t i = 0; i < 4; ++i) {
      reference_step(expected[i], grads1[i], 1, 0.01L, 0.9L, 0.99L, 1e-8L, wd);
      CHECK(params[i] == doctest::Approx(static_cast<double>(expected[i].p)).epsilon(1e-14));
    }
    pot::nn::adamw_update(params.data(), grads2.data(), m.data(), v.data(), 4, 2, options, decay);
    for (std::size_t i = 0; i < 4; ++i) {
      reference_step(expected[i], grads2[i], 2, 0.01L, 0.9L, 0.99L, 1e-8L, wd);
      CHECK(params[i] == doctest::Approx(static_cast<double>(expected[i].p)).epsilon(1e-14));
      CHECK(m[i] == doctest::Approx(static_cast<double>(expected[i].m)).epsilon(1e-14));
      CHECK(v[i] == doctest::Approx(static_cast<double>(expected[i].v)).epsilon(1e-14));
    }
  }
}

TEST_CASE("adamw: the first step moves every parameter with a nonzero gradient by lr") {
  pot::test::for_each_supported_isa([&](pot::simd::isa) {
    // At step 1, m_hat = g and v_hat = g^2, so the step is lr * g / (|g| + eps) ~ lr sign(g).
    const pot::nn::adamw_options options{0.001, 0.9, 0.999, 1e-8, 0.0};
    std::vector<float> params = {1.0f, 1.0f}, m(2, 0.0f), v(2, 0.0f);
    const std::vector<float> grads = {5.0f, -0.01f};
    pot::nn::adamw_update(params.data(), grads.data(), m.data(), v.data(), 2, 1, options, true);
    CHECK(params[0] == doctest::Approx(0.999).epsilon(1e-6));
    CHECK(params[1] == doctest::Approx(1.001).epsilon(1e-6));
  });
}

TEST_CASE("adamw rejects step 0") {
  double p = 0, g = 0, m = 0, v = 0;
  CHECK_THROWS_AS(pot::nn::adamw_update(&p, &g, &m, &v, 1, 0, pot::nn::adamw_options{}, true),
                  std::invalid_argument);
}

TEST_CASE("adamw float follows the double loop over steps, partial register included, on every instruction set") {
  pot::test::for_each_supported_isa([&](pot::simd::isa) {
    // 1003 values: whole registers and a partial one. Gradients span 1e-6 .. 1 in
    // magnitude so that both sqrt(v) and epsilon matter in the denominator.
    const std::size_t n = 1003;
    const pot::nn::adamw_options options{1e-3, 0.9, 0.99, 1e-8, 0.1};
    std::vector<double> p(n), m(n, 0.0), v(n, 0.0);
    for (std::size_t i = 0; i < n; ++i) p[i] = std::sin(static_cast<double>(i));
    std::vector<float> p_float(p.begin(), p.end()), m_float(n, 0.0f), v_float(n, 0.0f);
    for (std::size_t step = 1; step <= 3; ++step) {
      std::vector<double> g(n);
      for (std::size_t i = 0; i < n; ++i)
        g[i] = std::cos(static_cast<double>(i * step)) * std::pow(10.0, -static_cast<double>(i % 7));
      const std::vector<float> g_float(g.begin(), g.end());
      const std::vector<double> g_rounded(g_float.begin(), g_float.end());
      pot::nn::adamw_update(p.data(), g_rounded.data(), m.data(), v.data(), n, step, options, true);
      pot::nn::adamw_update(p_float.data(), g_float.data(), m_float.data(), v_float.data(), n, step,
                            options, true);
    }
    // The moments differ by the rounding of the betas to float: 1 - 0.99f is 0.01 to a
    // relative 2.4e-6. Each step moves a parameter by about lr at most, so p stays
    // within float rounding of |p| <= 1 plus lr times that relative error.
    for (std::size_t i = 0; i < n; ++i) {
      INFO("i = " << i);
      CHECK(std::abs(p_float[i] - p[i]) <= 1e-6);
      const double gradient_scale = std::pow(10.0, -static_cast<double>(i % 7));  // |g| <= it
      CHECK(std::abs(m_float[i] - m[i]) <= 1e-5 * gradient_scale);
      CHECK(std::abs(v_float[i] - v[i]) <= 1e-5 * gradient_scale * gradient_scale);
    }
    CHECK(p_float[1] != static_cast<float>(std::sin(1.0)));  // the parameters did move
  });
}

TEST_CASE("adam_update of extra parameters: two steps worked by hand, moments sized by the first") {
  // Step 1: m = 0.1 g, v = 0.01 g^2, c1 = 0.1, c2 = 0.01, so the step is lr g / (|g| + eps).
  std::vector<float> params{1.0f, 2.0f};
  const std::vector<double> first_grads{0.5, -4.0};
  const pot::nn::adamw_options options{0.1, 0.9, 0.99, 1e-8, 0.0};
  pot::nn::adam_moments moments;
  pot::nn::adam_update(params, first_grads, moments, options);
  CHECK(moments.step == 1);
  REQUIRE(moments.first.size() == 2);
  CHECK(moments.first[0] == doctest::Approx(0.05));
  CHECK(moments.second[1] == doctest::Approx(0.16));
  CHECK(params[0] == static_cast<float>(1.0 - 0.1 * 0.5 / (0.5 + 1e-8)));
  CHECK(params[1] == static_cast<float>(2.0 + 0.1 * 4.0 / (4.0 + 1e-8)));
  // Step 2 with g = (0.5, 0): m = (0.095, -0.36), v = (0.004975, 0.1584), c1 = 0.19, c2 = 0.0199.
  const double p0 = params[0], p1 = params[1];
  pot::nn::adam_update(params, std::vector<double>{0.5, 0.0}, moments, options);
  const double m0 = 0.9 * 0.05 + 0.1 * 0.5, v0 = 0.99 * 0.0025 + 0.01 * 0.25;
  const double m1 = 0.9 * -0.4, v1 = 0.99 * 0.16;
  const double c1 = 1 - 0.81, c2 = 1 - 0.99 * 0.99;
  CHECK(params[0] == doctest::Approx(p0 - 0.1 * (m0 / c1) / (std::sqrt(v0 / c2) + 1e-8)).epsilon(1e-6));
  CHECK(params[1] == doctest::Approx(p1 - 0.1 * (m1 / c1) / (std::sqrt(v1 / c2) + 1e-8)).epsilon(1e-6));
}

TEST_CASE("adam_update keeps positive parameters positive by halving, and checks its sizes") {
  std::vector<float> scale{0.05f};
  pot::nn::adam_moments moments;
  // The first step moves by lr = 0.1, past zero: the scale halves instead.
  pot::nn::adam_update(scale, std::vector<double>{1.0}, moments, {0.1, 0.9, 0.99, 1e-8, 0.0},
                       pot::nn::parameter_constraint::positive);
  CHECK(scale[0] == 0.025f);
  std::vector<float> unconstrained{0.05f};
  pot::nn::adam_moments other;
  pot::nn::adam_update(unconstrained, std::vector<double>{1.0}, other, {0.1, 0.9, 0.99, 1e-8, 0.0});
  CHECK(unconstrained[0] < 0.0f);
  CHECK_THROWS_AS(pot::nn::adam_update(scale, std::vector<double>{1.0, 2.0}, moments, {}), std::invalid_argument);
  std::vector<float> two{1.0f, 1.0f};
  CHECK_THROWS_AS(pot::nn::adam_update(two, std::vector<double>{1.0, 2.0}, moments, {}), std::invalid_argument);
}
