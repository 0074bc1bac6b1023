#pragma once
/// \file
/// \brief The AVX-512 float register (16 floats) with the operations the kernel
/// bodies written once per instruction set (simd/detail/*.inl) use; partial registers
/// through masked loads and stores.

#include <cstddef>

#include "pot/simd/target.hpp"

POT_TARGET_AVX512_BEGIN
namespace pot::simd::detail_avx512 {

struct float_register {
  using type = __m512;
  static constexpr std::size_t lanes = 16;
  static __mmask16 first_lanes(std::size_t count) noexcept { return static_cast<__mmask16>((1u << count) - 1u); }
  static type zero() noexcept { return _mm512_setzero_ps(); }
  static type set1(float v) noexcept { return _mm512_set1_ps(v); }
  static type loadu(const float* p) noexcept { return _mm512_loadu_ps(p); }
  static void storeu(float* p, type v) noexcept { _mm512_storeu_ps(p, v); }
  static type load_partial(const float* p, std::size_t count, float fill) noexcept {
    return _mm512_mask_loadu_ps(_mm512_set1_ps(fill), first_lanes(count), p);
  }
  static void store_partial(float* p, type v, std::size_t count) noexcept { _mm512_mask_storeu_ps(p, first_lanes(count), v); }
  static type add(type a, type b) noexcept { return _mm512_add_ps(a, b); }
  static type sub(type a, type b) noexcept { return _mm512_sub_ps(a, b); }
  static type mul(type a, type b) noexcept { return _mm512_mul_ps(a, b); }
  static type div(type a, type b) noexcept { return _mm512_div_ps(a, b); }
  static type sqrt(type a) noexcept { return _mm512_sqrt_ps(a); }
  static type max(type a, type b) noexcept { return _mm512_max_ps(a, b); }
  static type mul_add(type a, type b, type c) noexcept { return _mm512_fmadd_ps(a, b, c); }
  static type abs(type a) noexcept { return _mm512_andnot_ps(_mm512_set1_ps(-0.0f), a); }
  static type with_sign_of(type magnitude, type source) noexcept {
    return _mm512_or_ps(magnitude, _mm512_and_ps(_mm512_set1_ps(-0.0f), source));
  }
  static type round_even(type a) noexcept { return _mm512_roundscale_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static type pow2(type k) noexcept {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(k), _mm512_set1_epi32(127)), 23));
  }
  static type select_ge(type a, type b, type t, type f) noexcept { return _mm512_mask_mov_ps(f, _mm512_cmp_ps_mask(a, b, _CMP_GE_OQ), t); }
  static type select_le(type a, type b, type t, type f) noexcept { return _mm512_mask_mov_ps(f, _mm512_cmp_ps_mask(a, b, _CMP_LE_OQ), t); }
  static float reduce_add(type v) noexcept { return _mm512_reduce_add_ps(v); }
  static float reduce_max(type v) noexcept { return _mm512_reduce_max_ps(v); }
};

}  // namespace pot::simd::detail_avx512
POT_TARGET_END
