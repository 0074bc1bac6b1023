#pragma once
/// \file
/// \brief The AVX2 body of the float/double gemm micro-kernel (simd/gemm_micro_kernel.hpp):
/// 6 x 16 floats (6 x 8 doubles) in 12 of the 16 ymm registers, FMA.

#include <cstddef>

#include "pot/simd/dispatch.hpp"
#include "pot/simd/gemm_tile.hpp"
#include "pot/simd/target.hpp"

POT_TARGET_AVX2_BEGIN
namespace pot::simd {
namespace detail_avx2 {

template <class T>
struct reg;
template <>
struct reg<float> {
  using type = __m256;
  static constexpr std::size_t lanes = 8;
  static type zero() noexcept { return _mm256_setzero_ps(); }
  static type set1(float v) noexcept { return _mm256_set1_ps(v); }
  static type load(const float* p) noexcept { return _mm256_load_ps(p); }
  static type loadu(const float* p) noexcept { return _mm256_loadu_ps(p); }
  static void storeu(float* p, type v) noexcept { _mm256_storeu_ps(p, v); }
  static type fma(type a, type b, type c) noexcept { return _mm256_fmadd_ps(a, b, c); }
  static type mul(type a, type b) noexcept { return _mm256_mul_ps(a, b); }
};
template <>
struct reg<double> {
  using type = __m256d;
  static constexpr std::size_t lanes = 4;
  static type zero() noexcept { return _mm256_setzero_pd(); }
  static type set1(double v) noexcept { return _mm256_set1_pd(v); }
  static type load(const double* p) noexcept { return _mm256_load_pd(p); }
  static type loadu(const double* p) noexcept { return _mm256_loadu_pd(p); }
  static void storeu(double* p, type v) noexcept { _mm256_storeu_pd(p, v); }
  static type fma(type a, type b, type c) noexcept { return _mm256_fmadd_pd(a, b, c); }
  static type mul(type a, type b) noexcept { return _mm256_mul_pd(a, b); }
};

/// 6 rows x 2 registers: 12 accumulators, two B loads and the A broadcast fit in 16.
inline constexpr std::size_t micro_rows = 6;

#include "pot/simd/detail/fma_micro_kernel.inl"

}  // namespace detail_avx2

/// \brief The AVX2 kernel for \p T.
template <class T>
detail_avx2::fma_micro_kernel<T> gemm_micro_kernel_for(avx2_tag);

}  // namespace pot::simd
POT_TARGET_END
