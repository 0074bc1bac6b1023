#pragma once
/// \file
/// \brief The AVX2 float register (8 floats) with the operations the kernel
/// bodies written once per instruction set (simd/detail/*.inl) use; partial registers
/// through vmaskmovps, which touches no other lane's memory.

#include <cstddef>

#include "pot/simd/target.hpp"

POT_TARGET_AVX2_BEGIN
namespace pot::simd::detail_avx2 {

struct float_register {
  using type = __m256;
  static constexpr std::size_t lanes = 8;
  /// Lanes below count set (all bits), for vmaskmovps, which touches no other lane's memory.
  static __m256i first_lanes(std::size_t count) noexcept {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(count)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  static type zero() noexcept { return _mm256_setzero_ps(); }
  static type set1(float v) noexcept { return _mm256_set1_ps(v); }
  static type loadu(const float* p) noexcept { return _mm256_loadu_ps(p); }
  static void storeu(float* p, type v) noexcept { _mm256_storeu_ps(p, v); }
  static type load_partial(const float* p, std::size_t count, float fill) noexcept {
    const __m256i mask = first_lanes(count);
    return _mm256_blendv_ps(_mm256_set1_ps(fill), _mm256_maskload_ps(p, mask), _mm256_castsi256_ps(mask));
  }
  static void store_partial(float* p, type v, std::size_t count) noexcept { _mm256_maskstore_ps(p, first_lanes(count), v); }
  static type add(type a, type b) noexcept { return _mm256_add_ps(a, b); }
  static type sub(type a, type b) noexcept { return _mm256_sub_ps(a, b); }
  static type mul(type a, type b) noexcept { return _mm256_mul_ps(a, b); }
  static type div(type a, type b) noexcept { return _mm256_div_ps(a, b); }
  static type sqrt(type a) noexcept { return _mm256_sqrt_ps(a); }
  static type max(type a, type b) noexcept { return _mm256_max_ps(a, b); }
  static type mul_add(type a, type b, type c) noexcept { return _mm256_fmadd_ps(a, b, c); }
  static type abs(type a) noexcept { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), a); }
  static type with_sign_of(type magnitude, type source) noexcept {
    return _mm256_or_ps(magnitude, _mm256_and_ps(_mm256_set1_ps(-0.0f), source));
  }
  static type round_even(type a) noexcept { return _mm256_round_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static type pow2(type k) noexcept {
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(k), _mm256_set1_epi32(127)), 23));
  }
  static type select_ge(type a, type b, type t, type f) noexcept { return _mm256_blendv_ps(f, t, _mm256_cmp_ps(a, b, _CMP_GE_OQ)); }
  static type select_le(type a, type b, type t, type f) noexcept { return _mm256_blendv_ps(f, t, _mm256_cmp_ps(a, b, _CMP_LE_OQ)); }
  static float reduce_add(type v) noexcept {
    const __m128 halves = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    const __m128 pairs = _mm_add_ps(halves, _mm_movehl_ps(halves, halves));
    return _mm_cvtss_f32(_mm_add_ss(pairs, _mm_movehdup_ps(pairs)));
  }
  static float reduce_max(type v) noexcept {
    const __m128 halves = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    const __m128 pairs = _mm_max_ps(halves, _mm_movehl_ps(halves, halves));
    return _mm_cvtss_f32(_mm_max_ss(pairs, _mm_movehdup_ps(pairs)));
  }
};

}  // namespace pot::simd::detail_avx2
POT_TARGET_END
