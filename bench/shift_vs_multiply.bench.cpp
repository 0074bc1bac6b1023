// Shift versus multiply: is multiplying by a power of two as a shift (integers) or an
// exponent add (floats) cheaper than the multiplier it replaces, at every vector width
// the CPU running the program has?
//
// Every benchmark computes out[i] = a[i] (op) b[i] over kElements elements. Three
// arrays of kElements 4-byte elements take 24 KiB, inside the 32 KiB L1 data cache of
// the CPUs we target, so the figure is ALU and load/store throughput, not memory
// bandwidth (the shift-and-sign and vscalefps rows read a third input array: 32 KiB;
// FMA and the dot products accumulate into the output in place). The loop is dependency-free; ClobberMemory() after each pass makes the
// compiler store every result and reload the inputs, so nothing is folded away.
//
// Rows are named <width>_<type>_<operation>[_<instructions>]: the width is "scalar",
// w128, w256 or w512 (bits per vector). The vector rows are hand-written intrinsics,
// each width inside a target region (pot/simd/target.hpp), so that a build with default
// flags, as users build, contains every width; a row is registered only when the CPU
// runs its instructions (pot::simd::supported_isas()), and the program prints which
// widths it registered and which the CPU lacks. xsimd is not used: it picks one width at
// compile time, and version 8.1 lowers the 16- and 32-bit variable shifts of AVX-512 to
// scalar loops, so its rows measured xsimd rather than the hardware.
//
// "scalar" loops are kept scalar by an empty asm statement on each result (it emits no
// instruction), because GCC 12 and clang vectorize plain loops at -O2.
//
// The counter Gelem/s is the rate in 10^9 elements per second, i.e. elements per
// nanosecond (items_per_second says the same in other units); an int8 dot-product row
// counts its four multiply-adds per 32-bit lane as four elements. At the end the program
// prints every rate as a ratio against float multiply of the same width (scalar against
// scalar, w256 against w256), measured in the same run. Before timing, every row's
// result is compared with the plain scalar operation it replaces, and the program exits
// with status 1 on a mismatch.
//
// Every loop starts on a 64-byte boundary. The vector loops are a few instructions
// long (about 30 bytes), and where one happened to straddle a 64-byte boundary it ran
// at half speed on Zen 3 (two op-cache lines per iteration: about 2 cycles per vector
// instead of 1), whichever operation it held: the float multiply baseline did in one
// build, the int32 multiply in another build of the same source.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("align-loops=64")
#endif

#include "pot/simd/intrinsics.hpp"  // first: see there

#include <benchmark/benchmark.h>

#include "pot/simd/isa.hpp"
#include "pot/simd/target.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace {

constexpr std::size_t kElements = 2048;

/// Largest shift the integer benchmarks use: the 4-bit PoT format pot<4, 0, 7> has
/// exponent indices 0..7, so every shift a PoT GEMV performs is in this range.
constexpr int kMaxShift = 7;

/// Bytes of int8 operands per 32-bit lane of an int8 dot product: four multiply-adds.
constexpr std::size_t kDotDepth = 4;

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

/// All arrays live in one 4 KiB aligned arena, each starting 256 bytes further into a
/// 4 KiB page than the one before. Separately allocated arrays tend to share their
/// address bits 0..11; a load then falsely waits for a store to the same offset in
/// another page ("4K aliasing"), which made the timings depend on the allocator. The
/// outputs are laid out first, so an input element aliases only outputs that are either
/// long written or not yet written.
class staggered_arena {
 public:
  template <class T>
  T* take(std::size_t count = kElements) {
    const std::size_t bytes = (count * sizeof(T) + page - 1) / page * page;
    T* array = reinterpret_cast<T*>(first_page() + used_);
    used_ += bytes + 256;
    if (used_ > capacity) throw std::length_error("pot: staggered_arena too small");
    return array;
  }

 private:
  static constexpr std::size_t page = 4096;
  static constexpr std::size_t capacity = 32 * (kElements * 4 + page);

  std::byte* first_page() {
    const auto address = reinterpret_cast<std::uintptr_t>(storage_.data());
    return storage_.data() + (page - address % page) % page;
  }

  std::vector<std::byte> storage_ = std::vector<std::byte>(capacity + page);
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
  float* exponents_f32 = arena.take<float>();              // e, as vscalefps takes it
  std::int32_t* sign_masks = arena.take<std::int32_t>();   // the weight's sign bit (bit 31)
  std::int32_t* activations_i32 = arena.take<std::int32_t>();  // q - zp in [-255, 255]
  std::int32_t* weights_i32 = arena.take<std::int32_t>();      // ±2^s, s in [0, 7]
  std::int32_t* shifts_i32 = arena.take<std::int32_t>();       // s
  std::int32_t* signs_i32 = arena.take<std::int32_t>();        // ±1, the weight's sign
  std::int16_t* activations_i16 = arena.take<std::int16_t>();
  std::int16_t* weights_i16 = arena.take<std::int16_t>();      // 2^s
  std::int16_t* shifts_i16 = arena.take<std::int16_t>();       // s
  // The int8 dot product: kDotDepth pairs per int32 lane, unsigned activations times
  // signed weights as vpdpbusd and vpmaddubsw take them. Activations below 128 and
  // weights ±2^s with s <= 6 keep vpmaddubsw's int16 sums of two products exact (it
  // saturates beyond 32767), so every dot row computes the same result.
  std::uint8_t* dot_activations_u8 = arena.take<std::uint8_t>(kElements * kDotDepth);  // [0, 127]
  std::int8_t* dot_weights_s8 = arena.take<std::int8_t>(kElements * kDotDepth);  // ±2^s, s in [0, 6]

