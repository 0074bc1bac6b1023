// Shift versus multiply: is multiplying by a power of two as a shift (integers) or an
// exponent add (floats) cheaper than the multiplier it replaces?
//
// Every benchmark computes out[i] = a[i] (op) b[i] over kElements elements. Three
// arrays of kElements 4-byte elements take 24 KiB, inside the 32 KiB L1 data cache of
// the CPUs we target, so the figure is ALU and load/store throughput, not memory
// bandwidth. The loop is dependency-free; ClobberMemory() after each pass makes the
// compiler store every result and reload the inputs, so nothing is folded away.
//
// "scalar" loops are kept scalar by an empty asm statement on each result (it emits no
// instruction), because GCC 12 and clang vectorize plain loops at -O2. "simd" loops use
// xsimd batches (8 x 32-bit or 16 x 16-bit lanes with AVX2); "avx2" loops are hand-written
// intrinsics for operations xsimd 8.1 does not lower to a single instruction.
//
// The counter Gelem/s is the rate in 10^9 elements per second, i.e. elements per
// nanosecond (items_per_second says the same in other units); at the end the program prints
// every rate as a ratio against float multiply of the same width (scalar against scalar,
// vector against vector), measured in the same run.
//
// Every loop starts on a 64-byte boundary. The vector loops are a few instructions
// long (about 30 bytes), and where one happened to straddle a 64-byte boundary it ran
// at half speed on Zen 3 (two op-cache lines per iteration: about 2 cycles per vector
// instead of 1), whichever operation it held: the float multiply baseline did in one
// build, the int32 multiply in another build of the same source.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("align-loops=64")
#endif

#include <benchmark/benchmark.h>

#include "pot/simd/intrinsics.hpp"  // first: see there
#include "pot/simd/xsimd_compat.hpp"

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <map>
#include <random>
#include <stdexcept>
#include <type_traits>
#include <string>
#include <vector>

namespace {

constexpr std::size_t kElements = 2048;

/// Largest shift the integer benchmarks use: the 4-bit PoT format pot<4, 0, 7> has
/// exponent indices 0..7, so every shift a PoT GEMV performs is in this range.
constexpr int kMaxShift = 7;

/// Forces a scalar value through a register without emitting an instruction, so the
/// compiler can neither vectorize the loop around it nor fold the computation.
template <class T>
inline void keep_scalar(T& value) {
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
  if constexpr (std::is_floating_point_v<T>)
    asm volatile("" : "+x"(value));
  else
    asm volatile("" : "+r"(value));
#else
  benchmark::DoNotOptimize(value);
#endif
}

/// All arrays live in one cache-line aligned arena, each starting 256 bytes further
/// into a 4 KiB page than the one before. Separately allocated arrays tend to share
/// their address bits 0..11; a load then falsely waits for a store to the same offset
/// in another page ("4K aliasing"), which made the timings depend on the allocator.
/// The outputs are laid out first, so an input element aliases only outputs that are
/// either long written or not yet written.
class staggered_arena {
 public:
  template <class T>
  T* take() {
    const std::size_t page = 4096;
    const std::size_t bytes = (kElements * sizeof(T) + page - 1) / page * page;
    T* array = reinterpret_cast<T*>(storage_.data() + used_);
    used_ += bytes + 256;
    if (used_ > storage_.size()) throw std::length_error("pot: staggered_arena too small");
    return array;
  }

