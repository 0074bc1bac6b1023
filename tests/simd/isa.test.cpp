// The run-time choice of instruction set (simd/isa.hpp). The test suite is built with the
// compiler's default flags unless POT_NATIVE is on, as a user's program is: the choice
// must not depend on the flags, only on the CPU.

#include <doctest/doctest.h>

#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>

#include "pot/simd/isa.hpp"

using pot::simd::isa;

TEST_CASE("instruction set names round-trip and unknown names are refused") {
  for (const isa value : pot::simd::all_isas) CHECK(pot::simd::parse_isa(pot::simd::isa_name(value)) == value);
  CHECK(pot::simd::isa_name(isa::avx512) == "avx512");
  CHECK(pot::simd::isa_name(isa::neon_dotprod) == "neon_dotprod");
  for (const char* bad : {"", "AVX2", "avx", "sse2", "avx512 ", "native"}) {
    INFO("name '", bad, "'");
    CHECK_FALSE(pot::simd::parse_isa(bad).has_value());
  }
}

TEST_CASE("the supported instruction sets start with portable, ascend, and are compiled in") {
  const auto& supported = pot::simd::supported_isas();
  REQUIRE_FALSE(supported.empty());
  CHECK(supported.front() == isa::portable);
  for (std::size_t i = 1; i < supported.size(); ++i) CHECK(supported[i - 1] < supported[i]);
  for (const isa value : supported) CHECK(pot::simd::isa_compiled(value));
  CHECK(pot::simd::best_isa() == supported.back());
#if defined(POT_SIMD_X86)
  CHECK_FALSE(pot::simd::isa_supported(isa::neon));
  CHECK(pot::simd::isa_compiled(isa::avx512));  // compiled on every x86-64 build, run or not
#elif defined(POT_SIMD_AARCH64)
  CHECK(pot::simd::isa_supported(isa::neon));
  CHECK_FALSE(pot::simd::isa_compiled(isa::avx2));
#endif
}

#if defined(POT_SIMD_X86) && defined(__linux__)
// An oracle independent of CPUID: the kernel's feature list. (Under qemu-user on another
// architecture /proc/cpuinfo describes the host, so this runs on x86 Linux only.)
TEST_CASE("dispatch picks the best instruction set that /proc/cpuinfo lists") {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line, flags_line;
  while (std::getline(cpuinfo, line))
    if (line.rfind("flags", 0) == 0) {
      flags_line = line;
      break;
    }
  REQUIRE_FALSE(flags_line.empty());
  std::set<std::string> flags;
  std::istringstream words(flags_line.substr(flags_line.find(':') + 1));
  for (std::string word; words >> word;) flags.insert(word);
  const auto has = [&](const char* flag) { return flags.count(flag) != 0; };
  isa expected = isa::portable;
  if (has("avx2") && has("fma")) expected = isa::avx2;
  if (expected == isa::avx2 && has("avx512f") && has("avx512bw") && has("avx512dq") && has("avx512vl") &&
      has("avx512_vnni"))
    expected = isa::avx512;
#if defined(__AVX2__)
  MESSAGE("this test program is compiled with AVX2 enabled (-march=native?)");
#else
  MESSAGE("this test program is compiled for baseline x86-64 (default flags)");
#endif
  CHECK(pot::simd::best_isa() == expected);
}
#endif

TEST_CASE("without POT_ISA or force_isa the kernels use the best instruction set") {
  const auto from_environment = pot::simd::detail::environment_isa();
  if (from_environment.choice || !from_environment.error.empty()) {
    MESSAGE("POT_ISA is set in this run; checked that the kernels follow it instead");
    if (from_environment.choice) CHECK(pot::simd::active_isa() == *from_environment.choice);
    else CHECK_THROWS_AS((void)pot::simd::active_isa(), std::runtime_error);
    return;
  }
  CHECK(pot::simd::active_isa() == pot::simd::best_isa());
}

TEST_CASE("POT_ISA values: a supported name is chosen, others are errors naming the problem") {
  using pot::simd::detail::choice_from_environment;
  CHECK_FALSE(choice_from_environment(nullptr).choice.has_value());
  CHECK(choice_from_environment(nullptr).error.empty());
  CHECK(choice_from_environment("").error.empty());
  for (const isa value : pot::simd::supported_isas()) {
    const auto chosen = choice_from_environment(std::string(pot::simd::isa_name(value)).c_str());
    CHECK(chosen.choice == value);
    CHECK(chosen.error.empty());
  }
  const auto unknown = choice_from_environment("avx1024");
  CHECK_FALSE(unknown.choice.has_value());
  CHECK(unknown.error.find("POT_ISA=avx1024 names no instruction set") != std::string::npos);
  for (const isa value : pot::simd::all_isas) {
    if (pot::simd::isa_supported(value)) continue;
    const auto unsupported = choice_from_environment(std::string(pot::simd::isa_name(value)).c_str());
    CHECK_FALSE(unsupported.choice.has_value());
    CHECK(unsupported.error.find("is not supported by this CPU (it supports portable") != std::string::npos);
  }
}

TEST_CASE("force_isa and scoped_isa override the choice and restore it") {
  const isa before = pot::simd::active_isa();
  {
    const pot::simd::scoped_isa portable(isa::portable);
    CHECK(pot::simd::active_isa() == isa::portable);
    {
      const pot::simd::scoped_isa best(pot::simd::best_isa());
      CHECK(pot::simd::active_isa() == pot::simd::best_isa());
    }
    CHECK(pot::simd::active_isa() == isa::portable);
  }
  CHECK(pot::simd::active_isa() == before);
  for (const isa value : pot::simd::all_isas) {
    if (pot::simd::isa_supported(value)) continue;
    INFO("unsupported ", pot::simd::isa_name(value));
    CHECK_THROWS_AS(pot::simd::force_isa(value), std::invalid_argument);
    CHECK(pot::simd::active_isa() == before);  // a refused force changes nothing
  }
  pot::simd::force_isa(isa::portable);
  CHECK(pot::simd::active_isa() == isa::portable);
  pot::simd::clear_forced_isa();
  CHECK(pot::simd::active_isa() == before);
}
