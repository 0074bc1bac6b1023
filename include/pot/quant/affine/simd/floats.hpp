#pragma once
/// \file
/// \brief The parameters of one affine quantization as the vector bodies of the affine
/// scheme (quant/affine/simd/) use them: every one a float (exactly, see
/// quantize_vectorizes() in quant/affine/quantize.hpp).

namespace pot::detail {

/// \brief Affine parameters as floats: `code = clamp(nearbyint(x * inv_scale) +
/// zero_point, qmin, qmax)`, NaN to the zero point; `value = (code - zero_point) * scale`.
struct affine_floats {
  float inv_scale;   ///< 1 / scale, rounded once as the scalar quantize does
  float scale;       ///< the scale
  float zero_point;  ///< the zero point
  float qmin;        ///< the least code
  float qmax;        ///< the greatest code
};

}  // namespace pot::detail
