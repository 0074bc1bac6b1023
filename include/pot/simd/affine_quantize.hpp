#pragma once
/// \file
/// \brief Affine quantization and fake-quantization of a span of floats on SIMD
/// registers, bit-identical with the scalar pot::quantize (pot/core/affine.hpp) and
/// pot::fake_quantize_affine_forward (pot/quant/fake_quant.hpp) for every input.
///
/// The scalar function computes, per value, `s = x * (1/scale)` rounded once to float,
/// NaN -> zero point, `r = s` rounded half to even, `v = r + float(zero_point)` in float,
/// then `qmin` if `v <= qmin`, else `qmax` if `v >= qmax`, else `v`. Each step has an
/// exactly equal register operation: a float multiply is the correctly rounded product,
/// which is what the scalar's exact double product rounded to float is; `vroundps` in
/// round-to-nearest mode (xsimd::nearbyint) is round half to even whatever MXCSR says,
/// and leaves integers from 2^23 on, infinities and NaN unchanged, as the scalar rounding
/// does (a negative value rounding to zero gives -0 instead of +0, which the following
/// `+ float(zero_point)` turns into the same sum); the float add is the same add; and
/// the bounds compare exactly in float when `qmin` and `qmax` are floats, after which
/// every kept value is an integer in `[qmin, qmax]` that converts to int32 exactly.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>

#include "pot/simd/intrinsics.hpp"  // first: see there
#include <xsimd/xsimd.hpp>

#include "pot/core/affine.hpp"
#include "pot/quant/fake_quant.hpp"

