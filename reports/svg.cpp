// SVG line and bar charts. Coordinates are written with one decimal so the output is small and the
// same on every machine.
#include "svg.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

namespace sentbench::svg {
namespace {

constexpr const char* kAxis = "#555";
constexpr const char* kGrid = "#e3e3e3";
constexpr const char* kText = "#222";
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string c(double v) { return fmt::format("{:.1f}", v); }

std::string open_svg(int width, int height, const std::string& title) {
  return fmt::format(
      "<svg class=\"chart\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" "
      "role=\"img\" font-family=\"system-ui, sans-serif\" font-size=\"11\">\n<title>{2}</title>\n"
      "<text x=\"{3}\" y=\"15\" font-size=\"13\" font-weight=\"600\" fill=\"{4}\">{2}</text>\n",
      width, height, escape(title), 4, kText);
}

std::string placeholder(int width, int height, const std::string& title, const std::string& message) {
  return open_svg(width, height, title) +
         fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#888\">{}</text>\n</svg>\n", width / 2, height / 2,
                     escape(message)) ;
}

// Finite range of values; {NaN, NaN} when none.
std::pair<double, double> finite_range(const std::vector<double>& values) {
  double lo = kNaN, hi = kNaN;
  for (const double v : values) {
    if (!std::isfinite(v)) continue;
    if (!(v >= lo)) lo = v;
    if (!(v <= hi)) hi = v;
  }
  return {lo, hi};
}

// Widens a degenerate range so that a constant series still gets an axis.
void widen(double& lo, double& hi) {
  if (hi > lo) return;
  const double pad = lo == 0 ? 1.0 : std::fabs(lo) * 0.1;
  lo -= pad;
  hi += pad;
}

}  // namespace

std::string escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (const char ch : text) {
    switch (ch) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += ch;
    }
  }
  return out;
}

std::vector<double> nice_ticks(double lo, double hi, int target) {
  if (!std::isfinite(lo) || !std::isfinite(hi)) return {};
  widen(lo, hi);
  const double raw = (hi - lo) / std::max(1, target);
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  const double residual = raw / magnitude;
  const double step = (residual > 5 ? 10 : residual > 2 ? 5 : residual > 1 ? 2 : 1) * magnitude;
  std::vector<double> ticks;
  const double first = std::floor(lo / step) * step;
  for (int i = 0; i < 100; ++i) {
    const double t = first + i * step;
    ticks.push_back(std::fabs(t) < step * 1e-9 ? 0.0 : t);
    if (t >= hi - step * 1e-9) break;
  }
  return ticks;
}

std::string tick_label(double value, double step) {
  if (value == 0) return "0";
  const double a = std::fabs(value);
  if (a >= 1e6 || a < 1e-3) return fmt::format("{:.1e}", value);
  if (a >= 1e4) return fmt::format("{:.0f}k", value / 1e3);
  const int decimals = step > 0 ? std::max(0, static_cast<int>(std::ceil(-std::log10(step) - 1e-9))) : 2;
  return fmt::format("{:.{}f}", value, std::min(decimals, 6));
}

