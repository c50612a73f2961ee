// report.html in a real browser: headless Chromium (Debian's `chromium`, installed by
// scripts/install-deps.sh) loads the page from the fixture run, must log nothing to the console, and
// renders the DOM and a screenshot (kept in the build folder at tests/report_html_screenshot.png so a
// person can look at it). Skipped with a message when no Chromium is installed.
#include <gtest/gtest.h>

#include <cstdlib>
#include <sstream>

#include <fmt/format.h>

#include "report_fixtures.hpp"
#include "sentbench/io.hpp"
#include "sweep_report.hpp"
#include "test_util.hpp"
#include "writers.hpp"

namespace fs = std::filesystem;

namespace sentbench {
namespace {

// $SENTBENCH_CHROMIUM, else the first of the usual names on $PATH; empty when none.
std::string find_chromium() {
  if (const char* env = std::getenv("SENTBENCH_CHROMIUM"); env && *env) return env;
  for (const char* name : {"chromium", "chromium-browser", "google-chrome"}) {
    if (test::run_command(std::string("command -v ") + name + " >/dev/null").exit_code == 0) return name;
  }
  return "";
}

#define REQUIRE_CHROMIUM(var)                                                                                   \
  const std::string var = find_chromium();                                                                    \
  if (var.empty())                                                                                            \
  GTEST_SKIP() << "Chromium not installed (Debian package `chromium`; run scripts/install-deps.sh, or set "    \
                  "$SENTBENCH_CHROMIUM): report.html was not checked in a browser"

// What one headless run produced.
struct BrowserRun {
  int exit_code = -1;
  std::string out;   // --dump-dom output
  std::string log;   // stderr with --enable-logging=stderr
  // Lines where the page wrote to the console ("...:INFO:CONSOLE:12] ..." or "CONSOLE(12)" by version).
  std::vector<std::string> console_lines() const {
    std::vector<std::string> lines;
    std::istringstream in(log);
    for (std::string line; std::getline(in, line);) {
      if (line.find(":CONSOLE") != std::string::npos || line.find("CONSOLE(") != std::string::npos) lines.push_back(line);
    }
    return lines;
  }
};

// Runs Chromium headless on a file with a fresh profile; `action` is --dump-dom or --screenshot=PATH.
BrowserRun run_chromium(const std::string& chromium, const fs::path& page, const std::string& action) {
  test::TempDir profile;
  const fs::path out = profile / "stdout.txt", log = profile / "stderr.txt";
  const std::string command = fmt::format(
      "(cd '{}' && timeout 120 {} --headless --no-sandbox --disable-gpu --disable-background-networking "
      "--disable-component-update --disable-sync --no-first-run --user-data-dir='{}' --enable-logging=stderr --v=0 "
      "--window-size=1280,2600 {} 'file://{}' > '{}' 2> '{}')",
      profile.path().string(), chromium, (profile / "profile").string(), action, fs::absolute(page).string(), out.string(), log.string());
  BrowserRun run;  // the parentheses keep run_command's own 2>&1 from taking Chromium's stderr
  run.exit_code = test::run_command(command).exit_code;
  run.out = fs::exists(out) ? read_file(out) : "";
  run.log = fs::exists(log) ? read_file(log) : "";
  return run;
}

std::string joined(const std::vector<std::string>& lines) {
  std::string s;
  for (const auto& l : lines) s += "\n  " + l;
  return s;
}

TEST(ReportBrowser, ConsoleDetectionWorksWithThisChromium) {
  REQUIRE_CHROMIUM(chromium);
  // Without this, a Chromium that logs in another format would let every page pass silently.
  test::TempDir tmp;
  write_file_atomic(tmp / "bad.html", "<!DOCTYPE html><html><head><link rel=\"icon\" href=\"data:,\"></head><body>"
                                      "<script>console.error('deliberate-console-error')</script></body></html>");
  const BrowserRun run = run_chromium(chromium, tmp / "bad.html", "--dump-dom");
  ASSERT_EQ(run.exit_code, 0) << run.log;
  const auto lines = run.console_lines();
  ASSERT_EQ(lines.size(), 1u) << "the console line format of this Chromium is not recognised; stderr:\n" << run.log;
  EXPECT_NE(lines[0].find("deliberate-console-error"), std::string::npos) << lines[0];
}

TEST(ReportBrowser, ReportHtmlRendersWithoutConsoleErrors) {
  REQUIRE_CHROMIUM(chromium);
  test::TempDir tmp;
  const Report report = test::fixture_report();
  const fs::path page = tmp / "report.html";
  write_file_atomic(page, render_html(report));

  const BrowserRun dom = run_chromium(chromium, page, "--dump-dom");
  ASSERT_EQ(dom.exit_code, 0) << dom.log;
  EXPECT_TRUE(dom.console_lines().empty()) << "report.html logged to the browser console:" << joined(dom.console_lines());
  EXPECT_TRUE(test::has_substr(dom.out, "<h1>Fixture run: tiny RoBERTa, 30 steps</h1>"));
  std::size_t svgs = 0;
  for (std::size_t at = dom.out.find("<svg"); at != std::string::npos; at = dom.out.find("<svg", at + 1)) ++svgs;
  EXPECT_EQ(svgs, 7u) << "the browser's DOM lost some of the inline plots";

  const fs::path shot = fs::path(SENTBENCH_BINARY_DIR) / "tests" / "report_html_screenshot.png";
  std::error_code ec;
  fs::remove(shot, ec);
  const BrowserRun png = run_chromium(chromium, page, "--screenshot='" + shot.string() + "'");
  ASSERT_EQ(png.exit_code, 0) << png.log;
  EXPECT_TRUE(png.console_lines().empty()) << joined(png.console_lines());
  ASSERT_TRUE(fs::exists(shot)) << png.log;
  EXPECT_GT(fs::file_size(shot), 50'000u) << "a nearly empty screenshot: " << shot;
  const std::string head = read_file(shot).substr(0, 8);
  EXPECT_EQ(head, std::string("\x89PNG\r\n\x1a\n", 8));
  std::cerr << "screenshot: " << shot.string() << '\n';
}

// sweep.html (`sentbench sweep`) from constructed runs: 2 learning rates × 2 seeds, one task.
TEST(ReportBrowser, SweepHtmlRendersWithoutConsoleErrors) {
  REQUIRE_CHROMIUM(chromium);
  test::TempDir tmp;
  const SweepPlan plan = plan_sweep({parse_grid_axis("train.lr=1e-3,3e-3")}, 2, 42);
  std::vector<SweepRunOutcome> outcomes(plan.runs.size());
  for (std::size_t r = 0; r < plan.runs.size(); ++r) {
    std::vector<double> items = test::query_scores(40, 3 + static_cast<unsigned>(r));
    for (double& v : items) v = v * 0.5 + 0.1 * static_cast<double>(plan.runs[r].config);
    outcomes[r].status = "done";
    outcomes[r].report = test::constructed_report(plan.runs[r].name, items);
  }
  SweepReportOptions options;
  options.title = "Sweep of constructed.toml over train.lr";
  const fs::path page = tmp / "sweep.html";
  write_file_atomic(page, render_sweep_html(summarize_sweep(plan, outcomes, options)));

  const BrowserRun dom = run_chromium(chromium, page, "--dump-dom");
  ASSERT_EQ(dom.exit_code, 0) << dom.log;
  EXPECT_TRUE(dom.console_lines().empty()) << "sweep.html logged to the browser console:" << joined(dom.console_lines());
  EXPECT_TRUE(test::has_substr(dom.out, "<h1>Sweep of constructed.toml over train.lr</h1>"));
  EXPECT_TRUE(test::has_substr(dom.out, "<td class=\"diff\">1e-3</td>"));
  std::size_t svgs = 0;
  for (std::size_t at = dom.out.find("<svg"); at != std::string::npos; at = dom.out.find("<svg", at + 1)) ++svgs;
  EXPECT_EQ(svgs, 2u) << "the score-against-lr plot and the per-configuration bars";

  const fs::path shot = fs::path(SENTBENCH_BINARY_DIR) / "tests" / "sweep_html_screenshot.png";
  std::error_code ec;
  fs::remove(shot, ec);
  const BrowserRun png = run_chromium(chromium, page, "--screenshot='" + shot.string() + "'");
  ASSERT_EQ(png.exit_code, 0) << png.log;
  EXPECT_TRUE(png.console_lines().empty()) << joined(png.console_lines());
  ASSERT_TRUE(fs::exists(shot)) << png.log;
  EXPECT_EQ(read_file(shot).substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  std::cerr << "screenshot: " << shot.string() << '\n';
}

}  // namespace
}  // namespace sentbench
