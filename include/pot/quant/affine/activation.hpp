#pragma once
/// \file
/// \brief One affine activation as a number: its code and the zero point it is relative
/// to (the scale stays with the tensor), and its exact product with a PoT weight, the
/// operation the integer kernels (linalg/pot_gemv.hpp, pot_gemm.hpp) compute in bulk.

#include <cstdint>
#include <type_traits>

#include "pot/core/pot.hpp"
#include "pot/core/traits.hpp"
#include "pot/quant/affine/params.hpp"
#include "pot/quant/affine/quantize.hpp"

namespace pot {

/// \brief The signed integer type that holds `q - zero_point` for any two values of `Q`.
template <affine_code Q>
using affine_offset_t =
    std::conditional_t<(sizeof(Q) == 1), std::int16_t,
                       std::conditional_t<(sizeof(Q) == 2), std::int32_t, std::int64_t>>;

/// \brief One affine activation: a code and the zero point it is relative to (the scale
/// stays with the tensor). Its integer value `q - zero_point` is what integer kernels
/// multiply by PoT weights.
template <affine_code Q>
class affine {
 public:
  /// \brief The activation with code `code` relative to `zero_point`.
  constexpr affine(Q code, Q zero_point) noexcept : code_(code), zero_point_(zero_point) {}

  /// \brief The activation `quantize(x, params)` (zero point taken from `params`).
  constexpr affine(float x, const affine_params<Q>& params) noexcept
      : code_(quantize(x, params)), zero_point_(static_cast<Q>(params.zero_point)) {}

  /// \brief The stored code.
  constexpr Q code() const noexcept { return code_; }
  /// \brief The zero point the code is relative to.
  constexpr Q zero_point() const noexcept { return zero_point_; }
  /// \brief `q - zero_point`, exact in a type wide enough for any two codes.
  constexpr affine_offset_t<Q> offset() const noexcept {
    return static_cast<affine_offset_t<Q>>(static_cast<affine_offset_t<Q>>(code_) -
                                           static_cast<affine_offset_t<Q>>(zero_point_));
  }

  /// \brief Equal when code and zero point are equal.
  friend constexpr bool operator==(affine, affine) = default;

 private:
  Q code_;
  Q zero_point_;
};

/// \brief The exact integer `(q - zero_point) * p` of an activation and a PoT weight, as a
/// shift of the offset in a type wide enough for every operand (pot * integer, which
/// requires `P::min_exponent >= 0`).
template <affine_code Q, pot_type P>
constexpr integer_product_t<P, affine_offset_t<Q>> operator*(affine<Q> a, P p) noexcept {
  return p * a.offset();
}

/// \brief The exact integer `p * (q - zero_point)`; see the affine * pot overload.
template <pot_type P, affine_code Q>
constexpr integer_product_t<P, affine_offset_t<Q>> operator*(P p, affine<Q> a) noexcept {
  return p * a.offset();
}

}  // namespace pot
