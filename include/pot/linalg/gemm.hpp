#pragma once
/// \file
/// \brief gemm: C = alpha * op(A) * op(B) + beta * C, cache-blocked and multi-threaded
/// for float and double, the reference loop for every other element type.

#include <algorithm>
#include <cstddef>
#include <memory>
#include <new>
#include <type_traits>

#include "pot/simd/xsimd_compat.hpp"

#include "pot/linalg/execution.hpp"
#include "pot/linalg/gemm_arguments.hpp"
#include "pot/linalg/gemm_reference.hpp"
#include "pot/linalg/parallel_for.hpp"
#include "pot/simd/float_dot.hpp"
#include "pot/simd/gemm_micro_kernel.hpp"
#include "pot/simd/transpose_lines.hpp"

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

/// \brief Packing space for one gemm call on one thread: a buffer kept per thread for
/// small products, a fresh allocation for large ones.
///
/// Attention makes thousands of tiny gemm calls per training step, and two heap
/// allocations each cost about as much as their packing. A per-thread buffer of up to
/// kept_bytes (the packing of a product up to about 128 x 128 x 128) serves those;
/// larger products, whose allocation is negligible next to their work, allocate per call
/// so that no thread keeps megabytes after a big product.
template <class T, std::size_t Alignment>
class packing_buffers {
 public:
  /// \brief Bytes of packing space each thread keeps between calls.
  static constexpr std::size_t kept_bytes = std::size_t{256} << 10;

  /// \brief Space for \p count elements, uninitialised.
  explicit packing_buffers(std::size_t count) {
    if (count * sizeof(T) > kept_bytes) {
      owned_ = allocate_aligned<T, Alignment>(count);
      data_ = owned_.get();
      return;
    }
    thread_local std::unique_ptr<T, aligned_delete<Alignment>> kept =
        allocate_aligned<T, Alignment>(kept_bytes / sizeof(T));
    data_ = kept.get();
  }

  /// \brief The first element.
  [[nodiscard]] T* data() const noexcept { return data_; }

 private:
  std::unique_ptr<T, aligned_delete<Alignment>> owned_;
  T* data_ = nullptr;
};

/// \brief A strided view of the block of op(A) or op(B) that one pack copies.
///
/// Element (p, k) is `origin[p * panel_step + k * depth_step]`, where p runs along the
/// dimension cut into micro-kernel panels (rows of op(A), columns of op(B)) and k along
/// K. One of the two steps is 1 for every transpose combination, so packing has just
/// two cases: panel elements contiguous, or depth elements contiguous.
template <class T>
struct strided_block {
  const T* origin;         ///< element (0, 0)
  std::size_t panel_step;  ///< distance between neighbours along the panel dimension
  std::size_t depth_step;  ///< distance between neighbours along K
};

/// \brief The block of op(A) starting at row \p row0, column (k) \p col0.
template <class T>
strided_block<T> block_of_a(transpose ta, const T* A, std::size_t lda, std::size_t row0,
                            std::size_t col0) noexcept {
  return ta == transpose::no ? strided_block<T>{A + row0 * lda + col0, lda, 1}
                             : strided_block<T>{A + col0 * lda + row0, 1, lda};
}

/// \brief The block of op(B) starting at row (k) \p row0, column \p col0.
template <class T>
strided_block<T> block_of_b(transpose tb, const T* B, std::size_t ldb, std::size_t row0,
                            std::size_t col0) noexcept {
  return tb == transpose::no ? strided_block<T>{B + row0 * ldb + col0, 1, ldb}
                             : strided_block<T>{B + col0 * ldb + row0, ldb, 1};
}

/// \brief Packs \p extent x \p depth elements of \p block into panels of \p PanelWidth:
/// panel after panel, each storing for every k its PanelWidth values contiguously
/// (the layout simd::gemm_micro_kernel reads), zero-padding the last panel.
template <std::size_t PanelWidth, class T, class Isa>
void pack_panels(Isa isa, strided_block<T> block, std::size_t extent, std::size_t depth, T* packed) noexcept {
  for (std::size_t panel = 0; panel < extent; panel += PanelWidth, packed += PanelWidth * depth) {
    const std::size_t valid = std::min(PanelWidth, extent - panel);
    const T* first = block.origin + panel * block.panel_step;
    if (block.panel_step == 1) {
      // The panel's values at one k are contiguous: copy them as a run. A full panel's
      // run has the compile-time length PanelWidth, which the compiler turns into a few
      // vector moves instead of a memmove call per k.
      if (valid == PanelWidth) {
        for (std::size_t k = 0; k < depth; ++k) {
          const T* source = first + k * block.depth_step;
          T* target = packed + k * PanelWidth;
          for (std::size_t p = 0; p < PanelWidth; ++p) target[p] = source[p];
        }
        continue;
      }
      for (std::size_t k = 0; k < depth; ++k) {
        T* target = packed + k * PanelWidth;
        std::copy_n(first + k * block.depth_step, valid, target);
        std::fill(target + valid, target + PanelWidth, T(0));
      }
    } else {
      // Then depth_step == 1 (see strided_block): each panel line is contiguous along K.
      simd::transpose_lines<PanelWidth>(isa, first, block.panel_step, valid, depth, packed);
    }
  }
}

