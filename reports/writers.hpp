// The human-readable forms of a report and its export to MTEB's results layout.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "report.hpp"

namespace sentbench {

// report.md: aligned pipe tables that read well both in a terminal and rendered in a code review.
std::string render_markdown(const Report& report);

// report.html: one self-contained page (inline CSS and SVG, no script, no network) with the tables of
// report.md and plots: loss and learning-rate curves, each task's score against its baselines, speed.
std::string render_html(const Report& report);

// Options of the MTEB export.
struct MtebExportOptions {
  std::vector<std::string> languages = {"eng-Latn"};  // MTEB needs a language per score entry
  // mteb_version field: null by default (sentbench is not MTEB; mteb >= 2 loads that). Loaders of
  // mteb 1.x need a PEP 440 version here.
  std::string mteb_version;
};

// One MTEB results file per task that ran: `<dir>/<task name>.json` in the format of MTEB's
// TaskResult (task_name, dataset_revision, mteb_version, scores.<split>[{main_score, ...}],
// evaluation_time). Returns the files written.
std::vector<std::filesystem::path> export_mteb(const Report& report, const std::filesystem::path& dir,
                                               const MtebExportOptions& options = {});
// The JSON text of one task's MTEB results file.
std::string mteb_task_json(const Report& report, const TaskResult& task, const MtebExportOptions& options = {});

}  // namespace sentbench
