/// \file
/// \brief The loss curve as an SVG chart a person opens in a browser.
#pragma once

#include <filesystem>
#include <span>
#include <string>

#include "trainer.hpp"

namespace gpt2 {

/// \brief The SVG text of a chart of \p curve: train loss per step (thin line), val loss
/// at each evaluation (line with dots), axes with ticks, a legend and \p title.
/// \throws std::invalid_argument if the curve holds no finite loss
std::string loss_plot_svg(std::span<const loss_point> curve, const std::string& title);

/// \brief Writes loss_plot_svg() atomically to \p path.
void write_loss_plot(const std::filesystem::path& path, std::span<const loss_point> curve,
                     const std::string& title);

}  // namespace gpt2
