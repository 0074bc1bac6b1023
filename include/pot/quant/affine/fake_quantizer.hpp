#pragma once
/// \file
/// \brief affine_fake_quantizer: the fake quantization of one tensor together with the
/// observer that sets its parameters, as PyTorch's FakeQuantize module with a
/// MovingAverageMinMaxObserver (what quantization-aware training puts before a layer).

#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>

#include "pot/quant/affine/fake_quant.hpp"
#include "pot/quant/affine/observer.hpp"
#include "pot/quant/affine/params.hpp"
#include "pot/quant/ste.hpp"

namespace pot {

/// \brief Per-tensor affine fake quantization with its observer.
///
/// While observing, forward() first moves the observer's running min and max towards
/// the batch's, then fake-quantizes the batch with the parameters of that range (so the
/// first batch is quantized with its own range, as PyTorch's module does in train mode);
/// not observing, it uses the parameters of the range observed so far. A quantizer made
/// from fixed parameters (read from a file) never observes. backward() is PyTorch's
/// estimator: the gradient passes where the unclamped code was in range, else it is 0.
template <affine_code Q>
class affine_fake_quantizer {
 public:
  /// \brief An observing quantizer that has seen nothing yet, whose observer averages
  /// with constant \p averaging_constant (PyTorch's default 0.01) and turns ranges into
  /// parameters by \p scheme.
  /// \throws std::invalid_argument unless 0 < averaging_constant <= 1
  explicit affine_fake_quantizer(float averaging_constant = 0.01f, qscheme scheme = qscheme::affine)
      : observer_(averaging_constant, scheme), observing_(true) {}

  /// \brief A quantizer with the fixed parameters \p frozen.
  /// \throws std::invalid_argument as affine_params::validate()
  explicit affine_fake_quantizer(const affine_params<Q>& frozen) : frozen_(frozen), observing_(false) {
    frozen.validate();
  }

  /// \brief Whether forward() updates the observer first.
  /// \throws std::logic_error when turning it on for fixed parameters
  void set_observing(bool observing) {
    if (observing && frozen_) throw std::logic_error("pot: fixed affine parameters cannot observe");
    observing_ = observing;
  }

  /// \brief Whether forward() updates the observer first.
  [[nodiscard]] bool observing() const noexcept { return observing_; }

  /// \brief The parameters forward() uses now: the fixed ones, or those of the range
  /// observed so far (calculate_qparams()).
  /// \throws std::logic_error if nothing was observed yet
  [[nodiscard]] affine_params<Q> params() const {
    return frozen_ ? *frozen_ : observer_.calculate_qparams();
  }

  /// \brief Observes \p x (when observing()), then fake-quantizes it in place and writes
  /// the estimator's mask (1 where the unclamped code was in range).
  /// \throws std::invalid_argument if the lengths differ, or as the observer does for an
  ///   empty batch, NaN or infinity; std::logic_error if nothing was observed yet
  void forward(std::span<float> x, std::span<std::uint8_t> mask) {
    if (observing_) observer_.observe(x);
    fake_quantize_affine_forward(std::span<const float>(x), params(), x, mask);
  }

  /// \brief Turns the gradient of forward()'s output, in place, into that of its input:
  /// 0 where \p mask (forward()'s) is 0.
  /// \throws std::invalid_argument if the lengths differ
  static void backward(std::span<float> gradient, std::span<const std::uint8_t> mask) {
    fake_quantize_backward(gradient, mask, ste_estimator::clipped);
  }

 private:
  moving_average_min_max_observer<Q> observer_;
  std::optional<affine_params<Q>> frozen_;
  bool observing_;
};

}  // namespace pot