  operands() {
    std::mt19937 rng(20240601);
    std::uniform_real_distribution<float> magnitude(0.5f, 2.0f);
    std::uniform_int_distribution<int> exponent(-8, 7);
    std::uniform_int_distribution<int> shift(0, kMaxShift);
    std::uniform_int_distribution<int> dot_shift(0, kMaxShift - 1);
    std::uniform_int_distribution<int> activation(-255, 255);
    std::uniform_int_distribution<int> dot_activation(0, 127);
    std::bernoulli_distribution negative(0.5);
    for (std::size_t i = 0; i < kElements; ++i) {
      const float x = magnitude(rng);
      activations_f32[i] = negative(rng) ? -x : x;
      const int e = exponent(rng);
      const bool weight_negative = negative(rng);
      weights_f32[i] = (weight_negative ? -1.0f : 1.0f) * std::ldexp(1.0f, e);
      const std::uint32_t sign_bit = weight_negative ? 0x8000'0000u : 0u;
      exponent_words[i] = static_cast<std::int32_t>(static_cast<std::uint32_t>(e) * (1u << 23) + sign_bit);
      exponents_f32[i] = static_cast<float>(e);
      sign_masks[i] = static_cast<std::int32_t>(sign_bit);
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
    for (std::size_t i = 0; i < kElements * kDotDepth; ++i) {
      dot_activations_u8[i] = static_cast<std::uint8_t>(dot_activation(rng));
      dot_weights_s8[i] = static_cast<std::int8_t>((negative(rng) ? -1 : 1) * (1 << dot_shift(rng)));
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

/// What the output holds before a pass when results are checked: the activations of
/// the same type, so that the rows that accumulate into it (FMA, dot product) start
/// from values other than zero.
template <class T>
const T* initial_output() {
  if constexpr (std::is_same_v<T, float>) return data().activations_f32;
  else if constexpr (std::is_same_v<T, std::int32_t>) return data().activations_i32;
  else return data().activations_i16;
}

/// One pass of a benchmark: out[i] for every i < kElements.
template <class Out>
using pass_function = void (*)(const operands&, Out*);

/// Runs `pass` repeatedly and reports elements per nanosecond, counting
/// `elements_per_output` elements (multiply-adds of a dot product) per output.
template <class Out>
void measure(benchmark::State& state, pass_function<Out> pass, std::size_t elements_per_output) {
  const operands& d = data();
  Out* out = output_array<Out>();
  for (auto _ : state) {
    pass(d, out);
    benchmark::DoNotOptimize(out);
    benchmark::ClobberMemory();
  }
  const auto elements = static_cast<double>(state.iterations()) * kElements * elements_per_output;
  state.SetItemsProcessed(static_cast<std::int64_t>(elements));
  state.counters["Gelem"] = benchmark::Counter(elements * 1e-9, benchmark::Counter::kIsRate);
}

/// The number of outputs where `pass` and `reference` differ, both run once on the
/// same initial output.
template <class Out>
int count_mismatches(pass_function<Out> pass, pass_function<Out> reference) {
  Out* out = output_array<Out>();
  const auto run = [out](pass_function<Out> function) {
    std::copy(initial_output<Out>(), initial_output<Out>() + kElements, out);
    function(data(), out);
    return std::vector<Out>(out, out + kElements);
  };
  const std::vector<Out> got = run(pass), expected = run(reference);
  int mismatches = 0;
  for (std::size_t i = 0; i < kElements; ++i) mismatches += got[i] != expected[i];
  return mismatches;
}

// ---- scalar: the plain operations, which also serve as the references ---------------

void scalar_float_multiply(const operands& d, float* out) {
  for (std::size_t i = 0; i < kElements; ++i) {
    float product = d.activations_f32[i] * d.weights_f32[i];
    keep_scalar(product);
    out[i] = product;
  }
}

void scalar_float_fma(const operands& d, float* out) {
  for (std::size_t i = 0; i < kElements; ++i) {
    float sum = std::fma(d.activations_f32[i], d.weights_f32[i], out[i]);
    keep_scalar(sum);
    out[i] = sum;
  }
}

/// pot * float as an integer add into the float's bits: adding e << 23 adds e to the
/// biased exponent field, and adding the sign in bit 31 flips the sign (bit 31 has no
/// carry out). Precondition: x is finite, normal and nonzero, and x * 2^e is normal
/// (no overflow to inf, no underflow into the subnormals); 0, subnormals, inf and NaN
/// give garbage, which is why the library's pot * float goes through a real multiply.
void scalar_float_pot_exponent_add(const operands& d, float* out) {
  for (std::size_t i = 0; i < kElements; ++i) {
    std::uint32_t bits = std::bit_cast<std::uint32_t>(d.activations_f32[i]) +
                         static_cast<std::uint32_t>(d.exponent_words[i]);
    keep_scalar(bits);
    out[i] = std::bit_cast<float>(bits);
  }
}

void scalar_int32_multiply(const operands& d, std::int32_t* out) {
  for (std::size_t i = 0; i < kElements; ++i) {
    std::int32_t product = d.activations_i32[i] * d.weights_i32[i];
    keep_scalar(product);
    out[i] = product;
  }
}

void scalar_int32_shift(const operands& d, std::int32_t* out) {
  for (std::size_t i = 0; i < kElements; ++i) {
    std::int32_t shifted = d.activations_i32[i] << d.shifts_i32[i];
    keep_scalar(shifted);
    out[i] = shifted;
  }
}

void scalar_int16_multiply(const operands& d, std::int16_t* out) {
  for (std::size_t i = 0; i < kElements; ++i) {
    auto product = static_cast<std::int16_t>(d.activations_i16[i] * d.weights_i16[i]);
    keep_scalar(product);
    out[i] = product;
  }
}

void scalar_int16_shift(const operands& d, std::int16_t* out) {
  for (std::size_t i = 0; i < kElements; ++i) {
    auto shifted = static_cast<std::int16_t>(d.activations_i16[i] << d.shifts_i16[i]);
    keep_scalar(shifted);
    out[i] = shifted;
  }
}

/// The reference of the shift-and-sign rows: a shift by s, then the weight's sign.
void scalar_int32_pot_shift_and_sign(const operands& d, std::int32_t* out) {
  for (std::size_t i = 0; i < kElements; ++i) {
    std::int32_t product = (d.activations_i32[i] << d.shifts_i32[i]) * d.signs_i32[i];
    keep_scalar(product);
    out[i] = product;
  }
}

/// out[i] += the dot product of four unsigned activations and four signed weights,
/// wrapping on overflow as the vector instructions do (the timing loop accumulates
/// without bound).
void scalar_int8_dot(const operands& d, std::int32_t* out) {
  for (std::size_t i = 0; i < kElements; ++i) {
    auto sum = static_cast<std::uint32_t>(out[i]);
    for (std::size_t k = i * kDotDepth; k < (i + 1) * kDotDepth; ++k)
      sum += static_cast<std::uint32_t>(d.dot_activations_u8[k] * d.dot_weights_s8[k]);
    keep_scalar(sum);
    out[i] = static_cast<std::int32_t>(sum);
  }
}

#if defined(POT_SIMD_X86)

// Each width's loads, stores and loop: out[i] = op(vectors of the inputs at i) for every
// vector of the output. The inputs of one output vector take one vector each (an int8
// dot product reads four bytes per int32 output). Defined in each target region, because
// an intrinsic can only be inlined into a function of its own instruction set. The
// operations are lambdas with a capture default ([&]) although they capture nothing: a
// lambda without one converts to a function pointer, and GCC 12 compiles the static
// function behind that conversion without the region's target (a -Wpsabi error).

#if defined(__clang__)
#define POT_BENCH_TARGET_SSE41_BEGIN \
  _Pragma("clang attribute push(__attribute__((target(\"sse4.1\"))), apply_to = function)")
#else
#define POT_BENCH_TARGET_SSE41_BEGIN _Pragma("GCC push_options") _Pragma("GCC target(\"sse4.1\")")
#endif

POT_BENCH_TARGET_SSE41_BEGIN
namespace w128 {

inline __m128 load(const float* p) { return _mm_loadu_ps(p); }
template <class T>
__m128i load(const T* p) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p)); }
inline void store(float* p, __m128 v) { _mm_storeu_ps(p, v); }
template <class T>
void store(T* p, __m128i v) { _mm_storeu_si128(reinterpret_cast<__m128i*>(p), v); }

template <class Out, class Op, class... In>
void each_vector(Out* out, Op op, const In*... in) {
  for (std::size_t i = 0; i < kElements; i += sizeof(__m128i) / sizeof(Out))
    store(out + i, op(load(in + i * sizeof(Out) / sizeof(In))...));
}

void float_multiply_mulps(const operands& d, float* out) {
  each_vector(out, [&](__m128 a, __m128 w) { return _mm_mul_ps(a, w); }, d.activations_f32, d.weights_f32);
}

void float_pot_exponent_add_paddd(const operands& d, float* out) {
  each_vector(out, [&](__m128 a, __m128i word) { return _mm_castsi128_ps(_mm_add_epi32(_mm_castps_si128(a), word)); },
              d.activations_f32, d.exponent_words);
}

void int32_multiply_pmulld(const operands& d, std::int32_t* out) {
  each_vector(out, [&](__m128i a, __m128i w) { return _mm_mullo_epi32(a, w); }, d.activations_i32, d.weights_i32);
}

void int16_multiply_pmullw(const operands& d, std::int16_t* out) {
  each_vector(out, [&](__m128i a, __m128i w) { return _mm_mullo_epi16(a, w); }, d.activations_i16, d.weights_i16);
}

/// A 16-bit variable shift as a multiply by 2^s, with 2^s looked up by pshufb from a
/// 16-byte table (shifts 0..7 only, the range of a 4-bit PoT code's exponent index): the
/// high byte of each lane indexes with bit 7 set, so pshufb writes 0 there. SSE has no
/// variable shift at all.
void int16_shift_via_table_pmullw(const operands& d, std::int16_t* out) {
  each_vector(out, [&](__m128i a, __m128i s) {
    const __m128i powers = _mm_setr_epi8(1, 2, 4, 8, 16, 32, 64, -128, 0, 0, 0, 0, 0, 0, 0, 0);
    const __m128i index = _mm_or_si128(s, _mm_set1_epi16(static_cast<short>(0x8000)));
    return _mm_mullo_epi16(a, _mm_shuffle_epi8(powers, index));
  }, d.activations_i16, d.shifts_i16);
}

/// An int8 dot product without VNNI: pmaddubsw multiplies unsigned by signed bytes and
/// adds pairs into int16, pmaddwd by ones adds those pairs into int32.
void int8_dot_pmaddubsw_pmaddwd(const operands& d, std::int32_t* out) {
  each_vector(out, [&](__m128i acc, __m128i a, __m128i w) {
    return _mm_add_epi32(acc, _mm_madd_epi16(_mm_maddubs_epi16(a, w), _mm_set1_epi16(1)));
  }, static_cast<const std::int32_t*>(out), d.dot_activations_u8, d.dot_weights_s8);
}

}  // namespace w128
POT_TARGET_END

POT_TARGET_AVX2_BEGIN
namespace w256 {

inline __m256 load(const float* p) { return _mm256_loadu_ps(p); }
template <class T>
__m256i load(const T* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
inline void store(float* p, __m256 v) { _mm256_storeu_ps(p, v); }
template <class T>
void store(T* p, __m256i v) { _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v); }

template <class Out, class Op, class... In>
void each_vector(Out* out, Op op, const In*... in) {
  for (std::size_t i = 0; i < kElements; i += sizeof(__m256i) / sizeof(Out))
    store(out + i, op(load(in + i * sizeof(Out) / sizeof(In))...));
}

void float_multiply_vmulps(const operands& d, float* out) {
  each_vector(out, [&](__m256 a, __m256 w) { return _mm256_mul_ps(a, w); }, d.activations_f32, d.weights_f32);
}

void float_fma_vfmadd(const operands& d, float* out) {
  each_vector(out, [&](__m256 a, __m256 w, __m256 sum) { return _mm256_fmadd_ps(a, w, sum); },
              d.activations_f32, d.weights_f32, static_cast<const float*>(out));
}

void float_pot_exponent_add_vpaddd(const operands& d, float* out) {
  each_vector(out, [&](__m256 a, __m256i word) {
    return _mm256_castsi256_ps(_mm256_add_epi32(_mm256_castps_si256(a), word));
  }, d.activations_f32, d.exponent_words);
}

void int32_multiply_vpmulld(const operands& d, std::int32_t* out) {
  each_vector(out, [&](__m256i a, __m256i w) { return _mm256_mullo_epi32(a, w); }, d.activations_i32, d.weights_i32);
}

void int32_shift_vpsllvd(const operands& d, std::int32_t* out) {
  each_vector(out, [&](__m256i a, __m256i s) { return _mm256_sllv_epi32(a, s); }, d.activations_i32, d.shifts_i32);
}

/// The whole PoT product on int32: a variable shift (vpsllvd) then the weight's sign
/// applied with vpsignd, i.e. what a shift-based kernel really does per weight.
void int32_pot_shift_and_sign_vpsllvd_vpsignd(const operands& d, std::int32_t* out) {
  each_vector(out, [&](__m256i a, __m256i s, __m256i sign) { return _mm256_sign_epi32(_mm256_sllv_epi32(a, s), sign); },
              d.activations_i32, d.shifts_i32, d.signs_i32);
}

void int16_multiply_vpmullw(const operands& d, std::int16_t* out) {
  each_vector(out, [&](__m256i a, __m256i w) { return _mm256_mullo_epi16(a, w); }, d.activations_i16, d.weights_i16);
}

/// AVX2 has no 16-bit variable shift (vpsllvw is AVX-512BW). One from two 32-bit ones:
/// the even lanes shift in place (bits that cross into the odd lane are discarded by
/// the blend), the odd lanes are shifted with their low half cleared, then vpblendw
/// picks each half. Valid for shifts 0..15.
void int16_shift_via_vpsllvd(const operands& d, std::int16_t* out) {
  each_vector(out, [&](__m256i a, __m256i s) {
    const __m256i low_half = _mm256_set1_epi32(0x0000'FFFF);
    const __m256i even = _mm256_sllv_epi32(a, _mm256_and_si256(s, low_half));
    const __m256i odd = _mm256_sllv_epi32(_mm256_andnot_si256(low_half, a), _mm256_srli_epi32(s, 16));
    return _mm256_blend_epi16(even, odd, 0b1010'1010);
  }, d.activations_i16, d.shifts_i16);
}

/// The 256-bit form of w128::int16_shift_via_table_pmullw (vpshufb looks up in each
/// 128-bit half separately, hence the table twice).
void int16_shift_via_table_vpmullw(const operands& d, std::int16_t* out) {
  each_vector(out, [&](__m256i a, __m256i s) {
    const __m256i powers = _mm256_setr_epi8(1, 2, 4, 8, 16, 32, 64, -128, 0, 0, 0, 0, 0, 0, 0, 0,
                                            1, 2, 4, 8, 16, 32, 64, -128, 0, 0, 0, 0, 0, 0, 0, 0);
    const __m256i index = _mm256_or_si256(s, _mm256_set1_epi16(static_cast<short>(0x8000)));
    return _mm256_mullo_epi16(a, _mm256_shuffle_epi8(powers, index));
  }, d.activations_i16, d.shifts_i16);
}

void int8_dot_vpmaddubsw_vpmaddwd(const operands& d, std::int32_t* out) {
  each_vector(out, [&](__m256i acc, __m256i a, __m256i w) {
    return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(a, w), _mm256_set1_epi16(1)));
  }, static_cast<const std::int32_t*>(out), d.dot_activations_u8, d.dot_weights_s8);
}

}  // namespace w256

/// The scalar FMA instruction (vfmadd231ss). Without FMA in the build's flags,
/// scalar_float_fma's std::fma is a call into the C library.
void scalar_float_fma_vfmadd(const operands& d, float* out) {
  for (std::size_t i = 0; i < kElements; ++i) {
    float sum = std::fma(d.activations_f32[i], d.weights_f32[i], out[i]);
    keep_scalar(sum);
    out[i] = sum;
  }
}
POT_TARGET_END

POT_TARGET_AVX512_BEGIN
namespace w512 {

inline __m512 load(const float* p) { return _mm512_loadu_ps(p); }
template <class T>
__m512i load(const T* p) { return _mm512_loadu_si512(p); }
inline void store(float* p, __m512 v) { _mm512_storeu_ps(p, v); }
template <class T>
void store(T* p, __m512i v) { _mm512_storeu_si512(p, v); }

template <class Out, class Op, class... In>
void each_vector(Out* out, Op op, const In*... in) {
  for (std::size_t i = 0; i < kElements; i += sizeof(__m512i) / sizeof(Out))
    store(out + i, op(load(in + i * sizeof(Out) / sizeof(In))...));
}

void float_multiply_vmulps(const operands& d, float* out) {
  each_vector(out, [&](__m512 a, __m512 w) { return _mm512_mul_ps(a, w); }, d.activations_f32, d.weights_f32);
}

void float_fma_vfmadd(const operands& d, float* out) {
  each_vector(out, [&](__m512 a, __m512 w, __m512 sum) { return _mm512_fmadd_ps(a, w, sum); },
              d.activations_f32, d.weights_f32, static_cast<const float*>(out));
}

void float_pot_exponent_add_vpaddd(const operands& d, float* out) {
  each_vector(out, [&](__m512 a, __m512i word) {
    return _mm512_castsi512_ps(_mm512_add_epi32(_mm512_castps_si512(a), word));
  }, d.activations_f32, d.exponent_words);
}

/// pot * float by vscalefps (x * 2^floor(e), exact and defined for every x, unlike the
/// exponent add), then the weight's sign by an xor: a third input, as for FMA.
void float_pot_scalef_vscalefps(const operands& d, float* out) {
  each_vector(out, [&](__m512 a, __m512 e, __m512i sign) {
    return _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(_mm512_scalef_ps(a, e)), sign));
  }, d.activations_f32, d.exponents_f32, d.sign_masks);
}

