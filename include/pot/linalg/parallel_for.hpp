#pragma once
/// \file
/// \brief parallel_for: split an index range into contiguous chunks over worker threads.

#include <algorithm>
#include <cstddef>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "pot/linalg/execution.hpp"
#include "pot/linalg/thread_pool.hpp"

namespace pot::linalg {

/// \brief Calls `body(first, last)` on contiguous chunks that together cover
/// [\p begin, \p end) exactly once, on up to thread_count(\p settings) threads.
///
/// The range is split into as many chunks as threads are used (never more chunks than
/// indices), the chunk sizes differing by at most one; the first chunk runs on the
/// calling thread, the others on the workers of `settings.pool` when it is set, else on
/// std::jthread workers started by this call. With one thread, or one index, the body
/// runs inline on the caller and no thread is involved.
///
/// If bodies throw, every worker is still joined before the first exception caught is
/// rethrown to the caller; later ones are dropped.
///
/// \throws std::invalid_argument if \p begin > \p end.
template <class F>
void parallel_for(std::size_t begin, std::size_t end, F&& body, execution settings = {}) {
  if (begin > end) throw std::invalid_argument("pot: parallel_for: begin > end");
  const std::size_t count = end - begin;
  if (count == 0) return;
  const std::size_t chunks = std::min<std::size_t>(thread_count(settings), count);
  if (chunks == 1) {
    body(begin, end);
    return;
  }

  std::exception_ptr first_error;
  std::mutex error_mutex;
  auto run_chunk = [&](std::size_t chunk) noexcept {
    // Chunk c starts at begin + c*base + min(c, extra): the first `extra` chunks get one more.
    const std::size_t base = count / chunks;
    const std::size_t extra = count % chunks;
    const std::size_t first = begin + chunk * base + std::min(chunk, extra);
    const std::size_t last = first + base + (chunk < extra ? 1 : 0);
    try {
      body(first, last);
    } catch (...) {
      const std::lock_guard lock(error_mutex);
      if (!first_error) first_error = std::current_exception();
    }
  };
  if (settings.pool != nullptr) {
    settings.pool->run(chunks, run_chunk);
  } else {
    std::vector<std::jthread> workers;
    workers.reserve(chunks - 1);
    try {
      for (std::size_t chunk = 1; chunk < chunks; ++chunk) workers.emplace_back(run_chunk, chunk);
    } catch (...) {
      // Could not start a thread: the chunks without a worker run here instead.
      for (std::size_t chunk = workers.size() + 1; chunk < chunks; ++chunk) run_chunk(chunk);
    }
    run_chunk(0);
  }  // the jthreads join here
  if (first_error) std::rethrow_exception(first_error);
}

}  // namespace pot::linalg
