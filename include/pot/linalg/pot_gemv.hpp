#pragma once
/// \file
/// \brief GEMV over packed PoT weights: `out[r] = sum_k (q_k - zp) * 2^(e_rk - MinExp) *
/// sign_rk` exactly in int32 for 8-bit affine activations, or `scale(r) * sum_k x_k * w_rk`
/// for float activations. Each fast kernel has the scalar reference beside it.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "pot/core/packing.hpp"
#include "pot/core/traits.hpp"
#include "pot/linalg/execution.hpp"
#include "pot/linalg/parallel_for.hpp"
#include "pot/linalg/pot_weights.hpp"
#include "pot/core/decode_tables.hpp"
#include "pot/simd/code_decoding.hpp"
#include "pot/simd/dispatch.hpp"
#include "pot/simd/float_dot.hpp"
#include "pot/simd/integer_dot.hpp"
#include "pot/simd/shift_accumulate.hpp"

namespace pot::linalg {

/// \brief Which kernel computes a PoT-weight product.
enum class pot_kernel {
  reference,  ///< Scalar, from each code through P::from_code: the oracle of the others.
  shift,      ///< Shift-accumulate: variable shift, conditional negate, int32 sum.
  table,      ///< Codes decoded through a table to int8 / int16 (or float), then integer
              ///< dot products (vpmaddubsw / vpmaddwd, vpdpbusd / vpdpwssd with AVX-512).
};

namespace detail {

/// Exponent range MaxExp - MinExp of `P`: the largest shift an integer kernel performs.
template <pot_type P>
inline constexpr int shift_range = P::max_exponent - P::min_exponent;

template <pot_type P>
inline constexpr bool fits_int32_kernels = shift_range<P> <= 23;

/// The exact dot product of one row from its codes, accumulated in int64 so that it does
/// not rely on the bound it is used to check.
template <pot_type P>
inline std::int32_t reference_row_dot(const std::byte* row, centered_activations x) {
  std::vector<std::uint8_t> codes(x.codes.size());
  unpack_codes(std::span<const std::byte>(row, packed_bytes(codes.size(), P::bits)), P::bits, codes);
  std::int64_t sum = 0;
  for (std::size_t k = 0; k < codes.size(); ++k) {
    const P weight = P::from_code(codes[k]);
    if (weight.is_zero()) continue;
    const std::int64_t term = (std::int64_t{x.codes[k]} - x.zero_point) << weight.exponent_index();
    sum += weight.is_negative() ? -term : term;
  }
  return static_cast<std::int32_t>(sum);
}

/// The decode tables of `P` (core/decode_tables.hpp), built once at compile time.
template <pot_type P, class T>
inline constexpr auto integer_table = integer_decode_table<P, T>();
template <pot_type P>
inline constexpr auto float_table = float_decode_table<P>();

template <pot_type P>
inline constexpr bool table_uses_int8 = shift_range<P> <= 6;
template <pot_type P>
inline constexpr bool table_uses_int16 = !table_uses_int8<P> && shift_range<P> <= 14;

/// The tables of the uint8 x int8 4-bit kernels (simd::u8_packed4_tables) for a format
/// of exponent range up to 7: the int8 weights, +128 stored as -128, and where it was.
template <pot_type P>
inline constexpr simd::u8_packed4_tables u8_packed4_tables = [] {
  static_assert(P::bits == 4 && shift_range<P> <= 7, "pot: int8 4-bit tables need an exponent range <= 7");
  simd::u8_packed4_tables tables;
  constexpr auto exact = integer_decode_table<P, std::int16_t>();
  for (std::size_t code = 0; code < exact.size(); ++code) {
    tables.weights[code] = static_cast<std::int8_t>(static_cast<std::uint8_t>(exact[code] & 0xFF));
    tables.top[code] = exact[code] == 128 ? 1 : 0;
  }
  return tables;
}();

/// Whether `isa`'s uint8 x int8 4-bit kernel takes the exponent range of `P`.
template <pot_type P, class Isa>
inline constexpr bool u8_packed4_kernel_takes = shift_range<P> <= simd::u8_packed4_max_range(Isa{});

/// The row statistics of `w`: its own, or found here (a pass over the weights) when the
/// view has none; `storage` keeps the latter alive.
template <pot_type P>
inline std::span<const packed_row_statistics> statistics_of(const packed_weights_view<P>& w,
                                                            std::vector<packed_row_statistics>& storage) {
  if (!w.statistics.empty()) return w.statistics;
  storage = row_statistics(w);
  return storage;
}

/// Rows per pass of the fused 4-bit kernels: four rows share each activation load and
/// keep four accumulators (or four pairs) in flight (eight were no faster on AVX2).
inline constexpr std::size_t fused_rows_per_pass = 4;

/// How far ahead, in bytes of the matrix, the fused kernels prefetch: the first whole
/// group of rows at least this far on. 4 KiB (two groups at K = 3072 and 4096, six at
/// K = 768) gave the highest single-thread rate from DRAM on the AVX-512 Xeon of
/// docs/benchmarks.md, within 1-2% from 3 KiB to 16 KiB; without prefetching the 4-row
/// streams read at 60% of that.
inline constexpr std::size_t fused_prefetch_bytes = 4096;

/// Rows [first, last) by `pass(rows, r, ahead)`, which computes `rows` (an
/// integral_constant) rows from row `r` and prefetches the rows from `ahead`: groups of
/// fused_rows_per_pass, then single rows. Prefetches stay inside [first, last), the
/// rows of this thread.
template <class Pass>
inline void row_groups(std::size_t first, std::size_t last, std::size_t row_stride, Pass pass) {
  constexpr std::size_t group_rows = fused_rows_per_pass;
  const std::size_t group_bytes = std::max<std::size_t>(1, group_rows * row_stride);
  const std::size_t ahead = group_rows * ((fused_prefetch_bytes + group_bytes - 1) / group_bytes);
  std::size_t r = first;
  for (; r + group_rows <= last; r += group_rows)
    pass(std::integral_constant<std::size_t, group_rows>{}, r, r + ahead + group_rows <= last ? r + ahead : r);
  for (; r < last; ++r) pass(std::integral_constant<std::size_t, 1>{}, r, r);
}

/// `x` in the order `position(k)` of one fused kernel body.
template <class T, class Position>
inline std::vector<T> ordered_activations(std::span<const T> x, Position position) {
  std::vector<T> ordered(x.size());
  simd::order_activations(x.data(), x.size(), ordered.data(), position);
  return ordered;
}

/// u - z widened to int16, the activations of the int16 and shift kernels.
inline std::vector<std::int16_t> centered16(centered_activations x) {
  std::vector<std::int16_t> centered(x.codes.size());
  for (std::size_t k = 0; k < centered.size(); ++k)
    centered[k] = static_cast<std::int16_t>(std::int32_t{x.codes[k]} - x.zero_point);
  return centered;
}

/// The integer GEMV of a 4-bit format by the fused kernels of `isa`: the table kernel
/// with uint8 activations and int8 weights (the zero point applied through each row's
/// sum of weights, and for range 7 the wrapped +128 corrected in the groups of rows that
/// hold one) when the instruction set's kernel takes the range, else centered int16
/// activations; or the shift kernel. Activations reordered once for the kernel, rows
/// split over threads.
template <pot_type P, class Isa>
inline void fused_packed4_gemv(Isa isa, pot_kernel kernel, const packed_weights_view<P>& w, centered_activations x,
                               std::span<std::int32_t> out, execution settings) {
  const std::size_t depth = x.codes.size();
  const auto rows_by = [&](auto rows_kernel) {
    parallel_for(0, w.rows, [&](std::size_t first, std::size_t last) {
      row_groups(first, last, w.row_stride_bytes, rows_kernel);
    }, settings);
  };
  if (kernel == pot_kernel::shift) {
    const auto ordered = ordered_activations<std::int16_t>(
        centered16(x), [&](std::size_t k) { return simd::packed4_shift_position(isa, k, depth); });
    rows_by([&](auto rows, std::size_t r, std::size_t ahead) {
      simd::shift_packed4_rows<P, decltype(rows)::value>(isa, ordered.data(), w.row(r), w.row_stride_bytes,
                                                         w.row(ahead), depth, out.data() + r);
    });
  } else if constexpr (u8_packed4_kernel_takes<P, Isa>) {
    constexpr const auto& tables = u8_packed4_tables<P>;
    std::vector<packed_row_statistics> found;
    const std::span<const packed_row_statistics> statistics = statistics_of(w, found);
    const auto ordered =
        ordered_activations(x.codes, [&](std::size_t k) { return simd::packed4_u8_position(isa, k, depth); });
    rows_by([&](auto rows, std::size_t r, std::size_t ahead) {
      constexpr std::size_t count = decltype(rows)::value;
      std::int32_t weight_sums[count];
      bool holds_top = false;
      for (std::size_t i = 0; i < count; ++i) {
        weight_sums[i] = statistics[r + i].integer_sum;
        holds_top = holds_top || statistics[r + i].top_positive_count != 0;
      }
      const auto run = [&](auto corrects) {
        simd::dot_u8_packed4_rows<count, decltype(corrects)::value>(isa, ordered.data(), x.zero_point, weight_sums,
                                                                    w.row(r), w.row_stride_bytes, w.row(ahead), tables,
                                                                    depth, out.data() + r);
      };
      if constexpr (shift_range<P> == 7) {
        if (holds_top) {
          run(std::true_type{});
          return;
        }
      }
      run(std::false_type{});
    });
  } else {
    constexpr const auto& table = integer_table<P, std::int16_t>;
    const auto ordered = ordered_activations<std::int16_t>(
        centered16(x), [&](std::size_t k) { return simd::packed4_s16_position(isa, k, depth); });
    rows_by([&](auto rows, std::size_t r, std::size_t ahead) {
      simd::dot_s16_packed4_rows<decltype(rows)::value>(isa, ordered.data(), w.row(r), w.row_stride_bytes,
                                                        w.row(ahead), table, depth, out.data() + r);
    });
  }
}

/// Per-thread scratch of the row kernels of formats other than 4-bit, sized for one row.
struct row_scratch {
  std::vector<std::int32_t> codes32;
  std::vector<std::uint8_t> codes8;
  std::vector<std::int8_t> weights8;
  std::vector<std::int16_t> weights16;
};

/// One row's exact dot product by the chosen kernel of `isa`, for formats other than
/// 4-bit: codes unpacked, then decoded to int8 / int16 for the table kernel (which falls
/// back to the shift kernel when 2^(MaxExp - MinExp) fits neither), or kept as int32
/// codes for the shift kernel. `centered32` / `centered16` hold u - z.
template <pot_type P, class Isa>
inline std::int32_t row_dot(Isa isa, pot_kernel kernel, const std::byte* row, centered_activations x,
                            std::span<const std::int32_t> centered32, std::span<const std::int16_t> centered16,
                            row_scratch& scratch) {
  const std::size_t depth = x.codes.size();
  if (kernel == pot_kernel::table) {
    if constexpr (table_uses_int8<P>) {
      constexpr const auto& table = integer_table<P, std::int8_t>;
      scratch.codes8.resize(depth);
      scratch.weights8.resize(depth);
      simd::unpack_row_codes<P::bits>(row, std::span<std::uint8_t>(scratch.codes8));
      for (std::size_t k = 0; k < depth; ++k) scratch.weights8[k] = table[scratch.codes8[k]];
      const simd::u8s8_dot dot = simd::dot_u8s8(isa, x.codes.data(), scratch.weights8.data(), depth);
      // Wraps like the vector sums; the exact result fits by require_exact_int32_depth.
      return static_cast<std::int32_t>(static_cast<std::uint32_t>(dot.products) -
                                       static_cast<std::uint32_t>(x.zero_point) *
                                           static_cast<std::uint32_t>(dot.weights));
    } else if constexpr (table_uses_int16<P>) {
      constexpr const auto& table = integer_table<P, std::int16_t>;
      scratch.codes8.resize(depth);
      scratch.weights16.resize(depth);
      simd::unpack_row_codes<P::bits>(row, std::span<std::uint8_t>(scratch.codes8));
      for (std::size_t k = 0; k < depth; ++k) scratch.weights16[k] = table[scratch.codes8[k]];
      return simd::dot_s16(isa, centered16.data(), scratch.weights16.data(), depth);
    }
  }
  scratch.codes32.resize(depth);
  simd::unpack_row_codes<P::bits>(row, std::span<std::int32_t>(scratch.codes32));
  return simd::shift_accumulate<P>(isa, scratch.codes32.data(), centered32.data(), depth);
}

/// Whether row_dot() reads int16 (else int32) centered activations for `kernel`.
template <pot_type P>
constexpr bool row_dot_reads_int16(pot_kernel kernel) noexcept {
  return kernel == pot_kernel::table && table_uses_int16<P>;
}

template <pot_type P>
inline void require_shape(const packed_weights_view<P>& w, std::size_t depth, std::size_t outputs,
                          std::size_t expected_outputs) {
  if (depth != w.cols)
    throw std::invalid_argument("pot: activations have K = " + std::to_string(depth) +
                                " elements, the weights " + std::to_string(w.cols) + " columns");
  if (outputs != expected_outputs)
    throw std::invalid_argument("pot: output has " + std::to_string(outputs) +
                                " elements, the product " + std::to_string(expected_outputs));
  if (w.scales.size() != 1 && w.scales.size() != w.rows)
    throw std::invalid_argument("pot: weights need 1 or " + std::to_string(w.rows) +
                                " scales, not " + std::to_string(w.scales.size()));
  if (!w.statistics.empty() && w.statistics.size() != w.rows)
    throw std::invalid_argument("pot: weights need 0 or " + std::to_string(w.rows) +
                                " row statistics, not " + std::to_string(w.statistics.size()));
}

}  // namespace detail

/// \brief Exact integer GEMV: `out[r] = sum_k (x[k] - zero_point) * sign_rk * 2^(e_rk - MinExp)`.
///
/// Multiply by `2^MinExp * w.scale(r) * activation_scale` afterwards (output_rescale or
/// requantize in linalg/pot_epilogue.hpp) for the real-valued result. Every kernel, on
/// every instruction set (simd::active_isa()), returns the same integers. Rows are split
/// over `settings.threads` threads; each output depends on one row only, so the thread
/// count cannot change a result.
///
/// \tparam Q uint8_t or int8_t activation codes.
/// \throws std::invalid_argument on mismatched sizes, a zero point outside Q's range, or
/// K above max_exact_int32_depth<P>; std::runtime_error for a bad `POT_ISA`.
template <pot_type P, class Q>
void pot_gemv(const packed_weights_view<P>& w, std::span<const Q> x, std::int32_t zero_point,
              std::span<std::int32_t> out, pot_kernel kernel = pot_kernel::table,
              execution settings = {}) {
  static_assert(P::bits <= 8, "pot: packed kernels take codes of at most 8 bits");
  static_assert(detail::fits_int32_kernels<P>,
                "pot: integer kernels need MaxExp - MinExp <= 23 (255 * 2^range must fit int32)");
  detail::require_shape(w, x.size(), out.size(), w.rows);
  require_exact_int32_depth<P>(x.size());
  std::vector<std::uint8_t> shifted(x.size());
  const centered_activations centered = center_activations(x, zero_point, shifted);
  if (kernel == pot_kernel::reference) {
    parallel_for(0, w.rows, [&](std::size_t first, std::size_t last) {
      for (std::size_t r = first; r < last; ++r) out[r] = detail::reference_row_dot<P>(w.row(r), centered);
    }, settings);
    return;
  }
  simd::dispatch([&](auto isa) {
    if constexpr (P::bits == 4) {
      detail::fused_packed4_gemv<P>(isa, kernel, w, centered, out, settings);
    } else {
      // u - z in the width row_dot() reads (none for the uint8 table kernel).
      std::vector<std::int32_t> centered32;
      std::vector<std::int16_t> centered16;
      if (detail::row_dot_reads_int16<P>(kernel)) {
        centered16 = detail::centered16(centered);
      } else if (kernel != pot_kernel::table || !detail::table_uses_int8<P>) {
        centered32.resize(centered.codes.size());
        for (std::size_t k = 0; k < centered32.size(); ++k)
          centered32[k] = std::int32_t{centered.codes[k]} - centered.zero_point;
      }
      parallel_for(0, w.rows, [&](std::size_t first, std::size_t last) {
        detail::row_scratch scratch;
        for (std::size_t r = first; r < last; ++r)
          out[r] = detail::row_dot<P>(isa, kernel, w.row(r), centered, centered32, centered16, scratch);
      }, settings);
    }
  });
}

/// \brief pot_gemv() over all of a packed_matrix.
template <pot_type P, class Q>
void pot_gemv(const packed_matrix<P>& w, std::span<const Q> x, std::int32_t zero_point,
              std::span<std::int32_t> out, pot_kernel kernel = pot_kernel::table,
              execution settings = {}) {
  pot_gemv<P, Q>(packed_weights_view<P>(w), x, zero_point, out, kernel, settings);
}

/// \brief Float GEMV: `out[r] = w.scale(r) * sum_k x[k] * double(P::from_code(code_rk))`,
/// accumulated in float.
///
/// pot_kernel::reference decodes each code with P::from_code and accumulates serially;
/// pot_kernel::table decodes through a float table (in registers for 4-bit codes) and
/// accumulates with FMA in vector lanes of the active instruction set, so results differ
/// from the reference, and between instruction sets, by float rounding only.
/// \throws std::invalid_argument on mismatched sizes or pot_kernel::shift (which needs
/// integer activations).
template <pot_type P>
void pot_gemv(const packed_weights_view<P>& w, std::span<const float> x, std::span<float> out,
              pot_kernel kernel = pot_kernel::table, execution settings = {}) {
  detail::require_shape(w, x.size(), out.size(), w.rows);
  if (kernel == pot_kernel::shift)
    throw std::invalid_argument("pot: the shift kernel needs integer activations; use table");
  if (kernel == pot_kernel::reference) {
    parallel_for(0, w.rows, [&](std::size_t first, std::size_t last) {
      std::vector<std::uint8_t> codes(x.size());
      for (std::size_t r = first; r < last; ++r) {
        unpack_codes(std::span<const std::byte>(w.row(r), packed_bytes(x.size(), P::bits)), P::bits, codes);
        float dot = 0.0f;
        for (std::size_t k = 0; k < x.size(); ++k) dot += x[k] * static_cast<float>(P::from_code(codes[k]));
        out[r] = w.scale(r) * dot;
      }
    }, settings);
    return;
  }
  simd::dispatch([&](auto isa) {
    constexpr const auto& table = detail::float_table<P>;
    if constexpr (P::bits == 4) {
      const auto ordered =
          detail::ordered_activations(x, [&](std::size_t k) { return simd::float_packed4_position(isa, k, x.size()); });
      parallel_for(0, w.rows, [&](std::size_t first, std::size_t last) {
        detail::row_groups(first, last, w.row_stride_bytes, [&](auto rows, std::size_t r, std::size_t ahead) {
          simd::dot_float_packed4_rows<decltype(rows)::value>(isa, ordered.data(), w.row(r), w.row_stride_bytes,
                                                              w.row(ahead), table, x.size(), out.data() + r);
          for (std::size_t i = r; i < r + decltype(rows)::value; ++i) out[i] *= w.scale(i);
        });
      }, settings);
    } else {
      parallel_for(0, w.rows, [&](std::size_t first, std::size_t last) {
        std::vector<std::uint8_t> codes(x.size());
        std::vector<float> weights(x.size());
        for (std::size_t r = first; r < last; ++r) {
          simd::unpack_row_codes<P::bits>(w.row(r), std::span<std::uint8_t>(codes));
          simd::dequantize_codes(codes, table, weights);
          out[r] = w.scale(r) * simd::dot_float(isa, x.data(), weights.data(), x.size());
        }
      }, settings);
    }
  });
}

/// \brief The float pot_gemv() over all of a packed_matrix.
template <pot_type P>
void pot_gemv(const packed_matrix<P>& w, std::span<const float> x, std::span<float> out,
              pot_kernel kernel = pot_kernel::table, execution settings = {}) {
  pot_gemv<P>(packed_weights_view<P>(w), x, out, kernel, settings);
}

}  // namespace pot::linalg
