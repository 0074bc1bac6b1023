#pragma once
/// \file
/// \brief What the fused 4-bit NEON kernels share: blocks of 32 codes read as one
/// 16-byte load, split into the even codes (low nibbles) and the odd ones (high
/// nibbles), and the prefetch of rows read later.

#include <cstddef>
#include <cstdint>

#include "pot/simd/intrinsics.hpp"

namespace pot::simd::detail_neon {

/// Codes per block of the fused 4-bit kernels: one 16-byte load of packed codes, whose
/// low nibbles are 16 even codes and whose high nibbles are 16 odd ones.
inline constexpr std::size_t block = 32;

/// Whether code `k` of `count` lies in a whole block, where the fused kernels read
/// activations in their own order; the tail after the last whole block keeps `k`.
constexpr bool in_whole_block(std::size_t k, std::size_t count) noexcept { return k - k % block + block <= count; }

/// Prefetches the line `ahead` holds at byte `offset` of its row, once per 64-byte line:
/// the rows are read `Rows` at a time, more interleaved streams than a hardware
/// prefetcher is sure to follow (as on x86, simd/avx2/integer_dot.hpp).
inline void prefetch_line(const std::byte* ahead, std::size_t offset) noexcept {
  if (offset % 64 == 0) __builtin_prefetch(ahead + offset);
}

inline uint8x16_t load_bytes(const std::byte* p) noexcept { return vld1q_u8(reinterpret_cast<const std::uint8_t*>(p)); }

/// The even codes (low nibbles) of 16 packed bytes.
inline uint8x16_t even_codes(uint8x16_t bytes) noexcept { return vandq_u8(bytes, vdupq_n_u8(0x0F)); }
/// The odd codes (high nibbles) of 16 packed bytes.
inline uint8x16_t odd_codes(uint8x16_t bytes) noexcept { return vshrq_n_u8(bytes, 4); }

}  // namespace pot::simd::detail_neon