std::string line_chart(const std::vector<Series>& series, const LineChartOptions& o) {
  std::vector<double> xs, ys;
  for (const Series& s : series) {
    for (std::size_t i = 0; i < std::min(s.x.size(), s.y.size()); ++i) {
      if (std::isfinite(s.x[i]) && std::isfinite(s.y[i])) xs.push_back(s.x[i]), ys.push_back(s.y[i]);
    }
  }
  if (xs.empty()) return placeholder(o.width, o.height, o.title, "no data");
  auto [x_lo, x_hi] = finite_range(xs);
  auto [y_lo, y_hi] = finite_range(ys);
  const std::vector<double> x_ticks = nice_ticks(x_lo, x_hi, 6);
  const std::vector<double> y_ticks = nice_ticks(y_lo, y_hi, 5);
  widen(x_lo, x_hi);
  const double x_min = std::min(x_lo, x_ticks.front()), x_max = std::max(x_hi, x_ticks.back());
  const double y_min = y_ticks.front(), y_max = y_ticks.back();
  // Room on the left for the longest tick label (about 6.5 px a character at 11 px) and the axis title.
  const double y_step_guess = y_ticks.size() > 1 ? y_ticks[1] - y_ticks[0] : 1;
  std::size_t longest = 1;
  for (const double t : y_ticks) longest = std::max(longest, tick_label(t, y_step_guess).size());
  // The legend sits right of the title; when both do not fit on one line it gets a line of its own.
  double legend_width = 0;
  if (series.size() > 1) {
    for (const auto& s : series) legend_width += 14 + 6.5 * static_cast<double>(s.name.size());
  }
  const double legend_y = 4 + 7.5 * static_cast<double>(o.title.size()) + legend_width > o.width - 12.0 ? 24 : 8;
  const double left = std::max(40.0, 26.0 + 6.5 * static_cast<double>(longest)), right = o.width - 12.0, top = 18 + legend_y,
               bottom = o.height - 34.0;
  auto px = [&](double x) { return left + (x - x_min) / (x_max - x_min) * (right - left); };
  auto py = [&](double y) { return bottom - (y - y_min) / (y_max - y_min) * (bottom - top); };

  std::string out = open_svg(o.width, o.height, o.title);
  const double x_step = x_ticks.size() > 1 ? x_ticks[1] - x_ticks[0] : 1;
  const double y_step = y_ticks.size() > 1 ? y_ticks[1] - y_ticks[0] : 1;
  for (const double t : y_ticks) {
    out += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\"/>\n", c(left), c(py(t)), c(right), c(py(t)), kGrid);
    out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\" fill=\"{}\">{}</text>\n", c(left - 5), c(py(t) + 4), kText,
                       escape(tick_label(t, y_step)));
  }
  for (const double t : x_ticks) {
    if (t < x_min - 1e-9 || t > x_max + 1e-9) continue;
    out += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\"/>\n", c(px(t)), c(bottom), c(px(t)), c(bottom + 4), kAxis);
    out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"{}\">{}</text>\n", c(px(t)), c(bottom + 16), kText,
                       escape(tick_label(t, x_step)));
  }
  out += fmt::format("<polyline points=\"{},{} {},{} {},{}\" fill=\"none\" stroke=\"{}\"/>\n", c(left), c(top), c(left), c(bottom),
                     c(right), c(bottom), kAxis);
  if (!o.x_label.empty()) {
    out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"{}\">{}</text>\n", c((left + right) / 2),
                       o.height - 4, kText, escape(o.x_label));
  }
  if (!o.y_label.empty()) {
    out += fmt::format("<text transform=\"translate(12,{}) rotate(-90)\" text-anchor=\"middle\" fill=\"{}\">{}</text>\n",
                       c((top + bottom) / 2), kText, escape(o.y_label));
  }
  for (const Series& s : series) {
    std::string d;
    std::size_t finite = 0;
    bool pen_down = false;
    for (std::size_t i = 0; i < std::min(s.x.size(), s.y.size()); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) {
        pen_down = false;
        continue;
      }
      d += fmt::format("{}{},{} ", pen_down ? "L" : "M", c(px(s.x[i])), c(py(s.y[i])));
      pen_down = true;
      ++finite;
    }
    if (finite == 0) continue;
    out += fmt::format("<path d=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"1.6\" stroke-linejoin=\"round\"><title>{}</title></path>\n",
                       d.substr(0, d.size() - 1), s.color, escape(s.name));
    if (finite <= 40) {  // few points: mark each, with its value on hover
      for (std::size_t i = 0; i < std::min(s.x.size(), s.y.size()); ++i) {
        if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) continue;
        out += fmt::format("<circle cx=\"{}\" cy=\"{}\" r=\"2.5\" fill=\"{}\"><title>{} {}: {}</title></circle>\n", c(px(s.x[i])),
                           c(py(s.y[i])), s.color, escape(o.x_label), tick_label(s.x[i], 1), fmt::format("{:.6g}", s.y[i]));
      }
    }
  }
  if (series.size() > 1) {
    double x = right;
    for (auto it = series.rbegin(); it != series.rend(); ++it) {
      x -= 14 + 6.5 * static_cast<double>(it->name.size());
      out += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"10\" height=\"10\" fill=\"{}\"/><text x=\"{}\" y=\"{}\" fill=\"{}\">{}</text>\n",
                         c(x), fmt::format("{:g}", legend_y), it->color, c(x + 13), fmt::format("{:g}", legend_y + 9), kText, escape(it->name));
    }
  }
  return out + "</svg>\n";
}

