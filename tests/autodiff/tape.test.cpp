#include "pot/autodiff/tape.hpp"

#include <doctest/doctest.h>

#include <array>
#include <cmath>
#include <exception>
#include <stdexcept>
#include <thread>
#include <vector>

#include "pot/autodiff/derivatives.hpp"
#include "pot/autodiff/var.hpp"

using pot::ad::active_tape;
using pot::ad::derivatives;
using pot::ad::gradient;
using pot::ad::var;
using pot::ad::wrt;

TEST_CASE("a sum of 100,000 terms differentiates in one sweep without recursion") {
  active_tape<double>().clear();
  constexpr std::size_t terms = 100'000;
  std::vector<var<double>> x;
  x.reserve(terms);
  for (std::size_t i = 0; i < terms; ++i) x.emplace_back(1.0 / static_cast<double>(i + 1));
  var<double> s = 0.0;
  for (std::size_t i = 0; i < terms; ++i) s = s + x[i] * static_cast<double>(i % 7);
  // d/dx_i sum_j x_j (j mod 7) = i mod 7, exactly.
  const std::vector<double> g = gradient(s, x);
  REQUIRE(g.size() == terms);
  std::size_t wrong = 0;
  for (std::size_t i = 0; i < terms; ++i) wrong += g[i] != static_cast<double>(i % 7) ? 1 : 0;
  CHECK(wrong == 0);
  active_tape<double>().clear();
}

TEST_CASE("a chain of 100,000 operations matches its closed form") {
  active_tape<double>().clear();
  constexpr int steps = 100'000;
  var<double> x = 0.5;
  var<double> y = x;
  constexpr double factor = 1.000001;
  for (int i = 0; i < steps; ++i) y = y * factor;
  // y = x * c^n, so dy/dx = c^n, with c the double nearest 1.000001 (the power taken in
  // long double); the sweep's n roundings allow a relative error of about n * 2^-53.
  const long double closed_form = std::pow(static_cast<long double>(factor), steps);
  CHECK(derivatives(y, wrt(x))[0] == doctest::Approx(static_cast<double>(closed_form)).epsilon(1e-10));

  // y_{k+1} = sin(y_k): dy_n/dy_0 = prod cos(y_k), accumulated forward in long double.
  var<double> z = x;
  long double forward = 1.0L;
  long double value = 0.5L;
  for (int i = 0; i < steps; ++i) {
    forward *= std::cos(value);
    value = std::sin(value);
    z = sin(z);
  }
  CHECK(z.value() == doctest::Approx(static_cast<double>(value)).epsilon(1e-12));
  CHECK(derivatives(z, wrt(x))[0] == doctest::Approx(static_cast<double>(forward)).epsilon(1e-9));
  active_tape<double>().clear();
}

TEST_CASE("each thread records on its own tape") {
  // Thread k differentiates f_k(x, w) = x^(k+2) * w + k, so df/dx = (k+2) x^(k+1) w and
  // df/dw = x^(k+2); each builds a long expression to interleave with the others.
  constexpr int thread_count = 4;
  std::array<std::array<double, 2>, thread_count> results{};
  std::array<std::size_t, thread_count> tape_sizes{};
  std::array<const void*, thread_count> tapes{};
  const std::size_t main_size_before = active_tape<double>().size();
  std::vector<std::thread> threads;
  for (int k = 0; k < thread_count; ++k) {
    threads.emplace_back([k, &results, &tape_sizes, &tapes] {
      for (int repeat = 0; repeat < 50; ++repeat) {
        active_tape<double>().clear();
        var<double> x = 1.1;
        var<double> w = 0.5 + k;
        var<double> power = 1.0;
        for (int i = 0; i < k + 2; ++i) power = power * x;
        const var<double> f = power * w + static_cast<double>(k);
        results[k] = derivatives(f, wrt(x, w));
      }
      tape_sizes[k] = active_tape<double>().size();
      tapes[k] = &active_tape<double>();
    });
  }
  for (auto& thread : threads) thread.join();
  for (int k = 0; k < thread_count; ++k) {
    CAPTURE(k);
    const double w = 0.5 + k;
    CHECK(results[k][0] == doctest::Approx((k + 2) * std::pow(1.1, k + 1) * w).epsilon(1e-13));
    CHECK(results[k][1] == doctest::Approx(std::pow(1.1, k + 2)).epsilon(1e-13));
    // Leaves x, w, power; k + 2 products; one product and one sum.
    CHECK(tape_sizes[k] == static_cast<std::size_t>(3 + (k + 2) + 2));
    CHECK(tapes[k] != &active_tape<double>());
  }
  CHECK(active_tape<double>().size() == main_size_before);
}

TEST_CASE("a var from another thread's tape is rejected") {
  var<double> x = 2.0;
  std::exception_ptr error;
  std::thread other([&] {
    try {
      const var<double> y = x * 2.0;
      static_cast<void>(y);
    } catch (...) {
      error = std::current_exception();
    }
  });
  other.join();
  REQUIRE(error);
  CHECK_THROWS_AS(std::rethrow_exception(error), std::logic_error);
}

TEST_CASE("clear() empties the tape, keeps its memory and invalidates old vars") {
  auto& recorder = active_tape<double>();
  recorder.clear();
  CHECK(recorder.size() == 0);
  const auto build = [] {
    var<double> x = 3.0;
    var<double> y = x;
    for (int i = 0; i < 1000; ++i) y = y * x + 1.0;
    return x;
  };
  const var<double> stale = build();
  const std::size_t recorded = recorder.size();
  CHECK(recorded == 1 + 2 * 1000);
  const std::size_t capacity = recorder.capacity();
  recorder.clear();
  CHECK(recorder.size() == 0);
  CHECK(recorder.capacity() == capacity);
  // The same work again fits in the memory kept by clear().
  build();
  CHECK(recorder.size() == recorded);
  CHECK(recorder.capacity() == capacity);

  recorder.clear();
  CHECK(stale.value() == 3.0);  // the value stays readable
  CHECK_THROWS_AS(stale * 2.0, std::logic_error);
  CHECK_THROWS_WITH_AS(exp(stale), doctest::Contains("cleared"), std::logic_error);
  var<double> fresh = 1.0;
  CHECK_THROWS_AS(fresh + stale, std::logic_error);
  CHECK_THROWS_AS(derivatives(fresh, wrt(stale)), std::logic_error);
  CHECK_THROWS_AS(derivatives(stale, wrt(fresh)), std::logic_error);
  recorder.clear();
}

TEST_CASE("inputs the output does not depend on get derivative 0") {
  var<double> x = 2.0;
  var<double> unrelated = 5.0;
  const var<double> y = x * x;
  var<double> later = 7.0;  // recorded after y
  CHECK(derivatives(y, wrt(x, unrelated, later)) == std::array{4.0, 0.0, 0.0});
}

TEST_CASE("float and double tapes are separate") {
  const std::size_t doubles = active_tape<double>().size();
  var<float> x = 1.0f;
  const var<float> y = x + x;
  CHECK(derivatives(y, wrt(x))[0] == 2.0f);
  CHECK(active_tape<double>().size() == doubles);
}
