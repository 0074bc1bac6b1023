// The float loops of the nn layers, written once and compiled once per instruction set:
// simd/portable/layer_loops.hpp, simd/avx2/layer_loops.hpp and simd/avx512/layer_loops.hpp
// include this file inside their own detail namespace (the x86 ones inside their target
// region) after defining there (the x86 ones as aliases of simd/<isa>/float_register.hpp)
//   struct freg;  // a register of floats: type, lanes, zero(), set1(), loadu(), storeu(),
//                 // load_partial(p, count, fill) (lanes past count hold fill),
//                 // store_partial(p, v, count), add, sub, mul, div, sqrt, max,
//                 // mul_add(a, b, c) = a * b + c (fused where the instruction set has
//                 // FMA), abs, with_sign_of(magnitude, source) (magnitude >= 0),
//                 // round_even (to nearest, ties to even), pow2 (2^k for an integral k
//                 // in [-127, 128], as float bits), select_ge / select_le (a >= b or
//                 // a <= b, ordered, ? t : f), reduce_add, reduce_max
//   struct wide_sum;  // the lanes of float registers accumulated in double: type,
//                     // zero(), add(acc, v), add_squared_deviation(acc, v, mean)
//                     // (acc + (double(v) - mean)^2), reduce(acc)
// It has no include guard on purpose and includes nothing (see simd/target.hpp).
//
// Every element-wise loop treats the last, partial register of a row with the same
// operations as the others (a masked or buffered load and store), so the result for a
// value does not depend on where in a row it sits, nor on where a thread's chunk of
// columns begins or ends. The double sums take the values past the last whole register
// one by one, in order, into a separate sum added last: a fixed order for each n.

struct layer_loops {
  static constexpr std::size_t lanes = freg::lanes;
  using reg = freg::type;

  /// The values of a register starting at index i of a row of n (1 to lanes).
  static std::size_t count_at(std::size_t i, std::size_t n) noexcept { return n - i < lanes ? n - i : lanes; }

  static reg load(const float* p, std::size_t count, float fill = 0.0f) noexcept {
    return count == lanes ? freg::loadu(p) : freg::load_partial(p, count, fill);
  }
  static void store(float* p, reg v, std::size_t count) noexcept {
    if (count == lanes)
      freg::storeu(p, v);
    else
      freg::store_partial(p, v, count);
  }

  /// exp(a): Cody-Waite reduction a = k ln 2 + r, a degree-5 polynomial for exp(r), then
  /// 2^k through the exponent bits (the algorithm and constants of xsimd's float exp,
  /// from Boost.SIMD). 0 at and below -88.376 (so for -infinity), +infinity at and above
  /// 88.376; about one float ulp elsewhere.
  static reg exp(reg a) noexcept {
    const reg k = freg::round_even(freg::mul(a, freg::set1(1.44269504088896341f)));
    reg r = freg::mul_add(k, freg::set1(-0x1.63p-1f), a);      // ln 2, high part: k * it is exact
    r = freg::mul_add(k, freg::set1(0x1.bd0106p-13f), r);      // minus ln 2's low part
    reg p = freg::set1(0x1.6ef19ep-10f);
    p = freg::mul_add(p, r, freg::set1(0x1.131b16p-7f));
    p = freg::mul_add(p, r, freg::set1(0x1.5552aep-5f));
    p = freg::mul_add(p, r, freg::set1(0x1.55534ap-3f));
    p = freg::mul_add(p, r, freg::set1(0.5f));
    const reg value = freg::mul(freg::add(freg::mul_add(p, freg::mul(r, r), r), freg::set1(1.0f)), freg::pow2(k));
    constexpr float log_limit = 88.3762626647949f;
    const reg low = freg::select_le(a, freg::set1(-log_limit), freg::zero(), value);
    return freg::select_ge(a, freg::set1(log_limit), freg::set1(__builtin_inff()), low);
  }

