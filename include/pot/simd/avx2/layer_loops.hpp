#pragma once
/// \file
/// \brief The AVX2 body of the nn layers' float loops (simd/layer_loops.hpp): 8 floats
/// per register, FMA, partial registers through vmaskmovps.

#include <cstddef>

#include "pot/simd/avx2/float_register.hpp"
#include "pot/simd/dispatch.hpp"
#include "pot/simd/layer_coefficients.hpp"
#include "pot/simd/target.hpp"

POT_TARGET_AVX2_BEGIN
namespace pot::simd {
namespace detail_avx2 {

using freg = float_register;

/// The 8 lanes of a float register in two registers of 4 doubles.
struct wide_sum {
  struct type {
    __m256d low, high;
  };
  static type zero() noexcept { return {_mm256_setzero_pd(), _mm256_setzero_pd()}; }
  static type add(type acc, __m256 v) noexcept {
    return {_mm256_add_pd(acc.low, _mm256_cvtps_pd(_mm256_castps256_ps128(v))),
            _mm256_add_pd(acc.high, _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)))};
  }
  static type add_squared_deviation(type acc, __m256 v, double mean) noexcept {
    const __m256d mean_r = _mm256_set1_pd(mean);
    const __m256d low = _mm256_sub_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(v)), mean_r);
    const __m256d high = _mm256_sub_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)), mean_r);
    return {_mm256_fmadd_pd(low, low, acc.low), _mm256_fmadd_pd(high, high, acc.high)};
  }
  static double reduce(const type& acc) noexcept {
    const __m256d both = _mm256_add_pd(acc.low, acc.high);
    const __m128d halves = _mm_add_pd(_mm256_castpd256_pd128(both), _mm256_extractf128_pd(both, 1));
    return _mm_cvtsd_f64(_mm_add_sd(halves, _mm_unpackhi_pd(halves, halves)));
  }
};

#include "pot/simd/detail/layer_loops.inl"

}  // namespace detail_avx2

/// \brief The AVX2 layer loops.
detail_avx2::layer_loops layer_loops_for(avx2_tag);

}  // namespace pot::simd
POT_TARGET_END
