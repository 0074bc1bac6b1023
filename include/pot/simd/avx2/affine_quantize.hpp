#pragma once
/// \file
/// \brief The AVX2 bodies of the affine quantizer (simd/affine_quantize.hpp): 8 floats
/// per register, vroundps to nearest even.

#include <cstddef>
#include <cstdint>

#include "pot/simd/affine_floats.hpp"
#include "pot/simd/dispatch.hpp"
#include "pot/simd/target.hpp"

POT_TARGET_AVX2_BEGIN
namespace pot::simd {
namespace detail_avx2 {

struct qreg {
  using type = __m256;
  static constexpr std::size_t lanes = 8;
  static type set1(float v) noexcept { return _mm256_set1_ps(v); }
  static type loadu(const float* p) noexcept { return _mm256_loadu_ps(p); }
  static void storeu(float* p, type v) noexcept { _mm256_storeu_ps(p, v); }
  static type add(type a, type b) noexcept { return _mm256_add_ps(a, b); }
  static type sub(type a, type b) noexcept { return _mm256_sub_ps(a, b); }
  static type mul(type a, type b) noexcept { return _mm256_mul_ps(a, b); }
  static type round_even(type a) noexcept { return _mm256_round_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static type select_ge(type a, type b, type t, type f) noexcept { return _mm256_blendv_ps(f, t, _mm256_cmp_ps(a, b, _CMP_GE_OQ)); }
  static type select_le(type a, type b, type t, type f) noexcept { return _mm256_blendv_ps(f, t, _mm256_cmp_ps(a, b, _CMP_LE_OQ)); }
  static type select_nan(type a, type t, type f) noexcept { return _mm256_blendv_ps(f, t, _mm256_cmp_ps(a, a, _CMP_UNORD_Q)); }
  static void store_codes(std::int32_t* p, type v) noexcept {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), _mm256_cvtps_epi32(v));
  }
  static void store_inside(std::uint8_t* p, type v, type lo, type hi) noexcept {
    const int bits = _mm256_movemask_ps(_mm256_and_ps(_mm256_cmp_ps(v, lo, _CMP_GE_OQ), _mm256_cmp_ps(v, hi, _CMP_LE_OQ)));
    for (std::size_t lane = 0; lane < lanes; ++lane) p[lane] = static_cast<std::uint8_t>((bits >> lane) & 1);
  }
};

#include "pot/simd/detail/affine_quantize.inl"

}  // namespace detail_avx2

/// \brief quantize_codes() of simd/portable/affine_quantize.hpp on AVX2 registers.
inline std::size_t quantize_codes(avx2_tag, const float* x, std::size_t n, const affine_floats& p,
                                  std::int32_t* codes) noexcept {
  return detail_avx2::quantize_codes(x, n, p, codes);
}

/// \brief fake_quantize_values() of simd/portable/affine_quantize.hpp on AVX2 registers.
inline std::size_t fake_quantize_values(avx2_tag, const float* x, std::size_t n, const affine_floats& p, float* y,
                                        std::uint8_t* mask) noexcept {
  return detail_avx2::fake_quantize_values(x, n, p, y, mask);
}

}  // namespace pot::simd
POT_TARGET_END
