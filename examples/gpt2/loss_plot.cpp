#include "loss_plot.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <stdexcept>
#include <vector>

#include "atomic_file.hpp"

namespace gpt2 {

namespace {

constexpr double width = 800, height = 500;
constexpr double left = 70, right = 20, top = 40, bottom = 55;  // margins around the plot area

// Tick spacing of 1, 2 or 5 times a power of ten giving about \p count ticks.
double tick_step(double span, int count) {
  const double raw = span / count;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  for (const double factor : {1.0, 2.0, 5.0})
    if (raw <= factor * magnitude) return factor * magnitude;
  return 10.0 * magnitude;
}

std::string number(double value, int decimals) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
  return buffer;
}

std::string escape_xml(const std::string& text) {
  std::string out;
  for (const char c : text) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

}  // namespace

std::string loss_plot_svg(std::span<const loss_point> curve, const std::string& title) {
  double low = std::numeric_limits<double>::infinity();
  double high = -low;
  double last_step = 1;
  for (const loss_point& point : curve) {
    for (const float loss : {point.train_loss, point.val_loss}) {
      if (!std::isfinite(loss)) continue;
      low = std::min(low, double(loss));
      high = std::max(high, double(loss));
    }
    last_step = std::max(last_step, double(point.step));
  }
  if (!std::isfinite(low)) throw std::invalid_argument("pot: the loss curve holds no finite loss");
  const double y_step = tick_step(std::max(high - low, 1e-3), 6);
  const double y_low = std::floor(low / y_step) * y_step;
  const double y_high = std::max(std::ceil(high / y_step) * y_step, y_low + y_step);
  const double x_step = tick_step(last_step, 8);
  const int y_decimals = std::max(0, -static_cast<int>(std::floor(std::log10(y_step))));

  const double plot_width = width - left - right;
  const double plot_height = height - top - bottom;
  auto x_of = [&](double step) { return left + step / last_step * plot_width; };
  auto y_of = [&](double loss) { return top + (y_high - loss) / (y_high - y_low) * plot_height; };

  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + number(width, 0) +
                    "\" height=\"" + number(height, 0) + "\" viewBox=\"0 0 " + number(width, 0) +
                    " " + number(height, 0) + "\" font-family=\"sans-serif\" font-size=\"12\">\n";
  svg += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  svg += "<text x=\"" + number(width / 2, 1) + "\" y=\"24\" text-anchor=\"middle\" font-size=\"15\">" +
         escape_xml(title) + "</text>\n";
  // Grid lines and tick labels.
  for (double y = y_low; y <= y_high + y_step / 2; y += y_step) {
    const std::string py = number(y_of(y), 1);
    svg += "<line x1=\"" + number(left, 1) + "\" y1=\"" + py + "\" x2=\"" + number(width - right, 1) +
           "\" y2=\"" + py + "\" stroke=\"#e4e4e4\"/>\n";
    svg += "<text x=\"" + number(left - 6, 1) + "\" y=\"" + py +
           "\" text-anchor=\"end\" dominant-baseline=\"middle\">" + number(y, y_decimals) + "</text>\n";
  }
  for (double x = 0; x <= last_step + x_step / 2; x += x_step) {
    const std::string px = number(x_of(x), 1);
    svg += "<line x1=\"" + px + "\" y1=\"" + number(top, 1) + "\" x2=\"" + px + "\" y2=\"" +
           number(height - bottom, 1) + "\" stroke=\"#e4e4e4\"/>\n";
    svg += "<text x=\"" + px + "\" y=\"" + number(height - bottom + 18, 1) +
           "\" text-anchor=\"middle\">" + number(x, 0) + "</text>\n";
  }
  // Axes and their labels.
  svg += "<polyline points=\"" + number(left, 1) + "," + number(top, 1) + " " + number(left, 1) +
         "," + number(height - bottom, 1) + " " + number(width - right, 1) + "," +
         number(height - bottom, 1) + "\" fill=\"none\" stroke=\"black\"/>\n";
  svg += "<text x=\"" + number(left + plot_width / 2, 1) + "\" y=\"" + number(height - 12, 1) +
         "\" text-anchor=\"middle\">step</text>\n";
  svg += "<text transform=\"translate(18 " + number(top + plot_height / 2, 1) +
         ") rotate(-90)\" text-anchor=\"middle\">loss (nats)</text>\n";

  auto series = [&](auto member, const char* colour, double stroke, bool dots) {
    std::string points;
    std::string markers;
    for (const loss_point& point : curve) {
      const float loss = point.*member;
      if (!std::isfinite(loss)) continue;
      const std::string xy = number(x_of(double(point.step)), 1) + "," + number(y_of(loss), 1);
      points += xy + " ";
      if (dots)
        markers += "<circle cx=\"" + number(x_of(double(point.step)), 1) + "\" cy=\"" +
                   number(y_of(loss), 1) + "\" r=\"3\" fill=\"" + colour + "\"/>\n";
    }
    if (points.empty()) return std::string();
    return "<polyline points=\"" + points + "\" fill=\"none\" stroke=\"" + colour +
           "\" stroke-width=\"" + number(stroke, 1) + "\"/>\n" + markers;
  };
  svg += series(&loss_point::train_loss, "#4c8fd6", 1.0, false);
  svg += series(&loss_point::val_loss, "#e6701e", 2.0, true);

  // Legend in the upper right corner, where a falling loss curve leaves room.
  const double legend_x = width - right - 150;
  const double legend_y = top + 12;
  svg += "<rect x=\"" + number(legend_x - 8, 1) + "\" y=\"" + number(legend_y - 12, 1) +
         "\" width=\"150\" height=\"44\" fill=\"white\" stroke=\"#bbbbbb\"/>\n";
  const char* names[] = {"train loss (batch)", "val loss"};
  const char* colours[] = {"#4c8fd6", "#e6701e"};
  for (int i = 0; i < 2; ++i) {
    const double y = legend_y + 20 * i;
    svg += "<line x1=\"" + number(legend_x, 1) + "\" y1=\"" + number(y, 1) + "\" x2=\"" +
           number(legend_x + 24, 1) + "\" y2=\"" + number(y, 1) + "\" stroke=\"" + colours[i] +
           "\" stroke-width=\"2\"/>\n";
    svg += "<text x=\"" + number(legend_x + 30, 1) + "\" y=\"" + number(y, 1) +
           "\" dominant-baseline=\"middle\">" + names[i] + "</text>\n";
  }
  svg += "</svg>\n";
  return svg;
}

void write_loss_plot(const std::filesystem::path& path, std::span<const loss_point> curve,
                     const std::string& title) {
  const std::string svg = loss_plot_svg(curve, title);
  atomic_file_writer writer(path);
  writer.write(std::as_bytes(std::span(svg)));
  writer.commit();
}

}  // namespace gpt2