void int32_multiply_vpmulld(const operands& d, std::int32_t* out) {
  each_vector(out, [&](__m512i a, __m512i w) { return _mm512_mullo_epi32(a, w); }, d.activations_i32, d.weights_i32);
}

void int32_shift_vpsllvd(const operands& d, std::int32_t* out) {
  each_vector(out, [&](__m512i a, __m512i s) { return _mm512_sllv_epi32(a, s); }, d.activations_i32, d.shifts_i32);
}

/// AVX-512 has no vpsignd: the sign's top bit becomes a mask (vpmovd2m) under which the
/// shifted value is subtracted from zero.
void int32_pot_shift_and_sign_vpsllvd_vpmovd2m_vpsubd(const operands& d, std::int32_t* out) {
  each_vector(out, [&](__m512i a, __m512i s, __m512i sign) {
    const __m512i shifted = _mm512_sllv_epi32(a, s);
    return _mm512_mask_sub_epi32(shifted, _mm512_movepi32_mask(sign), _mm512_setzero_si512(), shifted);
  }, d.activations_i32, d.shifts_i32, d.signs_i32);
}

void int16_multiply_vpmullw(const operands& d, std::int16_t* out) {
  each_vector(out, [&](__m512i a, __m512i w) { return _mm512_mullo_epi16(a, w); }, d.activations_i16, d.weights_i16);
}

