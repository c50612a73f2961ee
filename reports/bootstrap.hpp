// Paired bootstrap over the items of a task: how sure can we be that run B differs from run A? Both
// runs are resampled with the same item indices, so per-item difficulty cancels out. And the
// between-seed t interval, for when each side has several runs (seeds) of one configuration.
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
  // Fewer paired items than this and the difference is "not testable" rather than significant or not:
  // a percentile bootstrap over n items draws from at most C(2n-1, n) distinct resamples (10 for n = 3,
  // 126 for n = 5) and its interval is too narrow by more than sqrt((n-1)/n) (Efron & Tibshirani advise
  // against it below about 20), so a few clustering subsets make a "significant" interval out of noise.
  std::size_t min_items = kMinBootstrapItems;
  static constexpr std::size_t kMinBootstrapItems = 20;
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
  bool testable = true;  // false: fewer items than BootstrapOptions::min_items; never called significant
  // Whether the interval lies entirely on one side of zero (and the test could be made at all).
  bool excludes_zero() const { return testable && (low > 0 || high < 0); }
};

// Paired bootstrap of statistic(B) - statistic(A). ConfigError when there are no items.
BootstrapResult paired_bootstrap(const PairedItems& items, const BootstrapOptions& options = {});

// Between-seed statistics: a task's main score over the runs (seeds) of one configuration.
struct SeedSpread {
  std::size_t runs = 0;
  double mean = 0;
  double std = 0;  // sample standard deviation (n - 1); 0 for one run
};

// Difference of two groups' mean main scores with a Student-t interval from the between-seed spread
// (Welch's when both groups have two runs or more; with one run on a side, that side is assumed to
// vary as much as the other).
struct SeedTest {
  double delta = 0;
  double low = 0;
  double high = 0;
  double df = 0;
  double alpha = 0.05;
  bool excludes_zero() const { return low > 0 || high < 0; }
};

// Mean and sample standard deviation of one configuration's main scores over its seeds.
SeedSpread seed_spread(const std::vector<double>& values);
// Welch's t interval (1 - alpha) for mean(b) - mean(a) from the between-seed spread; nullopt when
// neither side has two runs. Shared by compare, regress and the sweep report.
std::optional<SeedTest> seed_test(const SeedSpread& a, const SeedSpread& b, double alpha);

}  // namespace sentbench
