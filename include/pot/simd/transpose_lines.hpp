#pragma once
/// \file
/// \brief transpose_lines: packs lines that run along K into k-major panels, with an AVX
/// 8 x 8 float transpose where the target has one.

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <type_traits>

#include "pot/simd/dispatch.hpp"
#include "pot/simd/target.hpp"

namespace pot::simd {

namespace detail {

/// The scalar transpose: the reference of the vector path and its tail.
template <std::size_t Width, class T>
void transpose_lines_scalar(const T* first, std::size_t line_step, std::size_t valid,
                            std::size_t k_begin, std::size_t k_end, T* packed) noexcept {
  for (std::size_t k = k_begin; k < k_end; ++k) {
    T* target = packed + k * Width;
    for (std::size_t p = 0; p < Width; ++p) target[p] = p < valid ? first[p * line_step + k] : T(0);
  }
}


}  // namespace detail

/// \brief `packed[k * Width + p] = first[p * line_step + k]` for p < \p valid, and 0 for
/// \p valid <= p < Width, over k < \p depth: the panel layout of the gemm micro-kernels
/// built from lines that are contiguous along K.
///
/// This is a transpose, and element by element it costs a load and a store per value,
/// several times the micro-kernel's time per value on thin products; the AVX2 body
/// moves 8 x 8 blocks of floats through registers instead. Both copy values only, so
/// they give identical panels.
///
/// \pre 0 < valid <= Width.
template <std::size_t Width, class T>
void transpose_lines(portable_tag, const T* first, std::size_t line_step, std::size_t valid, std::size_t depth,
                     T* packed) noexcept {
  detail::transpose_lines_scalar<Width>(first, line_step, valid, 0, depth, packed);
}

}  // namespace pot::simd

#if defined(POT_SIMD_X86)
POT_TARGET_AVX2_BEGIN
namespace pot::simd {

namespace detail_avx2 {

/// Transposes rows[0..7] in place: afterwards rows[k] holds element k of every input row.
inline void transpose_8x8(__m256 (&rows)[8]) noexcept {
  __m256 pairs[8];  // interleaved neighbours: (r0 r1), (r2 r3), ... low and high halves
  for (int i = 0; i < 4; ++i) {
    pairs[2 * i] = _mm256_unpacklo_ps(rows[2 * i], rows[2 * i + 1]);
    pairs[2 * i + 1] = _mm256_unpackhi_ps(rows[2 * i], rows[2 * i + 1]);
  }
  __m256 quads[8];  // columns of four rows, per 128-bit lane: k and k + 4
  for (int half = 0; half < 2; ++half) {
    const __m256* p = pairs + 4 * half;
    __m256* q = quads + 4 * half;
    q[0] = _mm256_shuffle_ps(p[0], p[2], _MM_SHUFFLE(1, 0, 1, 0));
    q[1] = _mm256_shuffle_ps(p[0], p[2], _MM_SHUFFLE(3, 2, 3, 2));
    q[2] = _mm256_shuffle_ps(p[1], p[3], _MM_SHUFFLE(1, 0, 1, 0));
    q[3] = _mm256_shuffle_ps(p[1], p[3], _MM_SHUFFLE(3, 2, 3, 2));
  }
  for (int k = 0; k < 4; ++k) {
    rows[k] = _mm256_permute2f128_ps(quads[k], quads[k + 4], 0x20);
    rows[k + 4] = _mm256_permute2f128_ps(quads[k], quads[k + 4], 0x31);
  }
}

}  // namespace detail_avx2

/// \brief transpose_lines() with 8 x 8 float blocks in ymm registers.
template <std::size_t Width, class T>
void transpose_lines(avx2_tag, const T* first, std::size_t line_step, std::size_t valid, std::size_t depth,
                     T* packed) noexcept {
  std::size_t k = 0;
  if constexpr (std::is_same_v<T, float>) {
    for (; k + 8 <= depth; k += 8) {
      for (std::size_t group = 0; group < Width; group += 8) {
        const std::size_t width = std::min<std::size_t>(8, Width - group);
        __m256 rows[8];
        for (std::size_t p = 0; p < 8; ++p)
          rows[p] = group + p < valid ? _mm256_loadu_ps(first + (group + p) * line_step + k) : _mm256_setzero_ps();
        detail_avx2::transpose_8x8(rows);
        for (std::size_t kk = 0; kk < 8; ++kk) {
          float* target = packed + (k + kk) * Width + group;
          if (width == 8) {
            _mm256_storeu_ps(target, rows[kk]);
          } else {
            alignas(32) float row[8];
            _mm256_store_ps(row, rows[kk]);
            std::memcpy(target, row, width * sizeof(float));
          }
        }
      }
    }
  }
  detail::transpose_lines_scalar<Width>(first, line_step, valid, k, depth, packed);
}

}  // namespace pot::simd
POT_TARGET_END
#endif
