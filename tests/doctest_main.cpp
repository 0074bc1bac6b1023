// One doctest main for every test program. It first names the instruction sets whose
// kernel bodies the tests can run on this CPU, and those compiled in that it lacks
// (tests/isa_variants.hpp runs the kernels' tests once per supported one).
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>
#include <string>

#include "pot/simd/isa.hpp"

int main(int argc, char** argv) {
  std::string supported, lacking;
  for (const pot::simd::isa value : pot::simd::all_isas) {
    if (!pot::simd::isa_compiled(value)) continue;
    std::string& list = pot::simd::isa_supported(value) ? supported : lacking;
    list += (list.empty() ? "" : " ") + std::string(pot::simd::isa_name(value));
  }
  std::printf("[pot] instruction sets run: %s; compiled but not run (this CPU lacks them): %s\n",
              supported.c_str(), lacking.empty() ? "none" : lacking.c_str());
  doctest::Context context(argc, argv);
  return context.run();
}