void int16_shift_vpsllvw(const operands& d, std::int16_t* out) {
  each_vector(out, [&](__m512i a, __m512i s) { return _mm512_sllv_epi16(a, s); }, d.activations_i16, d.shifts_i16);
}

void int8_dot_vpdpbusd(const operands& d, std::int32_t* out) {
  each_vector(out, [&](__m512i acc, __m512i a, __m512i w) { return _mm512_dpbusd_epi32(acc, a, w); },
              static_cast<const std::int32_t*>(out), d.dot_activations_u8, d.dot_weights_s8);
}

}  // namespace w512

// The 256-bit forms of the AVX-512 instructions (AVX-512VL). w256::each_vector cannot
// serve them: it is compiled for AVX2 only, so an AVX-512 operation would not be
// inlined into its loop; its loads and stores can, as they need no more than AVX2.
namespace w256_avx512vl {

void float_pot_scalef_vscalefps(const operands& d, float* out) {
  for (std::size_t i = 0; i < kElements; i += 8) {
    const __m256 scaled = _mm256_scalef_ps(w256::load(d.activations_f32 + i), w256::load(d.exponents_f32 + i));
    w256::store(out + i, _mm256_xor_ps(scaled, _mm256_castsi256_ps(w256::load(d.sign_masks + i))));
  }
}

void int16_shift_vpsllvw(const operands& d, std::int16_t* out) {
  for (std::size_t i = 0; i < kElements; i += 16)
    w256::store(out + i, _mm256_sllv_epi16(w256::load(d.activations_i16 + i), w256::load(d.shifts_i16 + i)));
}

void int8_dot_vpdpbusd(const operands& d, std::int32_t* out) {
  for (std::size_t i = 0; i < kElements; i += 8)
    w256::store(out + i, _mm256_dpbusd_epi32(w256::load(out + i), w256::load(d.dot_activations_u8 + i * kDotDepth),
                                             w256::load(d.dot_weights_s8 + i * kDotDepth)));
}

}  // namespace w256_avx512vl
POT_TARGET_END

