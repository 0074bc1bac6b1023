// expect: pot \* integer needs MinExp >= 0
#include "pot/core/pot.hpp"

int main() { return pot::pot<4, -1, 6>(0.5) * 3; }
