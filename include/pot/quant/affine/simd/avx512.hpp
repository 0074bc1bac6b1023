#pragma once
/// \file
/// \brief The AVX-512 bodies of the affine quantizer (quant/affine/quantize.hpp and
/// fake_quant.hpp call them): 16 floats per register, vrndscaleps to nearest even,
/// compares into mask registers.

#include <cstddef>
#include <cstdint>

#include "pot/quant/affine/simd/floats.hpp"
#include "pot/simd/avx512/float_register.hpp"
#include "pot/simd/dispatch.hpp"
#include "pot/simd/target.hpp"

POT_TARGET_AVX512_BEGIN
namespace pot::detail {
namespace affine_avx512 {

/// The float register with the quantizer's own operations.
struct qreg : simd::detail_avx512::float_register {
  static type select_nan(type a, type t, type f) noexcept { return _mm512_mask_mov_ps(f, _mm512_cmp_ps_mask(a, a, _CMP_UNORD_Q), t); }
  static void store_codes(std::int32_t* p, type v) noexcept { _mm512_storeu_si512(p, _mm512_cvtps_epi32(v)); }
  static void store_inside(std::uint8_t* p, type v, type lo, type hi) noexcept {
    const __mmask16 inside = _mm512_cmp_ps_mask(v, lo, _CMP_GE_OQ) & _mm512_cmp_ps_mask(v, hi, _CMP_LE_OQ);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(p), _mm_maskz_mov_epi8(inside, _mm_set1_epi8(1)));
  }
};

#include "pot/quant/affine/simd/loops.inl"

}  // namespace affine_avx512

/// \brief affine_quantize_codes() of quant/affine/simd/portable.hpp on AVX-512 registers.
inline std::size_t affine_quantize_codes(simd::avx512_tag, const float* x, std::size_t n, const affine_floats& p,
                                         std::int32_t* codes) noexcept {
  return affine_avx512::quantize_codes(x, n, p, codes);
}

/// \brief affine_fake_quantize_values() of quant/affine/simd/portable.hpp on AVX-512 registers.
inline std::size_t affine_fake_quantize_values(simd::avx512_tag, const float* x, std::size_t n,
                                               const affine_floats& p, float* y, std::uint8_t* mask) noexcept {
  return affine_avx512::fake_quantize_values(x, n, p, y, mask);
}

}  // namespace pot::detail
POT_TARGET_END
