#pragma once
/// \file
/// \brief The literal PoT dot product: shift each activation left by its weight's exponent
/// index, negate where the weight is negative, drop it where the weight is zero, and sum in
/// int32 (portable xsimd).

#include <cstddef>
#include <cstdint>
#include <span>

#include "pot/simd/intrinsics.hpp"  // first: see there
#include "pot/simd/xsimd_compat.hpp"

#include "pot/core/traits.hpp"

namespace pot::simd {

/// \brief `sum_k x[k] * sign_k * 2^(index_k)` over codes of `P` stored one per int32.
///
/// `x` holds centered activations (q - zero_point), |x| <= 255; the caller guarantees the
/// sum fits in int32 (see linalg/pot_weights.hpp). Addition wraps modulo 2^32, like the
/// vector instructions, so partial sums never invoke signed-overflow UB.
template <pot_type P>
inline std::int32_t shift_accumulate(std::span<const std::int32_t> codes,
                                     std::span<const std::int32_t> x) noexcept {
  using batch = xsimd::batch<std::int32_t>;
  constexpr std::int32_t index_mask = (1 << (P::bits - 1)) - 1;
  constexpr std::int32_t sign_bit = 1 << (P::bits - 1);
  const std::size_t count = codes.size();
  const std::size_t vector_end = count - count % batch::size;
  batch sum(0);
  for (std::size_t k = 0; k < vector_end; k += batch::size) {
    const batch code = batch::load_unaligned(codes.data() + k);
    // All-ones lanes where the weight is negative, or is the zero code (whose index is
    // all ones: index + 1 reaches the sign bit only then). Integer operations instead of
    // xsimd::select, which xsimd 8.1 does not compile for int32 AVX-512 batches.
    const batch negative = batch(0) - ((code >> (P::bits - 1)) & batch(1));
    const batch keep = P::has_zero ? (((code & batch(index_mask)) + batch(1)) >> (P::bits - 1)) - batch(1)
                                   : batch(-1);
    // The zero code's index is no shift amount: shifting by it and masking after would
    // shift an int32 by up to 127 (undefined in xsimd's scalar fallback, which xsimd 8.1
    // uses for AVX-512 variable shifts).
    const batch shifted = batch::load_unaligned(x.data() + k) << (code & batch(index_mask) & keep);
    const batch term = ((shifted ^ negative) - negative) & keep;
    sum += term;
  }
  auto total = static_cast<std::uint32_t>(xsimd_compat::reduce_add(sum));
  for (std::size_t k = vector_end; k < count; ++k) {
    const std::int32_t code = codes[k];
    if (P::has_zero && code == index_mask) continue;
    const auto shifted = static_cast<std::uint32_t>(x[k]) << (code & index_mask);
    total += (code & sign_bit) != 0 ? 0u - shifted : shifted;
  }
  return static_cast<std::int32_t>(total);
}

}  // namespace pot::simd
