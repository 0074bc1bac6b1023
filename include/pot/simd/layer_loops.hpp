#pragma once
/// \file
/// \brief The float loops of the nn layers (layernorm's statistics, normalisation and
/// gradients, softmax with its exp, GELU's tanh approximation, AdamW's update, the
/// element-wise sums of residuals and biases) with one body per instruction set
/// (simd/dispatch.hpp): portable (xsimd at the build's flags), AVX2 + FMA (8 lanes) and
/// AVX-512 (16 lanes), all written once in simd/detail/layer_loops.inl.
///
/// `layer_loops_t<Tag>` is the loops of an instruction set: a type whose static member
/// functions take pointers, sizes and float scalars. nn/ calls them for float and
/// chooses the instruction set once per layer call:
///
/// ```cpp
/// pot::simd::dispatch([&](auto isa) { pot::simd::layer_loops_t<decltype(isa)>::add(out, a, b, n); });
/// ```
///
/// The bodies differ in the order of their sums and in fused multiply-adds (portable
/// fuses only where xsimd's architecture has FMA), so their results differ by float
/// rounding; each body's results are deterministic and the same for a value wherever
/// it sits in a row.

#include "pot/simd/portable/layer_loops.hpp"
#if defined(POT_SIMD_X86)
#include "pot/simd/avx2/layer_loops.hpp"
#include "pot/simd/avx512/layer_loops.hpp"
#endif

namespace pot::simd {

/// \brief The layer loops of the instruction set whose tag is \p Tag (the nearest one
/// with a body of its own: neon's are the portable ones).
template <class Tag>
using layer_loops_t = decltype(layer_loops_for(Tag{}));

}  // namespace pot::simd