/// \brief The blocked gemm on one thread with the micro-kernel \p kernel, for K > 0
/// (arguments already checked).
template <class T, class kernel, class Isa>
void gemm_blocked(Isa isa, transpose ta, transpose tb, std::size_t M, std::size_t N, std::size_t K,
                  T alpha, const T* A, std::size_t lda, const T* B, std::size_t ldb, T beta,
                  T* C, std::size_t ldc) {
  using blocking = gemm_blocking<T>;
  static_assert(blocking::mc % kernel::rows == 0 && blocking::nc % kernel::cols == 0);
  auto round_up = [](std::size_t value, std::size_t step) { return (value + step - 1) / step * step; };

  const std::size_t block_depth = std::min(K, blocking::kc);
  // packed_b follows packed_a in one buffer and must keep the kernel's alignment.
  const std::size_t a_size = round_up(round_up(std::min(M, blocking::mc), kernel::rows) * block_depth,
                                      kernel::alignment / sizeof(T));
  const std::size_t b_size = round_up(std::min(N, blocking::nc), kernel::cols) * block_depth;
  packing_buffers<T, kernel::alignment> buffers(a_size + b_size);
  T* const packed_a = buffers.data();
  T* const packed_b = packed_a + a_size;

  for (std::size_t jc = 0; jc < N; jc += blocking::nc) {
    const std::size_t width = std::min(blocking::nc, N - jc);
    for (std::size_t pc = 0; pc < K; pc += blocking::kc) {
      const std::size_t depth = std::min(blocking::kc, K - pc);
      pack_panels<kernel::cols>(isa, block_of_b(tb, B, ldb, pc, jc), width, depth, packed_b);
      const simd::tile_update update =
          pc != 0 ? simd::tile_update::add
                  : (beta == T(0) ? simd::tile_update::overwrite : simd::tile_update::scale_and_add);
      for (std::size_t ic = 0; ic < M; ic += blocking::mc) {
        const std::size_t height = std::min(blocking::mc, M - ic);
        // A row-major A's full row panels are read in place: packing them is a transpose,
        // which on thin products (N = 128) costs over a tenth of the multiply time. Only
        // the last, partial panel is packed (with its zero padding).
        const std::size_t in_place =
            ta == transpose::no ? height / kernel::rows * kernel::rows : 0;
        if (in_place < height)
          pack_panels<kernel::rows>(isa, block_of_a(ta, A, lda, ic + in_place, pc), height - in_place,
                                    depth, packed_a);
        for (std::size_t jr = 0; jr < width; jr += kernel::cols) {
          const T* b_panel = packed_b + jr * depth;
          const std::size_t valid_cols = std::min(kernel::cols, width - jr);
          for (std::size_t ir = 0; ir < height; ir += kernel::rows) {
            T* c_tile = C + (ic + ir) * ldc + jc + jr;
            if (ir < in_place) {
              kernel::template run<simd::a_layout::row_major>(
                  depth, A + (ic + ir) * lda + pc, lda, b_panel, alpha, beta, update, c_tile, ldc,
                  kernel::rows, valid_cols);
            } else {
              kernel::run(depth, packed_a + (ir - in_place) * depth, 0, b_panel, alpha,
                          beta, update, c_tile, ldc, std::min(kernel::rows, height - ir),
                          valid_cols);
            }
          }
        }
      }
    }
  }
}

/// \brief Multiply-adds of the blocked kernel per unit of work of linalg::for_work().
///
/// So a thread gets at least 2^22 multiply-adds, over 50 us on one Zen 3 core: starting
/// and joining a worker without a pool costs tens of microseconds (bench_gemm_float's
/// parallel_for_overhead), and the thin products of a transformer layer gained nothing
/// from a finer split on a pool.
inline constexpr double multiply_adds_per_work_unit = 256;

}  // namespace detail

