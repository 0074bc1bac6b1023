#pragma once
// What the benchmark programs share: the run's context (which instruction set the pot
// kernels chose, which ones this CPU supports, what the program itself was compiled for,
// OpenBLAS's kernel), benchmarks of a kernel forced to each instruction set next to the
// dispatched one, and the main() that runs them.

#include <benchmark/benchmark.h>

#include <functional>
#include <string>
#include <utility>

#include "pot/simd/isa.hpp"

#if defined(POT_HAVE_OPENBLAS)
#include <cblas.h>
#endif

namespace pot::bench {

/// The instruction-set macros the compiler defined for this program: "baseline" in a
/// default-flags x86-64 build, whatever the kernels then choose at run time.
inline std::string compiled_for() {
  std::string flags;
#if defined(__AVX512F__)
  flags += " avx512f";
#endif
#if defined(__AVX2__)
  flags += " avx2";
#endif
#if defined(__FMA__)
  flags += " fma";
#endif
#if defined(__ARM_FEATURE_DOTPROD)
  flags += " dotprod";
#endif
  return flags.empty() ? "baseline" : flags.substr(1);
}

/// Records the context in the JSON of every run (and on the console).
inline void record_context() {
  std::string supported;
  for (const simd::isa value : simd::supported_isas())
    supported += (supported.empty() ? "" : " ") + std::string(simd::isa_name(value));
  benchmark::AddCustomContext("pot_isa", std::string(simd::isa_name(simd::active_isa())));
  benchmark::AddCustomContext("pot_isas_supported", supported);
  benchmark::AddCustomContext("compiled_for", compiled_for());
#if defined(POT_HAVE_OPENBLAS)
  benchmark::AddCustomContext("openblas_core", openblas_get_corename());
  benchmark::AddCustomContext("openblas_config", openblas_get_config());
#endif
}

/// Registers `name@ISA` for every instruction set this CPU supports: `run` with the
/// kernels forced to that ISA (simd::scoped_isa), so one run shows each variant beside
/// the dispatched one (registered under the plain name by the program). `shapes` gives
/// every registration its arguments, as Benchmark::Apply does.
inline void register_forced_variants(const std::string& name, void (*run)(benchmark::State&),
                                     const std::function<void(benchmark::internal::Benchmark*)>& shapes) {
  for (const simd::isa value : simd::supported_isas()) {
    auto* registered = benchmark::RegisterBenchmark((name + "@" + std::string(simd::isa_name(value))).c_str(),
                                                    [run, value](benchmark::State& state) {
                                                      const simd::scoped_isa forced(value);
                                                      run(state);
                                                    });
    shapes(registered);
  }
}

/// Records the context, then runs the benchmarks that the command line selects.
inline int run(int argc, char** argv) {
  record_context();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

}  // namespace pot::bench
