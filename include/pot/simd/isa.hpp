#pragma once
/// \file
/// \brief The instruction sets pot has kernels for, which of them the CPU running the
/// program supports, and which one the kernels use: the best supported one, unless the
/// environment variable `POT_ISA` or force_isa() says otherwise.
///
/// Every fast kernel is compiled for every instruction set of the build's architecture,
/// whatever `-march` the program is compiled with (simd/target.hpp), and the choice is
/// made here once, at run time, from CPUID on x86-64 and from the auxiliary vector on
/// AArch64 Linux, as OpenBLAS's DYNAMIC_ARCH and ggml do. A program built with default
/// flags therefore runs the same kernels as one built with `-march=native`.

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdlib>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define POT_SIMD_X86 1
#elif defined(__aarch64__)
#define POT_SIMD_AARCH64 1
#if defined(__linux__)
#include <sys/auxv.h>
#endif
#endif

namespace pot::simd {

/// \brief An instruction set with its own kernel bodies.
///
/// Each one includes every earlier one of its architecture: a CPU that runs avx512 code
/// also runs avx2 code, and every CPU runs the portable code.
enum class isa : unsigned char {
  portable,      ///< No hand-written intrinsics: scalar loops and xsimd at the build's flags.
  avx2,          ///< x86-64 with AVX2 and FMA (Haswell, Zen 1 and later).
  avx512,        ///< x86-64 with AVX-512 F, BW, DQ, VL and VNNI (Ice Lake, Zen 4 and later).
  neon,          ///< AArch64 Advanced SIMD (every AArch64 CPU).
  neon_dotprod,  ///< AArch64 with the dot-product extension (SDOT/UDOT; Cortex-A55/A76 and later).
};

/// \brief Every isa value, in order.
inline constexpr std::array<isa, 5> all_isas{isa::portable, isa::avx2, isa::avx512, isa::neon,
                                             isa::neon_dotprod};

/// \brief The name `POT_ISA` takes for \p value ("portable", "avx2", "avx512", "neon",
/// "neon_dotprod").
constexpr std::string_view isa_name(isa value) noexcept {
  switch (value) {
    case isa::portable: return "portable";
    case isa::avx2: return "avx2";
    case isa::avx512: return "avx512";
    case isa::neon: return "neon";
    case isa::neon_dotprod: return "neon_dotprod";
  }
  return "unknown";
}

/// \brief The isa named \p name (as isa_name() spells it), or nothing.
constexpr std::optional<isa> parse_isa(std::string_view name) noexcept {
  for (const isa value : all_isas)
    if (isa_name(value) == name) return value;
  return std::nullopt;
}

/// \brief Whether this build has kernel bodies for \p value: portable always, avx2 and
/// avx512 on x86-64, neon and neon_dotprod on AArch64.
constexpr bool isa_compiled(isa value) noexcept {
  switch (value) {
    case isa::portable: return true;
    case isa::avx2:
    case isa::avx512:
#if defined(POT_SIMD_X86)
      return true;
#else
      return false;
#endif
    case isa::neon:
    case isa::neon_dotprod:
#if defined(POT_SIMD_AARCH64)
      return true;
#else
      return false;
#endif
  }
  return false;
}

namespace detail {

#if defined(POT_SIMD_X86)
/// The features of CPUID leaves 1 and 7 and of XCR0 that the x86 kernels need.
struct x86_features {
  bool avx2 = false;    ///< AVX, AVX2 and FMA, with the OS saving ymm state
  bool avx512 = false;  ///< AVX-512 F/BW/DQ/VL/VNNI, with the OS saving zmm and mask state
};

inline x86_features detect_x86() noexcept {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  x86_features features;
  if (__get_cpuid(1, &eax, &ebx, &ecx, &edx) == 0) return features;
  const bool fma = (ecx >> 12) & 1u, osxsave = (ecx >> 27) & 1u, avx = (ecx >> 28) & 1u;
  if (!osxsave || !avx) return features;
  // XGETBV: which register state the OS saves on a context switch (XCR0).
  unsigned xcr0_low = 0, xcr0_high = 0;
  __asm__ volatile("xgetbv" : "=a"(xcr0_low), "=d"(xcr0_high) : "c"(0));
  const bool os_ymm = (xcr0_low & 0x6u) == 0x6u;    // SSE and AVX state
  const bool os_zmm = (xcr0_low & 0xE6u) == 0xE6u;  // and opmask, ZMM_Hi256, Hi16_ZMM
  if (__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx) == 0) return features;
  const bool avx2 = (ebx >> 5) & 1u;
  const bool avx512f = (ebx >> 16) & 1u, avx512dq = (ebx >> 17) & 1u;
  const bool avx512bw = (ebx >> 30) & 1u, avx512vl = (ebx >> 31) & 1u;
  const bool avx512vnni = (ecx >> 11) & 1u;
  features.avx2 = os_ymm && avx2 && fma;
  features.avx512 = features.avx2 && os_zmm && avx512f && avx512dq && avx512bw && avx512vl && avx512vnni;
  return features;
}
#endif

/// The instruction sets the CPU supports, detected once.
inline const std::vector<isa>& detected_isas() {
  static const std::vector<isa> supported = [] {
    std::vector<isa> found{isa::portable};
#if defined(POT_SIMD_X86)
    const x86_features features = detect_x86();
    if (features.avx2) found.push_back(isa::avx2);
    if (features.avx512) found.push_back(isa::avx512);
#elif defined(POT_SIMD_AARCH64)
    found.push_back(isa::neon);
#if defined(__linux__) && defined(HWCAP_ASIMDDP)
    if ((getauxval(AT_HWCAP) & HWCAP_ASIMDDP) != 0) found.push_back(isa::neon_dotprod);
#elif defined(__APPLE__)
    found.push_back(isa::neon_dotprod);  // every Apple silicon CPU has the dot product
#endif
#endif
    return found;
  }();
  return supported;
}

/// force_isa()'s choice, or none_forced: one atomic, read by every kernel call.
inline constexpr int none_forced = -1;
inline std::atomic<int> forced_isa{none_forced};

/// `POT_ISA`, read and checked once: the isa it names, nothing when unset or empty, or
/// the message of the error every kernel call then throws.
struct environment_choice {
  std::optional<isa> choice;
  std::string error;
};

inline std::string supported_list() {
  std::string names;
  for (const isa value : detected_isas()) names += (names.empty() ? "" : ", ") + std::string(isa_name(value));
  return names;
}

/// What a `POT_ISA` value \p text (null when unset) asks for.
inline environment_choice choice_from_environment(const char* text) {
  environment_choice result;
  if (text == nullptr || *text == '\0') return result;
  const std::optional<isa> named = parse_isa(text);
  const auto& supported = detected_isas();
  if (!named) {
    result.error = "pot: POT_ISA=" + std::string(text) +
                   " names no instruction set (portable, avx2, avx512, neon, neon_dotprod)";
  } else if (std::find(supported.begin(), supported.end(), *named) == supported.end()) {
    result.error = "pot: POT_ISA=" + std::string(text) + " is not supported by this CPU (it supports " +
                   supported_list() + ")";
  } else {
    result.choice = named;
  }
  return result;
}

inline const environment_choice& environment_isa() {
  static const environment_choice from_environment = choice_from_environment(std::getenv("POT_ISA"));
  return from_environment;
}

}  // namespace detail

