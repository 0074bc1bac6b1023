#pragma once
/// \file
/// \brief GEMV over symmetric int8 weights with float activations:
/// `out[r] = scale(r) * sum_k x[k] * code_rk`, the int8 counterpart of the float-activation
/// PoT GEMV (a GPT-2 output head kept at 8 bits reads a quarter of the float bytes).

#include <cstddef>
#include <span>
#include <stdexcept>
#include <string>

#include "pot/linalg/execution.hpp"
#include "pot/linalg/parallel_for.hpp"
#include "pot/linalg/pot_gemv.hpp"
#include "pot/quant/int8_matrix.hpp"
#include "pot/simd/dispatch.hpp"
#include "pot/simd/float_dot.hpp"

namespace pot::linalg {

/// \brief `out[r] = w.scale(r) * sum_k x[k] * code(r, k)`, accumulated in float in the
/// vector lanes of the active instruction set (so results differ between instruction
/// sets by float rounding only); rows are split over `settings.threads` threads, each
/// output summed by one, so the thread count cannot change a result.
/// \throws std::invalid_argument if `x` has not w.cols() elements or `out` not w.rows().
inline void int8_gemv(const int8_matrix& w, std::span<const float> x, std::span<float> out, execution settings = {}) {
  if (x.size() != w.cols())
    throw std::invalid_argument("pot: int8_gemv: activations have K = " + std::to_string(x.size()) +
                                " elements, the weights " + std::to_string(w.cols()) + " columns");
  if (out.size() != w.rows())
    throw std::invalid_argument("pot: int8_gemv: output has " + std::to_string(out.size()) + " elements, the weights " +
                                std::to_string(w.rows()) + " rows");
  simd::dispatch([&](auto isa) {
    parallel_for(0, w.rows(), [&](std::size_t first, std::size_t last) {
      detail::row_groups(first, last, w.row_stride_bytes(), [&](auto rows, std::size_t r, std::size_t ahead) {
        simd::dot_float_int8_rows<decltype(rows)::value>(isa, x.data(), w.row(r), w.row_stride_bytes(), w.row(ahead),
                                                         x.size(), out.data() + r);
        for (std::size_t i = r; i < r + decltype(rows)::value; ++i) out[i] *= w.scale(i);
      });
    }, settings);
  });
}

}  // namespace pot::linalg
