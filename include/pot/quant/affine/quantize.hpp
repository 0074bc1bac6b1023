#pragma once
/// \file
/// \brief Affine quantization and dequantization, one value or a whole span, bit-exact
/// with PyTorch's `quantize_per_tensor` / `fake_quantize_per_tensor_affine`.
///
/// The quantization model is `real = scale * (q - zero_point)`, with `q` clamped to
/// `[qmin, qmax]`. The expressions below follow PyTorch's CPU kernel
/// `fake_quantize_tensor_cachemask_kernel` (aten/src/ATen/native/quantized/cpu/kernels/
/// QuantizedOpKernels.cpp), which reads
///
///     float inv_scale = 1.0f / sc;
///     qval = static_cast<int64_t>(z_point + std::nearbyint(*input_val * inv_scale));
///     out  = (std::fmin(std::fmax(qval, quant_min), quant_max) - z_point) * sc;
///
/// so: the reciprocal is a float, the product `x * inv_scale` is a float, it is rounded
/// half to even (nearbyint under the default rounding mode), the zero point is added
/// after rounding (in float, as `int64 + float` promotes to float), then clamped.
/// Dequantization is `(q - zero_point) * scale`: PyTorch forms it in double and stores a
/// float, which equals one float multiply because the double product of a small
/// integer and a float is exact.
///
/// Where PyTorch is undefined (NaN or infinite `x * inv_scale` cast to int64), this
/// header defines the result: NaN -> `zero_point` (dequantizes to 0), +inf -> `qmax`,
/// -inf -> `qmin`. `quantize_checked` reports NaN as `std::domain_error` instead.
///
/// The span functions run several values per instruction (the vector bodies in
/// quant/affine/simd/, one per instruction set, chosen at run time by simd/dispatch.hpp),
/// each step an exactly equal register operation of the scalar function's: a float
/// multiply is the correctly rounded product, which the scalar's exact double product
/// rounded to float also is; `vroundps` / `vrndscaleps` / `frintn` round half to even
/// whatever the control register says and leave integers from 2^23 on, infinities and
/// NaN unchanged, as the scalar rounding does (a negative value rounding to zero gives
/// -0 instead of +0, which the following `+ float(zero_point)` turns into the same sum);
/// the float add is the same add; and the bounds compare exactly in float when `qmin`
/// and `qmax` are floats, after which every kept value is an integer in `[qmin, qmax]`
/// that converts to int32 exactly. So the span functions give the scalar function's bits
/// for every input (tests/quant/affine/quantize.test.cpp sweeps the float bit patterns).

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>

#include "pot/core/errors.hpp"
#include "pot/quant/affine/params.hpp"
#include "pot/quant/affine/simd/floats.hpp"
#include "pot/quant/affine/simd/portable.hpp"
#include "pot/simd/dispatch.hpp"
#if defined(POT_SIMD_X86)
#include "pot/quant/affine/simd/avx2.hpp"
#include "pot/quant/affine/simd/avx512.hpp"
#endif
#if defined(POT_SIMD_AARCH64)
#include "pot/quant/affine/simd/neon.hpp"
#endif

