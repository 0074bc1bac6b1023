#include "pot_format.hpp"

#include <array>
#include <stdexcept>

#include "pot/core/packing.hpp"
#include "pot/linalg/pot_weights.hpp"
#include "pot/nn/fake_quant_linear.hpp"
#include "pot/nn/integer_linear.hpp"
#include "pot/quant/affine/fake_quantizer.hpp"
#include "pot/quant/affine/params.hpp"
#include "pot/quant/packed_matrix.hpp"
#include "quantization.hpp"

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
  std::size_t float32_bytes() const override { return matrix_.float32_bytes(); }
  std::size_t packed_bytes() const override { return matrix_.packed_bytes_total(); }
  std::unique_ptr<pot::nn::linear<float>> make_integer_linear(const activation_qparams& input) const override {
    const pot::linalg::packed_weights_view<P> view(matrix_);
    switch (input.type) {
      case activation_type::uint8:
        return std::make_unique<pot::nn::integer_linear<P, std::uint8_t>>(
            view, pot::make_affine_params<std::uint8_t>(input.scale, input.zero_point));
      case activation_type::int8:
        return std::make_unique<pot::nn::integer_linear<P, std::int8_t>>(
            view, pot::make_affine_params<std::int8_t>(input.scale, input.zero_point));
      case activation_type::none: break;
    }
    throw std::invalid_argument("pot: the integer path needs 8-bit activations (uint8 or int8), not float");
  }

 private:
  pot::packed_matrix<P> matrix_;
};

// The library's quantization-aware Linear of one format and activation type.
template <class P, class Q>
class qat_linear_of final : public qat_linear {
 public:
  qat_linear_of(const quantization_options& options, const activation_qparams* frozen)
      : type_(options.activations),
        layer_({options.granularity, options.estimator, options.activations != activation_type::none},
               frozen != nullptr
                   ? pot::affine_fake_quantizer<Q>(pot::make_affine_params<Q>(frozen->scale, frozen->zero_point))
                   : pot::affine_fake_quantizer<Q>(observer_averaging_constant)) {}

  void forward(float* out, float* input, const pot::nn::linear_parameters<float>& p, std::size_t rows,
               pot::linalg::execution exec) override {
    layer_.forward(out, input, p, rows, exec);
  }
  void backward(float* dinput, const pot::nn::linear_gradients<float>& g, const float* dout, const float* input,
                const pot::nn::linear_parameters<float>& p, std::size_t rows, pot::linalg::execution exec) override {
    layer_.backward(dinput, g, dout, input, p, rows, exec);
  }
  void set_observing(bool observing) override {
    if (type_ != activation_type::none) layer_.input_quantizer().set_observing(observing);
  }
  activation_qparams input_parameters() const override {
    if (type_ == activation_type::none)
      throw std::logic_error("pot: float activations have no quantization parameters");
    const pot::affine_params<Q> params = layer_.input_quantizer().params();
    return {type_, params.scale, params.zero_point};
  }
  std::span<float> scales() override { return layer_.scales(); }
  std::span<const double> scale_gradients() const override { return layer_.scale_gradients(); }

 private:
  activation_type type_;
  pot::nn::fake_quant_linear<P, Q> layer_;
};

template <class P>
class weight_format_of final : public weight_format {
 public:
  explicit weight_format_of(format_spec spec) : spec_(spec) {}

  const format_spec& spec() const override { return spec_; }

  std::unique_ptr<qat_linear> make_qat_linear(const quantization_options& options,
                                              const activation_qparams* frozen) const override {
    if (options.activations == activation_type::int8) return std::make_unique<qat_linear_of<P, std::int8_t>>(options, frozen);
    return std::make_unique<qat_linear_of<P, std::uint8_t>>(options, frozen);
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

const weight_format& find_weight_format(const format_spec& spec) {
  for (const weight_format* format : compiled_formats)
    if (format->spec() == spec) return *format;
  throw std::invalid_argument("pot: no compiled PoT format " + format_name(spec) +
                              "; valid formats: " + valid_format_names());
}

}  // namespace gpt2
