#include "pot_format.hpp"

#include <array>
#include <cmath>
#include <stdexcept>

#include "pot/core/packing.hpp"
#include "pot/linalg/pot_gemm.hpp"
#include "pot/linalg/pot_gemv.hpp"
#include "pot/quant/pot_fake_quant.hpp"
#include "pot/quant/packed_matrix.hpp"

namespace gpt2 {

namespace {

template <class P>
class packed_linear_of final : public packed_linear {
 public:
  explicit packed_linear_of(pot::packed_matrix<P> matrix) : matrix_(std::move(matrix)) {}

  std::size_t rows() const override { return matrix_.rows(); }
  std::size_t cols() const override { return matrix_.cols(); }
  std::vector<std::uint8_t> packed_codes() const override {
    const std::size_t row_bytes = pot::packed_bytes(matrix_.cols(), P::bits);
    std::vector<std::uint8_t> out(matrix_.rows() * row_bytes);
    for (std::size_t r = 0; r < matrix_.rows(); ++r)
      for (std::size_t b = 0; b < row_bytes; ++b)
        out[r * row_bytes + b] = static_cast<std::uint8_t>(matrix_.row(r)[b]);
    return out;
  }
  std::span<const float> scales() const override { return matrix_.scales(); }
  void dequantize(std::span<float> out) const override { matrix_.dequantize(out); }
  float min_level() const override { return std::ldexp(1.0f, P::min_exponent); }
  std::size_t float32_bytes() const override { return matrix_.float32_bytes(); }
  std::size_t packed_bytes() const override { return matrix_.packed_bytes_total(); }
  void multiply(std::span<const std::uint8_t> a, std::size_t M, std::int32_t zero_point,
                std::span<std::int32_t> out, pot::linalg::execution execution) const override {
    product(a, M, zero_point, out, execution);
  }
  void multiply(std::span<const std::int8_t> a, std::size_t M, std::int32_t zero_point,
                std::span<std::int32_t> out, pot::linalg::execution execution) const override {
    product(a, M, zero_point, out, execution);
  }

 private:
  template <class Q>
  void product(std::span<const Q> a, std::size_t M, std::int32_t zero_point, std::span<std::int32_t> out,
               pot::linalg::execution execution) const {
    // One token at a time (generation) is a matrix-vector product: the GEMV kernel
    // streams the weights once instead of decoding panels for a single row.
    if (M == 1)
      pot::linalg::pot_gemv<P, Q>(pot::linalg::packed_weights_view<P>(matrix_), a, zero_point, out,
                                  pot::linalg::pot_kernel::table, execution);
    else
      pot::linalg::pot_gemm<P, Q>(matrix_, a, M, zero_point, out, pot::linalg::pot_kernel::table,
                                  execution);
  }

  pot::packed_matrix<P> matrix_;
};

template <class P>
class weight_format_of final : public weight_format {
 public:
  explicit weight_format_of(format_spec spec) : spec_(spec) {}

  const format_spec& spec() const override { return spec_; }

  std::vector<float> scales(std::span<const float> weights, std::size_t rows, std::size_t cols,
                            pot::scale_granularity granularity) const override {
    return pot::pot_scales<P>(weights, rows, cols, granularity, pot::scale_rule::max_abs);
  }

  void fake_quantize(std::span<const float> weights, std::size_t rows, std::size_t cols,
                     std::span<const float> scales, std::span<float> out,
                     std::span<std::uint8_t> mask) const override {
    for (std::size_t r = 0; r < rows; ++r) {
      const std::size_t first = r * cols;
      pot::fake_quantize_pot_forward<P>(weights.subspan(first, cols), scales[scales.size() == 1 ? 0 : r],
                                        out.subspan(first, cols), mask.subspan(first, cols));
    }
  }

  double scale_gradient(std::span<const float> dout, std::span<const float> weights, float scale,
                        double gradient_scale) const override {
    return pot::fake_quantize_pot_scale_gradient<P>(dout, weights, scale, gradient_scale);
  }

