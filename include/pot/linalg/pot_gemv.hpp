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
#include "pot/simd/code_decoding.hpp"
#include "pot/simd/dequantize.hpp"
#include "pot/simd/integer_dot.hpp"
#include "pot/simd/shift_accumulate.hpp"

namespace pot::linalg {

/// \brief Which kernel computes a PoT-weight product.
enum class pot_kernel {
  reference,  ///< Scalar, from each code through P::from_code: the oracle of the others.
  shift,      ///< Shift-accumulate (xsimd): variable shift, conditional negate, int32 sum.
  table,      ///< Codes decoded through a table to int8 / int16 (or float), then
              ///< integer dot products (vpmaddubsw / vpmaddwd, VNNI where compiled in).
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

/// Per-thread scratch of the fast row kernels, sized for one row.
struct row_scratch {
  std::vector<std::int32_t> codes32;
  std::vector<std::uint8_t> codes8;
  std::vector<std::int8_t> weights8;
  std::vector<std::int16_t> weights16;
};

/// Activations prepared once per call for every kernel that may run.
struct prepared_activations {
  centered_activations u8;             // codes and zero point in [0, 255]
  std::vector<std::int32_t> centered32;  // u - z, for the shift kernel
  std::vector<std::int16_t> centered16;  // u - z, for the int16 table kernel
};

template <pot_type P>
inline constexpr bool table_uses_int8 = shift_range<P> <= 6;
template <pot_type P>
inline constexpr bool table_uses_int16 = !table_uses_int8<P> && shift_range<P> <= 14;

template <pot_type P>
inline void prepare_for(pot_kernel kernel, prepared_activations& x) {
  const bool shift = kernel == pot_kernel::shift ||
                     (kernel == pot_kernel::table && !table_uses_int8<P> && !table_uses_int16<P>);
  if (shift) {
    x.centered32.resize(x.u8.codes.size());
    for (std::size_t k = 0; k < x.centered32.size(); ++k)
      x.centered32[k] = std::int32_t{x.u8.codes[k]} - x.u8.zero_point;
  } else if (kernel == pot_kernel::table && table_uses_int16<P> && P::bits != 4) {
    x.centered16.resize(x.u8.codes.size());
    for (std::size_t k = 0; k < x.centered16.size(); ++k)
      x.centered16[k] = static_cast<std::int16_t>(std::int32_t{x.u8.codes[k]} - x.u8.zero_point);
  }
}

/// The table kernel of 4-bit formats decodes nibbles in registers (simd/integer_dot.hpp)
/// and reads activations in its own order, prepared once per GEMV.
template <pot_type P>
inline constexpr bool uses_fused_packed4 = P::bits == 4 && (table_uses_int8<P> || table_uses_int16<P>);

/// Rows per pass of the fused 4-bit kernels: four rows share each activation load and
/// keep four accumulators in flight (eight were no faster and need every register).
inline constexpr std::size_t fused_rows_per_pass = 4;

/// How far ahead, in bytes of the matrix, the fused kernels prefetch: the first whole
/// group of rows at least this far on. About 3 KiB (two groups at K = 768, one at
/// K >= 1536) gave the highest single-thread rate from DRAM on the AVX2 machine of
/// docs/benchmarks.md; one group at K = 768 left part of the latency exposed.
inline constexpr std::size_t fused_prefetch_bytes = 3072;

/// Rows [first, last) by `pass(rows, r, ahead)`, which computes `rows` (an
/// integral_constant) rows from row `r` and prefetches the rows from `ahead`: groups of
/// fused_rows_per_pass, then single rows. Prefetches stay inside [first, last), the
/// rows of this thread.
template <class Pass>
inline void fused_packed4_rows(std::size_t first, std::size_t last, std::size_t row_stride, Pass pass) {
  constexpr std::size_t group_rows = fused_rows_per_pass;
  const std::size_t group_bytes = std::max<std::size_t>(1, group_rows * row_stride);
  const std::size_t ahead = group_rows * ((fused_prefetch_bytes + group_bytes - 1) / group_bytes);
  std::size_t r = first;
  for (; r + group_rows <= last; r += group_rows)
    pass(std::integral_constant<std::size_t, group_rows>{}, r, r + ahead + group_rows <= last ? r + ahead : r);
  for (; r < last; ++r) pass(std::integral_constant<std::size_t, 1>{}, r, r);
}

/// The whole table-kernel GEMV of a 4-bit format: uint8 activations with the zero point
/// inside the kernel (vpmaddubsw) for ranges <= 6, centered int16 activations (vpmaddwd)
/// for range 7; either way reordered once for the kernel, rows split over threads.
template <pot_type P>
inline void fused_packed4_gemv(const packed_weights_view<P>& w, centered_activations x,
                               std::span<std::int32_t> out, execution settings) {
  const std::size_t depth = x.codes.size();
  if constexpr (table_uses_int8<P>) {
    static constexpr auto table = simd::integer_decode_table<P, std::int8_t>();
    std::vector<std::uint8_t> ordered(depth);
    simd::order_for_packed4<simd::packed4_u8_position>(x.codes.data(), depth, ordered.data());
    parallel_for(0, w.rows, [&](std::size_t first, std::size_t last) {
      fused_packed4_rows(first, last, w.row_stride_bytes, [&](auto rows, std::size_t r, std::size_t ahead) {
        simd::dot_u8_packed4_rows<decltype(rows)::value>(ordered.data(), x.zero_point, w.row(r), w.row_stride_bytes,
                                          w.row(ahead), table, depth, out.data() + r);
      });
    }, settings);
  } else {
    static constexpr auto table = simd::integer_decode_table<P, std::int16_t>();
    static constexpr bool sign_high_bytes = simd::high_bytes_are_code_sign(table);
    std::vector<std::int16_t> centered(depth), ordered(depth);
    for (std::size_t k = 0; k < depth; ++k)
      centered[k] = static_cast<std::int16_t>(std::int32_t{x.codes[k]} - x.zero_point);
    simd::order_for_packed4<simd::packed4_s16_position>(centered.data(), depth, ordered.data());
    parallel_for(0, w.rows, [&](std::size_t first, std::size_t last) {
      fused_packed4_rows(first, last, w.row_stride_bytes, [&](auto rows, std::size_t r, std::size_t ahead) {
        simd::dot_s16_packed4_rows<decltype(rows)::value, sign_high_bytes>(ordered.data(), w.row(r), w.row_stride_bytes,
                                                            w.row(ahead), table, depth, out.data() + r);
      });
    }, settings);
  }
}

/// One row's exact dot product by the chosen kernel. The table kernel falls back to the
/// shift kernel when 2^(MaxExp - MinExp) fits neither int8 (with the vpmaddubsw headroom)
/// nor int16.
template <pot_type P>
inline std::int32_t row_dot(pot_kernel kernel, const std::byte* row, const prepared_activations& x,
                            row_scratch& scratch) {
  const std::size_t depth = x.u8.codes.size();
  if (kernel == pot_kernel::reference) return reference_row_dot<P>(row, x.u8);
  if constexpr (table_uses_int8<P>) {
    if (kernel == pot_kernel::table) {
      static constexpr auto table = simd::integer_decode_table<P, std::int8_t>();
      scratch.codes8.resize(depth);
      scratch.weights8.resize(depth);
      simd::unpack_row_codes<P::bits>(row, std::span<std::uint8_t>(scratch.codes8));
      for (std::size_t k = 0; k < depth; ++k) scratch.weights8[k] = table[scratch.codes8[k]];
      const simd::u8s8_dot dot = simd::dot_u8s8(x.u8.codes.data(), scratch.weights8.data(), depth);
      // Wraps like the vector sums; the exact result fits by require_exact_int32_depth.
      return static_cast<std::int32_t>(static_cast<std::uint32_t>(dot.products) -
                                       static_cast<std::uint32_t>(x.u8.zero_point) *
                                           static_cast<std::uint32_t>(dot.weights));
    }
  }
  if constexpr (table_uses_int16<P>) {
    if (kernel == pot_kernel::table) {
      static constexpr auto table = simd::integer_decode_table<P, std::int16_t>();
      scratch.codes8.resize(depth);
      scratch.weights16.resize(depth);
      simd::unpack_row_codes<P::bits>(row, std::span<std::uint8_t>(scratch.codes8));
      for (std::size_t k = 0; k < depth; ++k) scratch.weights16[k] = table[scratch.codes8[k]];
      return simd::dot_s16(x.centered16.data(), scratch.weights16.data(), depth);
    }
  }
  scratch.codes32.resize(depth);
  simd::unpack_row_codes<P::bits>(row, std::span<std::int32_t>(scratch.codes32));
  return simd::shift_accumulate<P>(scratch.codes32, x.centered32);
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
}

}  // namespace detail

/// \brief Exact integer GEMV: `out[r] = sum_k (x[k] - zero_point) * sign_rk * 2^(e_rk - MinExp)`.
///
/// Multiply by `2^MinExp * w.scale(r) * activation_scale` afterwards (output_rescale or
/// requantize in linalg/pot_epilogue.hpp) for the real-valued result. Every kernel returns the same integers. Rows are split over
/// `settings.threads` threads; each output depends on one row only, so the thread count
/// cannot change a result.
///
/// \tparam Q uint8_t or int8_t activation codes.
/// \throws std::invalid_argument on mismatched sizes, a zero point outside Q's range, or
/// K above max_exact_int32_depth<P>.
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
  detail::prepared_activations prepared{center_activations(x, zero_point, shifted), {}, {}};
  detail::prepare_for<P>(kernel, prepared);
  if constexpr (detail::uses_fused_packed4<P>) {
    if (kernel == pot_kernel::table) {
      detail::fused_packed4_gemv<P>(w, prepared.u8, out, settings);
      return;
    }
  }
  parallel_for(0, w.rows, [&](std::size_t first, std::size_t last) {
    detail::row_scratch scratch;
    for (std::size_t r = first; r < last; ++r) out[r] = detail::row_dot<P>(kernel, w.row(r), prepared, scratch);
  }, settings);
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
/// accumulates with FMA in vector lanes; so the two differ by float rounding only.
/// \throws std::invalid_argument on mismatched sizes or pot_kernel::shift (which needs
/// integer activations).
template <pot_type P>
void pot_gemv(const packed_weights_view<P>& w, std::span<const float> x, std::span<float> out,
              pot_kernel kernel = pot_kernel::table, execution settings = {}) {
  detail::require_shape(w, x.size(), out.size(), w.rows);
  if (kernel == pot_kernel::shift)
    throw std::invalid_argument("pot: the shift kernel needs integer activations; use table");
  static constexpr auto table = simd::float_decode_table<P>();
  parallel_for(0, w.rows, [&](std::size_t first, std::size_t last) {
    std::vector<std::uint8_t> codes(x.size());
    std::vector<float> weights(x.size());
    for (std::size_t r = first; r < last; ++r) {
      float dot = 0.0f;
      if (kernel == pot_kernel::reference) {
        unpack_codes(std::span<const std::byte>(w.row(r), packed_bytes(x.size(), P::bits)), P::bits, codes);
        for (std::size_t k = 0; k < x.size(); ++k)
          dot += x[k] * static_cast<float>(P::from_code(codes[k]));
      } else if constexpr (P::bits == 4) {
        dot = simd::dot_float_packed4(x.data(), w.row(r), table, x.size());
      } else {
        simd::unpack_row_codes<P::bits>(w.row(r), std::span<std::uint8_t>(codes));
        simd::dequantize_codes(codes, table, weights);
        dot = simd::dot_float(x.data(), weights.data(), x.size());
      }
      out[r] = w.scale(r) * dot;
    }
  }, settings);
}

/// \brief The float pot_gemv() over all of a packed_matrix.
template <pot_type P>
void pot_gemv(const packed_matrix<P>& w, std::span<const float> x, std::span<float> out,
              pot_kernel kernel = pot_kernel::table, execution settings = {}) {
  pot_gemv<P>(packed_weights_view<P>(w), x, out, kernel, settings);
}

}  // namespace pot::linalg
