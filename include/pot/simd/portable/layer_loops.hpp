#pragma once
/// \file
/// \brief The portable body of the nn layers' float loops (simd/layer_loops.hpp): xsimd
/// registers of the build's own architecture (SSE2 in a default x86-64 build, NEON on
/// AArch64), partial registers through a filled buffer.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "pot/simd/xsimd_compat.hpp"

#include "pot/simd/dispatch.hpp"
#include "pot/simd/layer_coefficients.hpp"

namespace pot::simd {

/// \brief Whether this build has the layer loops: the portable body needs an xsimd
/// architecture (every x86-64 and AArch64 build has one); without it the layers run
/// their generic scalar loops.
inline constexpr bool layer_loops_compiled = !std::is_same_v<xsimd::default_arch, xsimd::unavailable>;

namespace detail_portable {

struct freg {
  using type = xsimd::batch<float>;
  static constexpr std::size_t lanes = type::size;
  static constexpr std::size_t alignment = type::arch_type::alignment();
  static type zero() noexcept { return type(0.0f); }
  static type set1(float v) noexcept { return type(v); }
  static type loadu(const float* p) noexcept { return type::load_unaligned(p); }
  static void storeu(float* p, type v) noexcept { v.store_unaligned(p); }
  static type load_partial(const float* p, std::size_t count, float fill) noexcept {
    alignas(alignment) float buffer[lanes];
    std::fill_n(buffer, lanes, fill);
    std::copy_n(p, count, buffer);
    return type::load_aligned(buffer);
  }
  static void store_partial(float* p, type v, std::size_t count) noexcept {
    alignas(alignment) float buffer[lanes];
    v.store_aligned(buffer);
    std::copy_n(buffer, count, p);
  }
  static type add(type a, type b) noexcept { return a + b; }
  static type sub(type a, type b) noexcept { return a - b; }
  static type mul(type a, type b) noexcept { return a * b; }
  static type div(type a, type b) noexcept { return a / b; }
  static type sqrt(type a) noexcept { return xsimd::sqrt(a); }
  static type max(type a, type b) noexcept { return xsimd::max(a, b); }
  static type mul_add(type a, type b, type c) noexcept { return xsimd::fma(a, b, c); }
  static type abs(type a) noexcept { return xsimd::abs(a); }
  static type with_sign_of(type magnitude, type source) noexcept { return xsimd::copysign(magnitude, source); }
  static type round_even(type a) noexcept { return xsimd::nearbyint(a); }
  static type pow2(type k) noexcept {
    using integers = xsimd::batch<std::int32_t>;
    return xsimd_compat::bitwise_cast<float>((xsimd::batch_cast<std::int32_t>(k) + integers(127)) << 23);
  }
  static type select_ge(type a, type b, type t, type f) noexcept { return xsimd::select(a >= b, t, f); }
  static type select_le(type a, type b, type t, type f) noexcept { return xsimd::select(a <= b, t, f); }
  static float reduce_add(type v) noexcept { return xsimd_compat::reduce_add(v); }
  static float reduce_max(type v) noexcept {
    alignas(alignment) float buffer[lanes];
    v.store_aligned(buffer);
    return *std::max_element(buffer, buffer + lanes);
  }
};

/// The lanes of a float register in doubles: plain arrays, which the compiler keeps in
/// the build's double registers.
struct wide_sum {
  struct type {
    double lane[freg::lanes];
  };
  static type zero() noexcept { return {}; }
  static type add(type acc, freg::type v) noexcept {
    alignas(freg::alignment) float values[freg::lanes];
    v.store_aligned(values);
    for (std::size_t i = 0; i < freg::lanes; ++i) acc.lane[i] += static_cast<double>(values[i]);
    return acc;
  }
  static type add_squared_deviation(type acc, freg::type v, double mean) noexcept {
    alignas(freg::alignment) float values[freg::lanes];
    v.store_aligned(values);
    for (std::size_t i = 0; i < freg::lanes; ++i) {
      const double deviation = static_cast<double>(values[i]) - mean;
      acc.lane[i] += deviation * deviation;
    }
    return acc;
  }
  static double reduce(const type& acc) noexcept {
    double total = 0.0;
    for (const double value : acc.lane) total += value;
    return total;
  }
};

#include "pot/simd/detail/layer_loops.inl"

}  // namespace detail_portable

/// \brief The portable layer loops.
detail_portable::layer_loops layer_loops_for(portable_tag);

}  // namespace pot::simd
