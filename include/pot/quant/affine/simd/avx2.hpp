#pragma once
/// \file
/// \brief The AVX2 bodies of the affine quantizer (quant/affine/quantize.hpp and
/// fake_quant.hpp call them): 8 floats per register, vroundps to nearest even.

#include <cstddef>
#include <cstdint>

#include "pot/quant/affine/simd/floats.hpp"
#include "pot/simd/avx2/float_register.hpp"
#include "pot/simd/dispatch.hpp"
#include "pot/simd/target.hpp"

POT_TARGET_AVX2_BEGIN
namespace pot::detail {
namespace affine_avx2 {

/// The float register with the quantizer's own operations.
struct qreg : simd::detail_avx2::float_register {
  static type select_nan(type a, type t, type f) noexcept { return _mm256_blendv_ps(f, t, _mm256_cmp_ps(a, a, _CMP_UNORD_Q)); }
  static void store_codes(std::int32_t* p, type v) noexcept {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), _mm256_cvtps_epi32(v));
  }
  static void store_inside(std::uint8_t* p, type v, type lo, type hi) noexcept {
    const int bits = _mm256_movemask_ps(_mm256_and_ps(_mm256_cmp_ps(v, lo, _CMP_GE_OQ), _mm256_cmp_ps(v, hi, _CMP_LE_OQ)));
    for (std::size_t lane = 0; lane < lanes; ++lane) p[lane] = static_cast<std::uint8_t>((bits >> lane) & 1);
  }
};

#include "pot/quant/affine/simd/loops.inl"

}  // namespace affine_avx2

/// \brief affine_quantize_codes() of quant/affine/simd/portable.hpp on AVX2 registers.
inline std::size_t affine_quantize_codes(simd::avx2_tag, const float* x, std::size_t n, const affine_floats& p,
                                         std::int32_t* codes) noexcept {
  return affine_avx2::quantize_codes(x, n, p, codes);
}

/// \brief affine_fake_quantize_values() of quant/affine/simd/portable.hpp on AVX2 registers.
inline std::size_t affine_fake_quantize_values(simd::avx2_tag, const float* x, std::size_t n, const affine_floats& p,
                                               float* y, std::uint8_t* mask) noexcept {
  return affine_avx2::fake_quantize_values(x, n, p, y, mask);
}

}  // namespace pot::detail
POT_TARGET_END
