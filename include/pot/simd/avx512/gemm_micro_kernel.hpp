#pragma once
/// \file
/// \brief The AVX-512 body of the float/double gemm micro-kernel (simd/gemm_micro_kernel.hpp):
/// 12 x 32 floats (12 x 16 doubles) in 24 of the 32 zmm registers, FMA.

#include <cstddef>

#include "pot/simd/dispatch.hpp"
#include "pot/simd/gemm_tile.hpp"
#include "pot/simd/target.hpp"

POT_TARGET_AVX512_BEGIN
namespace pot::simd {
namespace detail_avx512 {

template <class T>
struct reg;
template <>
struct reg<float> {
  using type = __m512;
  static constexpr std::size_t lanes = 16;
  static type zero() noexcept { return _mm512_setzero_ps(); }
  static type set1(float v) noexcept { return _mm512_set1_ps(v); }
  static type load(const float* p) noexcept { return _mm512_load_ps(p); }
  static type loadu(const float* p) noexcept { return _mm512_loadu_ps(p); }
  static void storeu(float* p, type v) noexcept { _mm512_storeu_ps(p, v); }
  static type fma(type a, type b, type c) noexcept { return _mm512_fmadd_ps(a, b, c); }
  static type mul(type a, type b) noexcept { return _mm512_mul_ps(a, b); }
};
template <>
struct reg<double> {
  using type = __m512d;
  static constexpr std::size_t lanes = 8;
  static type zero() noexcept { return _mm512_setzero_pd(); }
  static type set1(double v) noexcept { return _mm512_set1_pd(v); }
  static type load(const double* p) noexcept { return _mm512_load_pd(p); }
  static type loadu(const double* p) noexcept { return _mm512_loadu_pd(p); }
  static void storeu(double* p, type v) noexcept { _mm512_storeu_pd(p, v); }
  static type fma(type a, type b, type c) noexcept { return _mm512_fmadd_pd(a, b, c); }
  static type mul(type a, type b) noexcept { return _mm512_mul_pd(a, b); }
};

/// 12 rows x 2 registers: 24 accumulators, two B loads and the A broadcast fit in 32.
inline constexpr std::size_t micro_rows = 12;

#include "pot/simd/detail/fma_micro_kernel.inl"

}  // namespace detail_avx512

/// \brief The AVX-512 kernel for \p T.
template <class T>
detail_avx512::fma_micro_kernel<T> gemm_micro_kernel_for(avx512_tag);

}  // namespace pot::simd
POT_TARGET_END