  /// tanh(v): an odd polynomial below |v| = 0.625, `1 - 2 / (1 + exp(2|v|))` above, the
  /// sign of v (xsimd's float tanh, from Boost.SIMD); saturates to ±1 without overflow.
  static reg tanh(reg v) noexcept {
    const reg x = freg::abs(v);
    const reg x2 = freg::mul(x, x);
    reg p = freg::set1(-0x1.75e1d4p-8f);
    p = freg::mul_add(p, x2, freg::set1(0x1.52269cp-6f));
    p = freg::mul_add(p, x2, freg::set1(-0x1.b83c5ap-5f));
    p = freg::mul_add(p, x2, freg::set1(0x1.110726p-3f));
    p = freg::mul_add(p, x2, freg::set1(-0x1.555532p-2f));
    const reg small = freg::mul_add(freg::mul(p, x2), x, x);
    const reg one = freg::set1(1.0f);
    const reg large = freg::mul_add(freg::set1(-2.0f), freg::div(one, freg::add(one, exp(freg::add(x, x)))), one);
    return freg::with_sign_of(freg::select_ge(x, freg::set1(0.625f), large, small), v);
  }

  // ---- element-wise sums (residuals, biases and their gradients)

  static void add(float* out, const float* a, const float* b, std::size_t n) noexcept {
    for (std::size_t i = 0; i < n; i += lanes) {
      const std::size_t count = count_at(i, n);
      store(out + i, freg::add(load(a + i, count), load(b + i, count)), count);
    }
  }

  /// sums[j] += values[r * stride + j] over r < rows in row order, a register of column
  /// sums kept across the rows.
  static void add_rows(float* sums, const float* values, std::size_t rows, std::size_t stride,
                       std::size_t width) noexcept {
    for (std::size_t j = 0; j < width; j += lanes) {
      const std::size_t count = count_at(j, width);
      reg sum = load(sums + j, count);
      for (std::size_t r = 0; r < rows; ++r) sum = freg::add(sum, load(values + r * stride + j, count));
      store(sums + j, sum, count);
    }
  }

  // ---- layernorm

  /// The sum of x[0..n) in double.
  static double sum(const float* x, std::size_t n) noexcept {
    const std::size_t vector_end = n - n % lanes;
    wide_sum::type acc = wide_sum::zero();
    for (std::size_t i = 0; i < vector_end; i += lanes) acc = wide_sum::add(acc, freg::loadu(x + i));
    double tail = 0.0;
    for (std::size_t i = vector_end; i < n; ++i) tail += static_cast<double>(x[i]);
    return wide_sum::reduce(acc) + tail;
  }

  /// The sum of (x[i] - mean)^2 in double.
  static double squared_deviation_sum(const float* x, std::size_t n, double mean) noexcept {
    const std::size_t vector_end = n - n % lanes;
    wide_sum::type acc = wide_sum::zero();
    for (std::size_t i = 0; i < vector_end; i += lanes) acc = wide_sum::add_squared_deviation(acc, freg::loadu(x + i), mean);
    double tail = 0.0;
    for (std::size_t i = vector_end; i < n; ++i) {
      const double deviation = static_cast<double>(x[i]) - mean;
      tail += deviation * deviation;
    }
    return wide_sum::reduce(acc) + tail;
  }

  /// y = (x - mean) * rstd * weight + bias.
  static void normalize(float* y, const float* x, std::size_t n, float mean, float rstd, const float* weight,
                        const float* bias) noexcept {
    const reg mean_r = freg::set1(mean), rstd_r = freg::set1(rstd);
    for (std::size_t i = 0; i < n; i += lanes) {
      const std::size_t count = count_at(i, n);
      const reg normalized = freg::mul(freg::sub(load(x + i, count), mean_r), rstd_r);
      store(y + i, freg::mul_add(normalized, load(weight + i, count), load(bias + i, count)), count);
    }
  }

