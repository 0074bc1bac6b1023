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
///
/// One body per instruction set (simd/dispatch.hpp): portable (xsimd at the build's
/// flags), AVX2 (8 lanes, vroundps), AVX-512 (16 lanes, vrndscaleps) and NEON (4 lanes,
/// frintn, which is round half to even whatever FPCR says); all give the scalar
/// function's bits.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>

#include "pot/core/affine.hpp"
#include "pot/quant/fake_quant.hpp"
#include "pot/simd/affine_floats.hpp"
#include "pot/simd/dispatch.hpp"
#include "pot/simd/portable/affine_quantize.hpp"
#if defined(POT_SIMD_X86)
#include "pot/simd/avx2/affine_quantize.hpp"
#include "pot/simd/avx512/affine_quantize.hpp"
#endif
#if defined(POT_SIMD_AARCH64)
#include "pot/simd/neon/affine_quantize.hpp"
#endif

namespace pot::simd {

namespace detail {

/// \brief Whether the int32 \p value is exactly a float (|value| <= 2^24 always is).
constexpr bool is_exact_float(std::int32_t value) noexcept {
  return static_cast<double>(static_cast<float>(value)) == static_cast<double>(value);
}

template <affine_code Q>
affine_floats floats_of(const affine_params<Q>& params) noexcept {
  return {1.0f / params.scale, params.scale, static_cast<float>(params.zero_point), static_cast<float>(params.qmin),
          static_cast<float>(params.qmax)};
}

}  // namespace detail

/// \brief Whether affine_quantize() takes its vector path for \p params: `qmin`, `qmax`
/// and `zero_point` are exactly floats (true for every validated parameter set of a code
/// type up to 16 bits). Otherwise it runs the scalar pot::quantize, so the result is the
/// same either way.
template <affine_code Q>
constexpr bool affine_quantize_vectorizes(const affine_params<Q>& params) noexcept {
  return detail::is_exact_float(params.qmin) && detail::is_exact_float(params.qmax) &&
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
  if (!affine_quantize_vectorizes(params)) {
    ::pot::quantize(x, params, out);
    return;
  }
  const affine_floats p = detail::floats_of(params);
  // Codes go through an int32 buffer of a few registers; narrowing it to Q in a plain
  // loop (modular, as the scalar static_cast) is vectorized by the compiler.
  constexpr std::size_t block = 256;
  std::int32_t codes[block];
  dispatch([&](auto isa) {
    std::size_t i = 0;
    while (i < x.size()) {
      const std::size_t count = std::min(block, x.size() - i);
      const std::size_t done = quantize_codes(isa, x.data() + i, count, p, codes);
      for (std::size_t j = 0; j < done; ++j) out[i + j] = static_cast<Q>(codes[j]);
      for (std::size_t j = done; j < count; ++j) out[i + j] = ::pot::quantize(x[i + j], params);
      i += count;
    }
  });
}

/// \brief Whether affine_fake_quantize() takes its vector path for \p params: those of
/// affine_quantize_vectorizes(), and every code differing from the zero point by at most
/// 2^24, so that `code - zero_point` is exact in float and its product with the scale
/// rounds once, as the scalar dequantize's exact double product rounded to float does.
template <affine_code Q>
constexpr bool affine_fake_quantize_vectorizes(const affine_params<Q>& params) noexcept {
  constexpr std::int64_t exact_span = std::int64_t{1} << 24;
  return affine_quantize_vectorizes(params) && std::int64_t{params.qmax} - params.zero_point <= exact_span &&
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
void affine_fake_quantize(std::span<const float> x, const affine_params<Q>& params, std::span<float> y,
                          std::span<std::uint8_t> mask) {
  if (!affine_fake_quantize_vectorizes(params)) {
    ::pot::fake_quantize_affine_forward(x, params, y, mask);
    return;
  }
  ::pot::detail::require_same_size(x.size(), y.size(), "simd affine fake-quantize (y)");
  ::pot::detail::require_same_size(x.size(), mask.size(), "simd affine fake-quantize (mask)");
  params.validate();
  const affine_floats p = detail::floats_of(params);
  const std::size_t done =
      dispatch([&](auto isa) { return fake_quantize_values(isa, x.data(), x.size(), p, y.data(), mask.data()); });
  if (done < x.size())
    ::pot::fake_quantize_affine_forward(x.subspan(done), params, y.subspan(done), mask.subspan(done));
}

}  // namespace pot::simd
