#include "quantization.hpp"

#include <stdexcept>

#include "dataset.hpp"
#include "pot/quant/affine/params.hpp"

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

void validate(const activation_qparams& q) {
  switch (q.type) {
    case activation_type::uint8: pot::make_affine_params<std::uint8_t>(q.scale, q.zero_point); return;
    case activation_type::int8: pot::make_affine_params<std::int8_t>(q.scale, q.zero_point); return;
    case activation_type::none: return;
  }
}

std::string linear_weight_name(linear_id id) {
  return "h." + std::to_string(id.layer) + "." + std::string(linear_module_name(id.kind)) + ".weight";
}

fake_quant_linears::fake_quant_linears(const gpt2_config& config, const quantization_options& options)
    : options_(options) {
  const weight_format& format = find_weight_format(options.format);
  for (std::size_t i = 0; i < config.n_layer * linear_kind_count; ++i) {
    linears_.push_back(format.make_qat_linear(options, nullptr));
    linears_.back()->set_observing(false);
    layers_.push_back(linears_.back().get());
  }
  scale_moments_.resize(linears_.size());
}

fake_quant_linears::fake_quant_linears(const gpt2_config& config, const quantization_options& options,
                                       std::span<const activation_qparams> qparams)
    : options_(options) {
  if (qparams.size() != config.n_layer * linear_kind_count)
    throw std::invalid_argument("pot: " + std::to_string(qparams.size()) + " activation parameter sets for " +
                                std::to_string(config.n_layer * linear_kind_count) + " Linear layers");
  const weight_format& format = find_weight_format(options.format);
  for (const activation_qparams& q : qparams) {
    if (q.type != options.activations)
      throw std::invalid_argument("pot: activation parameters of type " + activation_type_name(q.type) + " for " +
                                  activation_type_name(options.activations) + " activations");
    linears_.push_back(format.make_qat_linear(options, &q));
    layers_.push_back(linears_.back().get());
  }
  scale_moments_.resize(linears_.size());
}

void fake_quant_linears::set_observing(bool observing) {
  for (const auto& linear : linears_) linear->set_observing(observing);
  observing_ = observing;
}

std::vector<activation_qparams> fake_quant_linears::activation_parameters() const {
  std::vector<activation_qparams> out;
  if (options_.activations == activation_type::none) return out;
  for (const auto& linear : linears_) out.push_back(linear->input_parameters());
  return out;
}

void fake_quant_linears::update_scales(double learning_rate) {
  if (options_.estimator != pot::ste_estimator::learnable_scale) return;
  const pot::nn::adamw_options adam{learning_rate, 0.9, 0.99, 1e-8, 0.0};
  for (std::size_t i = 0; i < linears_.size(); ++i)
    pot::nn::adam_update(linears_[i]->scales(), linears_[i]->scale_gradients(), scale_moments_[i], adam,
                         pot::nn::parameter_constraint::positive);
}

void calibrate(gpt2_model<float>& model, fake_quant_linears& linears, std::span<const std::int32_t> train,
               std::size_t batches, std::size_t B, std::size_t T, std::uint64_t seed) {
  batch_sampler sampler(train, B, T, seed);
  linears.set_observing(true);
  for (std::size_t b = 0; b < batches; ++b) {
    const token_batch batch = sampler.next();
    model.forward(batch.inputs, {}, B, T);
  }
  linears.set_observing(false);
}

}  // namespace gpt2