 private:
  static constexpr std::size_t capacity = 32 * (kElements * 4 + 4096);
  std::vector<std::byte, xsimd::aligned_allocator<std::byte, 4096>> storage_ =
      std::vector<std::byte, xsimd::aligned_allocator<std::byte, 4096>>(capacity);
  std::size_t used_ = 0;
};

/// The operands, generated once: activations and PoT weights as each benchmark needs
/// them, and one output array per element type.
struct operands {
  staggered_arena arena;
  float* out_f32 = arena.take<float>();
  std::int32_t* out_i32 = arena.take<std::int32_t>();
  std::int16_t* out_i16 = arena.take<std::int16_t>();
  float* activations_f32 = arena.take<float>();            // |x| in [0.5, 2), normal
  float* weights_f32 = arena.take<float>();                // ±2^e, e in [-8, 7]
  std::int32_t* exponent_words = arena.take<std::int32_t>();   // e << 23, sign in bit 31
  std::int32_t* activations_i32 = arena.take<std::int32_t>();  // q - zp in [-255, 255]
  std::int32_t* weights_i32 = arena.take<std::int32_t>();      // ±2^s, s in [0, 7]
  std::int32_t* shifts_i32 = arena.take<std::int32_t>();       // s
  std::int32_t* signs_i32 = arena.take<std::int32_t>();        // ±1, the weight's sign
  std::int16_t* activations_i16 = arena.take<std::int16_t>();
  std::int16_t* weights_i16 = arena.take<std::int16_t>();      // 2^s
  std::int16_t* shifts_i16 = arena.take<std::int16_t>();       // s

