// Evaluation metrics as pure functions; see metrics.hpp for the conventions each one follows.
#include "metrics.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string>
#include <unordered_set>
#include <utility>

namespace sentbench::metrics {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Cut-offs come from recipes; a zero or negative one is a configuration mistake, not a 0 score.
void check_cutoff(int k) {
  if (k < 1) throw std::invalid_argument("retrieval cut-off k must be >= 1, got " + std::to_string(k));
}

// Judgement of a document: 0 when unjudged, so unjudged documents count as not relevant (trec_eval
// without -J).
int gain_of(const Judgements& qrels, const std::string& doc_id) {
  const auto it = qrels.find(doc_id);
  return it == qrels.end() ? 0 : it->second;
}

std::size_t depth(const std::vector<Scored>& ranking, int k) {
  return std::min(ranking.size(), static_cast<std::size_t>(k));
}

std::int64_t count_relevant(const Judgements& qrels) {
  std::int64_t n = 0;
  for (const auto& [doc, gain] : qrels) n += gain > 0 ? 1 : 0;
  return n;
}

// Entropy (natural log, as sklearn) of a label distribution given as counts.
double entropy_of_counts(const std::vector<std::int64_t>& counts, double total) {
  double h = 0;
  for (const std::int64_t c : counts) {
    if (c > 0) h -= (static_cast<double>(c) / total) * std::log(static_cast<double>(c) / total);
  }
  return h;
}

// Maps arbitrary label values to 0..m-1 in order of first appearance.
std::vector<std::size_t> dense_labels(const std::vector<std::int64_t>& labels, std::size_t& distinct) {
  std::unordered_map<std::int64_t, std::size_t> index;
  std::vector<std::size_t> dense;
  dense.reserve(labels.size());
  for (const std::int64_t l : labels) dense.push_back(index.emplace(l, index.size()).first->second);
  distinct = index.size();
  return dense;
}

bool any_nan(const std::vector<double>& v) {
  return std::any_of(v.begin(), v.end(), [](double x) { return std::isnan(x); });
}

}  // namespace

// ---- retrieval -----------------------------------------------------------------------------------

void trec_sort(std::vector<Scored>& ranking) {
  std::sort(ranking.begin(), ranking.end(), [](const Scored& a, const Scored& b) {
    const bool a_nan = std::isnan(a.score), b_nan = std::isnan(b.score);
    if (a_nan != b_nan) return b_nan;  // numbers before NaN
    if (!a_nan && a.score != b.score) return a.score > b.score;
    // std::string::compare orders bytes as unsigned char, exactly as strcmp does.
    return a.doc_id.compare(b.doc_id) > 0;
  });
}

double ndcg_at_k(const std::vector<Scored>& ranking, const Judgements& qrels, int k) {
  check_cutoff(k);
  double dcg = 0;
  const std::size_t n = depth(ranking, k);
  for (std::size_t i = 0; i < n; ++i) {
    const int gain = gain_of(qrels, ranking[i].doc_id);
    if (gain > 0) dcg += gain / std::log2(static_cast<double>(i) + 2.0);
  }
  std::vector<int> ideal;
  for (const auto& [doc, gain] : qrels) {
    if (gain > 0) ideal.push_back(gain);
  }
  const std::size_t m = std::min(ideal.size(), static_cast<std::size_t>(k));
  std::partial_sort(ideal.begin(), ideal.begin() + static_cast<std::ptrdiff_t>(m), ideal.end(), std::greater<>());
  double idcg = 0;
  for (std::size_t i = 0; i < m; ++i) idcg += ideal[i] / std::log2(static_cast<double>(i) + 2.0);
  return idcg > 0 ? dcg / idcg : 0.0;
}

double mrr_at_k(const std::vector<Scored>& ranking, const Judgements& qrels, int k) {
  check_cutoff(k);
  const std::size_t n = depth(ranking, k);
  for (std::size_t i = 0; i < n; ++i) {
    if (gain_of(qrels, ranking[i].doc_id) > 0) return 1.0 / (static_cast<double>(i) + 1.0);
  }
  return 0.0;
}

double recall_at_k(const std::vector<Scored>& ranking, const Judgements& qrels, int k) {
  check_cutoff(k);
  const std::int64_t relevant = count_relevant(qrels);
  if (relevant == 0) return 0.0;
  std::int64_t hits = 0;
  const std::size_t n = depth(ranking, k);
  for (std::size_t i = 0; i < n; ++i) hits += gain_of(qrels, ranking[i].doc_id) > 0 ? 1 : 0;
  return static_cast<double>(hits) / static_cast<double>(relevant);
}

