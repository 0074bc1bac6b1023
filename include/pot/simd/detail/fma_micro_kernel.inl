// The float/double gemm micro-kernel on intrinsic registers, written once and compiled
// once per instruction set: simd/avx2/gemm_micro_kernel.hpp and
// simd/avx512/gemm_micro_kernel.hpp include this file inside their target region and
// their own detail namespace, after defining there
//   template <class T> struct reg;   // the register of T: type, lanes, zero(), set1(),
//                                    // load(), loadu(), storeu(), fma(), mul()
//   inline constexpr std::size_t micro_rows;  // tile height
// It has no include guard on purpose and includes nothing (see simd/target.hpp).

/// A micro_rows x (2 * lanes) tile of C from packed panels, as the portable kernel
/// (simd/portable/gemm_micro_kernel.hpp) documents, with the same operations per element.
template <class T>
struct fma_micro_kernel {
  using r = reg<T>;
  using batch = typename r::type;
  static constexpr std::size_t lanes = r::lanes;
  static constexpr std::size_t rows = micro_rows;
  static constexpr std::size_t column_batches = 2;
  static constexpr std::size_t cols = lanes * column_batches;
  static constexpr std::size_t alignment = sizeof(batch);

  template <a_layout Layout = a_layout::packed>
  static void run(std::size_t depth, const T* a, std::size_t lda, const T* packed_b, T alpha, T beta,
                  tile_update update, T* c, std::size_t ldc, std::size_t valid_rows, std::size_t valid_cols) noexcept {
    // C is read or written only after the k loop; start fetching its lines now.
    for (std::size_t i = 0; i < valid_rows; ++i) {
      __builtin_prefetch(c + i * ldc, 1);
      __builtin_prefetch(c + i * ldc + valid_cols - 1, 1);
    }
    batch acc[rows][column_batches];
    for (auto& row : acc)
      for (auto& register_ : row) register_ = r::zero();
#pragma GCC unroll 4
    for (std::size_t k = 0; k < depth; ++k) {
      const batch b0 = r::load(packed_b + k * cols), b1 = r::load(packed_b + k * cols + lanes);
#pragma GCC unroll 16
      for (std::size_t i = 0; i < rows; ++i) {
        const batch a_ik = r::set1(Layout == a_layout::packed ? a[k * rows + i] : a[i * lda + k]);
        acc[i][0] = r::fma(a_ik, b0, acc[i][0]);
        acc[i][1] = r::fma(a_ik, b1, acc[i][1]);
      }
    }
    if (valid_rows == rows && valid_cols == cols) {
      store(acc, alpha, beta, update, c, ldc);
      return;
    }
    // An edge tile goes through a full-size scratch tile, so the arithmetic is the same.
    alignas(alignment) T scratch[rows * cols] = {};
    if (update != tile_update::overwrite)
      for (std::size_t i = 0; i < valid_rows; ++i)
        for (std::size_t j = 0; j < valid_cols; ++j) scratch[i * cols + j] = c[i * ldc + j];
    store(acc, alpha, beta, update, scratch, cols);
    for (std::size_t i = 0; i < valid_rows; ++i)
      for (std::size_t j = 0; j < valid_cols; ++j) c[i * ldc + j] = scratch[i * cols + j];
  }

 private:
  static void store(const batch (&acc)[rows][column_batches], T alpha, T beta, tile_update update, T* c,
                    std::size_t ldc) noexcept {
    const batch alpha_b = r::set1(alpha), beta_b = r::set1(beta);
#pragma GCC unroll 16
    for (std::size_t i = 0; i < rows; ++i)
      for (std::size_t j = 0; j < column_batches; ++j) {
        T* target = c + i * ldc + j * lanes;
        switch (update) {
          case tile_update::overwrite: r::storeu(target, r::mul(alpha_b, acc[i][j])); break;
          case tile_update::scale_and_add:
            r::storeu(target, r::fma(alpha_b, acc[i][j], r::mul(beta_b, r::loadu(target))));
            break;
          case tile_update::add: r::storeu(target, r::fma(alpha_b, acc[i][j], r::loadu(target))); break;
        }
      }
  }
};