  std::unique_ptr<packed_linear> pack(std::span<const float> weights, std::size_t rows, std::size_t cols,
                                      pot::scale_granularity granularity) const override {
    return std::make_unique<packed_linear_of<P>>(
        pot::packed_matrix<P>(weights, rows, cols, granularity, pot::scale_rule::max_abs));
  }

  std::unique_ptr<packed_linear> unpack(std::size_t rows, std::size_t cols,
                                        std::span<const std::uint8_t> packed_codes,
                                        std::vector<float> scales) const override {
    const std::size_t row_bytes = pot::packed_bytes(cols, P::bits);
    if (packed_codes.size() != rows * row_bytes)
      throw std::invalid_argument("pot: " + std::to_string(rows) + " x " + std::to_string(cols) + " " +
                                  format_name(spec_) + " codes need " + std::to_string(rows * row_bytes) +
                                  " bytes, got " + std::to_string(packed_codes.size()));
    std::vector<typename P::code_type> codes(rows * cols);
    for (std::size_t r = 0; r < rows; ++r)
      pot::unpack_codes(std::as_bytes(packed_codes.subspan(r * row_bytes, row_bytes)), P::bits,
                        std::span<typename P::code_type>(codes).subspan(r * cols, cols));
    return std::make_unique<packed_linear_of<P>>(
        pot::packed_matrix<P>(rows, cols, std::span<const typename P::code_type>(codes), std::move(scales)));
  }

 private:
  format_spec spec_;
};

using pot::rounding;
using pot::zero_code;

// The compiled set: the paper's three ranges in both rounding domains, with "clamp" where
// the bits have no spare code, and "flush" where they do (E3 then needs a 4th bit).
template <int Bits, int MaxExp, rounding R, zero_policy Z>
weight_format_of<pot::pot<Bits, 0, MaxExp, R, Z == zero_policy::flush ? zero_code::flush : zero_code::none>>
    format_instance{format_spec{Bits, MaxExp, R, Z}};

const std::array<const weight_format*, 12> compiled_formats = {
    &format_instance<3, 3, rounding::log, zero_policy::clamp>,
    &format_instance<3, 3, rounding::linear, zero_policy::clamp>,
    &format_instance<4, 3, rounding::log, zero_policy::flush>,
    &format_instance<4, 3, rounding::linear, zero_policy::flush>,
    &format_instance<4, 5, rounding::log, zero_policy::clamp>,
    &format_instance<4, 5, rounding::linear, zero_policy::clamp>,
    &format_instance<4, 5, rounding::log, zero_policy::flush>,
    &format_instance<4, 5, rounding::linear, zero_policy::flush>,
    &format_instance<4, 7, rounding::log, zero_policy::clamp>,
    &format_instance<4, 7, rounding::linear, zero_policy::clamp>,
    &format_instance<5, 7, rounding::log, zero_policy::flush>,
    &format_instance<5, 7, rounding::linear, zero_policy::flush>,
};

}  // namespace

std::string format_name(const format_spec& spec) {
  return std::to_string(spec.bits) + "bit-E" + std::to_string(spec.max_exponent) + "-" +
         (spec.rounding == rounding::log ? "log" : "lin") + "-" +
         (spec.zero == zero_policy::clamp ? "clamp" : "flush");
}

std::string valid_format_names() {
  std::string names;
  for (const weight_format* format : compiled_formats)
    names += (names.empty() ? "" : ", ") + format_name(format->spec());
  return names;
}

format_spec parse_format_name(const std::string& name) {
  for (const weight_format* format : compiled_formats)
    if (format_name(format->spec()) == name) return format->spec();
  throw std::invalid_argument("pot: unknown PoT format \"" + name + "\"; valid formats: " +
                              valid_format_names());
}

double weight_format::largest_level() const { return std::ldexp(1.0, spec().max_exponent); }

const weight_format& find_weight_format(const format_spec& spec) {
  for (const weight_format* format : compiled_formats)
    if (format->spec() == spec) return *format;
  throw std::invalid_argument("pot: no compiled PoT format " + format_name(spec) +
                              "; valid formats: " + valid_format_names());
}

}  // namespace gpt2