#endif  // POT_SIMD_X86

#if defined(POT_SIMD_AARCH64)

// AArch64: every CPU has 128-bit Advanced SIMD (NEON); the dot product (SDOT) is an
// extension. NEON's variable shift (SSHL) exists for every lane width.
namespace w128 {

inline float32x4_t load(const float* p) { return vld1q_f32(p); }
inline int32x4_t load(const std::int32_t* p) { return vld1q_s32(p); }
inline int16x8_t load(const std::int16_t* p) { return vld1q_s16(p); }
inline void store(float* p, float32x4_t v) { vst1q_f32(p, v); }
inline void store(std::int32_t* p, int32x4_t v) { vst1q_s32(p, v); }
inline void store(std::int16_t* p, int16x8_t v) { vst1q_s16(p, v); }

template <class Out, class Op, class... In>
void each_vector(Out* out, Op op, const In*... in) {
  for (std::size_t i = 0; i < kElements; i += 16 / sizeof(Out))
    store(out + i, op(load(in + i * sizeof(Out) / sizeof(In))...));
}

void float_multiply_fmul(const operands& d, float* out) {
  each_vector(out, [&](float32x4_t a, float32x4_t w) { return vmulq_f32(a, w); }, d.activations_f32, d.weights_f32);
}

void float_fma_fmla(const operands& d, float* out) {
  each_vector(out, [&](float32x4_t a, float32x4_t w, float32x4_t sum) { return vfmaq_f32(sum, a, w); },
              d.activations_f32, d.weights_f32, static_cast<const float*>(out));
}

void float_pot_exponent_add_add(const operands& d, float* out) {
  each_vector(out, [&](float32x4_t a, int32x4_t word) {
    return vreinterpretq_f32_s32(vaddq_s32(vreinterpretq_s32_f32(a), word));
  }, d.activations_f32, d.exponent_words);
}

void int32_multiply_mul(const operands& d, std::int32_t* out) {
  each_vector(out, [&](int32x4_t a, int32x4_t w) { return vmulq_s32(a, w); }, d.activations_i32, d.weights_i32);
}

void int32_shift_sshl(const operands& d, std::int32_t* out) {
  each_vector(out, [&](int32x4_t a, int32x4_t s) { return vshlq_s32(a, s); }, d.activations_i32, d.shifts_i32);
}

void int16_multiply_mul(const operands& d, std::int16_t* out) {
  each_vector(out, [&](int16x8_t a, int16x8_t w) { return vmulq_s16(a, w); }, d.activations_i16, d.weights_i16);
}

void int16_shift_sshl(const operands& d, std::int16_t* out) {
  each_vector(out, [&](int16x8_t a, int16x8_t s) { return vshlq_s16(a, s); }, d.activations_i16, d.shifts_i16);
}

/// SDOT is signed by signed; the activations are below 128, so reading them as signed
/// bytes gives the same products as the unsigned ones of the x86 rows. A lambda would
/// not inherit the target attribute, hence the loop written out. The target is GCC
/// arm_neon.h's own for vdotq_s32 (armv8.2-a+dotprod): with only +dotprod the
/// intrinsic's options are not a subset of the function's and it cannot be inlined.
__attribute__((target("arch=armv8.2-a+dotprod"))) void int8_dot_sdot(const operands& d, std::int32_t* out) {
  const auto* activations = reinterpret_cast<const std::int8_t*>(d.dot_activations_u8);
  for (std::size_t i = 0; i < kElements; i += 4)
    vst1q_s32(out + i, vdotq_s32(vld1q_s32(out + i), vld1q_s8(activations + i * kDotDepth),
                                 vld1q_s8(d.dot_weights_s8 + i * kDotDepth)));
}

}  // namespace w128

