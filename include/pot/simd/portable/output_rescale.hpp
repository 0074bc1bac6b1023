#pragma once
/// \file
/// \brief The portable body of the output rescale (simd/output_rescale.hpp): std::fma
/// value by value (one fmadd on AArch64, whose base architecture has it).

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "pot/simd/dispatch.hpp"

namespace pot::simd {

/// \brief `out[r * out_stride + i] = float(fma(double(acc[r * acc_stride + i]),
/// multipliers[i], double(bias[i])))` for r < rows, i < n: a tile of rows of n outputs.
inline void rescale_tile(portable_tag, const std::int32_t* acc, std::size_t acc_stride, const double* multipliers,
                         const float* bias, float* out, std::size_t out_stride, std::size_t rows,
                         std::size_t n) noexcept {
  for (std::size_t r = 0; r < rows; ++r, acc += acc_stride, out += out_stride)
    for (std::size_t i = 0; i < n; ++i)
      out[i] = static_cast<float>(std::fma(static_cast<double>(acc[i]), multipliers[i], static_cast<double>(bias[i])));
}

}  // namespace pot::simd
