#pragma once
/// \file
/// \brief The rescale of exact int32 sums to float outputs, the arithmetic stage of
/// linalg/epilogue.hpp: `out[n] = float(fma(double(acc[n]), multiplier[n],
/// double(bias[n])))`, one body per instruction set (simd/dispatch.hpp): portable
/// (std::fma, value by value) and AVX2 (four doubles per vfmadd231pd; AVX-512 runs it
/// too). Every body performs the same fused multiply-add and the same two roundings, so
/// all give the same bits.

#include "pot/simd/dispatch.hpp"
#include "pot/simd/portable/output_rescale.hpp"
#if defined(POT_SIMD_X86)
#include "pot/simd/avx2/output_rescale.hpp"
#endif