  /// The two row sums layernorm's input gradient needs, in double: of dnorm = weight * dy
  /// and of dnorm * norm with norm = (x - mean) * rstd (each product rounded to float).
  static void normalize_backward_sums(const float* x, const float* dy, const float* weight, std::size_t n, float mean,
                                      float rstd, double* dnorm_sum, double* dnorm_norm_sum) noexcept {
    const std::size_t vector_end = n - n % lanes;
    const reg mean_r = freg::set1(mean), rstd_r = freg::set1(rstd);
    wide_sum::type dnorm_acc = wide_sum::zero(), dnorm_norm_acc = wide_sum::zero();
    for (std::size_t i = 0; i < vector_end; i += lanes) {
      const reg norm = freg::mul(freg::sub(freg::loadu(x + i), mean_r), rstd_r);
      const reg dnorm = freg::mul(freg::loadu(weight + i), freg::loadu(dy + i));
      dnorm_acc = wide_sum::add(dnorm_acc, dnorm);
      dnorm_norm_acc = wide_sum::add(dnorm_norm_acc, freg::mul(dnorm, norm));
    }
    double dnorm_tail = 0.0, dnorm_norm_tail = 0.0;
    for (std::size_t i = vector_end; i < n; ++i) {
      const float norm = (x[i] - mean) * rstd;
      const float dnorm = weight[i] * dy[i];
      dnorm_tail += static_cast<double>(dnorm);
      dnorm_norm_tail += static_cast<double>(dnorm * norm);
    }
    *dnorm_sum = wide_sum::reduce(dnorm_acc) + dnorm_tail;
    *dnorm_norm_sum = wide_sum::reduce(dnorm_norm_acc) + dnorm_norm_tail;
  }

  /// dx += (weight * dy - dnorm_mean - norm * dnorm_norm_mean) * rstd.
  static void normalize_input_gradient(float* dx, const float* x, const float* dy, const float* weight, std::size_t n,
                                       float mean, float rstd, float dnorm_mean, float dnorm_norm_mean) noexcept {
    const reg mean_r = freg::set1(mean), rstd_r = freg::set1(rstd);
    const reg dnorm_mean_r = freg::set1(dnorm_mean), dnorm_norm_mean_r = freg::set1(dnorm_norm_mean);
    for (std::size_t i = 0; i < n; i += lanes) {
      const std::size_t count = count_at(i, n);
      const reg norm = freg::mul(freg::sub(load(x + i, count), mean_r), rstd_r);
      const reg dnorm = freg::mul(load(weight + i, count), load(dy + i, count));
      const reg centered = freg::sub(freg::sub(dnorm, dnorm_mean_r), freg::mul(norm, dnorm_norm_mean_r));
      store(dx + i, freg::mul_add(centered, rstd_r, load(dx + i, count)), count);
    }
  }

  /// dweight[j] += sum over rows r of (inp[r * stride + j] - mean[r]) * rstd[r] * dout[r * stride + j],
  /// in row order, a register of column sums kept across the rows.
  static void normalize_weight_gradient(float* dweight, const float* inp, const float* dout, const float* mean,
                                        const float* rstd, std::size_t rows, std::size_t stride,
                                        std::size_t width) noexcept {
    for (std::size_t j = 0; j < width; j += lanes) {
      const std::size_t count = count_at(j, width);
      reg sum = load(dweight + j, count);
      for (std::size_t r = 0; r < rows; ++r) {
        const reg norm = freg::mul(freg::sub(load(inp + r * stride + j, count), freg::set1(mean[r])), freg::set1(rstd[r]));
        sum = freg::mul_add(norm, load(dout + r * stride + j, count), sum);
      }
      store(dweight + j, sum, count);
    }
  }

  // ---- softmax

  static float row_max(const float* x, std::size_t n) noexcept {
    constexpr float ignored = -__builtin_inff();
    reg lane_max = freg::set1(ignored);
    for (std::size_t i = 0; i < n; i += lanes) lane_max = freg::max(lane_max, load(x + i, count_at(i, n), ignored));
    return freg::reduce_max(lane_max);
  }

  /// probs[i] = exp(x[i] - shift); returns their sum (per lane, then across lanes).
  static float shifted_exponentials(float* probs, const float* x, std::size_t n, float shift) noexcept {
    constexpr float ignored = -__builtin_inff();  // exp gives 0: nothing added to the sum
    const reg shift_r = freg::set1(shift);
    reg lane_sum = freg::zero();
    for (std::size_t i = 0; i < n; i += lanes) {
      const std::size_t count = count_at(i, n);
      const reg term = exp(freg::sub(load(x + i, count, ignored), shift_r));
      store(probs + i, term, count);
      lane_sum = freg::add(lane_sum, term);
    }
    return freg::reduce_add(lane_sum);
  }

  static void scale(float* values, std::size_t n, float factor) noexcept {
    const reg factor_r = freg::set1(factor);
    for (std::size_t i = 0; i < n; i += lanes) {
      const std::size_t count = count_at(i, n);
      store(values + i, freg::mul(load(values + i, count), factor_r), count);
    }
  }