namespace pot {

namespace detail {

/// \brief Rounds to the nearest integer, ties to even, exactly and independent of the
/// floating-point environment (equals `std::nearbyint` under the default rounding mode,
/// and is usable in constant expressions).
constexpr float round_half_to_even(float value) noexcept {
  const float magnitude = value < 0.0f ? -value : value;
  // From 2^23 on every float is an integer; NaN fails the comparison and passes through.
  if (!(magnitude < 0x1p23f)) return value;
  const auto truncated = static_cast<std::int32_t>(value);
  // Exact: both operands lie within one binade step of each other below 2^23.
  const float fraction = value - static_cast<float>(truncated);
  const bool odd = (truncated % 2) != 0;
  std::int32_t rounded = truncated;
  if (fraction > 0.5f || (fraction == 0.5f && odd)) ++rounded;
  if (fraction < -0.5f || (fraction == -0.5f && odd)) --rounded;
  return static_cast<float>(rounded);
}

/// \brief Whether the int32 \p value is exactly a float (|value| <= 2^24 always is).
constexpr bool is_exact_float(std::int32_t value) noexcept {
  return static_cast<double>(static_cast<float>(value)) == static_cast<double>(value);
}

/// \brief The parameters as the vector bodies take them.
template <affine_code Q>
affine_floats floats_of(const affine_params<Q>& params) noexcept {
  return {1.0f / params.scale, params.scale, static_cast<float>(params.zero_point), static_cast<float>(params.qmin),
          static_cast<float>(params.qmax)};
}

}  // namespace detail

/// \brief The code of `x`: `clamp(nearbyint(x * (1.0f / scale)) + zero_point, qmin, qmax)`,
/// bit-exact with PyTorch; NaN gives `zero_point`, ±inf give `qmax` / `qmin`.
template <affine_code Q>
constexpr Q quantize(float x, const affine_params<Q>& params) noexcept {
  const float inv_scale = 1.0f / params.scale;
  // The float product, formed as an exact double product rounded once: written as a
  // float multiply, a compiler contracting floating-point expressions (GCC's default in
  // GNU mode with FMA) could fuse it with the subtraction inside the rounding and round
  // the unrounded product instead.
  const float scaled = static_cast<float>(static_cast<double>(x) * static_cast<double>(inv_scale));
  if (scaled != scaled) return static_cast<Q>(params.zero_point);
  // Added in float like PyTorch's `z_point + nearbyint(...)`; clamped in double so that
  // the comparison with an int32 bound is exact.
  const double shifted =
      static_cast<double>(detail::round_half_to_even(scaled) + static_cast<float>(params.zero_point));
  if (shifted <= static_cast<double>(params.qmin)) return static_cast<Q>(params.qmin);
  if (shifted >= static_cast<double>(params.qmax)) return static_cast<Q>(params.qmax);
  return static_cast<Q>(static_cast<std::int64_t>(shifted));
}

/// \brief Like quantize(), but NaN input is an error.
/// \throws std::domain_error if `x` is NaN.
template <affine_code Q>
constexpr Q quantize_checked(float x, const affine_params<Q>& params) {
  if (x != x) throw std::domain_error("pot: cannot quantize NaN to an affine code");
  return quantize(x, params);
}

/// \brief The real value of code `q`: `(q - zero_point) * scale` formed in double and
/// rounded to float, as PyTorch does (exact before the rounding for codes up to 16 bits).
template <affine_code Q>
constexpr float dequantize(Q q, const affine_params<Q>& params) noexcept {
  // PyTorch's expression: the difference times the scale in double, stored as a float.
  return static_cast<float>(
      static_cast<double>(static_cast<std::int64_t>(q) - params.zero_point) *
      static_cast<double>(params.scale));
}

/// \brief Whether the span quantize() takes its vector path for \p params: `qmin`, `qmax`
/// and `zero_point` are exactly floats (true for every validated parameter set of a code
/// type up to 16 bits). Otherwise it runs the scalar quantize() value by value, so the
/// result is the same either way.
template <affine_code Q>
constexpr bool quantize_vectorizes(const affine_params<Q>& params) noexcept {
  return detail::is_exact_float(params.qmin) && detail::is_exact_float(params.qmax) &&
         detail::is_exact_float(params.zero_point);
}

/// \brief Writes `out[i] = quantize(x[i], params)` for every i, bit-identical with the
/// scalar function (ties to even, NaN to the zero point, ±inf and huge values to `qmax` /
/// `qmin`, unvalidated parameters included), several values per instruction.
///
/// Assumes the default floating-point environment (round to nearest, no flush of
/// subnormals to zero), as the scalar function's float arithmetic does.
/// \throws std::invalid_argument if \p x and \p out differ in length.
template <affine_code Q>
void quantize(std::span<const float> x, const affine_params<Q>& params, std::span<Q> out) {
  detail::require_same_size(x.size(), out.size(), "affine quantize");
  if (!quantize_vectorizes(params)) {
    // Bounded by the output: g++ -O3 cannot see that the check above throws and would
    // otherwise warn of a write past a short output.
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = quantize(x[i], params);
    return;
  }
  const detail::affine_floats p = detail::floats_of(params);
  // Codes go through an int32 buffer of a few registers; narrowing it to Q in a plain
  // loop (modular, as the scalar static_cast) is vectorized by the compiler.
  constexpr std::size_t block = 256;
  std::int32_t codes[block];
  simd::dispatch([&](auto isa) {
    std::size_t i = 0;
    while (i < x.size()) {
      const std::size_t count = std::min(block, x.size() - i);
      const std::size_t done = detail::affine_quantize_codes(isa, x.data() + i, count, p, codes);
      for (std::size_t j = 0; j < done; ++j) out[i + j] = static_cast<Q>(codes[j]);
      for (std::size_t j = done; j < count; ++j) out[i + j] = quantize(x[i + j], params);
      i += count;
    }
  });
}

/// \brief Dequantizes every code of `q` into `out` (same length).
/// \throws std::invalid_argument if the lengths differ.
template <affine_code Q>
void dequantize(std::span<const Q> q, const affine_params<Q>& params, std::span<float> out) {
  detail::require_same_size(q.size(), out.size(), "affine dequantize");
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = dequantize(q[i], params);
}

namespace detail {

/// \brief Writes `out[i] = convert(in[i], params of i's channel)` over a row-major tensor
/// of `shape`, after checking that the shape and all lengths agree.
template <affine_code Q, class In, class Out, class Convert>
void map_per_channel(std::span<const In> in, std::span<const std::size_t> shape,
                     const per_channel_affine_params<Q>& params, std::span<Out> out,
                     const char* what, Convert convert) {
  require_same_size(in.size(), out.size(), what);
  const std::size_t inner = channel_stride(shape, params.axis, params.channels(), in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    const std::size_t c = (i / inner) % params.channels();
    out[i] = convert(in[i], affine_params<Q>{params.scales[c], params.zero_points[c], params.qmin,
                                             params.qmax});
  }
}

}  // namespace detail

/// \brief Quantizes a row-major tensor of `shape` channel by channel along `params.axis`.
/// \throws std::invalid_argument if the shape, the channel count and the lengths of `x`
/// and `out` disagree.
template <affine_code Q>
void quantize(std::span<const float> x, std::span<const std::size_t> shape,
              const per_channel_affine_params<Q>& params, std::span<Q> out) {
  detail::map_per_channel(x, shape, params, out, "per-channel affine quantize",
                          [](float v, const affine_params<Q>& p) { return quantize(v, p); });
}

/// \brief Dequantizes a row-major tensor of `shape` channel by channel along `params.axis`.
/// \throws std::invalid_argument if the shape, the channel count and the lengths of `q`
/// and `out` disagree.
template <affine_code Q>
void dequantize(std::span<const Q> q, std::span<const std::size_t> shape,
                const per_channel_affine_params<Q>& params, std::span<float> out) {
  detail::map_per_channel(q, shape, params, out, "per-channel affine dequantize",
                          [](Q v, const affine_params<Q>& p) { return dequantize(v, p); });
}

}  // namespace pot
