#include "quantization.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "dataset.hpp"
#include "pot/quant/affine/fake_quant.hpp"

namespace gpt2 {

std::string activation_type_name(activation_type type) {
  switch (type) {
    case activation_type::uint8: return "uint8";
    case activation_type::int8: return "int8";
    case activation_type::none: return "float";
  }
  return "?";
}

activation_type parse_activation_type(const std::string& name) {
  if (name == "uint8") return activation_type::uint8;
  if (name == "int8") return activation_type::int8;
  if (name == "float") return activation_type::none;
  throw std::invalid_argument("pot: unknown activation type \"" + name + "\"; valid: uint8, int8, float");
}

std::string granularity_name(pot::scale_granularity granularity) {
  return granularity == pot::scale_granularity::per_tensor ? "per-tensor" : "per-channel";
}

pot::scale_granularity parse_granularity(const std::string& name) {
  if (name == "per-tensor") return pot::scale_granularity::per_tensor;
  if (name == "per-channel") return pot::scale_granularity::per_channel;
  throw std::invalid_argument("pot: unknown scale granularity \"" + name +
                              "\"; valid: per-tensor, per-channel");
}

std::string estimator_name(pot::ste_estimator estimator) {
  switch (estimator) {
    case pot::ste_estimator::identity: return "identity";
    case pot::ste_estimator::clipped: return "clipped";
    case pot::ste_estimator::learnable_scale: return "lsq";
  }
  return "?";
}

pot::ste_estimator parse_estimator(const std::string& name) {
  if (name == "identity") return pot::ste_estimator::identity;
  if (name == "clipped") return pot::ste_estimator::clipped;
  if (name == "lsq") return pot::ste_estimator::learnable_scale;
  throw std::invalid_argument("pot: unknown straight-through estimator \"" + name +
                              "\"; valid: identity, clipped, lsq");
}

namespace {

// pot.py's ActFakeQuant averaging constant.
constexpr float observer_averaging_constant = 0.01f;

template <class Q>
pot::affine_params<Q> affine_of(const activation_qparams& q) {
  return pot::make_affine_params<Q>(q.scale, q.zero_point);
}

}  // namespace

activation_quantizer::activation_quantizer(activation_type type)
    : type_(type),
      observer_(type != activation_type::int8
                    ? decltype(observer_)(pot::moving_average_min_max_observer<std::uint8_t>(
                          observer_averaging_constant))
                    : decltype(observer_)(pot::moving_average_min_max_observer<std::int8_t>(
                          observer_averaging_constant))) {}

activation_quantizer::activation_quantizer(const activation_qparams& frozen)
    : activation_quantizer(frozen.type) {
  // Validates the scale and zero point for the type (throws naming the problem).
  if (frozen.type == activation_type::uint8)
    affine_of<std::uint8_t>(frozen);
  else
    affine_of<std::int8_t>(frozen);
  frozen_ = frozen;
}

void activation_quantizer::observe(std::span<const float> x) {
  if (type_ == activation_type::none) return;
  if (frozen_) throw std::logic_error("pot: activation parameters read from a file cannot observe");
  std::visit([&](auto& observer) { observer.observe(x); }, observer_);
}

activation_qparams activation_quantizer::qparams() const {
  if (type_ == activation_type::none)
    throw std::logic_error("pot: float activations have no quantization parameters");
  if (frozen_) return *frozen_;
  return std::visit(
      [&](const auto& observer) {
        const auto params = observer.calculate_qparams();
        return activation_qparams{type_, params.scale, params.zero_point};
      },
      observer_);
}

void activation_quantizer::fake_quantize(std::span<float> x, std::span<std::uint8_t> mask) const {
  if (type_ == activation_type::none) return;
  const activation_qparams q = qparams();
  if (type_ == activation_type::uint8)
    pot::fake_quantize_affine_forward(std::span<const float>(x), affine_of<std::uint8_t>(q), x, mask);
  else
    pot::fake_quantize_affine_forward(std::span<const float>(x), affine_of<std::int8_t>(q), x, mask);
}

std::size_t linear_index(linear_id id) {
  return id.layer * linear_kind_count + static_cast<std::size_t>(id.kind);
}

std::string linear_weight_name(linear_id id) {
  return "h." + std::to_string(id.layer) + "." + std::string(linear_module_name(id.kind)) + ".weight";
}

fake_quant_hooks::fake_quant_hooks(const gpt2_config& config, const quantization_options& options)
    : options_(options),
      format_(find_weight_format(options.format)),
      inputs_(config.n_layer * linear_kind_count, activation_quantizer(options.activations)),
      linears_(config.n_layer * linear_kind_count) {}

fake_quant_hooks::fake_quant_hooks(const gpt2_config& config, const quantization_options& options,
                                   std::span<const activation_qparams> qparams)
    : fake_quant_hooks(config, options) {
  if (qparams.size() != inputs_.size())
    throw std::invalid_argument("pot: " + std::to_string(qparams.size()) +
                                " activation parameter sets for " + std::to_string(inputs_.size()) +
                                " Linear layers");
  inputs_.clear();
  for (const activation_qparams& q : qparams) {
    if (q.type != options.activations)
      throw std::invalid_argument("pot: activation parameters of type " + activation_type_name(q.type) +
                                  " for " + activation_type_name(options.activations) + " activations");
    inputs_.emplace_back(q);
  }
}

std::vector<activation_qparams> fake_quant_hooks::activation_parameters() const {
  std::vector<activation_qparams> out;
  if (options_.activations == activation_type::none) return out;
  for (const activation_quantizer& input : inputs_) out.push_back(input.qparams());
  return out;
}

const float* fake_quant_hooks::weight(linear_id id, const float* master, std::size_t OC, std::size_t C) {
  linear_state& state = linears_[linear_index(id)];
  const std::span<const float> weights(master, OC * C);
  const bool learned = options_.estimator == pot::ste_estimator::learnable_scale;
  // LSQ starts from the max rule and then learns; the other estimators follow the
  // weights' max at every step, as pot.py recomputes it in every forward.
  if (!learned || state.scales.empty()) {
    state.scales = format_.scales(weights, OC, C, options_.granularity);
    if (learned) {
      state.scale_gradient.assign(state.scales.size(), 0.0);
      state.scale_m.assign(state.scales.size(), 0.0);
      state.scale_v.assign(state.scales.size(), 0.0);
    }
  }
  state.weight.resize(OC * C);
  state.weight_mask.resize(OC * C);
  format_.fake_quantize(weights, OC, C, state.scales, state.weight, state.weight_mask);
  return state.weight.data();
}

void fake_quant_hooks::quantize_input(linear_id id, float* input, std::size_t rows, std::size_t C) {
  if (options_.activations == activation_type::none) return;
  activation_quantizer& quantizer = inputs_[linear_index(id)];
  const std::span<float> x(input, rows * C);
  if (observing_) quantizer.observe(x);
  std::vector<std::uint8_t>& mask = linears_[linear_index(id)].input_mask;
  mask.resize(rows * C);
  quantizer.fake_quantize(x, mask);
}

void fake_quant_hooks::weight_gradient(linear_id id, const float* master, float* dweight, std::size_t OC,
                                       std::size_t C) {
  linear_state& state = linears_[linear_index(id)];
  const std::span<float> gradient(dweight, OC * C);
  if (options_.estimator == pot::ste_estimator::learnable_scale) {
    const std::size_t per_scale = state.scales.size() == 1 ? OC * C : C;
    const double factor = pot::lsq_gradient_scale(per_scale, format_.largest_level());
    for (std::size_t s = 0; s < state.scales.size(); ++s)
      state.scale_gradient[s] = format_.scale_gradient(
          std::span<const float>(gradient).subspan(s * per_scale, per_scale),
          std::span<const float>(master + s * per_scale, per_scale), state.scales[s], factor);
  }
  if (options_.estimator == pot::ste_estimator::identity) return;
  for (std::size_t i = 0; i < gradient.size(); ++i)
    if (state.weight_mask[i] == 0) gradient[i] = 0.0f;
}

void fake_quant_hooks::input_gradient(linear_id id, float* dinput, std::size_t rows, std::size_t C) {
  if (options_.activations == activation_type::none) return;
  const std::vector<std::uint8_t>& mask = linears_[linear_index(id)].input_mask;
  for (std::size_t i = 0; i < rows * C; ++i)
    if (mask[i] == 0) dinput[i] = 0.0f;
}

void fake_quant_hooks::update_scales(double learning_rate) {
  if (options_.estimator != pot::ste_estimator::learnable_scale) return;
  constexpr double beta1 = 0.9, beta2 = 0.99, epsilon = 1e-8;
  ++scale_steps_;
  const double correction1 = 1.0 - std::pow(beta1, static_cast<double>(scale_steps_));
  const double correction2 = 1.0 - std::pow(beta2, static_cast<double>(scale_steps_));
  for (linear_state& state : linears_)
    for (std::size_t s = 0; s < state.scales.size(); ++s) {
      const double g = state.scale_gradient[s];
      state.scale_m[s] = beta1 * state.scale_m[s] + (1 - beta1) * g;
      state.scale_v[s] = beta2 * state.scale_v[s] + (1 - beta2) * g * g;
      const double step = learning_rate * (state.scale_m[s] / correction1) /
                          (std::sqrt(state.scale_v[s] / correction2) + epsilon);
      // A scale must stay positive; a step that would cross zero halves it instead.
      const double updated = static_cast<double>(state.scales[s]) - step;
      state.scales[s] = static_cast<float>(updated > 0 ? updated : 0.5 * state.scales[s]);
    }
}

void calibrate(gpt2_model<float>& model, fake_quant_hooks& hooks, std::span<const std::int32_t> train,
               std::size_t batches, std::size_t B, std::size_t T, std::uint64_t seed) {
  batch_sampler sampler(train, B, T, seed);
  hooks.set_observing(true);
  for (std::size_t b = 0; b < batches; ++b) {
    const token_batch batch = sampler.next();
    model.forward(batch.inputs, {}, B, T);
  }
  hooks.set_observing(false);
}

}  // namespace gpt2