  /// sum a[i] * b[i], one fused multiply-add chain per lane, then across lanes.
  static float dot(const float* a, const float* b, std::size_t n) noexcept {
    reg lane_sum = freg::zero();
    for (std::size_t i = 0; i < n; i += lanes) {
      const std::size_t count = count_at(i, n);
      lane_sum = freg::mul_add(load(a + i, count), load(b + i, count), lane_sum);
    }
    return freg::reduce_add(lane_sum);
  }

  /// dinp[i] += probs[i] * (dprobs[i] - weighted).
  static void softmax_input_gradient(float* dinp, const float* probs, const float* dprobs, std::size_t n,
                                     float weighted) noexcept {
    const reg weighted_r = freg::set1(weighted);
    for (std::size_t i = 0; i < n; i += lanes) {
      const std::size_t count = count_at(i, n);
      const reg difference = freg::sub(load(dprobs + i, count), weighted_r);
      store(dinp + i, freg::mul_add(load(probs + i, count), difference, load(dinp + i, count)), count);
    }
  }

  // ---- GELU, the tanh approximation in the operation order of nn/gelu.hpp's formula

  static reg gelu_tanh(reg x) noexcept {
    const reg cubic = freg::mul(freg::mul(freg::mul(freg::set1(0.044715f), x), x), x);
    return tanh(freg::mul(freg::set1(gelu_sqrt_2_over_pi), freg::add(x, cubic)));
  }

  static void gelu_forward(float* out, const float* inp, std::size_t n) noexcept {
    for (std::size_t i = 0; i < n; i += lanes) {
      const std::size_t count = count_at(i, n);
      const reg x = load(inp + i, count);
      const reg value = freg::mul(freg::mul(freg::set1(0.5f), x), freg::add(freg::set1(1.0f), gelu_tanh(x)));
      store(out + i, value, count);
    }
  }

  /// dinp[i] += gelu'(inp[i]) * dout[i].
  static void gelu_backward(float* dinp, const float* inp, const float* dout, std::size_t n) noexcept {
    const reg one = freg::set1(1.0f), half = freg::set1(0.5f);
    for (std::size_t i = 0; i < n; i += lanes) {
      const std::size_t count = count_at(i, n);
      const reg x = load(inp + i, count);
      const reg th = gelu_tanh(x);
      const reg square_term = freg::add(one, freg::mul(freg::mul(freg::set1(3.0f * 0.044715f), x), x));
      const reg dth = freg::mul(freg::mul(freg::set1(gelu_sqrt_2_over_pi), square_term), freg::sub(one, freg::mul(th, th)));
      const reg slope = freg::add(freg::mul(half, freg::add(one, th)), freg::mul(freg::mul(half, x), dth));
      store(dinp + i, freg::mul_add(slope, load(dout + i, count), load(dinp + i, count)), count);
    }
  }

  // ---- AdamW, in the operation order of nn/adamw.hpp's formula

  static void adamw_update(float* params, const float* grads, float* m, float* v, std::size_t n,
                           const adamw_coefficients& c) noexcept {
    const reg beta1 = freg::set1(c.beta1), beta2 = freg::set1(c.beta2);
    const reg one_minus_beta1 = freg::set1(c.one_minus_beta1), one_minus_beta2 = freg::set1(c.one_minus_beta2);
    const reg step_size = freg::set1(c.step_size), epsilon = freg::set1(c.epsilon);
    const reg correction = freg::set1(c.inverse_sqrt_correction2), decay = freg::set1(c.decay_factor);
    for (std::size_t i = 0; i < n; i += lanes) {
      const std::size_t count = count_at(i, n);
      const reg g = load(grads + i, count);
      const reg first = freg::add(freg::mul(beta1, load(m + i, count)), freg::mul(one_minus_beta1, g));
      const reg second = freg::add(freg::mul(beta2, load(v + i, count)), freg::mul(freg::mul(one_minus_beta2, g), g));
      const reg denominator = freg::add(freg::mul(freg::sqrt(second), correction), epsilon);
      const reg param = freg::sub(freg::mul(load(params + i, count), decay),
                                  freg::div(freg::mul(step_size, first), denominator));
      store(params + i, param, count);
      store(m + i, first, count);
      store(v + i, second, count);
    }
  }
};
