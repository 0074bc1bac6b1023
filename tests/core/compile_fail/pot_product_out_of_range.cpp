// expect: the product's exponent range leaves \[-1022, 1023\]
#include "pot/core/pot.hpp"

int main() {
  using huge = pot::pot<8, 900, 1023>;
  return (huge() * huge()).code();
}