std::string bar_chart(const std::vector<Bar>& bars, const BarChartOptions& o) {
  const int height = 30 + static_cast<int>(bars.size()) * o.bar_height + (o.x_label.empty() ? 22 : 36);
  std::vector<double> values;
  for (const Bar& b : bars) values.push_back(b.value);
  auto [lo, hi] = finite_range(values);
  if (!std::isfinite(lo)) return placeholder(o.width, height, o.title, "no data");
  lo = std::min(lo, 0.0);
  hi = std::max(hi, 0.0);
  const std::vector<double> ticks = nice_ticks(lo, hi, 5);
  const double v_min = ticks.front(), v_max = ticks.back();
  const double step = ticks.size() > 1 ? ticks[1] - ticks[0] : 1;
  const double left = o.label_width, right = o.width - 64.0, top = 26;
  const double bottom = top + static_cast<double>(bars.size()) * o.bar_height;
  auto px = [&](double v) { return left + (v - v_min) / (v_max - v_min) * (right - left); };

  std::string out = open_svg(o.width, height, o.title);
  for (const double t : ticks) {
    out += fmt::format("<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\" stroke=\"{3}\"/>\n", c(px(t)), c(top), c(bottom), kGrid);
    out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"{}\">{}</text>\n", c(px(t)), c(bottom + 14), kText,
                       escape(tick_label(t, step)));
  }
  for (std::size_t i = 0; i < bars.size(); ++i) {
    const Bar& b = bars[i];
    const double y = top + static_cast<double>(i) * o.bar_height;
    const std::string text = b.value_text.empty() ? fmt::format("{:.4g}", b.value) : b.value_text;
    out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\" fill=\"{}\">{}</text>\n", c(left - 6), c(y + o.bar_height * 0.5 + 4),
                       kText, escape(b.label));
    if (!std::isfinite(b.value)) {
      out += fmt::format("<text x=\"{}\" y=\"{}\" fill=\"#888\">n/a</text>\n", c(px(0) + 4), c(y + o.bar_height * 0.5 + 4));
      continue;
    }
    const double x0 = px(std::min(0.0, b.value)), x1 = px(std::max(0.0, b.value));
    out += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"><title>{}: {}</title></rect>\n", c(x0), c(y + 3),
                       c(std::max(0.5, x1 - x0)), c(o.bar_height - 6.0), b.color, escape(b.label), escape(text));
    out += fmt::format("<text x=\"{}\" y=\"{}\" fill=\"{}\">{}</text>\n", c(x1 + 4), c(y + o.bar_height * 0.5 + 4), kText, escape(text));
  }
  out += fmt::format("<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\" stroke=\"{3}\"/>\n", c(px(0)), c(top), c(bottom), kAxis);
  if (!o.x_label.empty()) {
    out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"{}\">{}</text>\n", c((left + right) / 2), height - 4, kText,
                       escape(o.x_label));
  }
  return out + "</svg>\n";
}

}  // namespace sentbench::svg
