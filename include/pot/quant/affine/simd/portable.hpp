#pragma once
/// \file
/// \brief The portable bodies of the affine quantizer (quant/affine/quantize.hpp and
/// fake_quant.hpp call them): xsimd registers of the build's own architecture.

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "pot/simd/xsimd_compat.hpp"

#include "pot/quant/affine/simd/floats.hpp"
#include "pot/simd/dispatch.hpp"

namespace pot::detail {

namespace affine_portable {

/// One register of the scalar quantize's steps, as floats: `unclamped` is
/// `nearbyint(x / scale) + zero_point` (NaN for NaN input), `code` the clamped code
/// (the zero point for NaN).
struct quantized_batch {
  xsimd::batch<float> unclamped;
  xsimd::batch<float> code;
};

inline quantized_batch quantize_batch(const xsimd::batch<float>& x, const affine_floats& p) noexcept {
  using batch = xsimd::batch<float>;
  const batch scaled = x * batch(p.inv_scale);
  const batch shifted = xsimd::nearbyint(scaled) + batch(p.zero_point);
  // The scalar order: NaN first, then the lower bound before the upper one. Not
  // `scaled != scaled`: xsimd 8.1's != is the ordered compare, false for NaN.
  batch code = xsimd::select(shifted >= batch(p.qmax), batch(p.qmax), shifted);
  code = xsimd::select(shifted <= batch(p.qmin), batch(p.qmin), code);
  code = xsimd::select(xsimd::isnan(scaled), batch(p.zero_point), code);
  return {shifted, code};
}

/// Whether xsimd has a register type for this build (else every body below is empty).
inline constexpr bool has_xsimd_arch = !std::is_same_v<xsimd::default_arch, xsimd::unavailable>;

}  // namespace affine_portable

/// \brief Writes the int32 codes of the first values of `x[0..n)`, a whole number of
/// registers, to `codes`; returns how many (the caller quantizes the rest).
inline std::size_t affine_quantize_codes(simd::portable_tag, const float* x, std::size_t n, const affine_floats& p,
                                         std::int32_t* codes) noexcept {
  if constexpr (!affine_portable::has_xsimd_arch) {
    return 0;
  } else {
    using batch = xsimd::batch<float>;
    const std::size_t vector_end = n - n % batch::size;
    for (std::size_t i = 0; i < vector_end; i += batch::size)
      xsimd::batch_cast<std::int32_t>(affine_portable::quantize_batch(batch::load_unaligned(x + i), p).code)
          .store_unaligned(codes + i);
    return vector_end;
  }
}

/// \brief Writes `y = (code - zero_point) * scale` and `mask` = 1 where x is inside the
/// code range (0 for NaN) for the first values of `x[0..n)`, a whole number of registers;
/// returns how many.
inline std::size_t affine_fake_quantize_values(simd::portable_tag, const float* x, std::size_t n,
                                               const affine_floats& p, float* y, std::uint8_t* mask) noexcept {
  if constexpr (!affine_portable::has_xsimd_arch) {
    return 0;
  } else {
    using batch = xsimd::batch<float>;
    constexpr std::size_t lanes = batch::size;
    alignas(batch::arch_type::alignment()) float in_range[lanes];
    const std::size_t vector_end = n - n % lanes;
    for (std::size_t i = 0; i < vector_end; i += lanes) {
      const auto [unclamped, code] = affine_portable::quantize_batch(batch::load_unaligned(x + i), p);
      ((code - batch(p.zero_point)) * batch(p.scale)).store_unaligned(y + i);
      // Ordered compares: false for NaN, whose mask is 0 as in the scalar function.
      xsimd::select((unclamped >= batch(p.qmin)) & (unclamped <= batch(p.qmax)), batch(1.0f), batch(0.0f))
          .store_aligned(in_range);
      for (std::size_t lane = 0; lane < lanes; ++lane) mask[i + lane] = in_range[lane] != 0.0f ? 1 : 0;
    }
    return vector_end;
  }
}

}  // namespace pot::detail
