#include <doctest/doctest.h>

#include <atomic>
#include <cstddef>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

#include "pot/linalg/parallel_for.hpp"

using pot::linalg::execution;
using pot::linalg::parallel_for;

TEST_CASE("parallel_for covers every index exactly once in contiguous chunks") {
  for (std::size_t begin : {std::size_t{0}, std::size_t{7}}) {
    for (std::size_t count : {0U, 1U, 2U, 3U, 4U, 5U, 100U}) {
      for (unsigned threads : {1U, 2U, 3U, 4U, 8U}) {
        CAPTURE(begin);
        CAPTURE(count);
        CAPTURE(threads);
        std::vector<std::atomic<int>> visits(begin + count);
        std::mutex chunks_mutex;
        std::vector<std::pair<std::size_t, std::size_t>> chunks;
        parallel_for(begin, begin + count, [&](std::size_t first, std::size_t last) {
          {
            const std::lock_guard lock(chunks_mutex);
            chunks.emplace_back(first, last);
          }
          for (std::size_t i = first; i < last; ++i) ++visits[i];
        }, execution{threads});
        for (std::size_t i = 0; i < begin; ++i) CHECK(visits[i] == 0);
        for (std::size_t i = begin; i < begin + count; ++i) CHECK(visits[i] == 1);
        CHECK(chunks.size() == std::min<std::size_t>(count, threads));
        for (const auto& [first, last] : chunks) {
          CHECK(first < last);
          // Balanced: chunk sizes differ by at most one.
          CHECK(last - first >= count / threads);
          CHECK(last - first <= count / threads + 1);
        }
      }
    }
  }
}

TEST_CASE("parallel_for with one thread runs the body on the calling thread") {
  const auto caller = std::this_thread::get_id();
  std::thread::id ran_on;
  parallel_for(0, 10, [&](std::size_t, std::size_t) { ran_on = std::this_thread::get_id(); },
               execution{1});
  CHECK(ran_on == caller);
}

TEST_CASE("parallel_for uses several threads when asked") {
  std::mutex ids_mutex;
  std::vector<std::thread::id> ids;
  parallel_for(0, 3, [&](std::size_t, std::size_t) {
    const std::lock_guard lock(ids_mutex);
    ids.push_back(std::this_thread::get_id());
  }, execution{3});
  REQUIRE(ids.size() == 3);
  CHECK(ids[0] != ids[1]);
  CHECK(ids[1] != ids[2]);
  CHECK(ids[0] != ids[2]);
}

TEST_CASE("parallel_for with the default execution covers the range") {
  std::atomic<std::size_t> total{0};
  parallel_for(0, 1000, [&](std::size_t first, std::size_t last) { total += last - first; });
  CHECK(total == 1000);
}

TEST_CASE("parallel_for rethrows a body's exception after every chunk has run") {
  for (unsigned threads : {1U, 2U, 4U}) {
    CAPTURE(threads);
    std::vector<std::atomic<int>> visits(40);
    auto throwing = [&](std::size_t first, std::size_t last) {
      for (std::size_t i = first; i < last; ++i) ++visits[i];
      if (first == 0) throw std::runtime_error("chunk zero failed");
    };
    CHECK_THROWS_WITH_AS(parallel_for(0, 40, throwing, execution{threads}), "chunk zero failed",
                         std::runtime_error);
    for (const auto& count : visits) CHECK(count == 1);
  }
}

TEST_CASE("parallel_for propagates one exception when every chunk throws") {
  CHECK_THROWS_AS(parallel_for(0, 8, [](std::size_t, std::size_t) { throw std::logic_error("x"); },
                               execution{4}),
                  std::logic_error);
}

TEST_CASE("parallel_for rejects begin > end") {
  CHECK_THROWS_AS(parallel_for(5, 4, [](std::size_t, std::size_t) {}), std::invalid_argument);
}