#endif  // POT_SIMD_AARCH64

/// What a row needs of the CPU: nothing, or an instruction set of pot::simd::isa, or
/// (the x86 128-bit rows) SSE4.1, which every x86-64 CPU since 2008 has but the
/// baseline does not include.
struct requirement {
  std::string_view name;
  std::function<bool()> supported;
};

requirement needs(pot::simd::isa value) {
  return {pot::simd::isa_name(value), [value] { return pot::simd::isa_supported(value); }};
}

/// One benchmark: its name (the width is the part before the first underscore), what
/// it needs of the CPU, how to time it and how to check it.
struct row {
  std::string name;
  requirement needed;
  std::function<void(benchmark::State&)> run;
  std::function<int()> mismatches;

  std::string width() const { return name.substr(0, name.find('_')); }
};

/// A row that computes what `reference` does (a plain scalar operation; none for the
/// plain operations themselves), counting `elements_per_output` elements per output.
template <class Out>
row make_row(std::string name, requirement needed, pass_function<Out> pass, pass_function<Out> reference,
             std::size_t elements_per_output = 1) {
  return {std::move(name), std::move(needed),
          [pass, elements_per_output](benchmark::State& state) { measure<Out>(state, pass, elements_per_output); },
          [pass, reference] { return reference == nullptr ? 0 : count_mismatches<Out>(pass, reference); }};
}

