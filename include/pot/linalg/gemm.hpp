#pragma once
/// \file
/// \brief gemm: C = alpha * op(A) * op(B) + beta * C, cache-blocked and multi-threaded
/// for float and double, the reference loop for every other element type.

#include <algorithm>
#include <cstddef>
#include <memory>
#include <new>
#include <type_traits>

#include <xsimd/xsimd.hpp>

#include "pot/linalg/execution.hpp"
#include "pot/linalg/gemm_arguments.hpp"
#include "pot/linalg/gemm_reference.hpp"
#include "pot/linalg/parallel_for.hpp"
#include "pot/simd/gemm_micro_kernel.hpp"

namespace pot::linalg {

/// \brief Cache-blocking sizes of the fast gemm, in elements.
///
/// Chosen for 32 KiB L1d and 512 KiB L2 per core (AMD Zen 3/4), then tuned by
/// measurement (bench_gemm_float, docs/benchmarks.md): a packed B micro-panel (kc x cols
/// of the micro-kernel, 24 KiB for float) stays in L1 while the A panels stream past it,
/// the packed A block (mc x kc, 288 KiB for float) stays in L2, and the packed B panel
/// (kc x nc) lives in L3.
///
/// Sizes in bytes are the same for double: half as many rows of A per block.
template <class T>
struct gemm_blocking {
  /// \brief Rows of op(A) packed at once (a multiple of the micro-kernel's rows).
  static constexpr std::size_t mc = 768 / sizeof(T);
  /// \brief Depth of one packed K block.
  static constexpr std::size_t kc = 384;
  /// \brief Columns of op(B) packed at once (a multiple of the micro-kernel's cols for
  /// every register width, up to AVX-512's 32-float tiles).
  static constexpr std::size_t nc = 4096;
};

namespace detail {

/// \brief True when xsimd has a SIMD architecture for this build target.
inline constexpr bool has_simd = !std::is_same_v<xsimd::default_arch, xsimd::unavailable>;

/// \brief Frees memory from the aligned operator new.
template <std::size_t Alignment>
struct aligned_delete {
  /// \brief Releases \p pointer.
  void operator()(void* pointer) const noexcept {
    ::operator delete(pointer, std::align_val_t(Alignment));
  }
};

/// \brief An uninitialised array of \p count elements aligned to \p Alignment bytes.
template <class T, std::size_t Alignment>
std::unique_ptr<T, aligned_delete<Alignment>> allocate_aligned(std::size_t count) {
  return std::unique_ptr<T, aligned_delete<Alignment>>(
      static_cast<T*>(::operator new(count * sizeof(T), std::align_val_t(Alignment))));
}

/// \brief Packs rows [row0, row0 + height) and columns [col0, col0 + depth) of op(A)
/// into panels of Kernel::rows rows (see simd::gemm_micro_kernel), zero-padding the last.
template <class Kernel, class T>
void pack_a(transpose ta, const T* A, std::size_t lda, std::size_t row0, std::size_t height,
            std::size_t col0, std::size_t depth, T* packed) noexcept {
  constexpr std::size_t panel_rows = Kernel::rows;
  for (std::size_t panel = 0; panel < height; panel += panel_rows, packed += panel_rows * depth) {
    const std::size_t valid = std::min(panel_rows, height - panel);
    if (ta == transpose::no) {
      // Row i of op(A) is contiguous: read along it, write with stride panel_rows.
      for (std::size_t r = 0; r < valid; ++r) {
        const T* source = A + (row0 + panel + r) * lda + col0;
        for (std::size_t k = 0; k < depth; ++k) packed[k * panel_rows + r] = source[k];
      }
    } else {
      // Column k of op(A) is row k of the stored A: panel_rows contiguous values.
      for (std::size_t k = 0; k < depth; ++k) {
        const T* source = A + (col0 + k) * lda + row0 + panel;
        std::copy_n(source, valid, packed + k * panel_rows);
      }
    }
    for (std::size_t r = valid; r < panel_rows; ++r)
      for (std::size_t k = 0; k < depth; ++k) packed[k * panel_rows + r] = T(0);
  }
}

/// \brief Packs rows [row0, row0 + depth) and columns [col0, col0 + width) of op(B) into
/// panels of Kernel::cols columns (see simd::gemm_micro_kernel), zero-padding the last.
template <class Kernel, class T>
void pack_b(transpose tb, const T* B, std::size_t ldb, std::size_t row0, std::size_t depth,
            std::size_t col0, std::size_t width, T* packed) noexcept {
  constexpr std::size_t panel_cols = Kernel::cols;
  for (std::size_t panel = 0; panel < width; panel += panel_cols, packed += panel_cols * depth) {
    const std::size_t valid = std::min(panel_cols, width - panel);
    if (tb == transpose::no) {
      for (std::size_t k = 0; k < depth; ++k) {
        const T* source = B + (row0 + k) * ldb + col0 + panel;
        T* target = packed + k * panel_cols;
        std::copy_n(source, valid, target);
        std::fill(target + valid, target + panel_cols, T(0));
      }
    } else {
      // Column j of op(B) is row j of the stored B: read along it, write with a stride.
      for (std::size_t c = 0; c < valid; ++c) {
        const T* source = B + (col0 + panel + c) * ldb + row0;
        for (std::size_t k = 0; k < depth; ++k) packed[k * panel_cols + c] = source[k];
      }
      for (std::size_t c = valid; c < panel_cols; ++c)
        for (std::size_t k = 0; k < depth; ++k) packed[k * panel_cols + c] = T(0);
    }
  }
}

/// \brief The blocked gemm on one thread, for K > 0 (arguments already checked).
template <class T>
void gemm_blocked(transpose ta, transpose tb, std::size_t M, std::size_t N, std::size_t K,
                  T alpha, const T* A, std::size_t lda, const T* B, std::size_t ldb, T beta,
                  T* C, std::size_t ldc) {
  using kernel = simd::gemm_micro_kernel<T>;
  using blocking = gemm_blocking<T>;
  static_assert(blocking::mc % kernel::rows == 0 && blocking::nc % kernel::cols == 0);
  auto round_up = [](std::size_t value, std::size_t step) { return (value + step - 1) / step * step; };

  const std::size_t block_depth = std::min(K, blocking::kc);
  auto packed_a = allocate_aligned<T, kernel::alignment>(
      round_up(std::min(M, blocking::mc), kernel::rows) * block_depth);
  auto packed_b = allocate_aligned<T, kernel::alignment>(
      round_up(std::min(N, blocking::nc), kernel::cols) * block_depth);

  for (std::size_t jc = 0; jc < N; jc += blocking::nc) {
    const std::size_t width = std::min(blocking::nc, N - jc);
    for (std::size_t pc = 0; pc < K; pc += blocking::kc) {
      const std::size_t depth = std::min(blocking::kc, K - pc);
      pack_b<kernel>(tb, B, ldb, pc, depth, jc, width, packed_b.get());
      const simd::tile_update update =
          pc != 0 ? simd::tile_update::add
                  : (beta == T(0) ? simd::tile_update::overwrite : simd::tile_update::scale_and_add);
      for (std::size_t ic = 0; ic < M; ic += blocking::mc) {
        const std::size_t height = std::min(blocking::mc, M - ic);
        pack_a<kernel>(ta, A, lda, ic, height, pc, depth, packed_a.get());
        for (std::size_t jr = 0; jr < width; jr += kernel::cols) {
          const T* b_panel = packed_b.get() + jr * depth;
          for (std::size_t ir = 0; ir < height; ir += kernel::rows) {
            kernel::run(depth, packed_a.get() + ir * depth, b_panel, alpha, beta, update,
                        C + (ic + ir) * ldc + jc + jr, ldc,
                        std::min(kernel::rows, height - ir), std::min(kernel::cols, width - jr));
          }
        }
      }
    }
  }
}

/// \brief Multiply-adds each thread must get before gemm starts another one.
///
/// Starting and joining a worker costs tens of microseconds (bench_gemm_float's
/// parallel_for_overhead); 2^22 multiply-adds take over 50 us on one Zen 3 core, so a
/// thread is only started when it has more work than it costs.
inline constexpr std::size_t min_work_per_thread = std::size_t{1} << 22;

}  // namespace detail

/// \brief C (M, N) = alpha * op(A) (M, K) * op(B) (K, N) + beta * C, row-major.
///
/// Arguments as in gemm_reference (checked the same way; beta == 0 overwrites C without
/// reading it). For float and double this is a cache-blocked kernel: op(A) and op(B)
/// are packed (any transpose combination is handled there) and one xsimd FMA
/// micro-kernel computes every tile. The rows of C (or its columns, when N > M) are
/// split over up to thread_count(\p settings) threads, fewer when the product is too
/// small to pay for them. Each C element is summed in the same order whatever the
/// thread count, so results are bitwise independent of \p settings.
///
/// Every other T (long double, autodiff variables, ...) runs gemm_reference on the
/// calling thread: an autodiff variable records onto its own thread's tape.
///
/// \throws std::invalid_argument from check_gemm_arguments.
template <class T>
void gemm(transpose ta, transpose tb, std::size_t M, std::size_t N, std::size_t K, T alpha,
          const T* A, std::size_t lda, const T* B, std::size_t ldb, T beta, T* C, std::size_t ldc,
          execution settings = {}) {
  constexpr bool fast = (std::is_same_v<T, float> || std::is_same_v<T, double>) && detail::has_simd;
  if constexpr (!fast) {
    gemm_reference(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
  } else {
    check_gemm_arguments(ta, tb, M, N, K, A, lda, B, ldb, C, ldc);
    if (M == 0 || N == 0) return;
    if (K == 0) {  // no products: C = beta * C, exactly as the reference does it
      gemm_reference(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
      return;
    }
    using kernel = simd::gemm_micro_kernel<T>;
    // In double: M * N * K can overflow std::size_t, and only its magnitude matters here.
    const double useful_threads =
        static_cast<double>(M) * static_cast<double>(N) * static_cast<double>(K) /
        static_cast<double>(detail::min_work_per_thread);
    const unsigned threads = useful_threads < 1.0 ? 1U
        : useful_threads < static_cast<double>(thread_count(settings))
            ? static_cast<unsigned>(useful_threads) : thread_count(settings);
    const execution chunking{threads};
    if (M >= N) {
      // Thread chunks are whole micro-kernel row panels, so the tiles are the same ones.
      parallel_for(0, (M + kernel::rows - 1) / kernel::rows, [&](std::size_t first, std::size_t last) {
        const std::size_t row0 = first * kernel::rows;
        const std::size_t rows = std::min(last * kernel::rows, M) - row0;
        const T* A_rows = ta == transpose::no ? A + row0 * lda : A + row0;
        detail::gemm_blocked(ta, tb, rows, N, K, alpha, A_rows, lda, B, ldb, beta,
                             C + row0 * ldc, ldc);
      }, chunking);
    } else {
      parallel_for(0, (N + kernel::cols - 1) / kernel::cols, [&](std::size_t first, std::size_t last) {
        const std::size_t col0 = first * kernel::cols;
        const std::size_t cols = std::min(last * kernel::cols, N) - col0;
        const T* B_cols = tb == transpose::no ? B + col0 : B + col0 * ldb;
        detail::gemm_blocked(ta, tb, M, cols, K, alpha, A, lda, B_cols, ldb, beta, C + col0, ldc);
      }, chunking);
    }
  }
}

}  // namespace pot::linalg
