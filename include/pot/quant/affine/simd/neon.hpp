#pragma once
/// \file
/// \brief The AArch64 bodies of the affine quantizer (quant/affine/quantize.hpp and
/// fake_quant.hpp call them): 4 floats per register, frintn to nearest even.
///
/// frintn rounds ties to even whatever FPCR's rounding mode says, and leaves integers
/// from 2^23 on, infinities and NaN unchanged, as vroundps does on x86; the compares
/// (fcmge, fcmeq) are ordered, false for NaN. No target region: Advanced SIMD is part of
/// every AArch64 CPU.

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "pot/quant/affine/simd/floats.hpp"
#include "pot/simd/dispatch.hpp"
#include "pot/simd/intrinsics.hpp"

namespace pot::detail {
namespace affine_neon {

struct qreg {
  using type = float32x4_t;
  static constexpr std::size_t lanes = 4;
  static type set1(float v) noexcept { return vdupq_n_f32(v); }
  static type loadu(const float* p) noexcept { return vld1q_f32(p); }
  static void storeu(float* p, type v) noexcept { vst1q_f32(p, v); }
  static type add(type a, type b) noexcept { return vaddq_f32(a, b); }
  static type sub(type a, type b) noexcept { return vsubq_f32(a, b); }
  static type mul(type a, type b) noexcept { return vmulq_f32(a, b); }
  static type round_even(type a) noexcept { return vrndnq_f32(a); }
  static type select_ge(type a, type b, type t, type f) noexcept { return vbslq_f32(vcgeq_f32(a, b), t, f); }
  static type select_le(type a, type b, type t, type f) noexcept { return vbslq_f32(vcleq_f32(a, b), t, f); }
  static type select_nan(type a, type t, type f) noexcept { return vbslq_f32(vceqq_f32(a, a), f, t); }
  static void store_codes(std::int32_t* p, type v) noexcept { vst1q_s32(p, vcvtnq_s32_f32(v)); }
  static void store_inside(std::uint8_t* p, type v, type lo, type hi) noexcept {
    const uint32x4_t inside = vandq_u32(vcgeq_f32(v, lo), vcleq_f32(v, hi));
    // All-ones lanes narrowed to bytes, then 1 or 0: four bytes, one per lane.
    const uint16x4_t halves = vmovn_u32(inside);
    const uint8x8_t bytes = vand_u8(vmovn_u16(vcombine_u16(halves, halves)), vdup_n_u8(1));
    const std::uint32_t four = vget_lane_u32(vreinterpret_u32_u8(bytes), 0);
    std::memcpy(p, &four, sizeof four);
  }
};

#include "pot/quant/affine/simd/loops.inl"

}  // namespace affine_neon

/// \brief affine_quantize_codes() of quant/affine/simd/portable.hpp on NEON registers.
inline std::size_t affine_quantize_codes(simd::neon_tag, const float* x, std::size_t n, const affine_floats& p,
                                         std::int32_t* codes) noexcept {
  return affine_neon::quantize_codes(x, n, p, codes);
}

/// \brief affine_fake_quantize_values() of quant/affine/simd/portable.hpp on NEON registers.
inline std::size_t affine_fake_quantize_values(simd::neon_tag, const float* x, std::size_t n, const affine_floats& p,
                                               float* y, std::uint8_t* mask) noexcept {
  return affine_neon::fake_quantize_values(x, n, p, y, mask);
}

}  // namespace pot::detail
