#pragma once
/// \file
/// \brief The AVX-512 body of the nn layers' float loops (simd/layer_loops.hpp): 16
/// floats per register, FMA, partial registers through masked loads and stores.

#include <cstddef>

#include "pot/simd/avx512/float_register.hpp"
#include "pot/simd/dispatch.hpp"
#include "pot/simd/layer_coefficients.hpp"
#include "pot/simd/target.hpp"

POT_TARGET_AVX512_BEGIN
namespace pot::simd {
namespace detail_avx512 {

using freg = float_register;

/// The 16 lanes of a float register in two registers of 8 doubles.
struct wide_sum {
  struct type {
    __m512d low, high;
  };
  static type zero() noexcept { return {_mm512_setzero_pd(), _mm512_setzero_pd()}; }
  static type add(type acc, __m512 v) noexcept {
    return {_mm512_add_pd(acc.low, _mm512_cvtps_pd(_mm512_castps512_ps256(v))),
            _mm512_add_pd(acc.high, _mm512_cvtps_pd(_mm512_extractf32x8_ps(v, 1)))};
  }
  static type add_squared_deviation(type acc, __m512 v, double mean) noexcept {
    const __m512d mean_r = _mm512_set1_pd(mean);
    const __m512d low = _mm512_sub_pd(_mm512_cvtps_pd(_mm512_castps512_ps256(v)), mean_r);
    const __m512d high = _mm512_sub_pd(_mm512_cvtps_pd(_mm512_extractf32x8_ps(v, 1)), mean_r);
    return {_mm512_fmadd_pd(low, low, acc.low), _mm512_fmadd_pd(high, high, acc.high)};
  }
  static double reduce(const type& acc) noexcept { return _mm512_reduce_add_pd(_mm512_add_pd(acc.low, acc.high)); }
};

#include "pot/simd/detail/layer_loops.inl"

}  // namespace detail_avx512

/// \brief The AVX-512 layer loops.
detail_avx512::layer_loops layer_loops_for(avx512_tag);

}  // namespace pot::simd
POT_TARGET_END