namespace pot::simd {

namespace detail {

/// \brief Whether the int32 \p value is exactly a float (|value| <= 2^24 always is).
constexpr bool is_exact_float(std::int32_t value) noexcept {
  return static_cast<double>(static_cast<float>(value)) == static_cast<double>(value);
}

/// \brief One register of the scalar quantize's steps, as floats: `unclamped` is
/// `nearbyint(x / scale) + zero_point` (NaN for NaN input), `code` the clamped code
/// (the zero point for NaN).
struct quantized_batch {
  xsimd::batch<float> unclamped;  ///< before the bounds
  xsimd::batch<float> code;       ///< in [qmin, qmax], an integer
};

/// \brief The steps of pot::quantize on one register; the parameters come broadcast.
inline quantized_batch quantize_batch(const xsimd::batch<float>& x, const xsimd::batch<float>& inv_scale,
                                      const xsimd::batch<float>& zero_point, const xsimd::batch<float>& qmin,
                                      const xsimd::batch<float>& qmax) noexcept {
  const xsimd::batch<float> scaled = x * inv_scale;
  const xsimd::batch<float> shifted = xsimd::nearbyint(scaled) + zero_point;
  // The scalar order: NaN first, then the lower bound before the upper one. Not
  // `scaled != scaled`: xsimd 8.1's != is the ordered compare, false for NaN.
  xsimd::batch<float> code = xsimd::select(shifted >= qmax, qmax, shifted);
  code = xsimd::select(shifted <= qmin, qmin, code);
  code = xsimd::select(xsimd::isnan(scaled), zero_point, code);
  return {shifted, code};
}

}  // namespace detail

/// \brief Whether affine_quantize() takes its SIMD path for \p params: a SIMD
/// architecture is available and `qmin`, `qmax` and `zero_point` are exactly floats (true
/// for every validated parameter set of a code type up to 16 bits). Otherwise it runs
/// the scalar pot::quantize, so the result is the same either way.
template <affine_code Q>
constexpr bool affine_quantize_vectorizes(const affine_params<Q>& params) noexcept {
  return !std::is_same_v<xsimd::default_arch, xsimd::unavailable> &&
         detail::is_exact_float(params.qmin) && detail::is_exact_float(params.qmax) &&
         detail::is_exact_float(params.zero_point);
}

/// \brief Writes `out[i] = pot::quantize(x[i], params)` for every i, bit-identical with
/// the scalar function (ties to even, NaN to the zero point, ±inf and huge values to
/// `qmax` / `qmin`, unvalidated parameters included), several values per instruction.
///
/// Assumes the default floating-point environment (round to nearest, no flush of
/// subnormals to zero), as the scalar function's float arithmetic does.
/// \throws std::invalid_argument if \p x and \p out differ in length.
template <affine_code Q>
void affine_quantize(std::span<const float> x, const affine_params<Q>& params, std::span<Q> out) {
  ::pot::detail::require_same_size(x.size(), out.size(), "simd affine quantize");
  if constexpr (std::is_same_v<xsimd::default_arch, xsimd::unavailable>) {
    ::pot::quantize(x, params, out);
  } else {
    if (!affine_quantize_vectorizes(params)) {
      ::pot::quantize(x, params, out);
      return;
    }
    using float_batch = xsimd::batch<float>;
    using int_batch = xsimd::batch<std::int32_t>;
    constexpr std::size_t lanes = float_batch::size;
    // Codes go through an int32 buffer of a few registers; narrowing it to Q in a
    // plain loop (modular, as the scalar static_cast) is vectorized by the compiler.
    constexpr std::size_t block = 16 * lanes;
    alignas(int_batch::arch_type::alignment()) std::int32_t codes[block];

    const float_batch inv_scale(1.0f / params.scale);
    const float_batch zero_point(static_cast<float>(params.zero_point));
    const float_batch qmin(static_cast<float>(params.qmin));
    const float_batch qmax(static_cast<float>(params.qmax));
    const std::size_t n = out.size();
    const std::size_t vector_end = n - n % lanes;
    std::size_t i = 0;
    while (i < vector_end) {
      const std::size_t count = std::min(block, vector_end - i);
      for (std::size_t j = 0; j < count; j += lanes) {
        const float_batch code =
            detail::quantize_batch(float_batch::load_unaligned(x.data() + i + j), inv_scale, zero_point,
                                   qmin, qmax).code;
        xsimd::batch_cast<std::int32_t>(code).store_aligned(codes + j);
      }
      for (std::size_t j = 0; j < count; ++j) out[i + j] = static_cast<Q>(codes[j]);
      i += count;
    }
    for (; i < n; ++i) out[i] = ::pot::quantize(x[i], params);
  }
}

/// \brief Whether affine_fake_quantize() takes its SIMD path for \p params: those of
/// affine_quantize_vectorizes(), and every code differing from the zero point by at most
/// 2^24, so that `code - zero_point` is exact in float and its product with the scale
/// rounds once, as the scalar dequantize's exact double product rounded to float does.
template <affine_code Q>
constexpr bool affine_fake_quantize_vectorizes(const affine_params<Q>& params) noexcept {
  constexpr std::int64_t exact_span = std::int64_t{1} << 24;
  return affine_quantize_vectorizes(params) &&
         std::int64_t{params.qmax} - params.zero_point <= exact_span &&
         std::int64_t{params.zero_point} - params.qmin <= exact_span;
}

/// \brief pot::fake_quantize_affine_forward (pot/quant/fake_quant.hpp) on SIMD registers:
/// `y[i] = dequantize(quantize(x[i]))` and `mask[i]` = 1 where `x[i]` is inside the
/// code range (0 for NaN), bit-identical with the scalar function for every input.
///
/// This is the forward pass of quantization-aware training for every activation that
/// enters a quantized layer; the scalar loop took about half of a QAT step of the
/// GPT-2 example. The code is formed as in affine_quantize(); the mask compares the
/// unclamped `nearbyint(x / scale) + zero_point` with the bounds in float (exact: both
/// are floats), and the value is `(code - zero_point) * scale` in float (exact
/// difference, one rounding; see affine_fake_quantize_vectorizes()).
/// \throws std::invalid_argument if the spans' lengths differ or \p params is invalid.
template <affine_code Q>
void affine_fake_quantize(std::span<const float> x, const affine_params<Q>& params,
                          std::span<float> y, std::span<std::uint8_t> mask) {
  if constexpr (std::is_same_v<xsimd::default_arch, xsimd::unavailable>) {
    ::pot::fake_quantize_affine_forward(x, params, y, mask);
  } else {
    if (!affine_fake_quantize_vectorizes(params)) {
      ::pot::fake_quantize_affine_forward(x, params, y, mask);
      return;
    }
    ::pot::detail::require_same_size(x.size(), y.size(), "simd affine fake-quantize (y)");
    ::pot::detail::require_same_size(x.size(), mask.size(), "simd affine fake-quantize (mask)");
    params.validate();
    using float_batch = xsimd::batch<float>;
    constexpr std::size_t lanes = float_batch::size;
    const float_batch inv_scale(1.0f / params.scale);
    const float_batch scale(params.scale);
    const float_batch zero_point(static_cast<float>(params.zero_point));
    const float_batch qmin(static_cast<float>(params.qmin));
    const float_batch qmax(static_cast<float>(params.qmax));
    const float_batch inside(1.0f), outside(0.0f);
    alignas(float_batch::arch_type::alignment()) float in_range[lanes];
    const std::size_t n = x.size();
    std::size_t i = 0;
    for (; i + lanes <= n; i += lanes) {
      const auto [unclamped, code] =
          detail::quantize_batch(float_batch::load_unaligned(x.data() + i), inv_scale, zero_point, qmin, qmax);
      ((code - zero_point) * scale).store_unaligned(y.data() + i);
      // Ordered compares: false for NaN, whose mask is 0 as in the scalar function.
      xsimd::select((unclamped >= qmin) & (unclamped <= qmax), inside, outside).store_aligned(in_range);
      for (std::size_t lane = 0; lane < lanes; ++lane) mask[i + lane] = in_range[lane] != 0.0f ? 1 : 0;
    }
    if (i < n) ::pot::fake_quantize_affine_forward(x.subspan(i), params, y.subspan(i), mask.subspan(i));
  }
}

}  // namespace pot::simd