/// Every row this build has, in the order of the printed tables: width by width, each
/// width's float multiply first.
std::vector<row> all_rows() {
  using pot::simd::isa;
  const requirement none{"", [] { return true; }};
  std::vector<row> rows{
      make_row<float>("scalar_float_multiply", none, scalar_float_multiply, nullptr),
      make_row<float>("scalar_float_fma", none, scalar_float_fma, nullptr),
      make_row<float>("scalar_float_pot_exponent_add", none, scalar_float_pot_exponent_add, scalar_float_multiply),
      make_row<std::int32_t>("scalar_int32_multiply", none, scalar_int32_multiply, nullptr),
      make_row<std::int32_t>("scalar_int32_shift", none, scalar_int32_shift, nullptr),
      make_row<std::int32_t>("scalar_int32_pot_shift_and_sign", none, scalar_int32_pot_shift_and_sign,
                             scalar_int32_multiply),
      make_row<std::int16_t>("scalar_int16_multiply", none, scalar_int16_multiply, nullptr),
      make_row<std::int16_t>("scalar_int16_shift", none, scalar_int16_shift, scalar_int16_multiply),
      make_row<std::int32_t>("scalar_int8_dot", none, scalar_int8_dot, nullptr, kDotDepth),
  };
  const auto add = [&rows](auto... arguments) { rows.push_back(make_row(arguments...)); };
#if defined(POT_SIMD_X86)
  const requirement sse41{"sse4.1", [] { return __builtin_cpu_supports("sse4.1") != 0; }};
  const requirement avx2 = needs(isa::avx2), avx512 = needs(isa::avx512);
  add("scalar_float_fma_vfmadd", avx2, scalar_float_fma_vfmadd, scalar_float_fma);
  add("w128_float_multiply_mulps", sse41, w128::float_multiply_mulps, scalar_float_multiply);
  add("w128_float_pot_exponent_add_paddd", sse41, w128::float_pot_exponent_add_paddd, scalar_float_multiply);
  add("w128_int32_multiply_pmulld", sse41, w128::int32_multiply_pmulld, scalar_int32_multiply);
  add("w128_int16_multiply_pmullw", sse41, w128::int16_multiply_pmullw, scalar_int16_multiply);
  add("w128_int16_shift_via_table_pmullw", sse41, w128::int16_shift_via_table_pmullw, scalar_int16_multiply);
  add("w128_int8_dot_pmaddubsw_pmaddwd", sse41, w128::int8_dot_pmaddubsw_pmaddwd, scalar_int8_dot, kDotDepth);

  add("w256_float_multiply_vmulps", avx2, w256::float_multiply_vmulps, scalar_float_multiply);
  add("w256_float_fma_vfmadd", avx2, w256::float_fma_vfmadd, scalar_float_fma);
  add("w256_float_pot_exponent_add_vpaddd", avx2, w256::float_pot_exponent_add_vpaddd, scalar_float_multiply);
  add("w256_float_pot_scalef_vscalefps", avx512, w256_avx512vl::float_pot_scalef_vscalefps, scalar_float_multiply);
  add("w256_int32_multiply_vpmulld", avx2, w256::int32_multiply_vpmulld, scalar_int32_multiply);
  add("w256_int32_shift_vpsllvd", avx2, w256::int32_shift_vpsllvd, scalar_int32_shift);
  add("w256_int32_pot_shift_and_sign_vpsllvd_vpsignd", avx2, w256::int32_pot_shift_and_sign_vpsllvd_vpsignd,
      scalar_int32_multiply);
  add("w256_int16_multiply_vpmullw", avx2, w256::int16_multiply_vpmullw, scalar_int16_multiply);
  add("w256_int16_shift_vpsllvw", avx512, w256_avx512vl::int16_shift_vpsllvw, scalar_int16_multiply);
  add("w256_int16_shift_via_vpsllvd", avx2, w256::int16_shift_via_vpsllvd, scalar_int16_multiply);
  add("w256_int16_shift_via_table_vpmullw", avx2, w256::int16_shift_via_table_vpmullw, scalar_int16_multiply);
  add("w256_int8_dot_vpmaddubsw_vpmaddwd", avx2, w256::int8_dot_vpmaddubsw_vpmaddwd, scalar_int8_dot, kDotDepth);
  add("w256_int8_dot_vpdpbusd", avx512, w256_avx512vl::int8_dot_vpdpbusd, scalar_int8_dot, kDotDepth);

  add("w512_float_multiply_vmulps", avx512, w512::float_multiply_vmulps, scalar_float_multiply);
  add("w512_float_fma_vfmadd", avx512, w512::float_fma_vfmadd, scalar_float_fma);
  add("w512_float_pot_exponent_add_vpaddd", avx512, w512::float_pot_exponent_add_vpaddd, scalar_float_multiply);
  add("w512_float_pot_scalef_vscalefps", avx512, w512::float_pot_scalef_vscalefps, scalar_float_multiply);
  add("w512_int32_multiply_vpmulld", avx512, w512::int32_multiply_vpmulld, scalar_int32_multiply);
  add("w512_int32_shift_vpsllvd", avx512, w512::int32_shift_vpsllvd, scalar_int32_shift);
  add("w512_int32_pot_shift_and_sign_vpsllvd_vpmovd2m_vpsubd", avx512,
      w512::int32_pot_shift_and_sign_vpsllvd_vpmovd2m_vpsubd, scalar_int32_multiply);
  add("w512_int16_multiply_vpmullw", avx512, w512::int16_multiply_vpmullw, scalar_int16_multiply);
  add("w512_int16_shift_vpsllvw", avx512, w512::int16_shift_vpsllvw, scalar_int16_multiply);
  add("w512_int8_dot_vpdpbusd", avx512, w512::int8_dot_vpdpbusd, scalar_int8_dot, kDotDepth);
#elif defined(POT_SIMD_AARCH64)
  const requirement neon = needs(isa::neon), dotprod = needs(isa::neon_dotprod);
  add("w128_float_multiply_fmul", neon, w128::float_multiply_fmul, scalar_float_multiply);
  add("w128_float_fma_fmla", neon, w128::float_fma_fmla, scalar_float_fma);
  add("w128_float_pot_exponent_add_add", neon, w128::float_pot_exponent_add_add, scalar_float_multiply);
  add("w128_int32_multiply_mul", neon, w128::int32_multiply_mul, scalar_int32_multiply);
  add("w128_int32_shift_sshl", neon, w128::int32_shift_sshl, scalar_int32_shift);
  add("w128_int16_multiply_mul", neon, w128::int16_multiply_mul, scalar_int16_multiply);
  add("w128_int16_shift_sshl", neon, w128::int16_shift_sshl, scalar_int16_multiply);
  add("w128_int8_dot_sdot", dotprod, w128::int8_dot_sdot, scalar_int8_dot, kDotDepth);
#endif
  return rows;
}

