// Inline SVG plots for report.html, drawn in C++ so the page needs no script and no network: line
// charts (training curves) and horizontal bar charts (scores against baselines, speed).
#pragma once

#include <string>
#include <vector>

namespace sentbench::svg {

// Text for XML/HTML content and attribute values.
std::string escape(const std::string& text);

// Tick positions covering [lo, hi] at "nice" steps (1, 2 or 5 times a power of ten), about `target` many.
std::vector<double> nice_ticks(double lo, double hi, int target);
// A tick label with as many decimals as the step needs (scientific for very small or large values).
std::string tick_label(double value, double step);

// One line of a line chart; NaN values break the line.
struct Series {
  std::string name;
  std::vector<double> x;
  std::vector<double> y;
  std::string color;
};

struct LineChartOptions {
  std::string title;
  std::string x_label;
  std::string y_label;
  int width = 520;
  int height = 240;
};

// A line chart with axes, grid, tick labels and a legend when there is more than one series.
// Returns a placeholder text when no series has a finite point.
std::string line_chart(const std::vector<Series>& series, const LineChartOptions& options);

// One bar of a bar chart.
struct Bar {
  std::string label;
  double value = 0;
  std::string color;
  std::string value_text;  // shown at the end of the bar; empty: the value with tick precision
};

struct BarChartOptions {
  std::string title;
  std::string x_label;
  int width = 520;
  int bar_height = 22;
  int label_width = 110;
};

// Horizontal bars from zero (or from the smallest negative value) with the value written after each.
std::string bar_chart(const std::vector<Bar>& bars, const BarChartOptions& options);

}  // namespace sentbench::svg
