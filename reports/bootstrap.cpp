// Paired bootstrap: pairing items of two runs, the per-task statistics, and percentile intervals.
#include "bootstrap.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <unordered_map>

#include <boost/math/distributions/students_t.hpp>
#include <fmt/format.h>

#include "sentbench/errors.hpp"

namespace sentbench {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Average ranks (ties share the mean of their positions), as Spearman needs. The tasks library has
// the same metric, but reports stay free of LibTorch, which that library links.
std::vector<double> average_ranks(const std::vector<double>& v) {
  std::vector<std::size_t> order(v.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return v[a] < v[b]; });
  std::vector<double> ranks(v.size());
  for (std::size_t i = 0; i < order.size();) {
    std::size_t j = i;
    while (j + 1 < order.size() && v[order[j + 1]] == v[order[i]]) ++j;
    const double rank = (static_cast<double>(i) + static_cast<double>(j)) / 2.0 + 1.0;
    for (std::size_t k = i; k <= j; ++k) ranks[order[k]] = rank;
    i = j + 1;
  }
  return ranks;
}

double pearson(const std::vector<double>& x, const std::vector<double>& y) {
  const std::size_t n = x.size();
  if (n < 2) return kNaN;
  double mx = 0, my = 0;
  for (std::size_t i = 0; i < n; ++i) mx += x[i], my += y[i];
  mx /= static_cast<double>(n);
  my /= static_cast<double>(n);
  double sxy = 0, sxx = 0, syy = 0;
  for (std::size_t i = 0; i < n; ++i) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) * (x[i] - mx);
    syy += (y[i] - my) * (y[i] - my);
  }
  return sxx > 0 && syy > 0 ? sxy / std::sqrt(sxx * syy) : kNaN;
}

// Uniform index in [0, n) from one 64-bit draw (multiply-shift): the same on every standard library,
// unlike std::uniform_int_distribution, whose algorithm is implementation-defined.
std::size_t draw_index(std::mt19937_64& rng, std::size_t n) {
  return static_cast<std::size_t>((static_cast<unsigned __int128>(rng()) * n) >> 64);
}

// Linear interpolation between order statistics (type 7, as numpy's default percentile).
double quantile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return kNaN;
  const double h = (static_cast<double>(sorted.size()) - 1.0) * q;
  const auto lo = static_cast<std::size_t>(std::floor(h));
  const std::size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (h - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
}

// Average precision of `scores` against 0/1 `labels` as scikit-learn's average_precision_score: over
// the distinct score thresholds from the highest down, the sum of (recall step) × precision, so tied
// scores enter together. NaN without a positive.
double average_precision(const std::vector<double>& scores, const std::vector<double>& labels) {
  std::vector<std::size_t> order(scores.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return scores[a] > scores[b]; });
  double positives = 0;
  for (const double l : labels) positives += l > 0.5 ? 1 : 0;
  if (positives == 0) return kNaN;
  double tp = 0, fp = 0, recall = 0, ap = 0;
  for (std::size_t i = 0; i < order.size();) {
    std::size_t j = i;
    for (; j < order.size() && scores[order[j]] == scores[order[i]]; ++j) (labels[order[j]] > 0.5 ? tp : fp) += 1;
    const double new_recall = tp / positives;
    ap += (new_recall - recall) * tp / (tp + fp);
    recall = new_recall;
    i = j;
  }
  return ap;
}

// A correlation needs the gold values beside the per-item scores; without them only a mean is defined.
ItemStatistic statistic_of(const TaskResult& task) {
  return task.model.per_item.reference.empty() ? ItemStatistic::kMean : task.info.item_statistic;
}

}  // namespace


std::optional<PairedItems> pair_items(const TaskResult& a, const TaskResult& b, std::string* why) {
  auto fail = [&](std::string reason) -> std::optional<PairedItems> {
    if (why) *why = std::move(reason);
    return std::nullopt;
  };
  const ItemScores& ia = a.model.per_item;
  const ItemScores& ib = b.model.per_item;
  if (ia.empty() || ib.empty()) return fail("no per-item scores in " + std::string(ia.empty() ? "the first" : "the second") + " report");
  PairedItems out;
  out.statistic = statistic_of(a);
  if (out.statistic != statistic_of(b)) return fail("the two runs score the task differently (per-item references in only one)");
  const bool correlate = out.statistic != ItemStatistic::kMean;
  if (!ia.ids.empty() && !ib.ids.empty()) {
    std::unordered_map<std::string, std::size_t> where;
    for (std::size_t i = 0; i < ib.ids.size(); ++i) where.emplace(ib.ids[i], i);
    for (std::size_t i = 0; i < ia.ids.size(); ++i) {
      auto it = where.find(ia.ids[i]);
      if (it == where.end()) continue;
      out.a.push_back(ia.scores[i]);
      out.b.push_back(ib.scores[it->second]);
      if (correlate) out.reference.push_back(ia.reference[i]);
    }
    if (out.a.empty()) return fail("the two runs share no item ids");
  } else {
    if (ia.scores.size() != ib.scores.size()) {
      return fail(fmt::format("the runs scored different item counts ({} and {}) without ids to match them", ia.scores.size(), ib.scores.size()));
    }
    out.a = ia.scores;
    out.b = ib.scores;
    if (correlate) out.reference = ia.reference;
  }
  if (correlate) {
    // Without ids, the gold values are what shows that item i is the same pair in both runs.
    for (std::size_t i = 0; i < ia.reference.size() && i < ib.reference.size() && ia.ids.empty(); ++i) {
      if (std::fabs(ia.reference[i] - ib.reference[i]) > 1e-9) return fail(fmt::format("gold values differ at item {}: not the same pairs", i));
    }
  }
  return out;
}