/// Registers the rows this CPU runs and says in Google Benchmark's context (printed
/// before the first result, and kept in the JSON output as "pot_rows") how many rows of
/// each width it registered and which it left out for lack of which instruction set.
std::vector<row> register_supported(std::vector<row> rows) {
  std::map<std::string, int> registered;
  std::map<std::string, std::map<std::string, int>> lacking;  // requirement -> width -> rows
  std::vector<row> kept;
  for (row& r : rows) {
    if (!r.needed.supported()) {
      ++lacking[std::string(r.needed.name)][r.width()];
      continue;
    }
    ++registered[r.width()];
    benchmark::RegisterBenchmark(r.name.c_str(), r.run);
    kept.push_back(std::move(r));
  }
  std::string summary = "registered:";
  for (const auto& [width, count] : registered) summary += " " + width + " (" + std::to_string(count) + ")";
  for (const auto& [needed, widths] : lacking) {
    summary += "; the CPU lacks " + needed + ", left out:";
    for (const auto& [width, count] : widths) summary += " " + width + " (" + std::to_string(count) + ")";
  }
  if (lacking.empty()) summary += "; the CPU runs every row of this build";
  benchmark::AddCustomContext("pot_rows", summary);
  return kept;
}

/// The console report, followed by a summary: each operation's rate as a ratio against
/// float multiply of the same width, measured in this run.
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
    const auto width_of = [](const std::string& name) { return name.substr(0, name.find('_')); };
    std::map<std::string, double> baseline;  // width -> float multiply's rate
    for (const auto& [name, rate] : rates_)
      if (name.rfind(width_of(name) + "_float_multiply", 0) == 0) baseline[width_of(name)] = rate;
    std::printf("\nSummary: elements per ns over %zu-element arrays in L1 (%s), and the ratio\n"
                "against float multiply of the same width in this run (> 1: faster).\n\n",
                kElements, has_repetitions_ ? "medians" : "single runs");
    std::printf("%-56s %10s %12s\n", "operation", "elem/ns", "vs fmul");
    for (const auto& [name, rate] : rates_) {
      const auto base = baseline.find(width_of(name));
      if (base == baseline.end())
        std::printf("%-56s %10.2f %12s\n", name.c_str(), rate, "-");
      else
        std::printf("%-56s %10.2f %11.2fx\n", name.c_str(), rate, rate / base->second);
    }
  }

 private:
  std::vector<std::pair<std::string, double>> rates_;
  bool has_repetitions_ = false;
};

}  // namespace

int main(int argc, char** argv) {
  // Checked once before timing: a fast variant that computes something else than the
  // plain operation it replaces would make its speed meaningless.
  const std::vector<row> rows = register_supported(all_rows());
  int failures = 0;
  for (const row& r : rows) {
    if (const int mismatches = r.mismatches(); mismatches != 0) {
      std::fprintf(stderr, "pot: %s differs from the plain scalar operation in %d of %zu results\n",
                   r.name.c_str(), mismatches, kElements);
      ++failures;
    }
  }
  if (failures != 0) return 1;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  summary_reporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return 0;
}