  operands() {
    std::mt19937 rng(20240601);
    std::uniform_real_distribution<float> magnitude(0.5f, 2.0f);
    std::uniform_int_distribution<int> exponent(-8, 7);
    std::uniform_int_distribution<int> shift(0, kMaxShift);
    std::uniform_int_distribution<int> activation(-255, 255);
    std::bernoulli_distribution negative(0.5);
    for (std::size_t i = 0; i < kElements; ++i) {
      const float x = magnitude(rng);
      activations_f32[i] = negative(rng) ? -x : x;
      const int e = exponent(rng);
      const bool weight_negative = negative(rng);
      weights_f32[i] = (weight_negative ? -1.0f : 1.0f) * std::ldexp(1.0f, e);
      exponent_words[i] = static_cast<std::int32_t>(
          static_cast<std::uint32_t>(e) * (1u << 23) + (weight_negative ? 0x8000'0000u : 0u));
      const int s = shift(rng);
      const int sign = negative(rng) ? -1 : 1;
      activations_i32[i] = activation(rng);
      weights_i32[i] = sign * (1 << s);
      shifts_i32[i] = s;
      signs_i32[i] = sign;
      activations_i16[i] = static_cast<std::int16_t>(activation(rng));
      weights_i16[i] = static_cast<std::int16_t>(1 << s);
      shifts_i16[i] = static_cast<std::int16_t>(s);
      out_f32[i] = 0.0f;
      out_i32[i] = 0;
      out_i16[i] = 0;
    }
  }
};

const operands& data() {
  static const operands instance;
  return instance;
}

template <class T>
T* output_array() {
  if constexpr (std::is_same_v<T, float>) return data().out_f32;
  else if constexpr (std::is_same_v<T, std::int32_t>) return data().out_i32;
  else return data().out_i16;
}

/// Runs `pass(out)` repeatedly and reports elements per nanosecond.
template <class Out, class Pass>
void measure(benchmark::State& state, Pass pass) {
  Out* out = output_array<Out>();
  for (auto _ : state) {
    pass(out);
    benchmark::DoNotOptimize(out);
    benchmark::ClobberMemory();
  }
  const auto elements = static_cast<double>(state.iterations()) * kElements;
  state.SetItemsProcessed(static_cast<std::int64_t>(elements));
  state.counters["Gelem"] = benchmark::Counter(elements * 1e-9, benchmark::Counter::kIsRate);
}

using float_batch = xsimd::batch<float>;
using int32_batch = xsimd::batch<std::int32_t>;
using int16_batch = xsimd::batch<std::int16_t>;

// ---- float ---------------------------------------------------------------------------

void scalar_float_multiply(benchmark::State& state) {
  const float* a = data().activations_f32;
  const float* w = data().weights_f32;
  measure<float>(state, [&](float* out) {
    for (std::size_t i = 0; i < kElements; ++i) {
      float product = a[i] * w[i];
      keep_scalar(product);
      out[i] = product;
    }
  });
}

void scalar_float_fma(benchmark::State& state) {
  const float* a = data().activations_f32;
  const float* w = data().weights_f32;
  measure<float>(state, [&](float* out) {
    for (std::size_t i = 0; i < kElements; ++i) {
      float sum = std::fma(a[i], w[i], out[i]);
      keep_scalar(sum);
      out[i] = sum;
    }
  });
}

/// pot * float as an integer add into the float's bits: adding e << 23 adds e to the
/// biased exponent field, and adding the sign in bit 31 flips the sign (bit 31 has no
/// carry out). Precondition: x is finite, normal and nonzero, and x * 2^e is normal
/// (no overflow to inf, no underflow into the subnormals); 0, subnormals, inf and NaN
/// give garbage, which is why the library's pot * float goes through a real multiply.
std::uint32_t exponent_add(std::uint32_t float_bits, std::uint32_t exponent_word) {
  return float_bits + exponent_word;
}

void scalar_pot_times_float_exponent_add(benchmark::State& state) {
  const float* a = data().activations_f32;
  const std::int32_t* words = data().exponent_words;
  measure<float>(state, [&](float* out) {
    for (std::size_t i = 0; i < kElements; ++i) {
      std::uint32_t bits = exponent_add(std::bit_cast<std::uint32_t>(a[i]),
                                        static_cast<std::uint32_t>(words[i]));
      keep_scalar(bits);
      out[i] = std::bit_cast<float>(bits);
    }
  });
}

void simd_float_multiply(benchmark::State& state) {
  const float* a = data().activations_f32;
  const float* w = data().weights_f32;
  measure<float>(state, [&](float* out) {
    for (std::size_t i = 0; i < kElements; i += float_batch::size)
      (float_batch::load_unaligned(a + i) * float_batch::load_unaligned(w + i))
          .store_unaligned(out + i);
  });
}

void simd_float_fma(benchmark::State& state) {
  const float* a = data().activations_f32;
  const float* w = data().weights_f32;
  measure<float>(state, [&](float* out) {
    for (std::size_t i = 0; i < kElements; i += float_batch::size)
      xsimd::fma(float_batch::load_unaligned(a + i), float_batch::load_unaligned(w + i),
                 float_batch::load_unaligned(out + i))
          .store_unaligned(out + i);
  });
}

void simd_pot_times_float_exponent_add(benchmark::State& state) {
  const float* a = data().activations_f32;
  const std::int32_t* words = data().exponent_words;
  measure<float>(state, [&](float* out) {
    for (std::size_t i = 0; i < kElements; i += int32_batch::size) {
      const auto bits = pot::xsimd_compat::bitwise_cast<std::int32_t>(float_batch::load_unaligned(a + i));
      pot::xsimd_compat::bitwise_cast<float>(bits + int32_batch::load_unaligned(words + i))
          .store_unaligned(out + i);
    }
  });
}

// ---- int32 ---------------------------------------------------------------------------

void scalar_int32_multiply(benchmark::State& state) {
  const std::int32_t* a = data().activations_i32;
  const std::int32_t* w = data().weights_i32;
  measure<std::int32_t>(state, [&](std::int32_t* out) {
    for (std::size_t i = 0; i < kElements; ++i) {
      std::int32_t product = a[i] * w[i];
      keep_scalar(product);
      out[i] = product;
    }
  });
}

void scalar_int32_shift(benchmark::State& state) {
  const std::int32_t* a = data().activations_i32;
  const std::int32_t* s = data().shifts_i32;
  measure<std::int32_t>(state, [&](std::int32_t* out) {
    for (std::size_t i = 0; i < kElements; ++i) {
      std::int32_t shifted = a[i] << s[i];
      keep_scalar(shifted);
      out[i] = shifted;
    }
  });
}

void simd_int32_multiply(benchmark::State& state) {
  const std::int32_t* a = data().activations_i32;
  const std::int32_t* w = data().weights_i32;
  measure<std::int32_t>(state, [&](std::int32_t* out) {
    for (std::size_t i = 0; i < kElements; i += int32_batch::size)
      (int32_batch::load_unaligned(a + i) * int32_batch::load_unaligned(w + i))
          .store_unaligned(out + i);
  });
}

void simd_int32_shift(benchmark::State& state) {
  const std::int32_t* a = data().activations_i32;
  const std::int32_t* s = data().shifts_i32;
  measure<std::int32_t>(state, [&](std::int32_t* out) {
    for (std::size_t i = 0; i < kElements; i += int32_batch::size)
      (int32_batch::load_unaligned(a + i) << int32_batch::load_unaligned(s + i))
          .store_unaligned(out + i);
  });
}

#if defined(__AVX2__)
/// The whole PoT product on int32: a variable shift (vpsllvd) then the weight's sign
/// applied with vpsignd, i.e. what a shift-based kernel really does per weight.
void avx2_pot_times_int32_shift_and_sign(benchmark::State& state) {
  const std::int32_t* a = data().activations_i32;
  const std::int32_t* s = data().shifts_i32;
  const std::int32_t* sign = data().signs_i32;
  measure<std::int32_t>(state, [&](std::int32_t* out) {
    for (std::size_t i = 0; i < kElements; i += 8) {
      const auto load = [](const std::int32_t* p) {
        return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
      };
      const __m256i shifted = _mm256_sllv_epi32(load(a + i), load(s + i));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i),
                          _mm256_sign_epi32(shifted, load(sign + i)));
    }
  });
}
#endif

// ---- int16 ---------------------------------------------------------------------------

void scalar_int16_multiply(benchmark::State& state) {
  const std::int16_t* a = data().activations_i16;
  const std::int16_t* w = data().weights_i16;
  measure<std::int16_t>(state, [&](std::int16_t* out) {
    for (std::size_t i = 0; i < kElements; ++i) {
      auto product = static_cast<std::int16_t>(a[i] * w[i]);
      keep_scalar(product);
      out[i] = product;
    }
  });
}

void scalar_int16_shift(benchmark::State& state) {
  const std::int16_t* a = data().activations_i16;
  const std::int16_t* s = data().shifts_i16;
  measure<std::int16_t>(state, [&](std::int16_t* out) {
    for (std::size_t i = 0; i < kElements; ++i) {
      auto shifted = static_cast<std::int16_t>(a[i] << s[i]);
      keep_scalar(shifted);
      out[i] = shifted;
    }
  });
}

void simd_int16_multiply(benchmark::State& state) {
  const std::int16_t* a = data().activations_i16;
  const std::int16_t* w = data().weights_i16;
  measure<std::int16_t>(state, [&](std::int16_t* out) {
    for (std::size_t i = 0; i < kElements; i += int16_batch::size)
      (int16_batch::load_unaligned(a + i) * int16_batch::load_unaligned(w + i))
          .store_unaligned(out + i);
  });
}

/// xsimd 8.1 has no AVX2 kernel for a variable 16-bit shift (AVX2 lacks vpsllvw), so
/// `batch << batch` falls back to its generic path: store both batches, shift each lane
/// in a scalar loop, reload.
void simd_int16_shift_xsimd(benchmark::State& state) {
  const std::int16_t* a = data().activations_i16;
  const std::int16_t* s = data().shifts_i16;
  measure<std::int16_t>(state, [&](std::int16_t* out) {
    for (std::size_t i = 0; i < kElements; i += int16_batch::size)
      (int16_batch::load_unaligned(a + i) << int16_batch::load_unaligned(s + i))
          .store_unaligned(out + i);
  });
}

#if defined(__AVX2__)
inline __m256i load16(const std::int16_t* p) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}