double precision_at_k(const std::vector<Scored>& ranking, const Judgements& qrels, int k) {
  check_cutoff(k);
  std::int64_t hits = 0;
  const std::size_t n = depth(ranking, k);
  for (std::size_t i = 0; i < n; ++i) hits += gain_of(qrels, ranking[i].doc_id) > 0 ? 1 : 0;
  // trec_eval's P.k: missing ranks count as non-relevant, so the denominator stays k.
  return static_cast<double>(hits) / static_cast<double>(k);
}

// trec_eval's map_cut.k (m_map_cut.c), which pytrec_eval exposes and BEIR reports as MAP@k: precision
// at each relevant rank <= k, summed, over the number of relevant judgements (not min(k, relevant)).
double average_precision_at_k(const std::vector<Scored>& ranking, const Judgements& qrels, int k) {
  check_cutoff(k);
  const std::int64_t relevant = count_relevant(qrels);
  if (relevant == 0) return 0.0;
  std::int64_t hits = 0;
  double sum = 0;
  const std::size_t n = depth(ranking, k);
  for (std::size_t i = 0; i < n; ++i) {
    if (gain_of(qrels, ranking[i].doc_id) > 0) {
      ++hits;
      sum += static_cast<double>(hits) / (static_cast<double>(i) + 1.0);
    }
  }
  return sum / static_cast<double>(relevant);
}

RetrievalScores score_retrieval(const std::map<std::string, std::vector<Scored>>& runs,
                                const std::map<std::string, Judgements>& qrels, const std::vector<int>& cutoffs) {
  for (const int k : cutoffs) check_cutoff(k);
  using MetricFn = double (*)(const std::vector<Scored>&, const Judgements&, int);
  static const std::pair<const char*, MetricFn> kMetrics[] = {
      {"ndcg", &ndcg_at_k}, {"mrr", &mrr_at_k}, {"recall", &recall_at_k}, {"map", &average_precision_at_k},
      {"p", &precision_at_k}};

  RetrievalScores out;
  for (const int k : cutoffs) {
    for (const auto& [name, fn] : kMetrics) out.per_query[std::string(name) + "@" + std::to_string(k)];
  }

  const std::vector<Scored> empty;
  for (const auto& [qid, judgements] : qrels) {
    if (count_relevant(judgements) == 0) {
      ++out.queries_skipped;
      continue;
    }
    const auto run_it = runs.find(qid);
    std::vector<Scored> ranking = run_it == runs.end() ? empty : run_it->second;
    trec_sort(ranking);
    std::unordered_set<std::string> seen;
    for (const Scored& s : ranking) {
      if (!seen.insert(s.doc_id).second) {
        throw std::invalid_argument("ranking of query '" + qid + "' lists document '" + s.doc_id +
                                    "' twice; each document may be retrieved once per query");
      }
    }
    out.query_ids.push_back(qid);
    for (const int k : cutoffs) {
      for (const auto& [name, fn] : kMetrics) {
        out.per_query[std::string(name) + "@" + std::to_string(k)].push_back(fn(ranking, judgements, k));
      }
    }
  }
  for (const auto& [qid, run] : runs) {
    if (qrels.find(qid) == qrels.end()) ++out.queries_skipped;
  }

  for (const auto& [key, values] : out.per_query) {
    // Sum in order so the mean does not depend on anything but the values.
    const double sum = std::accumulate(values.begin(), values.end(), 0.0);
    out.mean[key] = values.empty() ? 0.0 : sum / static_cast<double>(values.size());
  }
  return out;
}

// ---- clustering ----------------------------------------------------------------------------------

