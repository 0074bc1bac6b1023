// expect: zero_code::flush needs a spare exponent index
// pot<4, 0, 7> uses all 8 exponent indices, so no code is left for 0.
#include "pot/core/pot.hpp"

int main() { return pot::pot<4, 0, 7, pot::rounding::log, pot::zero_code::flush>().code(); }
