// expect: MinExp must not exceed MaxExp
#include "pot/core/pot.hpp"

int main() { return pot::pot<4, 3, 2>().code(); }
