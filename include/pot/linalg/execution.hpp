#pragma once
/// \file
/// \brief How many threads a parallel kernel may use, and which threads: the caller's
/// execution settings, and the one rule by which a kernel uses fewer threads for less
/// work.

#include <cstddef>
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

/// \brief The work each thread of a parallel call must get, in units of one value of an
/// elementwise pass (a load, a few operations and a store, about a nanosecond): 2^14
/// units take a few microseconds, about what handing a chunk to a pool worker and
/// waiting for it costs, so a thread with less would not pay for itself. Kernels whose
/// unit of work costs less convert their count (gemm.hpp: 256 multiply-adds per unit).
inline constexpr std::size_t min_work_per_thread = std::size_t{1} << 14;

/// \brief \p settings narrowed for \p work units (see min_work_per_thread): at most one
/// thread per min_work_per_thread units, at least one, within thread_count(\p settings),
/// on its pool. The one grain-size rule of every parallel kernel and layer: as results
/// never depend on the thread count, it decides speed only.
inline execution for_work(execution settings, double work) noexcept {
  const double useful = work / static_cast<double>(min_work_per_thread);
  const unsigned available = thread_count(settings);
  const unsigned threads =
      !(useful >= 1.0) ? 1U : useful < static_cast<double>(available) ? static_cast<unsigned>(useful) : available;
  return with_threads(settings, threads);
}

}  // namespace pot::linalg
