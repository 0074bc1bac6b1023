#pragma once
/// \file
/// \brief The portable body of the float/double gemm micro-kernel
/// (simd/gemm_micro_kernel.hpp): xsimd FMA registers of the build's own architecture.

#include <algorithm>
#include <cstddef>

#include "pot/simd/xsimd_compat.hpp"

#include "pot/simd/dispatch.hpp"
#include "pot/simd/gemm_tile.hpp"

namespace pot::simd {

/// \brief A rows x cols tile kernel for element type \p T on xsimd architecture \p Arch.
///
/// The tile holds rows * column_batches registers of accumulators; 6 x 2 AVX2 registers
/// (6 x 16 floats) uses 12 of the 16 ymm registers and leaves room for the two B loads
/// and the A broadcast, so no accumulator spills.
///
/// Packed layout: the A panel stores, for each k, the `rows` values of column k of the
/// tile's rows (zero beyond the matrix); the B panel stores, for each k, the `cols`
/// values of row k (zero-padded), aligned to the register width. A full panel of a
/// row-major A can also be read in place (a_layout::row_major), which saves packing it.
template <class T, class Arch = xsimd::default_arch>
struct portable_gemm_micro_kernel {
  /// \brief The SIMD register type.
  using batch = xsimd::batch<T, Arch>;
  /// \brief Elements per register.
  static constexpr std::size_t lanes = batch::size;
  /// \brief Tile height (rows of C, and of a packed A panel).
  static constexpr std::size_t rows = 6;
  /// \brief Registers across one row of the tile.
  static constexpr std::size_t column_batches = 2;
  /// \brief Tile width (columns of C, and of a packed B panel).
  static constexpr std::size_t cols = lanes * column_batches;
  /// \brief Byte alignment the packed B panel must have.
  static constexpr std::size_t alignment = Arch::alignment();

  /// \brief Computes acc = sum over k < \p depth of a(:, k) (x) packed_b[k] and
  /// writes it into the \p valid_rows x \p valid_cols corner of the tile at \p c as
  /// \p update says; A is read as \p Layout says, \p lda being used by
  /// a_layout::row_major only.
  ///
  /// Every C element gets the same sequence of operations whether or not the tile is
  /// cut at the matrix edge and whichever layout A is read from, so a result does not
  /// depend on where tiles fall.
  template <a_layout Layout = a_layout::packed>
  static void run(std::size_t depth, const T* a, std::size_t lda, const T* packed_b, T alpha,
                  T beta, tile_update update, T* c, std::size_t ldc, std::size_t valid_rows,
                  std::size_t valid_cols) noexcept {
    // C is read or written only after the k loop; start fetching its lines now.
    for (std::size_t r = 0; r < valid_rows; ++r) {
      __builtin_prefetch(c + r * ldc, 1);
      __builtin_prefetch(c + r * ldc + valid_cols - 1, 1);
    }
    batch acc[rows][column_batches];
    for (auto& row : acc)
      for (auto& register_ : row) register_ = batch(T(0));

#pragma GCC unroll 4
    for (std::size_t k = 0; k < depth; ++k) {
      batch b[column_batches];
#pragma GCC unroll 4
      for (std::size_t j = 0; j < column_batches; ++j)
        b[j] = batch::load_aligned(packed_b + k * cols + j * lanes);
#pragma GCC unroll 8
      for (std::size_t r = 0; r < rows; ++r) {
        const batch a_rk(Layout == a_layout::packed ? a[k * rows + r] : a[r * lda + k]);
#pragma GCC unroll 4
        for (std::size_t j = 0; j < column_batches; ++j) acc[r][j] = xsimd::fma(a_rk, b[j], acc[r][j]);
      }
    }

    if (valid_rows == rows && valid_cols == cols) {
      store(acc, alpha, beta, update, c, ldc);
      return;
    }
    // An edge tile goes through a full-size scratch tile, so the arithmetic is the same.
    alignas(alignment) T scratch[rows * cols] = {};
    if (update != tile_update::overwrite)
      for (std::size_t r = 0; r < valid_rows; ++r)
        std::copy_n(c + r * ldc, valid_cols, scratch + r * cols);
    store(acc, alpha, beta, update, scratch, cols);
    for (std::size_t r = 0; r < valid_rows; ++r)
      std::copy_n(scratch + r * cols, valid_cols, c + r * ldc);
  }

 private:
  static void store(const batch (&acc)[rows][column_batches], T alpha, T beta,
                    tile_update update, T* c, std::size_t ldc) noexcept {
    const batch alpha_b(alpha);
    const batch beta_b(beta);
    for (std::size_t r = 0; r < rows; ++r) {
      for (std::size_t j = 0; j < column_batches; ++j) {
        T* target = c + r * ldc + j * lanes;
        batch result;
        switch (update) {
          case tile_update::overwrite:
            result = alpha_b * acc[r][j];
            break;
          case tile_update::scale_and_add:
            result = xsimd::fma(alpha_b, acc[r][j], beta_b * batch::load_unaligned(target));
            break;
          case tile_update::add:
            result = xsimd::fma(alpha_b, acc[r][j], batch::load_unaligned(target));
            break;
        }
        result.store_unaligned(target);
      }
    }
  }
};

/// \brief The portable kernel for \p T.
template <class T>
portable_gemm_micro_kernel<T> gemm_micro_kernel_for(portable_tag);

}  // namespace pot::simd