/// \brief The instruction sets this CPU supports (portable first, then in isa order).
inline const std::vector<isa>& supported_isas() { return detail::detected_isas(); }

/// \brief Whether this CPU supports \p value (and this build has kernels for it).
inline bool isa_supported(isa value) {
  const auto& supported = supported_isas();
  return std::find(supported.begin(), supported.end(), value) != supported.end();
}

/// \brief The best instruction set this CPU supports.
inline isa best_isa() { return supported_isas().back(); }

/// \brief The instruction set the kernels use: force_isa()'s, else `POT_ISA`'s, else
/// best_isa().
/// \throws std::runtime_error if `POT_ISA` names an unknown instruction set or one this
///   CPU does not support (no kernel then runs something else silently)
inline isa active_isa() {
  const int forced = detail::forced_isa.load(std::memory_order_relaxed);
  if (forced != detail::none_forced) return static_cast<isa>(forced);
  const auto& environment = detail::environment_isa();
  if (!environment.error.empty()) throw std::runtime_error(environment.error);
  return environment.choice.value_or(best_isa());
}

/// \brief Makes every kernel use \p value from now on (in every thread), overriding
/// `POT_ISA`; for tests and for programs that let a user choose.
/// \throws std::invalid_argument if this CPU does not support \p value
inline void force_isa(isa value) {
  if (!isa_supported(value))
    throw std::invalid_argument("pot: cannot force instruction set " + std::string(isa_name(value)) +
                                ": this CPU supports " + detail::supported_list());
  detail::forced_isa.store(static_cast<int>(value), std::memory_order_relaxed);
}

/// \brief Undoes force_isa(): the kernels use `POT_ISA`'s choice or best_isa() again.
inline void clear_forced_isa() noexcept { detail::forced_isa.store(detail::none_forced, std::memory_order_relaxed); }

/// \brief Forces an instruction set for the lifetime of the object, then restores the
/// previous choice (scoped use of force_isa(), e.g. in a test).
class scoped_isa {
 public:
  /// \brief Forces \p value (see force_isa()).
  explicit scoped_isa(isa value) : previous_(detail::forced_isa.load(std::memory_order_relaxed)) {
    force_isa(value);
  }
  ~scoped_isa() { detail::forced_isa.store(previous_, std::memory_order_relaxed); }
  scoped_isa(const scoped_isa&) = delete;
  scoped_isa& operator=(const scoped_isa&) = delete;

 private:
  int previous_;
};

}  // namespace pot::simd
