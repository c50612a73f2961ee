// Paired bootstrap over the items of a task: how sure can we be that run B differs from run A?
// Both runs are resampled with the same item indices, so per-item difficulty cancels out.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "report.hpp"

namespace sentbench {

// The two runs' values on the items both scored, aligned by position.
struct PairedItems {
  std::vector<double> a;
  std::vector<double> b;
  std::vector<double> reference;  // empty for kMean
  ItemStatistic statistic = ItemStatistic::kMean;
};

// Aligns the per-item scores of two runs of one task: by item id when both have ids (the items both
// scored, in A's order), else by position when the counts match. For correlation statistics the
// references must agree item by item. nullopt with `why` set when the items cannot be paired.
std::optional<PairedItems> pair_items(const TaskResult& a, const TaskResult& b, std::string* why = nullptr);

// The statistic on a subset of items (indices may repeat); NaN when undefined (e.g. constant values).
double item_statistic(ItemStatistic statistic, const std::vector<double>& values, const std::vector<double>& reference,
                      const std::vector<std::size_t>& indices);

// Settings of the bootstrap. The generator is std::mt19937_64 with an index mapping of our own, so a
// seed gives the same interval with every standard library.
struct BootstrapOptions {
  int resamples = 1000;
  std::uint64_t seed = 42;
  double alpha = 0.05;  // (1 - alpha) interval: 0.05 gives the 95% interval
};

// Result: the observed difference B - A on all items and a percentile interval over resamples.
struct BootstrapResult {
  double delta = 0;
  double low = 0;
  double high = 0;
  double alpha = 0.05;
  int resamples = 0;     // resamples whose statistic was defined (all of them, in practice)
  std::uint64_t seed = 0;
  std::size_t items = 0;
  // Whether the interval lies entirely on one side of zero.
  bool excludes_zero() const { return low > 0 || high < 0; }
};

// Paired bootstrap of statistic(B) - statistic(A). ConfigError when there are no items.
BootstrapResult paired_bootstrap(const PairedItems& items, const BootstrapOptions& options = {});

}  // namespace sentbench
