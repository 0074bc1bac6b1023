#pragma once
/// \file
/// \brief The two xsimd functions whose spelling changed between xsimd 8 (Debian 12's
/// 8.1) and xsimd 13/14 (ConanCenter's and vcpkg's), under one name that works with
/// both; every other xsimd API pot uses is spelled the same in all of them.
///
/// | pot                                | xsimd 8.1                             | xsimd 13, 14                |
/// | ---------------------------------- | ------------------------------------- | --------------------------- |
/// | `xsimd_compat::reduce_add(b)`      | `xsimd::hadd(b)`                      | `xsimd::reduce_add(b)`      |
/// | `xsimd_compat::bitwise_cast<T>(b)` | `xsimd::bitwise_cast<batch<T, A>>(b)` | `xsimd::bitwise_cast<T>(b)` |
///
/// xsimd 13 removed `hadd` (renamed `reduce_add`, which 8.1 does not have) and changed
/// `bitwise_cast`'s template argument from the target batch type to the target element
/// type. pot follows the newer spelling, so this header shrinks to nothing when xsimd 8
/// support is dropped. It includes pot/simd/intrinsics.hpp first (see there) and then
/// xsimd, so a file that uses these two needs no other xsimd include.

#include "pot/simd/intrinsics.hpp"  // first: see there
#include <xsimd/xsimd.hpp>

namespace pot::xsimd_compat {

/// \brief The sum of the lanes of \p x (a horizontal add).
template <class T, class Arch>
inline T reduce_add(const xsimd::batch<T, Arch>& x) noexcept {
#if XSIMD_VERSION_MAJOR < 13
  return xsimd::hadd(x);
#else
  return xsimd::reduce_add(x);
#endif
}

/// \brief The bits of \p x reinterpreted as a batch of \p To on the same architecture.
template <class To, class From, class Arch>
inline xsimd::batch<To, Arch> bitwise_cast(const xsimd::batch<From, Arch>& x) noexcept {
#if XSIMD_VERSION_MAJOR < 13
  return xsimd::bitwise_cast<xsimd::batch<To, Arch>>(x);
#else
  return xsimd::bitwise_cast<To>(x);
#endif
}

}  // namespace pot::xsimd_compat
