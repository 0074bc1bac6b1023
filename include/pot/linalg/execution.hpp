#pragma once
/// \file
/// \brief How many threads a linalg kernel may use.

#include <thread>

namespace pot::linalg {

/// \brief Execution settings the caller passes to a parallel kernel.
///
/// There is no global thread pool: each parallel call starts its own worker threads
/// and joins them before it returns, so the thread count is under the caller's control
/// call by call and nothing outlives the call.
struct execution {
  /// \brief Upper bound on the threads a call uses; 0 means
  /// std::thread::hardware_concurrency(). 1 runs everything on the calling thread.
  unsigned threads = 0;
};

/// \brief The number of threads \p settings allows: its thread count, or the hardware
/// concurrency (at least 1) when that count is 0.
inline unsigned thread_count(execution settings) noexcept {
  if (settings.threads != 0) return settings.threads;
  const unsigned hardware = std::thread::hardware_concurrency();
  return hardware == 0 ? 1U : hardware;
}

}  // namespace pot::linalg
