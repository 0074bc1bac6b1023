#pragma once
/// \file
/// \brief thread_pool: worker threads that the caller owns and reuses across parallel calls.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <limits>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <type_traits>
#include <vector>

#include "pot/simd/intrinsics.hpp"

namespace pot::linalg {

/// \brief A fixed set of worker threads that run the tasks of one call at a time.
///
/// Starting and joining threads costs tens of microseconds per parallel call; a training
/// step makes about a hundred such calls. A pool starts its workers once, and between
/// calls they spin for a short while (then sleep), so back-to-back calls start in well
/// under a microsecond. The pool belongs to whoever constructs it: the library keeps no
/// global pool, and the destructor stops and joins every worker.
///
/// Pass it to kernels through `execution::pool`. Tasks are handed out statically
/// (participant p runs tasks p, p + size(), ...), so which thread computes what depends
/// only on the task count, and nothing about a result depends on timing.
///
/// A call from inside a running task (a nested parallel call), or from a second thread
/// while the pool is busy, runs its tasks on the calling thread instead of waiting, so
/// the pool cannot deadlock.
class thread_pool {
 public:
  /// \brief How long an idle worker polls for the next call before it sleeps.
  static constexpr std::chrono::microseconds default_spin{200};

  /// \brief Starts \p threads - 1 workers (the calling thread is the other participant).
  /// \param threads threads a call runs on, the caller included; 0 means
  ///   std::thread::hardware_concurrency()
  /// \param spin how long idle workers poll before sleeping: longer cuts the start-up
  ///   latency of calls that follow each other closely, at the price of idle CPU.
  /// \throws std::system_error if a thread cannot be started (those started are joined).
  explicit thread_pool(unsigned threads = 0, std::chrono::microseconds spin = default_spin)
      : spin_(spin) {
    if (threads == 0) threads = std::max(1U, std::thread::hardware_concurrency());
    workers_.reserve(threads - 1);
    try {
      for (unsigned worker = 1; worker < threads; ++worker)
        workers_.emplace_back([this, worker] { work(worker); });
    } catch (...) {
      stop();
      throw;
    }
  }

  thread_pool(const thread_pool&) = delete;             ///< Not copyable: owns threads.
  thread_pool& operator=(const thread_pool&) = delete;  ///< Not copyable: owns threads.

  /// \brief Stops and joins every worker.
  ~thread_pool() { stop(); }

  /// \brief Threads that run a call's tasks: the workers and the calling thread.
  [[nodiscard]] unsigned size() const noexcept { return static_cast<unsigned>(workers_.size()) + 1; }

  /// \brief Calls `task(i)` once for every i in [0, \p tasks) and returns when all have
  /// finished. The calling thread runs tasks 0, size(), 2 size(), ...; worker w runs
  /// tasks w, w + size(), ...
  ///
  /// If tasks throw, every task still runs to completion before the first exception
  /// caught is rethrown; later ones are dropped.
  ///
  /// \throws std::invalid_argument if \p tasks does not fit in 32 bits.
  template <class F>
  void run(std::size_t tasks, F&& task) {
    if (tasks == 0) return;
    if (tasks >= stop_tasks)
      throw std::invalid_argument("pot: thread_pool::run: more than 2^32 - 2 tasks in one call");
    const std::unique_lock exclusive(run_mutex_, std::try_to_lock);
    if (workers_.empty() || running_pool == this || !exclusive.owns_lock()) {
      // Nested in one of our tasks, or the pool is busy: run inline instead of waiting.
      for (std::size_t i = 0; i < tasks; ++i) task(i);
      return;
    }
    auto invoke = [](void* context, std::size_t i) { (*static_cast<std::remove_reference_t<F>*>(context))(i); };
    const std::size_t helpers = std::min<std::size_t>(tasks, size()) - 1;  // workers with a task
    invoke_ = invoke;
    context_ = const_cast<void*>(static_cast<const void*>(&task));
    first_error_ = nullptr;
    finished_.store(0, std::memory_order_relaxed);
    const std::uint64_t generation = (job_.load(std::memory_order_relaxed) >> task_bits) + 1;
    job_.store((generation << task_bits) | tasks, std::memory_order_release);
    wake(job_changed_);

    running_pool = this;
    run_share(0, tasks);
    running_pool = nullptr;
    if (helpers != 0) wait_until(finished_changed_, [&] { return finished_.load(std::memory_order_acquire) == helpers; });
    if (first_error_) std::rethrow_exception(first_error_);
  }

