// expect: too many exponents for Bits
// 9 exponents (0..8) need 4 index bits; a 4-bit code has 3.
#include "pot/core/pot.hpp"

int main() { return pot::pot<4, 0, 8>().code(); }
