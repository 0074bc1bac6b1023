/// \file
/// \brief PoT quantization of the GPT-2 model's Linear layers, as the reference's pot.py:
/// the options the command line chooses, and the set of the library's quantization-aware
/// Linears (pot::nn::fake_quant_linear: weight fake-quantization, activation observers,
/// straight-through estimators) for PTQ evaluation and QAT, installed in the model
/// through gpt2_model::set_linears. lm_head, embeddings and LayerNorms stay float, as in
/// the paper.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "model.hpp"
#include "pot/nn/adamw.hpp"
#include "pot/nn/linear.hpp"
#include "pot/quant/pot_quantizer.hpp"
#include "pot/quant/ste.hpp"
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

/// \brief Throws std::invalid_argument naming the problem unless \p q is a valid scale and
/// zero point of its 8-bit type (or float activations).
void validate(const activation_qparams& q);

/// \brief pot.py's ActFakeQuant averaging constant of the activation observers.
inline constexpr float observer_averaging_constant = 0.01f;

/// \brief One block Linear's quantization-aware forward and backward (a
/// pot::nn::fake_quant_linear of the options' weight format and activation type), with
/// what the program reaches without knowing those types.
class qat_linear : public pot::nn::linear<float> {
 public:
  /// \brief Whether forwards update the activation observer (no effect for float
  /// activations).
  /// \throws std::logic_error when turning it on for parameters read from a file
  virtual void set_observing(bool observing) = 0;
  /// \brief The activation parameters the input is quantized with now.
  /// \throws std::logic_error for float activations, or before anything was observed
  [[nodiscard]] virtual activation_qparams input_parameters() const = 0;
  /// \brief The weight scales (learned with the lsq estimator) and their gradients.
  [[nodiscard]] virtual std::span<float> scales() = 0;
  /// \brief d loss / d scale of the last backward (lsq estimator; zero otherwise).
  [[nodiscard]] virtual std::span<const double> scale_gradients() const = 0;
};

/// \brief The fake-quantized Linears of every block of a model (PTQ evaluation and QAT):
/// weights through the PoT format with scale max|w| / 2^MaxExp recomputed at every forward
/// (or, with the lsq estimator, learned), inputs through their observers.
///
/// Observers update on every forward while observing() is on (calibration, QAT training
/// steps: the reference keeps its observers on in train mode) and are frozen otherwise
/// (evaluation). The input gradient always takes the activation mask (PyTorch's
/// fake-quant backward); the weight gradient follows the options' estimator.
class fake_quant_linears {
 public:
  /// \brief Linears for a model of \p config, with fresh observers, not observing.
  fake_quant_linears(const gpt2_config& config, const quantization_options& options);
  /// \brief Linears whose activations use frozen \p qparams (one per Linear, in
  /// linear_index() order).
  /// \throws std::invalid_argument for the wrong number or type of parameters
  fake_quant_linears(const gpt2_config& config, const quantization_options& options,
                     std::span<const activation_qparams> qparams);

  /// \brief The Linears, in linear_index() order, for gpt2_model::set_linears().
  [[nodiscard]] std::span<pot::nn::linear<float>* const> layers() const noexcept { return layers_; }

  /// \brief Whether forwards update the observers.
  void set_observing(bool observing);
  [[nodiscard]] bool observing() const noexcept { return observing_; }
  [[nodiscard]] const quantization_options& options() const noexcept { return options_; }

  /// \brief Every Linear's activation parameters, in linear_index() order (none for
  /// float activations).
  [[nodiscard]] std::vector<activation_qparams> activation_parameters() const;

  /// \brief LSQ: one Adam step (betas 0.9/0.99, pot::nn::adam_update) on the learned
  /// weight scales with the gradients of the last backward(); does nothing for the other
  /// estimators.
  void update_scales(double learning_rate);

 private:
  quantization_options options_;
  bool observing_ = false;
  std::vector<std::unique_ptr<qat_linear>> linears_;
  std::vector<pot::nn::linear<float>*> layers_;
  std::vector<pot::nn::adam_moments> scale_moments_;
};

/// \brief The parameter name of a Linear's weight ("h.0.attn.c_attn.weight").
std::string linear_weight_name(linear_id id);

/// \brief Runs \p batches training batches through \p model (with \p linears installed)
/// with the observers on (pot.py's calibration: 50 batches, then frozen), leaving
/// observing() off.
void calibrate(gpt2_model<float>& model, fake_quant_linears& linears, std::span<const std::int32_t> train,
               std::size_t batches, std::size_t B, std::size_t T, std::uint64_t seed);

}  // namespace gpt2