 private:
  // job_ packs the call's generation (high bits) with its task count (low bits), so a
  // worker reads both in one load and never pairs one call's count with another's tasks.
  static constexpr unsigned task_bits = 32;
  static constexpr std::uint64_t task_mask = (std::uint64_t{1} << task_bits) - 1;
  static constexpr std::uint64_t stop_tasks = task_mask;  // a task count no call uses

  /// The pool whose tasks the current thread is running, to detect nested calls.
  static inline thread_local const thread_pool* running_pool = nullptr;

  /// Participant \p p's tasks of a call with \p tasks tasks, catching their exceptions.
  void run_share(std::size_t p, std::size_t tasks) noexcept {
    for (std::size_t i = p; i < tasks; i += size()) {
      try {
        invoke_(context_, i);
      } catch (...) {
        const std::lock_guard lock(error_mutex_);
        if (!first_error_) first_error_ = std::current_exception();
      }
    }
  }

  /// Polls \p done for spin_, then sleeps on \p changed until \p done holds.
  ///
  /// After a few hundred tight polls it yields between polls: when the machine has more
  /// runnable threads than cores, a tight spin would take the core from the very thread
  /// it waits for (or from another program).
  ///
  /// Sleeping is a condition variable, not std::atomic::wait: with libstdc++ 12, whose
  /// wait on a 64-bit atomic (job_) goes through a shared pool of waiters, a wake-up was
  /// lost in about one in eight runs of the pool's tests under qemu-user (where emulation
  /// makes every spin run out, so every wait sleeps). A predicate checked under the mutex
  /// that the waker also takes cannot miss one, whatever the cause was.
  template <class Done>
  void wait_until(std::condition_variable& changed, Done done) {
    constexpr unsigned tight_polls = 256;
    const auto deadline = std::chrono::steady_clock::now() + spin_;
    for (unsigned polls = 1;; ++polls) {
      if (done()) return;
      if (polls < tight_polls) {
#if defined(__x86_64__) || defined(__i386__)
        _mm_pause();
#elif defined(__aarch64__)
        __asm__ __volatile__("yield");  // the spin-wait hint, as _mm_pause on x86
#endif
      } else {
        std::this_thread::yield();
      }
      if (polls % 16 == 0 && std::chrono::steady_clock::now() > deadline) break;
    }
    std::unique_lock lock(sleep_mutex_);
    changed.wait(lock, done);
  }

  /// Wakes the sleepers on \p changed after an atomic they wait for was stored. Taking
  /// the mutex between that store and the notification means a sleeper either saw the new
  /// value under the mutex or is already waiting when it is notified.
  void wake(std::condition_variable& changed) {
    { const std::lock_guard lock(sleep_mutex_); }
    changed.notify_all();
  }

  void work(std::size_t worker) noexcept {
    std::uint64_t seen = 0;
    for (;;) {
      wait_until(job_changed_, [&] { return job_.load(std::memory_order_acquire) != seen; });
      seen = job_.load(std::memory_order_acquire);
      const std::uint64_t tasks = seen & task_mask;
      if (tasks == stop_tasks) return;
      if (worker >= tasks) continue;  // nothing for this worker in this call
      running_pool = this;
      run_share(worker, tasks);
      running_pool = nullptr;
      finished_.fetch_add(1, std::memory_order_release);
      wake(finished_changed_);
    }
  }

  void stop() noexcept {
    const std::uint64_t generation = (job_.load(std::memory_order_relaxed) >> task_bits) + 1;
    job_.store((generation << task_bits) | stop_tasks, std::memory_order_release);
    wake(job_changed_);
    for (auto& worker : workers_) worker.join();
    workers_.clear();
  }

  std::chrono::microseconds spin_;
  std::vector<std::thread> workers_;
  std::mutex run_mutex_;                     // one call at a time
  std::atomic<std::uint64_t> job_{0};        // generation << task_bits | task count
  std::atomic<std::uint32_t> finished_{0};   // workers done with the current call
  std::mutex sleep_mutex_;                   // guards the sleeps on the two below
  std::condition_variable job_changed_;      // workers sleep here for the next call
  std::condition_variable finished_changed_; // the caller sleeps here for its workers
  void (*invoke_)(void*, std::size_t) = nullptr;
  void* context_ = nullptr;
  std::mutex error_mutex_;
  std::exception_ptr first_error_;
};

}  // namespace pot::linalg
