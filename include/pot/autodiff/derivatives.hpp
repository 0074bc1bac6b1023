#pragma once
/// \file
/// \brief Reading derivatives off the tape: `derivatives(y, wrt(x, w))` and
/// `gradient(y, xs)`.
///
/// Both run one reverse sweep from `y` down to the earliest input, so the cost is linear
/// in the number of nodes recorded between them, whatever the number of inputs.

#include <algorithm>
#include <array>
#include <concepts>
#include <cstddef>
#include <span>
#include <type_traits>
#include <vector>

#include "pot/autodiff/tape.hpp"
#include "pot/autodiff/var.hpp"

namespace pot::ad {

/// \brief The variables to differentiate with respect to, as made by wrt().
template <class T, std::size_t N>
struct wrt_list {
  std::array<var<T>, N> variables;  ///< \brief The inputs, in the order given to wrt().
};

/// \brief Names the inputs of derivatives(): `derivatives(y, wrt(x, w))`.
template <class T, class... Rest>
  requires(std::same_as<Rest, var<T>> && ...)
wrt_list<T, 1 + sizeof...(Rest)> wrt(const var<T>& first, const Rest&... rest) {
  return {{first, rest...}};
}

namespace detail {

/// \brief Runs the reverse sweep from `y` far enough down for every input in `inputs`
/// and returns `dy/dx` for each of them (0 for an input recorded after `y`).
template <class T, class Inputs, class Output>
void sweep_into(const var<T>& y, const Inputs& inputs, Output& out) {
  tape<T>& recorder = active_tape<T>();
  recorder.require_current(y.epoch());
  auto lowest = y.index();
  for (const var<T>& x : inputs) {
    recorder.require_current(x.epoch());
    lowest = std::min(lowest, x.index());
  }
  const std::span<const T> adjoints = recorder.sweep(y.index(), lowest);
  std::size_t i = 0;
  for (const var<T>& x : inputs) out[i++] = x.index() < adjoints.size() ? adjoints[x.index()] : T(0);
}

}  // namespace detail

/// \brief `dy/dx_i` for each input named by wrt(), in the same order.
/// \throws std::logic_error if `y` or an input belongs to a cleared tape or another thread.
template <class T, std::size_t N>
std::array<T, N> derivatives(const var<T>& y, const wrt_list<T, N>& inputs) {
  std::array<T, N> result{};
  detail::sweep_into(y, inputs.variables, result);
  return result;
}

/// \brief `dy/dx_i` for every var in `xs`, from one reverse sweep.
/// \throws std::logic_error if `y` or an element of `xs` belongs to a cleared tape or
/// another thread.
template <class T>
std::vector<T> gradient(const var<T>& y, std::type_identity_t<std::span<const var<T>>> xs) {
  std::vector<T> result(xs.size());
  detail::sweep_into(y, xs, result);
  return result;
}

}  // namespace pot::ad
