/// \file
/// \brief PoT quantization of the GPT-2 model's Linear layers, as the reference's pot.py:
/// weight fake-quantization (PTQ evaluation and QAT), activation observers, and the
/// integer inference path over packed weights. All of it plugs into the model through
/// its linear_hooks; lm_head, embeddings and LayerNorms stay float, as in the paper.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "model.hpp"
#include "pot/quant/affine/observer.hpp"
#include "pot/quant/affine/params.hpp"
#include "pot/quant/ste.hpp"
#include "pot/quant/pot_quantizer.hpp"
#include "pot_format.hpp"

namespace gpt2 {

/// \brief The codes that activations entering a quantized Linear take; `none` leaves
/// them float (weight-only quantization: the reference's "W" runs; no integer path).
enum class activation_type { uint8, int8, none };

/// \brief "uint8", "int8" or "float".
std::string activation_type_name(activation_type type);
/// \throws std::invalid_argument naming \p name unless it is "uint8", "int8" or "float"
activation_type parse_activation_type(const std::string& name);
/// \brief "per-tensor" or "per-channel".
std::string granularity_name(pot::scale_granularity granularity);
/// \throws std::invalid_argument unless \p name is "per-tensor" or "per-channel"
pot::scale_granularity parse_granularity(const std::string& name);
/// \brief "identity", "clipped" or "lsq".
std::string estimator_name(pot::ste_estimator estimator);
/// \throws std::invalid_argument unless \p name is "identity", "clipped" or "lsq"
pot::ste_estimator parse_estimator(const std::string& name);

/// \brief How the Linears are quantized.
struct quantization_options {
  format_spec format;                                                   ///< weights
  pot::scale_granularity granularity = pot::scale_granularity::per_tensor;  ///< as pot.py
  activation_type activations = activation_type::uint8;                 ///< as the reference
  pot::ste_estimator estimator = pot::ste_estimator::identity;          ///< QAT weight gradient
};

/// \brief A Linear's frozen activation quantization: scale and zero point of `type`.
struct activation_qparams {
  activation_type type = activation_type::uint8;
  float scale = 1.0f;
  std::int32_t zero_point = 0;
};

/// \brief Per-tensor affine quantization of one Linear's input with a moving-average
/// min/max observer (c = 0.01, pot.py's ActFakeQuant), or with parameters read from a file.
class activation_quantizer {
 public:
  /// \brief An observer that has seen nothing yet.
  explicit activation_quantizer(activation_type type);
  /// \brief Fixed parameters (a packed model file); observe() then throws.
  explicit activation_quantizer(const activation_qparams& frozen);

  /// \brief Moves the running min/max towards \p x's (the first batch sets them).
  void observe(std::span<const float> x);
  /// \brief The current parameters.
  /// \throws std::logic_error before any batch was observed
  [[nodiscard]] activation_qparams qparams() const;
  /// \brief PyTorch's fake_quantize_per_tensor_affine in place, and its clipped-STE mask.
  void fake_quantize(std::span<float> x, std::span<std::uint8_t> mask) const;

 private:
  activation_type type_;
  std::variant<pot::moving_average_min_max_observer<std::uint8_t>,
               pot::moving_average_min_max_observer<std::int8_t>>
      observer_;
  std::optional<activation_qparams> frozen_;
};

/// \brief The fake-quantized forward pass (and its STE backward) of every block Linear:
/// weights through the PoT format with scale max|w| / 2^MaxExp recomputed at every forward
/// (or, with the LSQ estimator, learned), inputs through their activation_quantizer.
///
/// Observers update on every forward while observing() is on (calibration, QAT training
/// steps: the reference keeps its observers on in train mode) and are frozen otherwise
/// (evaluation). The input gradient always takes the activation mask (PyTorch's
/// fake-quant backward); the weight gradient follows the options' estimator.
class fake_quant_hooks final : public linear_hooks<float> {
 public:
  /// \brief Hooks for a model of \p config, with fresh observers.
  fake_quant_hooks(const gpt2_config& config, const quantization_options& options);
  /// \brief Hooks whose activations use frozen \p qparams (one per Linear, in
  /// linear_index() order).
  fake_quant_hooks(const gpt2_config& config, const quantization_options& options,
                   std::span<const activation_qparams> qparams);

  /// \brief Whether forwards update the observers.
  void set_observing(bool observing) noexcept { observing_ = observing; }
  [[nodiscard]] bool observing() const noexcept { return observing_; }
  [[nodiscard]] const quantization_options& options() const noexcept { return options_; }

  /// \brief Every Linear's activation parameters, in linear_index() order.
  [[nodiscard]] std::vector<activation_qparams> activation_parameters() const;

  /// \brief LSQ: one Adam step (betas 0.9/0.99) on the learned weight scales with the
  /// gradients of the last backward(); does nothing for the other estimators.
  void update_scales(double learning_rate);

  const float* weight(linear_id id, const float* master, std::size_t OC, std::size_t C) override;
  void quantize_input(linear_id id, float* input, std::size_t rows, std::size_t C) override;
  void weight_gradient(linear_id id, const float* master, float* dweight, std::size_t OC,
                       std::size_t C) override;
  void input_gradient(linear_id id, float* dinput, std::size_t rows, std::size_t C) override;

 private:
  struct linear_state {
    std::vector<float> weight;             // (OC, C) fake-quantized weight of the last forward
    std::vector<std::uint8_t> weight_mask; // (OC, C) exponent in range
    std::vector<float> scales;             // 1 or OC
    std::vector<std::uint8_t> input_mask;  // (rows, C) code in range before clamping
    std::vector<double> scale_gradient, scale_m, scale_v;  // LSQ
  };

  quantization_options options_;
  const weight_format& format_;
  bool observing_ = false;
  std::size_t scale_steps_ = 0;
  std::vector<activation_quantizer> inputs_;
  std::vector<linear_state> linears_;
};

/// \brief The position of \p id among a model's Linears: layer * 4 + kind.
std::size_t linear_index(linear_id id);

/// \brief The parameter name of a Linear's weight ("h.0.attn.c_attn.weight").
std::string linear_weight_name(linear_id id);

/// \brief Runs \p batches training batches through \p model with the hooks observing
/// (pot.py's calibration: 50 batches, then frozen), leaving observing() off.
void calibrate(gpt2_model<float>& model, fake_quant_hooks& hooks, std::span<const std::int32_t> train,
               std::size_t batches, std::size_t B, std::size_t T, std::uint64_t seed);

}  // namespace gpt2
