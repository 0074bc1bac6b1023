// Uses pot through an installed or embedded package and checks one result, so that a
// package that builds but hands out broken headers still fails the test.
#include <pot/pot.hpp>

#include <cstdio>

int main() {
  using weight = pot::pot<4, 0, 7>;
  // 3 lies above the log-domain midpoint 2*sqrt(2) between 2 and 4, so it becomes 4,
  // and multiplying 5 by 2^2 is a left shift by two.
  constexpr weight w(3.0f);
  const auto product = w * 5;
  const auto value = static_cast<float>(w);
  if (value != 4.0f || product != 20) {
    std::fprintf(stderr, "consumer: pot<4,0,7>(3.0f) is %g and times 5 is %lld; expected 4 and 20\n",
                 static_cast<double>(value), static_cast<long long>(product));
    return 1;
  }
  std::printf("consumer: pot<4,0,7>(3.0f) = %g, times 5 = %lld\n", static_cast<double>(value),
              static_cast<long long>(product));
  return 0;
}
