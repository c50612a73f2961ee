// The stylesheet the HTML pages share (run report, sweep report, history): each page adds its own rules.
#pragma once

namespace sentbench {

inline constexpr const char* kBaseStyle = R"(
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; color: #222; margin: 0; background: #fafafa; }
h1 { font-size: 22px; margin: 8px 0 4px; }
h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
p.summary { color: #555; margin: 0 0 8px; }
nav a { margin-right: 14px; color: #2563eb; text-decoration: none; font-size: 14px; }
table { border-collapse: collapse; margin: 6px 0 12px; font-size: 13px; background: #fff; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f0f0f0; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.charts { display: flex; flex-wrap: wrap; gap: 12px; }
.chart { background: #fff; border: 1px solid #e5e5e5; }
)";

}  // namespace sentbench
