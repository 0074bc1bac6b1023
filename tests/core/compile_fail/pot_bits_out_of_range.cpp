// expect: Bits must be between 2 and 16
#include "pot/core/pot.hpp"

int main() { return pot::pot<17, 0, 7>().code(); }
