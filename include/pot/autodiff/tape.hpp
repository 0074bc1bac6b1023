#pragma once
/// \file
/// \brief The per-thread tape that reverse-mode `var<T>` records onto, and its reverse sweep.
///
/// Every operation on `var<T>` appends one node to the calling thread's tape. A node holds
/// the indices of at most two parents and the local partial derivative towards each, so a
/// node is 16 bytes for float and 24 for double and the tape is one flat std::vector. The
/// reverse sweep walks the nodes once, from the output down, in a plain loop (no recursion:
/// a sum of a million terms needs no stack). Recording is O(1) amortised per operation; a
/// sweep from node `n` down to node `m` costs O(n - m) time and O(n) memory for the
/// adjoints, which live in a second vector that is reused from sweep to sweep.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <stdexcept>
#include <type_traits>
#include <vector>

namespace pot::ad {

namespace detail {

/// \brief A number no tape has used before (modulo 2^32): given to a tape when it is
/// created and again on every clear(), so that a var can tell whether it was recorded on
/// the tape as it is now.
inline std::uint32_t next_tape_epoch() noexcept {
  static std::atomic<std::uint32_t> counter{0};
  return counter.fetch_add(1, std::memory_order_relaxed) + 1;
}

}  // namespace detail

/// \brief A record of the operations done on `var<T>` by one thread, for reverse-mode
/// differentiation.
///
/// Each thread has its own tape per element type (see active_tape()); vars of one thread
/// cannot be combined with vars of another. clear() forgets every node and invalidates
/// every var recorded before it: using such a var in an operation or a derivative throws
/// std::logic_error (the tape's epoch changes on clear; the check fails to notice only
/// after 2^32 further clears). The memory of the nodes is kept for reuse.
///
/// \tparam T float or double
template <class T>
class tape {
  static_assert(std::is_floating_point_v<T>, "pot: tape<T> needs a floating-point T");

 public:
  /// \brief Position of a node on the tape.
  using index_type = std::uint32_t;

  /// \brief One recorded operation: up to two parents and the partial derivative of this
  /// node's value with respect to each. A missing parent is marked by the node's own index.
  struct node {
    index_type parents[2];  ///< \brief Parent indices (or the node's own index: no parent).
    T partials[2];          ///< \brief d(this node) / d(parent).
  };

  /// \brief An empty tape with a fresh epoch.
  tape() : epoch_(detail::next_tape_epoch()) {}
  tape(const tape&) = delete;
  tape& operator=(const tape&) = delete;

  /// \brief Number of nodes recorded since the last clear().
  std::size_t size() const noexcept { return nodes_.size(); }

  /// \brief Number of nodes the tape holds memory for.
  std::size_t capacity() const noexcept { return nodes_.capacity(); }

  /// \brief The epoch vars recorded now carry; changes on every clear().
  std::uint32_t epoch() const noexcept { return epoch_; }

  /// \brief Forgets every node (keeping the memory) and invalidates every var recorded so far.
  void clear() noexcept {
    nodes_.clear();
    epoch_ = detail::next_tape_epoch();
  }

  /// \brief Throws std::logic_error unless `epoch` is this tape's current epoch, i.e. unless
  /// a var carrying it was recorded on this thread's tape since its last clear().
  void require_current(std::uint32_t epoch) const {
    if (epoch != epoch_)
      throw std::logic_error(
          "pot: var used after its tape was cleared, or on a thread other than the one that "
          "recorded it");
  }

  /// \brief Appends an independent variable (no parents) and returns its index.
  index_type record_leaf() {
    const index_type self = next_index();
    nodes_.push_back(node{{self, self}, {T(0), T(0)}});
    return self;
  }

  /// \brief Appends a node with one parent and returns its index.
  index_type record_unary(index_type parent, T partial) {
    const index_type self = next_index();
    nodes_.push_back(node{{parent, self}, {partial, T(0)}});
    return self;
  }

  /// \brief Appends a node with two parents and returns its index.
  index_type record_binary(index_type first, T first_partial, index_type second,
                           T second_partial) {
    const index_type self = next_index();
    nodes_.push_back(node{{first, second}, {first_partial, second_partial}});
    return self;
  }

  /// \brief Propagates the adjoint 1 of node `output` back to every node from `output`
  /// down to `lowest` and returns the adjoints, indexed by node (`output + 1` of them).
  ///
  /// An adjoint at index `i >= lowest` is complete: every node that uses node `i` has a
  /// higher index and was visited. The span stays valid until the next sweep or clear().
  /// \throws std::out_of_range if `output` is not on the tape.
  std::span<const T> sweep(index_type output, index_type lowest) {
    if (output >= nodes_.size())
      throw std::out_of_range("pot: sweep from a node that is not on the tape");
    adjoints_.assign(static_cast<std::size_t>(output) + 1, T(0));
    adjoints_[output] = T(1);
    for (index_type i = output; i > lowest; --i) {
      const node& n = nodes_[i];
      const T adjoint = adjoints_[i];
      if (n.parents[0] != i) adjoints_[n.parents[0]] += n.partials[0] * adjoint;
      if (n.parents[1] != i) adjoints_[n.parents[1]] += n.partials[1] * adjoint;
    }
    return adjoints_;
  }

 private:
  index_type next_index() const {
    if (nodes_.size() >= std::numeric_limits<index_type>::max())
      throw std::length_error("pot: autodiff tape is full (2^32 - 1 nodes); clear() it");
    return static_cast<index_type>(nodes_.size());
  }

  std::vector<node> nodes_;
  std::vector<T> adjoints_;
  std::uint32_t epoch_;
};

/// \brief The calling thread's tape for element type `T`; created on first use, freed when
/// the thread ends.
template <class T>
tape<T>& active_tape() {
  thread_local tape<T> instance;
  return instance;
}

}  // namespace pot::ad
