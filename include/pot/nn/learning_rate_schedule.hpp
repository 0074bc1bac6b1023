/// \file
/// \brief The warmup-cosine learning-rate schedule of nanoGPT (and of the paper's runs).
#pragma once

#include <cmath>
#include <cstddef>
#include <numbers>
#include <stdexcept>

namespace pot::nn {

/// \brief A linear warmup to `peak`, then a half cosine down to `floor` at
/// `decay_steps`, then `floor`: nanoGPT's get_lr.
struct warmup_cosine_schedule {
  double peak = 1e-3;             ///< learning rate at the end of the warmup
  double floor = 1e-4;            ///< learning rate from `decay_steps` on
  std::size_t warmup_steps = 0;   ///< steps of the linear warmup
  std::size_t decay_steps = 1;    ///< step at which the cosine reaches `floor`

  /// \throws std::invalid_argument unless 0 <= floor <= peak (finite) and warmup_steps < decay_steps
  void validate() const {
    if (!(std::isfinite(peak) && floor >= 0 && floor <= peak))
      throw std::invalid_argument("pot: warmup_cosine_schedule needs 0 <= floor <= peak, both finite");
    if (warmup_steps >= decay_steps)
      throw std::invalid_argument("pot: warmup_cosine_schedule needs warmup_steps < decay_steps");
  }

  /// \brief The learning rate of the update that follows step \p step (counted from 0):
  /// `peak (step + 1) / (warmup + 1)` during the warmup, so that step 0 does not update
  /// with rate 0, then `floor + (peak - floor) (1 + cos(pi r)) / 2` with
  /// `r = (step - warmup) / (decay - warmup)`.
  double operator()(std::size_t step) const noexcept {
    const auto it = static_cast<double>(step);
    const auto warmup = static_cast<double>(warmup_steps);
    const auto decay = static_cast<double>(decay_steps);
    if (it < warmup) return peak * (it + 1) / (warmup + 1);
    if (it > decay) return floor;
    const double ratio = (it - warmup) / (decay - warmup);
    return floor + 0.5 * (1.0 + std::cos(std::numbers::pi * ratio)) * (peak - floor);
  }
};

}  // namespace pot::nn
