// expect: integer / pot needs MinExp >= 0
#include "pot/core/pot.hpp"

int main() { return 12 / pot::pot<4, -2, 5>(0.25); }