/// A 16-bit variable shift from two 32-bit ones: the even lanes shift in place (bits
/// that cross into the odd lane are discarded by the blend), the odd lanes are shifted
/// with their low half cleared, then vpblendw picks each half. Valid for shifts 0..15.
inline __m256i shift_left_epi16(__m256i values, __m256i shifts) {
  const __m256i low_half = _mm256_set1_epi32(0x0000'FFFF);
  const __m256i even = _mm256_sllv_epi32(values, _mm256_and_si256(shifts, low_half));
  const __m256i odd = _mm256_sllv_epi32(_mm256_andnot_si256(low_half, values),
                                        _mm256_srli_epi32(shifts, 16));
  return _mm256_blend_epi16(even, odd, 0b1010'1010);
}

void avx2_int16_shift_via_vpsllvd(benchmark::State& state) {
  const std::int16_t* a = data().activations_i16;
  const std::int16_t* s = data().shifts_i16;
  measure<std::int16_t>(state, [&](std::int16_t* out) {
    for (std::size_t i = 0; i < kElements; i += 16)
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i),
                          shift_left_epi16(load16(a + i), load16(s + i)));
  });
}

/// A 16-bit variable shift as a multiply by 2^s, with 2^s looked up by vpshufb from a
/// 16-byte table (shifts 0..7 only, the range of a 4-bit PoT code's exponent index): the
/// high byte of each lane indexes with bit 7 set, so vpshufb writes 0 there.
inline __m256i shift_left_epi16_by_table_multiply(__m256i values, __m256i shifts) {
  const __m256i powers = _mm256_setr_epi8(1, 2, 4, 8, 16, 32, 64, -128, 0, 0, 0, 0, 0, 0, 0, 0,
                                          1, 2, 4, 8, 16, 32, 64, -128, 0, 0, 0, 0, 0, 0, 0, 0);
  const __m256i index = _mm256_or_si256(shifts, _mm256_set1_epi16(static_cast<short>(0x8000)));
  return _mm256_mullo_epi16(values, _mm256_shuffle_epi8(powers, index));
}

