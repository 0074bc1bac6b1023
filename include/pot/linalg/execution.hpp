#pragma once
/// \file
/// \brief How many threads a linalg kernel may use, and which threads.

#include <thread>

#include "pot/linalg/thread_pool.hpp"

namespace pot::linalg {

/// \brief Execution settings the caller passes to a parallel kernel.
///
/// There is no global thread pool. Without \ref pool, each parallel call starts its own
/// worker threads and joins them before it returns; with one, the call runs on that
/// pool's threads, which the caller created and owns. Either way the thread count is
/// under the caller's control call by call, and results never depend on it.
struct execution {
  /// \brief Upper bound on the threads a call uses; 0 means all of \ref pool, or
  /// std::thread::hardware_concurrency() without a pool. 1 runs everything on the
  /// calling thread.
  unsigned threads = 0;
  /// \brief Reusable worker threads for the call, or nullptr to start threads per call.
  /// Not owned: it must outlive every call that uses it.
  thread_pool* pool = nullptr;
};

/// \brief The number of threads \p settings allows: its thread count, else the size of
/// its pool, else the hardware concurrency (at least 1).
inline unsigned thread_count(execution settings) noexcept {
  if (settings.threads != 0) return settings.threads;
  if (settings.pool != nullptr) return settings.pool->size();
  const unsigned hardware = std::thread::hardware_concurrency();
  return hardware == 0 ? 1U : hardware;
}

/// \brief \p settings with its thread count replaced by \p threads, keeping its pool.
inline execution with_threads(execution settings, unsigned threads) noexcept {
  settings.threads = threads;
  return settings;
}

}  // namespace pot::linalg
