#pragma once
// The read bandwidth of one core, the floor a memory-bound kernel is measured against: a
// sum over a buffer with the widest loads of an instruction set, in eight concurrent
// streams (the buffer's eighths, each with its own sum), which kept more reads in
// flight than one stream on the machines of docs/benchmarks.md, one body per
// instruction set chosen like the kernels' (pot::simd::dispatch).

#include <cstddef>
#include <cstdint>
#include <span>

#include "pot/simd/dispatch.hpp"
#include "pot/simd/target.hpp"

namespace pot::bench {

namespace detail {

/// The portable body: eight partial sums the compiler vectorizes for the baseline.
inline std::uint64_t streaming_sum(simd::portable_tag, const std::uint64_t* data, std::size_t count) noexcept {
  std::uint64_t partial[8] = {};
  for (std::size_t i = 0; i + 8 <= count; i += 8)
    for (std::size_t j = 0; j < 8; ++j) partial[j] += data[i + j];
  std::uint64_t total = 0;
  for (const std::uint64_t p : partial) total += p;
  return total;
}

}  // namespace detail
}  // namespace pot::bench

#if defined(POT_SIMD_X86)
POT_TARGET_AVX2_BEGIN
namespace pot::bench::detail {
inline std::uint64_t streaming_sum(simd::avx2_tag, const std::uint64_t* data, std::size_t count) noexcept {
  const std::size_t part = count / 8;  // a multiple of 4 elements
  __m256i sums[8];
  for (auto& sum : sums) sum = _mm256_setzero_si256();
  for (std::size_t i = 0; i < part; i += 4)
#pragma GCC unroll 8
    for (std::size_t s = 0; s < 8; ++s)
      sums[s] = _mm256_add_epi64(sums[s], _mm256_loadu_si256(reinterpret_cast<const __m256i*>(data + s * part + i)));
  __m256i total = sums[0];
  for (std::size_t s = 1; s < 8; ++s) total = _mm256_add_epi64(total, sums[s]);
  alignas(32) std::uint64_t lanes[4];
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), total);
  return lanes[0] + lanes[1] + lanes[2] + lanes[3];
}
}  // namespace pot::bench::detail
POT_TARGET_END

POT_TARGET_AVX512_BEGIN
namespace pot::bench::detail {
inline std::uint64_t streaming_sum(simd::avx512_tag, const std::uint64_t* data, std::size_t count) noexcept {
  const std::size_t part = count / 8;  // a multiple of 8 elements
  __m512i sums[8];
  for (auto& sum : sums) sum = _mm512_setzero_si512();
  for (std::size_t i = 0; i < part; i += 8)
#pragma GCC unroll 8
    for (std::size_t s = 0; s < 8; ++s) sums[s] = _mm512_add_epi64(sums[s], _mm512_loadu_si512(data + s * part + i));
  __m512i total = sums[0];
  for (std::size_t s = 1; s < 8; ++s) total = _mm512_add_epi64(total, sums[s]);
  return static_cast<std::uint64_t>(_mm512_reduce_add_epi64(total));
}
}  // namespace pot::bench::detail
POT_TARGET_END
#endif

#if defined(POT_SIMD_AARCH64)
namespace pot::bench::detail {
inline std::uint64_t streaming_sum(simd::neon_tag, const std::uint64_t* data, std::size_t count) noexcept {
  const std::size_t part = count / 8;  // a multiple of 2 elements
  uint64x2_t sums[8];
  for (auto& sum : sums) sum = vdupq_n_u64(0);
  for (std::size_t i = 0; i < part; i += 2)
    for (std::size_t s = 0; s < 8; ++s) sums[s] = vaddq_u64(sums[s], vld1q_u64(data + s * part + i));
  uint64x2_t total = sums[0];
  for (std::size_t s = 1; s < 8; ++s) total = vaddq_u64(total, sums[s]);
  return vaddvq_u64(total);
}
}  // namespace pot::bench::detail
#endif

namespace pot::bench {

/// The sum of the first whole multiple of 64 elements of `data` (the rest is not read),
/// by the body of the active instruction set.
inline std::uint64_t streaming_read(std::span<const std::uint64_t> data) {
  return simd::dispatch([&](auto isa) { return detail::streaming_sum(isa, data.data(), data.size() / 64 * 64); });
}

}  // namespace pot::bench
