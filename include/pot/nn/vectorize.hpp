/// \file
/// \brief What the float fast paths of the nn layers share: the xsimd register type and
/// loads and stores that also cover the last, partial register of a row.
#pragma once

#include <algorithm>
#include <cstddef>
#include <type_traits>

#include "pot/simd/xsimd_compat.hpp"

namespace pot::nn {

/// \brief True when Scalar is float and xsimd has a SIMD architecture for this build:
/// then the layers run their xsimd loops, and every other Scalar (double as the
/// reference, autodiff variables) the generic scalar loop.
template <class Scalar>
inline constexpr bool has_simd_path =
    std::is_same_v<Scalar, float> && !std::is_same_v<xsimd::default_arch, xsimd::unavailable>;

/// \brief `sum over i < n of term(i)` in eight independent partial sums, added pairwise
/// at the end.
///
/// One running sum is a chain of dependent additions (4 cycles each on Zen 3), which
/// made layernorm latency-bound; eight chains overlap. The terms are unchanged, only the
/// order of the additions differs from the plain loop (and is fixed, so a result does not
/// depend on anything but n and the terms).
template <class Accumulator, class Term>
Accumulator sum_in_lanes(std::size_t n, Term term) {
  constexpr std::size_t lanes = 8;
  Accumulator partial[lanes] = {};
  std::size_t i = 0;
  for (; i + lanes <= n; i += lanes)
    for (std::size_t lane = 0; lane < lanes; ++lane) partial[lane] += term(i + lane);
  for (std::size_t lane = 0; i < n; ++i, ++lane) partial[lane] += term(i);
  return ((partial[0] + partial[1]) + (partial[2] + partial[3])) +
         ((partial[4] + partial[5]) + (partial[6] + partial[7]));
}

namespace detail {

/// \brief The float register of the build's widest xsimd architecture.
using float_batch = xsimd::batch<float>;

/// \brief Loads `count` floats (1 to float_batch::size) from `source`; lanes past
/// `count` hold `fill` (0 for sums; -infinity where a maximum or exp must ignore them).
///
/// A partial register goes through a filled buffer, so the last values of a row get
/// the same arithmetic as the others and a result does not depend on where it sits.
inline float_batch load_batch(const float* source, std::size_t count, float fill = 0.0f) noexcept {
  if (count == float_batch::size) return float_batch::load_unaligned(source);
  alignas(float_batch::arch_type::alignment()) float buffer[float_batch::size];
  std::fill_n(buffer, float_batch::size, fill);
  std::copy_n(source, count, buffer);
  return float_batch::load_aligned(buffer);
}

/// \brief Stores the first `count` lanes (1 to float_batch::size) of `values` at `target`.
inline void store_batch(float* target, const float_batch& values, std::size_t count) noexcept {
  if (count == float_batch::size) {
    values.store_unaligned(target);
    return;
  }
  alignas(float_batch::arch_type::alignment()) float buffer[float_batch::size];
  values.store_aligned(buffer);
  std::copy_n(buffer, count, target);
}

/// \brief `out[i] = a[i] + b[i]` for i < n; `out` may be `a` (then it accumulates `b`).
///
/// For float on xsimd registers: g++ -O2 leaves the plain loop scalar (it would need a
/// run-time check that the pointers do not overlap), and bias adds, bias gradients and
/// residuals run it over every activation.
template <class Scalar>
void add(Scalar* out, const Scalar* a, const Scalar* b, std::size_t n) {
  if constexpr (has_simd_path<Scalar>) {
    for (std::size_t i = 0; i < n; i += float_batch::size) {
      const std::size_t count = std::min(float_batch::size, n - i);
      store_batch(out + i, load_batch(a + i, count) + load_batch(b + i, count), count);
    }
  } else {
    for (std::size_t i = 0; i < n; ++i) out[i] = a[i] + b[i];
  }
}

/// \brief `sums[j] += sum over r < rows of values[r * stride + j]` for j < width, each
/// column summed in row order.
///
/// The float path keeps a register of column sums across all rows instead of loading
/// and storing the sums once per row: the same additions in the same order, so the same
/// result as adding the rows one by one.
template <class Scalar>
void add_rows(Scalar* sums, const Scalar* values, std::size_t rows, std::size_t stride,
              std::size_t width) {
  if constexpr (has_simd_path<Scalar>) {
    for (std::size_t j = 0; j < width; j += float_batch::size) {
      const std::size_t count = std::min(float_batch::size, width - j);
      float_batch sum = load_batch(sums + j, count);
      for (std::size_t r = 0; r < rows; ++r) sum += load_batch(values + r * stride + j, count);
      store_batch(sums + j, sum, count);
    }
  } else {
    for (std::size_t r = 0; r < rows; ++r)
      for (std::size_t j = 0; j < width; ++j) sums[j] += values[r * stride + j];
  }
}

}  // namespace detail
}  // namespace pot::nn
