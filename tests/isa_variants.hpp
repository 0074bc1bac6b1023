#pragma once
// Runs a test body once per instruction set this CPU supports, with the kernels forced
// to it (pot::simd::scoped_isa), so that every kernel body the machine can execute is
// checked against the reference; a failure names the instruction set.

#include <doctest/doctest.h>

#include <string>

#include "pot/simd/isa.hpp"

namespace pot::test {

template <class Body>
void for_each_supported_isa(Body&& body) {
  for (const simd::isa value : simd::supported_isas()) {
    const simd::scoped_isa forced(value);
    const std::string name(simd::isa_name(value));
    INFO("instruction set ", name);
    body(value);
  }
}

}  // namespace pot::test
