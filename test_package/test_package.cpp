// Conan's package check: the packaged headers compile and compute a right answer.
#include <pot/core/pot.hpp>

#include <cstdlib>

int main() {
  // -100 lies beyond the log-domain midpoint 64*sqrt(2) = 90.5, so it rounds to -2^7;
  // times 0.5 that is -64, exactly.
  const pot::pot<4, 0, 7> weight(-100.0f);
  return weight * 0.5f == -64.0f ? EXIT_SUCCESS : EXIT_FAILURE;
}