void avx2_int16_shift_via_table_vpmullw(benchmark::State& state) {
  const std::int16_t* a = data().activations_i16;
  const std::int16_t* s = data().shifts_i16;
  measure<std::int16_t>(state, [&](std::int16_t* out) {
    for (std::size_t i = 0; i < kElements; i += 16)
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i),
                          shift_left_epi16_by_table_multiply(load16(a + i), load16(s + i)));
  });
}
#endif

// The registration order is the order of the printed tables.
BENCHMARK(scalar_float_multiply);
BENCHMARK(scalar_float_fma);
BENCHMARK(scalar_pot_times_float_exponent_add);
BENCHMARK(scalar_int32_multiply);
BENCHMARK(scalar_int32_shift);
BENCHMARK(scalar_int16_multiply);
BENCHMARK(scalar_int16_shift);
BENCHMARK(simd_float_multiply);
BENCHMARK(simd_float_fma);
BENCHMARK(simd_pot_times_float_exponent_add);
BENCHMARK(simd_int32_multiply);
BENCHMARK(simd_int32_shift);
#if defined(__AVX2__)
BENCHMARK(avx2_pot_times_int32_shift_and_sign);
#endif
BENCHMARK(simd_int16_multiply);
BENCHMARK(simd_int16_shift_xsimd);
#if defined(__AVX2__)
BENCHMARK(avx2_int16_shift_via_vpsllvd);
BENCHMARK(avx2_int16_shift_via_table_vpmullw);
#endif

