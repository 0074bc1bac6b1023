#include <doctest/doctest.h>

#include <algorithm>
#include <cstddef>
#include <limits>
#include <vector>

#include "../isa_variants.hpp"
#include "pot/simd/transpose_lines.hpp"

namespace {

// Runs transpose_lines<Width> on lines with distinct values and checks every packed
// slot against the definition, element by element.
template <std::size_t Width, class T>
void check_transpose(std::size_t valid, std::size_t depth, std::size_t line_step, T /*type*/) {
  CAPTURE(Width);
  CAPTURE(valid);
  CAPTURE(depth);
  std::vector<T> source(valid * line_step + depth);
  for (std::size_t i = 0; i < source.size(); ++i) source[i] = static_cast<T>(i) + T(0.5);
  // Start from NaN, so a slot the function forgets to write fails the comparison.
  std::vector<T> packed(depth * Width, std::numeric_limits<T>::quiet_NaN());
  pot::simd::dispatch([&](auto isa) {
    pot::simd::transpose_lines<Width>(isa, source.data(), line_step, valid, depth, packed.data());
  });
  std::size_t wrong = 0;
  for (std::size_t k = 0; k < depth; ++k)
    for (std::size_t p = 0; p < Width; ++p) {
      const T expected = p < valid ? static_cast<T>(p * line_step + k) + T(0.5) : T(0);
      if (!(packed[k * Width + p] == expected)) ++wrong;
    }
  CHECK(wrong == 0);
}

}  // namespace

TEST_CASE("transpose_lines packs lines k-major with zero padding, for every depth and width") {
  pot::test::for_each_supported_isa([](pot::simd::isa) {
    for (std::size_t depth : {1U, 7U, 8U, 9U, 16U, 23U, 64U}) {
      for (std::size_t valid = 1; valid <= 12; ++valid) {
        check_transpose<6>(std::min<std::size_t>(valid, 6), depth, depth + 5, float{});
        check_transpose<6>(std::min<std::size_t>(valid, 6), depth, depth + 5, double{});
        check_transpose<12>(valid, depth, depth + 5, float{});  // the AVX-512 kernel's A panels
      }
      for (std::size_t valid : {1U, 7U, 8U, 9U, 15U, 16U, 31U, 32U}) {
        check_transpose<32>(valid, depth, depth + 3, float{});  // the AVX-512 kernel's B panels
        check_transpose<16>(std::min<std::size_t>(valid, 16), depth, depth + 3, float{});
        check_transpose<8>(std::min<std::size_t>(valid, 8), depth, depth, float{});
      }
    }
  });
}
