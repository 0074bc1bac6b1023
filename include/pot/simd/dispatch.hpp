#pragma once
/// \file
/// \brief One kernel interface, several bodies: the tag types that name an instruction
/// set at compile time, and dispatch(), which calls a generic function with the tag of
/// the instruction set chosen at run time (simd/isa.hpp).
///
/// A kernel is a set of overloads with a tag as first parameter, one per instruction set
/// that has a body of its own (portable ones in simd/portable/, the others in
/// simd/avx2/, simd/avx512/, simd/neon/). The tags inherit along what a CPU that has the
/// instruction set can also run (avx512 from avx2 from portable; neon_dotprod from neon
/// from portable), so a call with a tag whose instruction set has no body of its own for
/// that kernel resolves to the nearest one that has, and a kernel needs a body only where
/// it pays.
///
/// ```cpp
/// pot::simd::dispatch([&](auto isa) { pot::simd::dot_u8s8(isa, u, w, n); });
/// ```

#include <utility>

#include "pot/simd/isa.hpp"

namespace pot::simd {

/// \brief Tag of the portable bodies (every CPU).
struct portable_tag {
  static constexpr isa value = isa::portable;  ///< the instruction set
};
/// \brief Tag of the AVX2 + FMA bodies.
struct avx2_tag : portable_tag {
  static constexpr isa value = isa::avx2;  ///< the instruction set
};
/// \brief Tag of the AVX-512 (F/BW/DQ/VL/VNNI) bodies.
struct avx512_tag : avx2_tag {
  static constexpr isa value = isa::avx512;  ///< the instruction set
};
/// \brief Tag of the AArch64 Advanced SIMD bodies.
struct neon_tag : portable_tag {
  static constexpr isa value = isa::neon;  ///< the instruction set
};
/// \brief Tag of the AArch64 dot-product (SDOT/UDOT) bodies.
struct neon_dotprod_tag : neon_tag {
  static constexpr isa value = isa::neon_dotprod;  ///< the instruction set
};

/// \brief Calls `f(tag)` with the tag of \p chosen, which must be supported
/// (simd::isa_supported); instruction sets of another architecture than the build's
/// never reach `f`, so `f` is only instantiated for the build's own tags.
template <class F>
decltype(auto) dispatch(isa chosen, F&& f) {
  switch (chosen) {
#if defined(POT_SIMD_X86)
    case isa::avx512: return std::forward<F>(f)(avx512_tag{});
    case isa::avx2: return std::forward<F>(f)(avx2_tag{});
#endif
#if defined(POT_SIMD_AARCH64)
    case isa::neon_dotprod: return std::forward<F>(f)(neon_dotprod_tag{});
    case isa::neon: return std::forward<F>(f)(neon_tag{});
#endif
    default: return std::forward<F>(f)(portable_tag{});
  }
}

/// \brief dispatch() with the active instruction set (simd::active_isa()).
/// \throws std::runtime_error as active_isa() does for a bad `POT_ISA`
template <class F>
decltype(auto) dispatch(F&& f) {
  return dispatch(active_isa(), std::forward<F>(f));
}

}  // namespace pot::simd
