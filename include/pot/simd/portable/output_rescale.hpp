#pragma once
/// \file
/// \brief The portable body of the output rescale (simd/output_rescale.hpp): std::fma
/// value by value (one fmadd on AArch64, whose base architecture has it).

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "pot/simd/dispatch.hpp"

namespace pot::simd {

/// \brief `out[i] = float(fma(double(acc[i]), multipliers[i], double(bias[i])))` for
/// i < n.
inline void rescale_row(portable_tag, const std::int32_t* acc, const double* multipliers, const float* bias,
                        float* out, std::size_t n) noexcept {
  for (std::size_t i = 0; i < n; ++i)
    out[i] = static_cast<float>(std::fma(static_cast<double>(acc[i]), multipliers[i], static_cast<double>(bias[i])));
}

}  // namespace pot::simd
