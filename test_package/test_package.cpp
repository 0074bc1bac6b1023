// Conan's package check: the packaged headers compile as the consumer is configured (no
// C++ standard of its own: C++20 must come with pot::pot), and a small GEMV through
// pot::linalg, which needs xsimd and threads, computes the exact answer.
#include <pot/pot.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <vector>

int main() {
  using weight = pot::pot<4, 0, 7>;
  constexpr std::size_t rows = 4, depth = 32;
  // Every weight is ±2^e with e in 0..7 and every row holds a ±128, so each row's scale
  // (max|w| / 2^7) is 1 and quantizing loses nothing: W x is exact in int32.
  std::vector<float> w(rows * depth);
  std::vector<std::uint8_t> x(depth);
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t k = 0; k < depth; ++k)
      w[r * depth + k] = static_cast<float>((r + k) % 3 == 0 ? -1 : 1) * static_cast<float>(1 << ((r + 3 * k) % 8));
  for (std::size_t k = 0; k < depth; ++k) x[k] = static_cast<std::uint8_t>(7 * k % 251);
  constexpr std::int32_t zero_point = 5;

  std::vector<std::int64_t> expected(rows, 0);
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t k = 0; k < depth; ++k)
      expected[r] += static_cast<std::int64_t>(w[r * depth + k]) * (static_cast<std::int64_t>(x[k]) - zero_point);

  const pot::packed_matrix<weight> packed(w, rows, depth);
  int failures = 0;
  for (const auto kernel : {pot::linalg::pot_kernel::shift, pot::linalg::pot_kernel::table}) {
    std::vector<std::int32_t> y(rows);
    pot::linalg::pot_gemv<weight, std::uint8_t>(packed, x, zero_point, y, kernel, pot::linalg::execution{2});
    for (std::size_t r = 0; r < rows; ++r)
      if (packed.scale(r) != 1.0f || y[r] != expected[r]) {
        std::printf("test_package: kernel %d, row %zu: %d (scale %g), expected %lld\n",
                    static_cast<int>(kernel), r, y[r], static_cast<double>(packed.scale(r)),
                    static_cast<long long>(expected[r]));
        ++failures;
      }
  }
  std::printf("test_package: pot %s GEMV %zu x %zu, %d mismatch(es)\n", failures == 0 ? "ok" : "FAILED",
              rows, depth, failures);
  return failures == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