/// The fast variants must compute the same thing as the plain operation, or their speed
/// means nothing; checked once before timing. Returns the number of mismatches.
int count_mismatches() {
  const operands& d = data();
  int mismatches = 0;
  for (std::size_t i = 0; i < kElements; ++i) {
    const float by_exponent_add = std::bit_cast<float>(exponent_add(
        std::bit_cast<std::uint32_t>(d.activations_f32[i]),
        static_cast<std::uint32_t>(d.exponent_words[i])));
    mismatches += by_exponent_add != d.activations_f32[i] * d.weights_f32[i];
    mismatches += (d.activations_i32[i] << d.shifts_i32[i]) * d.signs_i32[i] !=
                  d.activations_i32[i] * d.weights_i32[i];
  }
#if defined(__AVX2__)
  for (std::size_t i = 0; i < kElements; i += 16) {
    alignas(32) std::int16_t via_vpsllvd[16];
    alignas(32) std::int16_t via_table[16];
    const __m256i a = load16(&d.activations_i16[i]);
    const __m256i s = load16(&d.shifts_i16[i]);
    _mm256_store_si256(reinterpret_cast<__m256i*>(via_vpsllvd), shift_left_epi16(a, s));
    _mm256_store_si256(reinterpret_cast<__m256i*>(via_table),
                       shift_left_epi16_by_table_multiply(a, s));
    for (std::size_t lane = 0; lane < 16; ++lane) {
      const auto expected = static_cast<std::int16_t>(
          static_cast<std::uint16_t>(d.activations_i16[i + lane]) << d.shifts_i16[i + lane]);
      mismatches += via_vpsllvd[lane] != expected;
      mismatches += via_table[lane] != expected;
    }
  }
#endif
  return mismatches;
}

/// The console report, followed by a summary: each operation's rate as a ratio against
/// float multiply of the same width (scalar or vector), measured in this run.
class summary_reporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    // With --benchmark_repetitions the runs of one benchmark arrive together with their
    // aggregates: keep the median; without, keep the single run.
    bool has_aggregates = false;
    for (const Run& run : runs) has_aggregates |= run.run_type == Run::RT_Aggregate;
    has_repetitions_ |= has_aggregates;
    for (const Run& run : runs) {
      const bool wanted = has_aggregates
                              ? run.run_type == Run::RT_Aggregate && run.aggregate_name == "median"
                              : run.run_type == Run::RT_Iteration;
      const auto counter = run.counters.find("Gelem");
      if (run.error_occurred || !wanted || counter == run.counters.end()) continue;
      rates_.emplace_back(run.run_name.function_name, counter->second.value);
    }
  }

  void Finalize() override {
    std::map<std::string, double> baseline;
    for (const auto& [name, rate] : rates_) {
      if (name == "scalar_float_multiply") baseline["scalar"] = rate;
      if (name == "simd_float_multiply") baseline["vector"] = rate;
    }
    std::printf("\nSummary: elements per ns over %zu-element arrays in L1 (%s), and the ratio\n"
                "against float multiply of the same width in this run (> 1: faster).\n\n",
                kElements, has_repetitions_ ? "medians" : "single runs");
    std::printf("%-40s %10s %12s\n", "operation", "elem/ns", "vs fmul");
    for (const auto& [name, rate] : rates_) {
      const char* width = name.rfind("scalar_", 0) == 0 ? "scalar" : "vector";
      const auto base = baseline.find(width);
      if (base == baseline.end())
        std::printf("%-40s %10.2f %12s\n", name.c_str(), rate, "-");
      else
        std::printf("%-40s %10.2f %11.2fx\n", name.c_str(), rate, rate / base->second);
    }
  }

 private:
  std::vector<std::pair<std::string, double>> rates_;
  bool has_repetitions_ = false;
};

}  // namespace

int main(int argc, char** argv) {
  if (const int mismatches = count_mismatches(); mismatches != 0) {
    std::fprintf(stderr, "pot: %d results of a shift or exponent-add variant differ from "
                         "the multiplication they replace\n", mismatches);
    return 1;
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  summary_reporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return 0;
}