/// \brief C (M, N) = alpha * op(A) (M, K) * op(B) (K, N) + beta * C, row-major.
///
/// Arguments as in gemm_reference (checked the same way; beta == 0 overwrites C without
/// reading it). For float and double this is a cache-blocked kernel: op(A) and op(B)
/// are packed (any transpose combination is handled there) and one FMA micro-kernel of the
/// active instruction set (simd/gemm_micro_kernel.hpp) computes every tile. The rows of C (or its columns, when N > M) are
/// split over up to thread_count(\p settings) threads, fewer when the product is too
/// small to pay for them. Each C element is summed in the same order whatever the
/// thread count, so results are bitwise independent of \p settings.
///
/// A float product of one row of A by a transposed B (M = 1, `tb == transpose::yes`: a
/// Linear applied to one token) takes dot products instead, one per column of C, which
/// read B once in place; they sum in another order than the tiles, so such a row can
/// differ from the same row of a larger product by float rounding.
///
/// Every other T (long double, autodiff variables, ...) runs gemm_reference on the
/// calling thread: an autodiff variable records onto its own thread's tape.
///
/// \throws std::invalid_argument from check_gemm_arguments.
template <class T>
void gemm(transpose ta, transpose tb, std::size_t M, std::size_t N, std::size_t K, T alpha,
          const T* A, std::size_t lda, const T* B, std::size_t ldb, T beta, T* C, std::size_t ldc,
          execution settings = {}) {
  constexpr bool fast = std::is_same_v<T, float> || std::is_same_v<T, double>;
  if constexpr (!fast) {
    gemm_reference(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
  } else {
    check_gemm_arguments(ta, tb, M, N, K, A, lda, B, ldb, C, ldc);
    if (M == 0 || N == 0) return;
    if (K == 0) {  // no products: C = beta * C, exactly as the reference does it
      gemm_reference(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
      return;
    }
    // In double: M * N * K can overflow std::size_t, and only its magnitude matters here.
    const execution chunking = for_work(
        settings, static_cast<double>(M) * static_cast<double>(N) * static_cast<double>(K) /
                      detail::multiply_adds_per_work_unit);
    simd::dispatch([&](auto isa) {
      if constexpr (std::is_same_v<T, float>) {
        if (M == 1 && ta == transpose::no && tb == transpose::yes) {
          // One row times row-major weights, a Linear's decode step: one dot product per
          // output reads B once, where packing B into panels would read and write it all.
          parallel_for(0, N, [&](std::size_t first, std::size_t last) {
            for (std::size_t n = first; n < last; ++n) {
              const float product = alpha * simd::dot_float(isa, A, B + n * ldb, K);
              C[n] = beta == 0.0f ? product : product + beta * C[n];
            }
          }, chunking);
          return;
        }
      }
      if constexpr (std::is_same_v<decltype(isa), simd::portable_tag> && !detail::has_simd) {
        gemm_reference(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
      } else {
        using kernel = decltype(simd::gemm_micro_kernel_for<T>(isa));
        if (M >= N) {
          // Thread chunks are whole micro-kernel row panels, so the tiles are the same ones.
          parallel_for(0, (M + kernel::rows - 1) / kernel::rows, [&](std::size_t first, std::size_t last) {
            const std::size_t row0 = first * kernel::rows;
            const std::size_t rows = std::min(last * kernel::rows, M) - row0;
            const T* A_rows = ta == transpose::no ? A + row0 * lda : A + row0;
            detail::gemm_blocked<T, kernel>(isa, ta, tb, rows, N, K, alpha, A_rows, lda, B, ldb, beta, C + row0 * ldc, ldc);
          }, chunking);
        } else {
          parallel_for(0, (N + kernel::cols - 1) / kernel::cols, [&](std::size_t first, std::size_t last) {
            const std::size_t col0 = first * kernel::cols;
            const std::size_t cols = std::min(last * kernel::cols, N) - col0;
            const T* B_cols = tb == transpose::no ? B + col0 : B + col0 * ldb;
            detail::gemm_blocked<T, kernel>(isa, ta, tb, M, cols, K, alpha, A, lda, B_cols, ldb, beta, C + col0, ldc);
          }, chunking);
        }
      }
    });
  }
}

}  // namespace pot::linalg
