// expect: exponents must lie in \[-1022, 1023\]
// 2^-1023 is a subnormal double, so products with it would not be one exact multiplication.
#include "pot/core/pot.hpp"

int main() { return pot::pot<8, -1023, -1000>().code(); }
