#pragma once
/// \file
/// \brief The AVX2 body of the output rescale (simd/output_rescale.hpp): four int32 sums
/// widened to double, one vfmadd231pd with the multipliers and the widened bias, narrowed
/// to float (vcvtpd2ps rounds to nearest, as the scalar conversion does).

#include <cstddef>
#include <cstdint>

#include "pot/simd/dispatch.hpp"
#include "pot/simd/target.hpp"

POT_TARGET_AVX2_BEGIN
namespace pot::simd {

/// \brief rescale_tile() of simd/portable/output_rescale.hpp on AVX2 registers: one call
/// per tile (a panel's rows), so that the call costs nothing per row.
inline void rescale_tile(avx2_tag, const std::int32_t* acc, std::size_t acc_stride, const double* multipliers,
                         const float* bias, float* out, std::size_t out_stride, std::size_t rows,
                         std::size_t n) noexcept {
  for (std::size_t r = 0; r < rows; ++r, acc += acc_stride, out += out_stride) {
    std::size_t i = 0;
    for (; i + 4 <= n; i += 4) {
      const __m256d sums = _mm256_cvtepi32_pd(_mm_loadu_si128(reinterpret_cast<const __m128i*>(acc + i)));
      const __m256d addends = _mm256_cvtps_pd(_mm_loadu_ps(bias + i));
      _mm_storeu_ps(out + i, _mm256_cvtpd_ps(_mm256_fmadd_pd(sums, _mm256_loadu_pd(multipliers + i), addends)));
    }
    for (; i < n; ++i) {
      const __m128d addend = _mm_set_sd(static_cast<double>(bias[i]));
      const __m128d value = _mm_fmadd_sd(_mm_set_sd(static_cast<double>(acc[i])), _mm_set_sd(multipliers[i]), addend);
      out[i] = _mm_cvtss_f32(_mm_cvtsd_ss(_mm_setzero_ps(), value));
    }
  }
}

}  // namespace pot::simd
POT_TARGET_END