VMeasure v_measure(const std::vector<std::int64_t>& gold, const std::vector<std::int64_t>& predicted) {
  if (gold.size() != predicted.size()) {
    throw std::invalid_argument("v_measure: " + std::to_string(gold.size()) + " gold labels but " +
                                std::to_string(predicted.size()) + " predicted labels");
  }
  if (gold.empty()) return {1.0, 1.0, 1.0};
  std::size_t n_classes = 0, n_clusters = 0;
  const std::vector<std::size_t> c = dense_labels(gold, n_classes);
  const std::vector<std::size_t> k = dense_labels(predicted, n_clusters);
  const double total = static_cast<double>(gold.size());

  std::vector<std::int64_t> class_counts(n_classes, 0), cluster_counts(n_clusters, 0);
  std::unordered_map<std::uint64_t, std::int64_t> joint;  // class * n_clusters + cluster -> count
  for (std::size_t i = 0; i < gold.size(); ++i) {
    ++class_counts[c[i]];
    ++cluster_counts[k[i]];
    ++joint[static_cast<std::uint64_t>(c[i]) * n_clusters + k[i]];
  }
  const double h_c = entropy_of_counts(class_counts, total);
  const double h_k = entropy_of_counts(cluster_counts, total);
  // H(C|K) = -Σ n_ck/N ln(n_ck / n_k) and H(K|C) = -Σ n_ck/N ln(n_ck / n_c). sklearn divides the
  // mutual information by H(C) instead; 1 - H(C|K)/H(C) is the same number, but a perfect match gives
  // exact zeros here (ln 1) rather than the quotient of two nearly equal sums (0.9999999999999998).
  double h_c_given_k = 0, h_k_given_c = 0;
  for (const auto& [cell, count] : joint) {
    const double n = static_cast<double>(count);
    const std::size_t cls = static_cast<std::size_t>(cell / n_clusters), clu = static_cast<std::size_t>(cell % n_clusters);
    h_c_given_k -= (n / total) * std::log(n / static_cast<double>(cluster_counts[clu]));
    h_k_given_c -= (n / total) * std::log(n / static_cast<double>(class_counts[cls]));
  }
  VMeasure out;
  out.homogeneity = h_c == 0.0 ? 1.0 : std::clamp(1.0 - h_c_given_k / h_c, 0.0, 1.0);
  out.completeness = h_k == 0.0 ? 1.0 : std::clamp(1.0 - h_k_given_c / h_k, 0.0, 1.0);
  const double sum = out.homogeneity + out.completeness;
  out.v_measure = sum == 0.0 ? 0.0 : 2.0 * out.homogeneity * out.completeness / sum;
  return out;
}

// ---- correlation ---------------------------------------------------------------------------------

std::vector<double> average_ranks(const std::vector<double>& values) {
  std::vector<std::size_t> order(values.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  // NaN last keeps the comparator a strict weak ordering; callers that care check for NaN first.
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    const bool a_nan = std::isnan(values[a]), b_nan = std::isnan(values[b]);
    if (a_nan != b_nan) return b_nan;
    return !a_nan && values[a] < values[b];
  });
  std::vector<double> ranks(values.size());
  std::size_t i = 0;
  while (i < order.size()) {
    std::size_t j = i + 1;
    while (j < order.size() && values[order[j]] == values[order[i]]) ++j;
    // Positions i..j-1 hold ranks i+1..j; their mean is (i+1+j)/2.
    const double rank = (static_cast<double>(i) + 1.0 + static_cast<double>(j)) / 2.0;
    for (std::size_t t = i; t < j; ++t) ranks[order[t]] = rank;
    i = j;
  }
  return ranks;
}

double pearson(const std::vector<double>& x, const std::vector<double>& y) {
  if (x.size() != y.size()) {
    throw std::invalid_argument("pearson: x has " + std::to_string(x.size()) + " values but y has " +
                                std::to_string(y.size()));
  }
  if (x.size() < 2 || any_nan(x) || any_nan(y)) return kNaN;
  const double n = static_cast<double>(x.size());
  const double mx = std::accumulate(x.begin(), x.end(), 0.0) / n;
  const double my = std::accumulate(y.begin(), y.end(), 0.0) / n;
  double sxy = 0, sxx = 0, syy = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double dx = x[i] - mx, dy = y[i] - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx == 0.0 || syy == 0.0) return kNaN;
  return std::clamp(sxy / std::sqrt(sxx * syy), -1.0, 1.0);
}

double spearman(const std::vector<double>& x, const std::vector<double>& y) {
  if (x.size() != y.size()) {
    throw std::invalid_argument("spearman: x has " + std::to_string(x.size()) + " values but y has " +
                                std::to_string(y.size()));
  }
  if (any_nan(x) || any_nan(y)) return kNaN;
  return pearson(average_ranks(x), average_ranks(y));
}

MeanStd mean_std(const std::vector<double>& values) {
  if (values.empty()) return {kNaN, 0.0};
  const double n = static_cast<double>(values.size());
  const double mean = std::accumulate(values.begin(), values.end(), 0.0) / n;
  if (values.size() < 2) return {mean, 0.0};
  double ss = 0;
  for (const double v : values) ss += (v - mean) * (v - mean);
  return {mean, std::sqrt(ss / (n - 1.0))};
}

}  // namespace sentbench::metrics
