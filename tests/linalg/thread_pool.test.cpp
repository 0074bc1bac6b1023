#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

#include "pot/linalg/parallel_for.hpp"
#include "pot/linalg/thread_pool.hpp"

using pot::linalg::execution;
using pot::linalg::parallel_for;
using pot::linalg::thread_pool;

namespace {

// The thread that ran each task of one call.
std::vector<std::thread::id> threads_of_tasks(thread_pool& pool, std::size_t tasks) {
  std::vector<std::thread::id> ran_on(tasks);
  pool.run(tasks, [&](std::size_t i) { ran_on[i] = std::this_thread::get_id(); });
  return ran_on;
}

}  // namespace

TEST_CASE("thread_pool has the requested size, the hardware's by default") {
  CHECK(thread_pool(1).size() == 1);
  CHECK(thread_pool(3).size() == 3);
  const unsigned hardware = std::thread::hardware_concurrency();
  CHECK(thread_pool().size() == (hardware == 0 ? 1U : hardware));
}

TEST_CASE("thread_pool::run calls every task exactly once, call after call") {
  for (unsigned size : {1U, 2U, 3U, 4U}) {
    thread_pool pool(size);
    for (std::size_t tasks : {0U, 1U, 2U, 3U, 5U, 100U}) {
      CAPTURE(size);
      CAPTURE(tasks);
      std::vector<std::atomic<int>> calls(tasks);
      // Many calls in a row: a worker that missed one call must not run the next one's
      // tasks twice or skip them.
      for (int repeat = 0; repeat < 50; ++repeat)
        pool.run(tasks, [&](std::size_t i) { ++calls[i]; });
      for (std::size_t i = 0; i < tasks; ++i) CHECK(calls[i] == 50);
    }
  }
}

TEST_CASE("thread_pool::run hands out tasks statically: task i on participant i mod size") {
  thread_pool pool(3);
  const std::vector<std::thread::id> ran_on = threads_of_tasks(pool, 9);
  CHECK(ran_on[0] == std::this_thread::get_id());
  for (std::size_t i = 0; i < 9; ++i) CHECK(ran_on[i] == ran_on[i % 3]);
  CHECK(ran_on[0] != ran_on[1]);
  CHECK(ran_on[1] != ran_on[2]);
  CHECK(ran_on[0] != ran_on[2]);
  // The same workers serve the next call: the pool reuses its threads.
  const std::vector<std::thread::id> again = threads_of_tasks(pool, 3);
  for (std::size_t i = 0; i < 3; ++i) CHECK(again[i] == ran_on[i]);
}

TEST_CASE("a nested run inside a task runs inline on that task's thread") {
  thread_pool pool(2);
  std::vector<std::atomic<int>> inner_calls(2 * 5);
  std::atomic<int> inner_on_other_thread{0};
  pool.run(2, [&](std::size_t outer) {
    const auto outer_thread = std::this_thread::get_id();
    pool.run(5, [&](std::size_t inner) {
      ++inner_calls[outer * 5 + inner];
      if (std::this_thread::get_id() != outer_thread) ++inner_on_other_thread;
    });
  });
  for (const auto& calls : inner_calls) CHECK(calls == 1);
  CHECK(inner_on_other_thread == 0);
}

TEST_CASE("two threads calling run on one pool both get every task done") {
  thread_pool pool(2);
  std::vector<std::atomic<int>> calls(2 * 64);
  auto caller = [&](std::size_t which) {
    for (int repeat = 0; repeat < 200; ++repeat)
      pool.run(64, [&](std::size_t i) { ++calls[which * 64 + i]; });
  };
  std::thread other(caller, 1);
  caller(0);
  other.join();
  for (const auto& count : calls) CHECK(count == 200);
}

TEST_CASE("thread_pool::run rethrows the first exception after every task has run") {
  thread_pool pool(3);
  std::vector<std::atomic<int>> calls(7);
  CHECK_THROWS_WITH_AS(pool.run(7, [&](std::size_t i) {
    ++calls[i];
    if (i == 4) throw std::runtime_error("task four failed");
  }), "task four failed", std::runtime_error);
  for (const auto& count : calls) CHECK(count == 1);
  // The pool still works after a failed call.
  std::atomic<int> after{0};
  pool.run(3, [&](std::size_t) { ++after; });
  CHECK(after == 3);
}

TEST_CASE("thread_pool::run rejects a task count that does not fit in 32 bits") {
  thread_pool pool(2);
  CHECK_THROWS_AS(pool.run(std::size_t{1} << 33, [](std::size_t) {}), std::invalid_argument);
}

TEST_CASE("thread_pool workers sleep after spinning and wake for the next call") {
  // A zero spin sends idle workers straight to sleep, so every call must wake them.
  thread_pool pool(2, std::chrono::microseconds{0});
  for (int repeat = 0; repeat < 20; ++repeat) {
    std::this_thread::sleep_for(std::chrono::microseconds{200});
    const std::vector<std::thread::id> ran_on = threads_of_tasks(pool, 2);
    CHECK(ran_on[0] == std::this_thread::get_id());
    CHECK(ran_on[1] != ran_on[0]);
  }
}

TEST_CASE("parallel_for on a pool makes the same chunks as without one") {
  thread_pool pool(4);
  for (unsigned threads : {0U, 2U, 3U, 4U}) {
    CAPTURE(threads);
    auto chunks_of = [&](execution settings) {
      std::mutex chunks_mutex;
      std::vector<std::pair<std::size_t, std::size_t>> chunks;
      parallel_for(3, 103, [&](std::size_t first, std::size_t last) {
        const std::lock_guard lock(chunks_mutex);
        chunks.emplace_back(first, last);
      }, settings);
      std::sort(chunks.begin(), chunks.end());
      return chunks;
    };
    const unsigned expected_threads = threads == 0 ? 4U : threads;
    const auto pooled = chunks_of(execution{threads, &pool});
    CHECK(pooled == chunks_of(execution{expected_threads}));
    CHECK(pooled.size() == expected_threads);
  }
  CHECK(pot::linalg::thread_count(execution{0, &pool}) == 4);
  CHECK(pot::linalg::thread_count(execution{2, &pool}) == 2);
}

TEST_CASE("parallel_for on a pool rethrows a body's exception") {
  thread_pool pool(2);
  CHECK_THROWS_WITH_AS(parallel_for(0, 10, [](std::size_t first, std::size_t) {
    if (first != 0) throw std::logic_error("second chunk failed");
  }, execution{2, &pool}), "second chunk failed", std::logic_error);
}
