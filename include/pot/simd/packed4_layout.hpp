#pragma once
/// \file
/// \brief What every body of the integer dot products shares: 4-bit codes packed two per
/// byte, the orders in which the fused 4-bit kernels read activations, and the wrapping
/// int32 sums they all compute.
///
/// Integer results never depend on the instruction set: every body returns the same
/// int32, sums wrapping modulo 2^32 as the vector instructions do (the callers bound K
/// so that the exact result fits, linalg/pot_weights.hpp).

#include <array>
#include <cstddef>
#include <cstdint>

namespace pot::simd {

/// \brief `sum u[k] * w[k]` and `sum w[k]` of one uint8 x int8 dot product.
struct u8s8_dot {
  std::int32_t products = 0;  ///< sum of u[k] * w[k]
  std::int32_t weights = 0;   ///< sum of w[k], to subtract zero_point * weights
};

/// \brief The decode tables of the uint8 x int8 4-bit kernels (dot_u8_packed4_rows).
///
/// `weights` maps each code to its int8 weight `±2^(e - MinExp)`, except that +128 (an
/// exponent range of 7) is stored as -128, its int8 bit pattern; `top` is 1 for the codes
/// stored so and 0 for the others, and a kernel that corrects adds back the `256 * u` per
/// such weight that -128 lost. For ranges up to 6 `top` is all zeros.
struct u8_packed4_tables {
  std::array<std::int8_t, 16> weights{};  ///< int8 weight of each code (+128 wrapped to -128)
  std::array<std::int8_t, 16> top{};      ///< 1 for the codes whose weight +128 was wrapped
};

/// \brief Wrapping int32 addition (two's complement, like vpaddd).
constexpr std::int32_t wrapping_add(std::int32_t a, std::int64_t b) noexcept {
  return static_cast<std::int32_t>(static_cast<std::uint32_t>(a) + static_cast<std::uint32_t>(b));
}

/// \brief Code `k` of a row of 4-bit codes packed two per byte, low nibble first.
inline unsigned packed4_code(const std::byte* packed, std::size_t k) noexcept {
  const unsigned byte = std::to_integer<unsigned>(packed[k / 2]);
  return (k % 2 == 0 ? byte : byte >> 4) & 0x0Fu;
}

/// \brief Adds `activation(k) * weight(k)` over [first, count) to `products` and
/// `weight(k)` to `*weights` (when given), wrapping like the vector sums: the scalar loop
/// every body finishes with, and the whole of the portable ones.
template <class Activation, class Weight>
inline void accumulate_tail(std::size_t first, std::size_t count, Activation activation, Weight weight,
                            std::int32_t& products, std::int32_t* weights = nullptr) noexcept {
  for (std::size_t k = first; k < count; ++k) {
    const std::int32_t w = weight(k);
    products = wrapping_add(products, std::int64_t{activation(k)} * w);
    if (weights != nullptr) *weights = wrapping_add(*weights, w);
  }
}

/// \brief Where activation `k` of `count` goes when the whole blocks of `Block` codes
/// (`Block` / 2 packed bytes) are read as two vectors, the even codes (low nibbles) and
/// then the odd ones (high nibbles), starting at element `first` of the dot product:
/// positions outside [first, first + whole blocks) are left to the caller.
///
/// Masking the low and the high nibbles of `Block` / 2 bytes gives those two vectors
/// directly; putting the activations in the same order once per call spares every row
/// the shuffles that would put the weights back in stream order.
template <std::size_t Block>
constexpr std::size_t even_odd_position(std::size_t k) noexcept {
  const std::size_t code = k % Block;
  return k - code + (code % 2) * (Block / 2) + code / 2;
}

/// \brief Whether the high byte of every int16 weight in `table` is the sign of its code,
/// 0xFF for codes 8 to 15 and 0x00 for codes 0 to 7 (then the AVX2 int16 kernel forms
/// high bytes with a compare instead of a second table lookup).
///
/// True for every 4-bit format the int16 kernels serve (range 7: weights ±1 ... ±128,
/// the sign in the code's top bit), false for an arbitrary table.
constexpr bool high_bytes_are_code_sign(const std::array<std::int16_t, 16>& table) noexcept {
  for (std::size_t code = 0; code < table.size(); ++code) {
    const bool negative = code >= 8;
    if (table[code] < (negative ? -256 : 0) || table[code] > (negative ? -1 : 255)) return false;
  }
  return true;
}

/// \brief The period of every body's activation order: each order repeats one pattern in
/// every whole block of its largest block size, a power of two that divides this, and
/// differs only in the partial blocks at the end.
inline constexpr std::size_t activation_order_period = 256;

/// \brief Writes `ordered[position(k)] = x[k]` for k < count, where `position` is a
/// permutation of [0, count) (the activation order of one fused 4-bit kernel body).
///
/// Called once per product, so it must cost little beside the rows: the positions of the
/// first activation_order_period elements are found once and reused for every later
/// whole period, and only the elements after the last whole period ask `position` one
/// by one.
template <class T, class Position>
inline void order_activations(const T* x, std::size_t count, T* ordered, Position position) noexcept {
  constexpr std::size_t period = activation_order_period;
  const std::size_t periodic_end = count / period * period;
  if (periodic_end > 0) {
    std::array<std::uint16_t, period> source{};  // source[j]: which k of a period goes to its place j
    for (std::size_t k = 0; k < period; ++k) source[position(k)] = static_cast<std::uint16_t>(k);
    for (std::size_t base = 0; base < periodic_end; base += period)
      for (std::size_t j = 0; j < period; ++j) ordered[base + j] = x[base + source[j]];
  }
  for (std::size_t k = periodic_end; k < count; ++k) ordered[position(k)] = x[k];
}

}  // namespace pot::simd