double item_statistic(ItemStatistic statistic, const std::vector<double>& values, const std::vector<double>& reference,
                      const std::vector<std::size_t>& indices) {
  if (indices.empty()) return kNaN;
  if (statistic == ItemStatistic::kMean) {
    double sum = 0;
    for (const std::size_t i : indices) sum += values[i];
    return sum / static_cast<double>(indices.size());
  }
  std::vector<double> x, y;
  x.reserve(indices.size());
  y.reserve(indices.size());
  for (const std::size_t i : indices) x.push_back(values[i]), y.push_back(reference[i]);
  if (statistic == ItemStatistic::kAveragePrecision) return average_precision(x, y);
  return statistic == ItemStatistic::kPearson ? pearson(x, y) : pearson(average_ranks(x), average_ranks(y));
}

BootstrapResult paired_bootstrap(const PairedItems& items, const BootstrapOptions& options) {
  const std::size_t n = items.a.size();
  if (n == 0 || items.b.size() != n) throw ConfigError("paired bootstrap: no paired items to resample");
  if (items.statistic != ItemStatistic::kMean && items.reference.size() != n) {
    throw ConfigError("paired bootstrap: a correlation statistic needs a reference value per item");
  }
  if (options.resamples < 1) throw ConfigError(fmt::format("paired bootstrap: resamples must be at least 1, not {}", options.resamples));
  if (!(options.alpha > 0 && options.alpha < 1)) throw ConfigError(fmt::format("paired bootstrap: alpha must lie in (0, 1), not {}", options.alpha));

  // For a mean the difference of means is the mean of differences; the latter has no cancellation error.
  std::vector<double> diff;
  if (items.statistic == ItemStatistic::kMean) {
    diff.resize(n);
    for (std::size_t i = 0; i < n; ++i) diff[i] = items.b[i] - items.a[i];
  }
  auto delta = [&](const std::vector<std::size_t>& idx) {
    if (items.statistic == ItemStatistic::kMean) return item_statistic(ItemStatistic::kMean, diff, {}, idx);
    return item_statistic(items.statistic, items.b, items.reference, idx) - item_statistic(items.statistic, items.a, items.reference, idx);
  };

  BootstrapResult result;
  result.alpha = options.alpha;
  result.seed = options.seed;
  result.items = n;
  result.testable = n >= options.min_items;
  std::vector<std::size_t> idx(n);
  std::iota(idx.begin(), idx.end(), std::size_t{0});
  result.delta = delta(idx);

  std::mt19937_64 rng(options.seed);
  std::vector<double> deltas;
  deltas.reserve(static_cast<std::size_t>(options.resamples));
  for (int r = 0; r < options.resamples; ++r) {
    for (std::size_t i = 0; i < n; ++i) idx[i] = draw_index(rng, n);
    const double d = delta(idx);
    if (std::isfinite(d)) deltas.push_back(d);
  }
  std::sort(deltas.begin(), deltas.end());
  result.resamples = static_cast<int>(deltas.size());
  result.low = quantile(deltas, options.alpha / 2);
  result.high = quantile(deltas, 1 - options.alpha / 2);
  return result;
}

SeedSpread seed_spread(const std::vector<double>& v) {
  SeedSpread s;
  s.runs = v.size();
  for (const double x : v) s.mean += x;
  s.mean /= static_cast<double>(v.size());
  if (v.size() > 1) {
    double ss = 0;
    for (const double x : v) ss += (x - s.mean) * (x - s.mean);
    s.std = std::sqrt(ss / static_cast<double>(v.size() - 1));
  }
  return s;
}

std::optional<SeedTest> seed_test(const SeedSpread& a, const SeedSpread& b, double alpha) {
  if (a.runs < 2 && b.runs < 2) return std::nullopt;
  const double na = static_cast<double>(a.runs), nb = static_cast<double>(b.runs);
  // One run on a side: it is assumed to vary between seeds as the other side does.
  const double va = (a.runs > 1 ? a.std * a.std : b.std * b.std) / na;
  const double vb = (b.runs > 1 ? b.std * b.std : a.std * a.std) / nb;
  SeedTest t;
  t.alpha = alpha;
  t.delta = b.mean - a.mean;
  if (a.runs > 1 && b.runs > 1) {
    t.df = (va + vb) * (va + vb) / (va * va / (na - 1) + vb * vb / (nb - 1));
  } else {
    t.df = static_cast<double>(std::max(a.runs, b.runs) - 1);
  }
  const double se = std::sqrt(va + vb);
  if (!(se > 0) || !(t.df > 0)) {
    t.low = t.high = t.delta;  // no spread at all: the interval is the point
    return t;
  }
  const double q = boost::math::quantile(boost::math::students_t(t.df), 1 - alpha / 2);
  t.low = t.delta - q * se;
  t.high = t.delta + q * se;
  return t;
}

}  // namespace sentbench
