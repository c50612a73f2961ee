// MTEB 1.39.7's pair-classification, reranking and classification scoring (see mteb_scoring.hpp for the
// exact sources followed and the deliberate deviations). Everything is computed in double precision.
#include "mteb_scoring.hpp"

#include <algorithm>
#include <cmath>
#include <deque>
#include <functional>
#include <limits>
#include <numeric>
#include <set>
#include <stdexcept>
#include <string>
#include <unordered_map>

namespace sentbench::mteb_scoring {
namespace {

void check_matrix(const Matrix& m, const char* what) {
  if (m.rows < 0 || m.cols < 0 || m.data.size() != static_cast<std::size_t>(m.rows * m.cols)) {
    throw std::invalid_argument(std::string(what) + ": data holds " + std::to_string(m.data.size()) +
                                " values, expected rows*cols = " + std::to_string(m.rows) + "*" +
                                std::to_string(m.cols));
  }
}

const float* row_of(const Matrix& m, std::int64_t i) { return m.data.data() + i * m.cols; }

void check_binary_labels(const std::vector<int>& labels, const char* what) {
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] != 0 && labels[i] != 1) {
      throw std::invalid_argument(std::string(what) + ": label " + std::to_string(labels[i]) + " at index " +
                                  std::to_string(i) + " is not 0 or 1");
    }
  }
}

void check_scores_labels(const std::vector<double>& scores, const std::vector<int>& labels, const char* what) {
  if (scores.empty()) throw std::invalid_argument(std::string(what) + ": empty input");
  if (scores.size() != labels.size()) {
    throw std::invalid_argument(std::string(what) + ": " + std::to_string(scores.size()) + " scores but " +
                                std::to_string(labels.size()) + " labels");
  }
  check_binary_labels(labels, what);
}

// Row positions sorted by score, descending or ascending, ties in input order (Python's sorted is
// stable, also with reverse=True).
std::vector<std::size_t> stable_order(const std::vector<double>& scores, bool descending) {
  std::vector<std::size_t> order(scores.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  if (descending) {
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return scores[a] > scores[b]; });
  } else {
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return scores[a] < scores[b]; });
  }
  return order;
}

double max_abs(const std::vector<double>& v) {
  double m = 0;
  for (double x : v) m = std::max(m, std::abs(x));
  return m;
}

double dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (std::size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

// ---- L-BFGS as scipy's L-BFGS-B runs it on an unbounded problem ------------------------------------

// The Moré-Thuente line search (MINPACK-2 dcsrch/dcstep, which L-BFGS-B calls) with L-BFGS-B's
// constants. It keeps an interval [stx, sty] known to contain a step satisfying the strong Wolfe
// conditions and proposes safeguarded cubic/quadratic interpolation steps inside it.
class MoreThuente {
 public:
  enum class Status { kEvaluate, kConverged, kWarning };

  MoreThuente(double f0, double g0, double first_step, double step_max)
      : step_max_(step_max), finit_(f0), ginit_(g0), gtest_(kFtol * g0), width_(step_max),
        width1_(2 * step_max), fx_(f0), gx_(g0), fy_(f0), gy_(g0), stmax_(first_step * (1 + kExtrapUpper)) {}

  // Takes f and its directional derivative g at `step`; returns kEvaluate with the next step to try
  // in `step`, or kConverged / kWarning when `step` is accepted.
  Status next(double& step, double f, double g) {
    const double ftest = finit_ + step * gtest_;
    if (stage_ == 1 && f <= ftest && g >= 0) stage_ = 2;

    // No more progress possible (rounding, interval below xtol, or a step bound reached): accept.
    bool warning = (bracketed_ && (step <= stmin_ || step >= stmax_)) ||
                   (bracketed_ && stmax_ - stmin_ <= kXtol * stmax_) ||
                   (step == step_max_ && f <= ftest && g <= gtest_) || (step == 0 && (f > ftest || g >= gtest_));
    if (f <= ftest && std::abs(g) <= kGtol * (-ginit_)) return Status::kConverged;
    if (warning) return Status::kWarning;

    if (stage_ == 1 && f <= fx_ && f > ftest) {
      // Lower value but not a sufficient decrease yet: interpolate psi(t) = f(t) - t*gtest instead.
      double fm = f - step * gtest_, gm = g - gtest_;
      double fxm = fx_ - stx_ * gtest_, gxm = gx_ - gtest_;
      double fym = fy_ - sty_ * gtest_, gym = gy_ - gtest_;
      safeguarded_step(fxm, gxm, fym, gym, step, fm, gm);
      fx_ = fxm + stx_ * gtest_;
      fy_ = fym + sty_ * gtest_;
      gx_ = gxm + gtest_;
      gy_ = gym + gtest_;
    } else {
      safeguarded_step(fx_, gx_, fy_, gy_, step, f, g);
    }

    if (bracketed_) {
      // Bisect when the interval did not shrink enough over the last two steps.
      if (std::abs(sty_ - stx_) >= 0.66 * width1_) step = stx_ + 0.5 * (sty_ - stx_);
      width1_ = width_;
      width_ = std::abs(sty_ - stx_);
      stmin_ = std::min(stx_, sty_);
      stmax_ = std::max(stx_, sty_);
    } else {
      stmin_ = step + kExtrapLower * (step - stx_);
      stmax_ = step + kExtrapUpper * (step - stx_);
    }
    step = std::min(std::max(step, 0.0), step_max_);
    if (bracketed_ && (step <= stmin_ || step >= stmax_ || stmax_ - stmin_ <= kXtol * stmax_)) step = stx_;
    return Status::kEvaluate;
  }

 private:
  static constexpr double kFtol = 1e-3;  // sufficient decrease
  static constexpr double kGtol = 0.9;   // curvature
  static constexpr double kXtol = 0.1;   // relative interval width
  static constexpr double kExtrapLower = 1.1;
  static constexpr double kExtrapUpper = 4.0;

  // dcstep: from the best step stx (fx, dx), the other end sty (fy, dy) and the trial stp (fp, dp),
  // computes the next trial step into stp and updates the interval.
  void safeguarded_step(double& fx, double& dx, double& fy, double& dy, double& stp, double fp, double dp) {
    const double sgnd = dp * (dx / std::abs(dx));
    double stpf;
    if (fp > fx) {
      // Higher value: a minimiser is bracketed. Cubic step if closer to stx than the quadratic one,
      // else their average.
      const double theta = 3 * (fx - fp) / (stp - stx_) + dx + dp;
      const double s = std::max({std::abs(theta), std::abs(dx), std::abs(dp)});
      double gamma = s * std::sqrt((theta / s) * (theta / s) - (dx / s) * (dp / s));
      if (stp < stx_) gamma = -gamma;
      const double r = ((gamma - dx) + theta) / (((gamma - dx) + gamma) + dp);
      const double stpc = stx_ + r * (stp - stx_);
      const double stpq = stx_ + ((dx / ((fx - fp) / (stp - stx_) + dx)) / 2) * (stp - stx_);
      stpf = std::abs(stpc - stx_) < std::abs(stpq - stx_) ? stpc : stpc + (stpq - stpc) / 2;
      bracketed_ = true;
    } else if (sgnd < 0) {
      // Lower value, derivatives of opposite sign: bracketed. The farther of cubic and secant steps.
      const double theta = 3 * (fx - fp) / (stp - stx_) + dx + dp;
      const double s = std::max({std::abs(theta), std::abs(dx), std::abs(dp)});
      double gamma = s * std::sqrt((theta / s) * (theta / s) - (dx / s) * (dp / s));
      if (stp > stx_) gamma = -gamma;
      const double r = ((gamma - dp) + theta) / (((gamma - dp) + gamma) + dx);
      const double stpc = stp + r * (stx_ - stp);
      const double stpq = stp + (dp / (dp - dx)) * (stx_ - stp);
      stpf = std::abs(stpc - stp) > std::abs(stpq - stp) ? stpc : stpq;
      bracketed_ = true;
    } else if (std::abs(dp) < std::abs(dx)) {
      // Lower value, same-sign derivatives of decreasing magnitude. The cubic step is used only if the
      // cubic tends to infinity in the step direction or its minimum lies beyond stp.
      const double theta = 3 * (fx - fp) / (stp - stx_) + dx + dp;
      const double s = std::max({std::abs(theta), std::abs(dx), std::abs(dp)});
      double gamma = s * std::sqrt(std::max(0.0, (theta / s) * (theta / s) - (dx / s) * (dp / s)));
      if (stp > stx_) gamma = -gamma;
      const double r = ((gamma - dp) + theta) / ((gamma + (dx - dp)) + gamma);
      double stpc;
      if (r < 0 && gamma != 0) {
        stpc = stp + r * (stx_ - stp);
      } else {
        stpc = stp > stx_ ? step_max_ : 0.0;
      }
      const double stpq = stp + (dp / (dp - dx)) * (stx_ - stp);
      if (bracketed_) {
        stpf = std::abs(stpc - stp) < std::abs(stpq - stp) ? stpc : stpq;
        stpf = stp > stx_ ? std::min(stp + 0.66 * (sty_ - stp), stpf) : std::max(stp + 0.66 * (sty_ - stp), stpf);
      } else {
        stpf = std::abs(stpc - stp) > std::abs(stpq - stp) ? stpc : stpq;
        stpf = std::max(0.0, std::min(step_max_, stpf));
      }
    } else if (bracketed_) {
      // Lower value, same-sign derivatives not decreasing, bracketed: cubic step towards sty.
      const double theta = 3 * (fp - fy) / (sty_ - stp) + dy + dp;
      const double s = std::max({std::abs(theta), std::abs(dy), std::abs(dp)});
      double gamma = s * std::sqrt((theta / s) * (theta / s) - (dy / s) * (dp / s));
      if (stp > sty_) gamma = -gamma;
      const double r = ((gamma - dp) + theta) / (((gamma - dp) + gamma) + dy);
      stpf = stp + r * (sty_ - stp);
    } else {
      stpf = stp > stx_ ? step_max_ : 0.0;
    }

    if (fp > fx) {
      sty_ = stp;
      fy = fp;
      dy = dp;
    } else {
      if (sgnd < 0) {
        sty_ = stx_;
        fy = fx;
        dy = dx;
      }
      stx_ = stp;
      fx = fp;
      dx = dp;
    }
    stp = stpf;
  }

  double step_max_;
  double finit_, ginit_, gtest_;
  double width_, width1_;
  double stx_ = 0, fx_, gx_;
  double sty_ = 0, fy_, gy_;
  double stmin_ = 0, stmax_;
  bool bracketed_ = false;
  int stage_ = 1;
};

// f(x) returning the value and writing the gradient.
using Objective = std::function<double(const std::vector<double>& x, std::vector<double>& grad)>;

// Minimises `objective` from x in place; returns the number of iterations. Mirrors L-BFGS-B 3.0 as
// scipy.optimize.minimize(method="L-BFGS-B", options={"gtol": tol, "maxiter": max_iter}) runs it without
// bounds: the search direction is the limited-memory BFGS step (the two-loop recursion computes the same
// matrix as L-BFGS-B's compact form, initial scaling theta = y'y / s'y of the newest pair); the first
// iteration tries step 1/||d||, later ones step 1; a pair is skipped when s'y <= eps * (-g's); a failed
// line search (20 evaluations, or an ascent direction) restores the point and restarts from an empty
// memory, and ends the run when the memory already was empty.
int minimize_lbfgs(const Objective& objective, std::vector<double>& x, int max_iter, double gtol) {
  constexpr int kMemory = 10;
  constexpr int kMaxEvaluations = 20;
  constexpr double kStepMax = 1e10;
  constexpr double kRelativeFtol = 2.2204460492503131e-09;  // scipy's default ftol (factr * eps)
  const double eps = std::numeric_limits<double>::epsilon();

  const std::size_t n = x.size();
  std::vector<double> g(n);
  double f = objective(x, g);
  if (max_abs(g) <= gtol) return 0;

  struct Pair {
    std::vector<double> s, y;
    double rho;
  };
  std::deque<Pair> memory;
  double theta = 1;
  int iter = 0;
  std::vector<double> d(n), x0(n), g0(n), alpha(kMemory);

  while (iter < max_iter) {
    // d = -H g by the two-loop recursion with H0 = I / theta.
    d = g;
    for (std::size_t i = memory.size(); i-- > 0;) {
      alpha[i] = memory[i].rho * dot(memory[i].s, d);
      for (std::size_t j = 0; j < n; ++j) d[j] -= alpha[i] * memory[i].y[j];
    }
    for (double& v : d) v /= theta;
    for (std::size_t i = 0; i < memory.size(); ++i) {
      const double beta = memory[i].rho * dot(memory[i].y, d);
      for (std::size_t j = 0; j < n; ++j) d[j] += (alpha[i] - beta) * memory[i].s[j];
    }
    for (double& v : d) v = -v;

    const double gd0 = dot(g, d);
    const double f0 = f;
    x0 = x;
    g0 = g;
    bool accepted = false;
    double step = 0, gd = gd0;
    if (gd0 < 0) {
      step = iter == 0 ? std::min(1 / std::sqrt(dot(d, d)), kStepMax) : 1.0;
      MoreThuente search(f0, gd0, step, kStepMax);
      for (int evaluations = 1;; ++evaluations) {
        for (std::size_t j = 0; j < n; ++j) x[j] = x0[j] + step * d[j];
        f = objective(x, g);
        gd = dot(g, d);
        if (search.next(step, f, gd) != MoreThuente::Status::kEvaluate) {
          accepted = true;
          break;
        }
        if (evaluations == kMaxEvaluations) break;
      }
    }
    if (!accepted) {
      x = x0;
      g = g0;
      f = f0;
      if (memory.empty()) break;
      memory.clear();
      theta = 1;
      continue;
    }

    ++iter;
    if (max_abs(g) <= gtol) break;
    if (f0 - f <= kRelativeFtol * std::max({std::abs(f0), std::abs(f), 1.0})) break;

    // s = step * d and y = g - g0; s'y from the directional derivatives, as L-BFGS-B does.
    const double sy = (gd - gd0) * step;
    if (sy > eps * (-gd0 * step)) {
      Pair pair{std::vector<double>(n), std::vector<double>(n), 1 / sy};
      for (std::size_t j = 0; j < n; ++j) {
        pair.s[j] = step * d[j];
        pair.y[j] = g[j] - g0[j];
      }
      theta = dot(pair.y, pair.y) / sy;
      memory.push_back(std::move(pair));
      if (memory.size() > static_cast<std::size_t>(kMemory)) memory.pop_front();
    }
  }
  return iter;
}

// log(1 + exp(t)) without overflow.
double log1pexp(double t) { return t > 0 ? t + std::log1p(std::exp(-t)) : std::log1p(std::exp(t)); }

double sigmoid(double t) {
  if (t >= 0) return 1 / (1 + std::exp(-t));
  const double e = std::exp(t);
  return e / (1 + e);
}

// Per-label precision/recall/F1 counts for sklearn's f1_score.
struct LabelCounts {
  std::int64_t tp = 0, fp = 0, fn = 0;
};

std::map<std::int64_t, LabelCounts> label_counts(const std::vector<std::int64_t>& y_true,
                                                 const std::vector<std::int64_t>& y_pred, const char* what) {
  if (y_true.empty()) throw std::invalid_argument(std::string(what) + ": empty input");
  if (y_true.size() != y_pred.size()) {
    throw std::invalid_argument(std::string(what) + ": " + std::to_string(y_true.size()) + " true labels but " +
                                std::to_string(y_pred.size()) + " predictions");
  }
  std::map<std::int64_t, LabelCounts> counts;
  for (std::size_t i = 0; i < y_true.size(); ++i) {
    if (y_true[i] == y_pred[i]) {
      ++counts[y_true[i]].tp;
    } else {
      ++counts[y_pred[i]].fp;
      ++counts[y_true[i]].fn;
    }
  }
  return counts;
}

double f1_of(const LabelCounts& c) {
  const double precision = c.tp + c.fp > 0 ? static_cast<double>(c.tp) / static_cast<double>(c.tp + c.fp) : 0.0;
  const double recall = c.tp + c.fn > 0 ? static_cast<double>(c.tp) / static_cast<double>(c.tp + c.fn) : 0.0;
  return precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0.0;
}

}  // namespace

// ---- shared metric -------------------------------------------------------------------------------

double average_precision(const std::vector<double>& scores, const std::vector<int>& labels) {
  check_scores_labels(scores, labels, "average_precision");
  for (double s : scores) {
    if (!std::isfinite(s)) throw std::invalid_argument("average_precision: scores must be finite");
  }
  const double positives = std::accumulate(labels.begin(), labels.end(), 0.0);
  if (positives == 0) throw std::invalid_argument("average_precision: no positive label");

  const std::vector<std::size_t> order = stable_order(scores, /*descending=*/true);
  double tp = 0, fp = 0, previous_recall = 0, ap = 0;
  for (std::size_t i = 0; i < order.size(); ++i) {
    (labels[order[i]] == 1 ? tp : fp) += 1;
    // One threshold per distinct score: step only at the last sample of a run of equal scores.
    if (i + 1 < order.size() && scores[order[i + 1]] == scores[order[i]]) continue;
    const double recall = tp / positives;
    ap += (recall - previous_recall) * (tp / (tp + fp));
    previous_recall = recall;
  }
  return ap;
}

// ---- pair classification -------------------------------------------------------------------------

PairScores pair_scores(const Matrix& emb1, const Matrix& emb2) {
  check_matrix(emb1, "pair_scores: emb1");
  check_matrix(emb2, "pair_scores: emb2");
  if (emb1.rows != emb2.rows || emb1.cols != emb2.cols) {
    throw std::invalid_argument("pair_scores: emb1 is " + std::to_string(emb1.rows) + "x" + std::to_string(emb1.cols) +
                                " but emb2 is " + std::to_string(emb2.rows) + "x" + std::to_string(emb2.cols));
  }
  PairScores out;
  const std::int64_t n = emb1.rows, dim = emb1.cols;
  for (std::int64_t i = 0; i < n; ++i) {
    const float* a = row_of(emb1, i);
    const float* b = row_of(emb2, i);
    double aa = 0, bb = 0, ab = 0, sq = 0, l1 = 0;
    for (std::int64_t k = 0; k < dim; ++k) {
      const double x = a[k], y = b[k];
      aa += x * x;
      bb += y * y;
      ab += x * y;
      sq += (x - y) * (x - y);
      l1 += std::abs(x - y);
    }
    // sklearn.preprocessing.normalize leaves zero rows as they are (norm taken as 1).
    const double na = aa > 0 ? std::sqrt(aa) : 1.0, nb = bb > 0 ? std::sqrt(bb) : 1.0;
    double half_sq_unit = 0;
    for (std::int64_t k = 0; k < dim; ++k) {
      const double diff = a[k] / na - b[k] / nb;
      half_sq_unit += diff * diff;
    }
    out.cosine.push_back(1 - 0.5 * half_sq_unit);
    out.dot.push_back(ab);
    out.euclidean.push_back(std::sqrt(sq));
    out.manhattan.push_back(l1);
  }
  return out;
}

AccuracyThreshold find_best_acc_and_threshold(const std::vector<double>& scores, const std::vector<int>& labels,
                                              bool high_score_more_similar) {
  check_scores_labels(scores, labels, "find_best_acc_and_threshold");
  const std::vector<std::size_t> order = stable_order(scores, high_score_more_similar);
  const double n = static_cast<double>(labels.size());
  AccuracyThreshold best;
  double positive_so_far = 0;
  double remaining_negatives = static_cast<double>(std::count(labels.begin(), labels.end(), 0));
  for (std::size_t i = 0; i + 1 < order.size(); ++i) {
    if (labels[order[i]] == 1) {
      positive_so_far += 1;
    } else {
      remaining_negatives -= 1;
    }
    const double acc = (positive_so_far + remaining_negatives) / n;
    if (acc > best.accuracy) {
      best.accuracy = acc;
      best.threshold = (scores[order[i]] + scores[order[i + 1]]) / 2;
    }
  }
  return best;
}

F1Threshold find_best_f1_and_threshold(const std::vector<double>& scores, const std::vector<int>& labels,
                                       bool high_score_more_similar) {
  check_scores_labels(scores, labels, "find_best_f1_and_threshold");
  const std::vector<std::size_t> order = stable_order(scores, high_score_more_similar);
  const double total_positives = std::accumulate(labels.begin(), labels.end(), 0.0);
  F1Threshold best;
  double extracted = 0, correct = 0;
  for (std::size_t i = 0; i + 1 < order.size(); ++i) {
    extracted += 1;
    if (labels[order[i]] == 1) correct += 1;
    if (correct == 0) continue;
    const double precision = correct / extracted;
    const double recall = correct / total_positives;
    const double f1 = 2 * precision * recall / (precision + recall);
    if (f1 > best.f1) {
      best = {f1, precision, recall, (scores[order[i]] + scores[order[i + 1]]) / 2};
    }
  }
  return best;
}

double pair_ap_score(const std::vector<double>& scores, const std::vector<int>& labels, bool high_score_more_similar) {
  if (high_score_more_similar) return average_precision(scores, labels);
  std::vector<double> negated(scores.size());
  std::transform(scores.begin(), scores.end(), negated.begin(), [](double s) { return -s; });
  return average_precision(negated, labels);
}

PairClassificationResult score_pair_classification(const Matrix& emb1, const Matrix& emb2,
                                                   const std::vector<int>& labels) {
  const PairScores ps = pair_scores(emb1, emb2);
  if (ps.cosine.empty()) throw std::invalid_argument("score_pair_classification: no pairs");
  if (labels.size() != ps.cosine.size()) {
    throw std::invalid_argument("score_pair_classification: " + std::to_string(ps.cosine.size()) + " pairs but " +
                                std::to_string(labels.size()) + " labels");
  }
  check_binary_labels(labels, "score_pair_classification");
  const auto positives = std::count(labels.begin(), labels.end(), 1);
  if (positives == 0 || positives == static_cast<std::int64_t>(labels.size())) {
    throw std::invalid_argument("score_pair_classification: all labels are " + std::to_string(labels[0]) +
                                "; both 0 and 1 are needed");
  }

  PairClassificationResult out;
  std::map<std::string, double> maxima;
  struct Similarity {
    std::string name;
    const std::vector<double>* scores;
    bool high_score_more_similar;
  };
  const Similarity similarities[] = {
      {"cosine", &ps.cosine, true},
      {"manhattan", &ps.manhattan, false},
      {"euclidean", &ps.euclidean, false},
      {"dot", &ps.dot, true},
  };
  for (const Similarity& sim : similarities) {
    const AccuracyThreshold acc = find_best_acc_and_threshold(*sim.scores, labels, sim.high_score_more_similar);
    const F1Threshold f1 = find_best_f1_and_threshold(*sim.scores, labels, sim.high_score_more_similar);
    const std::map<std::string, double> metrics = {
        {"accuracy", acc.accuracy},
        {"accuracy_threshold", acc.threshold},
        {"f1", f1.f1},
        {"f1_threshold", f1.threshold},
        {"precision", f1.precision},
        {"recall", f1.recall},
        {"ap", pair_ap_score(*sim.scores, labels, sim.high_score_more_similar)},
    };
    for (const auto& [metric, value] : metrics) {
      out.scores[sim.name + "_" + metric] = value;
      if (metric == "accuracy_threshold" || metric == "f1_threshold") continue;
      auto it = maxima.find(metric);
      maxima[metric] = it == maxima.end() ? value : std::max(it->second, value);
    }
  }
  for (const auto& [metric, value] : maxima) out.scores["max_" + metric] = value;
  out.main_score = out.scores.at("max_ap");
  out.scores["main_score"] = out.main_score;
  return out;
}

// ---- reranking -----------------------------------------------------------------------------------

RerankingResult score_reranking_scored(const std::vector<ScoredCandidates>& queries, int k) {
  if (k < 1) throw std::invalid_argument("score_reranking: k must be >= 1, got " + std::to_string(k));
  RerankingResult out;
  for (std::size_t q = 0; q < queries.size(); ++q) {
    const ScoredCandidates& c = queries[q];
    if (c.scores.size() != c.relevant.size()) {
      throw std::invalid_argument("score_reranking: query " + std::to_string(q) + " has " +
                                  std::to_string(c.scores.size()) + " scores but " +
                                  std::to_string(c.relevant.size()) + " relevance labels");
    }
    check_binary_labels(c.relevant, "score_reranking");
    const auto positives = std::count(c.relevant.begin(), c.relevant.end(), 1);
    // MTEB drops samples without positives or without negatives.
    if (positives == 0 || positives == static_cast<std::int64_t>(c.relevant.size())) continue;

    const std::vector<std::size_t> ranking = stable_order(c.scores, /*descending=*/true);
    const std::size_t top = std::min(ranking.size(), static_cast<std::size_t>(k));
    double mrr = 0, found = 0;
    for (std::size_t r = 0; r < top; ++r) {
      if (c.relevant[ranking[r]] != 1) continue;
      if (found == 0) mrr = 1.0 / static_cast<double>(r + 1);
      found += 1;
    }
    out.query_indices.push_back(q);
    out.ap_per_query.push_back(average_precision(c.scores, c.relevant));
    out.mrr_per_query.push_back(mrr);
    out.recall_per_query.push_back(found / static_cast<double>(positives));
  }
  if (out.query_indices.empty()) {
    throw std::invalid_argument("score_reranking: no query has both a positive and a negative candidate");
  }
  const auto mean = [](const std::vector<double>& v) {
    return std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
  };
  out.map = mean(out.ap_per_query);
  out.mrr = mean(out.mrr_per_query);
  out.scores = {{"map", out.map},
                {"mrr", out.mrr},
                {"recall_at_" + std::to_string(k), mean(out.recall_per_query)},
                {"main_score", out.map}};
  return out;
}

std::vector<double> cosine_scores(const std::vector<float>& query, const Matrix& candidates) {
  check_matrix(candidates, "cosine_scores: candidates");
  if (candidates.rows > 0 && candidates.cols != static_cast<std::int64_t>(query.size())) {
    throw std::invalid_argument("cosine_scores: query has dimension " + std::to_string(query.size()) +
                                " but candidates have " + std::to_string(candidates.cols));
  }
  constexpr double kNormEps = 1e-12;  // torch.nn.functional.normalize's default eps
  double qq = 0;
  for (float v : query) qq += static_cast<double>(v) * v;
  const double qn = std::max(std::sqrt(qq), kNormEps);
  std::vector<double> out;
  for (std::int64_t i = 0; i < candidates.rows; ++i) {
    const float* c = row_of(candidates, i);
    double cc = 0, qc = 0;
    for (std::size_t k = 0; k < query.size(); ++k) {
      cc += static_cast<double>(c[k]) * c[k];
      qc += static_cast<double>(query[k]) * c[k];
    }
    out.push_back(qc / (qn * std::max(std::sqrt(cc), kNormEps)));
  }
  return out;
}

RerankingResult score_reranking(const std::vector<RerankingInstance>& queries, int k) {
  std::vector<ScoredCandidates> scored;
  scored.reserve(queries.size());
  for (const RerankingInstance& q : queries) {
    ScoredCandidates c;
    c.scores = cosine_scores(q.query, q.positives);
    const std::vector<double> negative_scores = cosine_scores(q.query, q.negatives);
    c.relevant.assign(c.scores.size(), 1);
    c.scores.insert(c.scores.end(), negative_scores.begin(), negative_scores.end());
    c.relevant.resize(c.scores.size(), 0);
    scored.push_back(std::move(c));
  }
  return score_reranking_scored(scored, k);
}

// ---- classification ------------------------------------------------------------------------------

LogisticRegression::LogisticRegression(LogisticRegressionOptions options) : options_(options) {}

void LogisticRegression::fit(const Matrix& x, const std::vector<std::int64_t>& y) {
  check_matrix(x, "LogisticRegression::fit: x");
  if (x.rows == 0 || x.cols == 0) throw std::invalid_argument("LogisticRegression::fit: empty training set");
  if (y.size() != static_cast<std::size_t>(x.rows)) {
    throw std::invalid_argument("LogisticRegression::fit: " + std::to_string(x.rows) + " rows but " +
                                std::to_string(y.size()) + " labels");
  }
  if (!(options_.C > 0)) throw std::invalid_argument("LogisticRegression: C must be > 0");
  const std::set<std::int64_t> distinct(y.begin(), y.end());
  if (distinct.size() < 2) {
    throw std::invalid_argument("LogisticRegression::fit: needs at least two classes, got only " +
                                std::to_string(*distinct.begin()));
  }
  classes_.assign(distinct.begin(), distinct.end());
  dim_ = x.cols;

  const std::size_t n = static_cast<std::size_t>(x.rows), dim = static_cast<std::size_t>(x.cols);
  const std::size_t n_classes = classes_.size();
  const bool binary = n_classes == 2;
  const std::size_t rows = binary ? 1 : n_classes;
  const std::size_t stride = dim + 1;  // parameters per row: weights then intercept
  std::vector<std::size_t> target(n);
  for (std::size_t i = 0; i < n; ++i) {
    target[i] = static_cast<std::size_t>(std::lower_bound(classes_.begin(), classes_.end(), y[i]) - classes_.begin());
  }
  const std::vector<double> xd(x.data.begin(), x.data.end());
  const double l2 = 1.0 / options_.C;

  const Objective objective = [&](const std::vector<double>& w, std::vector<double>& grad) {
    std::fill(grad.begin(), grad.end(), 0.0);
    double loss = 0;
    std::vector<double> raw(rows);
    for (std::size_t i = 0; i < n; ++i) {
      const double* xi = xd.data() + i * dim;
      for (std::size_t r = 0; r < rows; ++r) {
        const double* wr = w.data() + r * stride;
        double z = wr[dim];
        for (std::size_t k = 0; k < dim; ++k) z += wr[k] * xi[k];
        raw[r] = z;
      }
      if (binary) {
        const double label = target[i] == 1 ? 1.0 : 0.0;
        loss += log1pexp(raw[0]) - label * raw[0];
        raw[0] = sigmoid(raw[0]) - label;  // now d loss_i / d raw
      } else {
        const double top = *std::max_element(raw.begin(), raw.end());
        double sum = 0;
        for (double z : raw) sum += std::exp(z - top);
        const double lse = top + std::log(sum);
        loss += lse - raw[target[i]];
        for (std::size_t r = 0; r < rows; ++r) raw[r] = std::exp(raw[r] - lse) - (r == target[i] ? 1.0 : 0.0);
      }
      for (std::size_t r = 0; r < rows; ++r) {
        double* gr = grad.data() + r * stride;
        for (std::size_t k = 0; k < dim; ++k) gr[k] += raw[r] * xi[k];
        gr[dim] += raw[r];
      }
    }
    for (std::size_t r = 0; r < rows; ++r) {
      for (std::size_t k = 0; k < dim; ++k) {
        const double wk = w[r * stride + k];
        loss += 0.5 * l2 * wk * wk;
        grad[r * stride + k] += l2 * wk;
      }
    }
    return loss;
  };

  std::vector<double> w(rows * stride, 0.0);
  n_iter_ = minimize_lbfgs(objective, w, options_.max_iter, options_.tol);
  coef_.assign(rows * dim, 0.0);
  intercept_.assign(rows, 0.0);
  for (std::size_t r = 0; r < rows; ++r) {
    std::copy_n(w.begin() + static_cast<std::ptrdiff_t>(r * stride), dim,
                coef_.begin() + static_cast<std::ptrdiff_t>(r * dim));
    intercept_[r] = w[r * stride + dim];
  }
}

std::vector<std::int64_t> LogisticRegression::predict(const Matrix& x) const {
  if (classes_.empty()) throw std::logic_error("LogisticRegression::predict called before fit");
  check_matrix(x, "LogisticRegression::predict: x");
  if (x.rows > 0 && x.cols != dim_) {
    throw std::invalid_argument("LogisticRegression::predict: x has dimension " + std::to_string(x.cols) +
                                ", the model " + std::to_string(dim_));
  }
  const std::size_t rows = intercept_.size(), dim = static_cast<std::size_t>(dim_);
  std::vector<std::int64_t> out;
  out.reserve(static_cast<std::size_t>(x.rows));
  for (std::int64_t i = 0; i < x.rows; ++i) {
    const float* xi = row_of(x, i);
    std::size_t best = 0;
    double best_value = -std::numeric_limits<double>::infinity();
    for (std::size_t r = 0; r < rows; ++r) {
      double z = intercept_[r];
      for (std::size_t k = 0; k < dim; ++k) z += coef_[r * dim + k] * static_cast<double>(xi[k]);
      if (rows == 1) {
        best = z > 0 ? 1 : 0;
      } else if (z > best_value) {
        best_value = z;
        best = r;
      }
    }
    out.push_back(classes_[best]);
  }
  return out;
}

double accuracy(const std::vector<std::int64_t>& y_true, const std::vector<std::int64_t>& y_pred) {
  const auto counts = label_counts(y_true, y_pred, "accuracy");
  double correct = 0;
  for (const auto& [label, c] : counts) correct += static_cast<double>(c.tp);
  return correct / static_cast<double>(y_true.size());
}

double f1_macro(const std::vector<std::int64_t>& y_true, const std::vector<std::int64_t>& y_pred) {
  const auto counts = label_counts(y_true, y_pred, "f1_macro");
  double sum = 0;
  for (const auto& [label, c] : counts) sum += f1_of(c);
  return sum / static_cast<double>(counts.size());
}

double f1_weighted(const std::vector<std::int64_t>& y_true, const std::vector<std::int64_t>& y_pred) {
  const auto counts = label_counts(y_true, y_pred, "f1_weighted");
  double sum = 0;
  for (const auto& [label, c] : counts) sum += f1_of(c) * static_cast<double>(c.tp + c.fn);
  return sum / static_cast<double>(y_true.size());
}

std::vector<std::size_t> undersample(std::vector<std::size_t>& idxs, const std::vector<std::int64_t>& y,
                                     int samples_per_label, std::mt19937_64& rng) {
  // Fisher-Yates with an unbiased draw in [0, bound): reject the lowest (2^64 mod bound) raw values.
  for (std::size_t i = idxs.size(); i > 1; --i) {
    const std::uint64_t bound = i;
    const std::uint64_t reject_below = (0 - bound) % bound;
    std::uint64_t draw;
    do {
      draw = rng();
    } while (draw < reject_below);
    std::swap(idxs[i - 1], idxs[draw % bound]);
  }
  std::unordered_map<std::int64_t, int> taken;
  std::vector<std::size_t> selected;
  for (std::size_t i : idxs) {
    if (i >= y.size()) throw std::invalid_argument("undersample: index " + std::to_string(i) + " out of range");
    int& count = taken[y[i]];
    if (count < samples_per_label) {
      selected.push_back(i);
      ++count;
    }
  }
  return selected;
}

ClassificationResult score_classification(const Matrix& x_train, const std::vector<std::int64_t>& y_train,
                                          const Matrix& x_test, const std::vector<std::int64_t>& y_test,
                                          const ClassificationOptions& options) {
  check_matrix(x_train, "score_classification: x_train");
  check_matrix(x_test, "score_classification: x_test");
  if (x_train.rows == 0 || x_test.rows == 0) {
    throw std::invalid_argument("score_classification: empty train or test set");
  }
  if (y_train.size() != static_cast<std::size_t>(x_train.rows) ||
      y_test.size() != static_cast<std::size_t>(x_test.rows)) {
    throw std::invalid_argument("score_classification: label counts do not match the number of rows");
  }
  if (x_train.cols != x_test.cols) {
    throw std::invalid_argument("score_classification: train dimension " + std::to_string(x_train.cols) +
                                " differs from test dimension " + std::to_string(x_test.cols));
  }
  if (options.n_experiments < 1 || options.samples_per_label < 1) {
    throw std::invalid_argument("score_classification: n_experiments and samples_per_label must be >= 1");
  }
  if (std::set<std::int64_t>(y_train.begin(), y_train.end()).size() < 2) {
    throw std::invalid_argument("score_classification: the train set has a single label");
  }

  ClassificationResult out;
  out.correct_fraction.assign(y_test.size(), 0.0);
  std::mt19937_64 rng(options.seed);
  std::vector<std::size_t> idxs(y_train.size());
  std::iota(idxs.begin(), idxs.end(), std::size_t{0});
  double sum_accuracy = 0, sum_f1 = 0, sum_f1_weighted = 0;
  for (int e = 0; e < options.n_experiments; ++e) {
    ClassificationExperiment exp;
    exp.train_indices = undersample(idxs, y_train, options.samples_per_label, rng);
    Matrix x_sampled{{}, static_cast<std::int64_t>(exp.train_indices.size()), x_train.cols};
    std::vector<std::int64_t> y_sampled;
    x_sampled.data.reserve(exp.train_indices.size() * static_cast<std::size_t>(x_train.cols));
    for (std::size_t i : exp.train_indices) {
      const float* r = row_of(x_train, static_cast<std::int64_t>(i));
      x_sampled.data.insert(x_sampled.data.end(), r, r + x_train.cols);
      y_sampled.push_back(y_train[i]);
    }
    LogisticRegression clf(options.logreg);
    clf.fit(x_sampled, y_sampled);
    exp.predictions = clf.predict(x_test);
    exp.accuracy = accuracy(y_test, exp.predictions);
    exp.f1 = f1_macro(y_test, exp.predictions);
    exp.f1_weighted = f1_weighted(y_test, exp.predictions);
    for (std::size_t t = 0; t < y_test.size(); ++t) {
      if (exp.predictions[t] == y_test[t]) out.correct_fraction[t] += 1.0 / options.n_experiments;
    }
    sum_accuracy += exp.accuracy;
    sum_f1 += exp.f1;
    sum_f1_weighted += exp.f1_weighted;
    out.accuracy_per_experiment.push_back(exp.accuracy);
    out.experiments.push_back(std::move(exp));
  }
  const double n_exp = options.n_experiments;
  out.main_score = sum_accuracy / n_exp;
  out.scores = {{"accuracy", out.main_score},
                {"f1", sum_f1 / n_exp},
                {"f1_weighted", sum_f1_weighted / n_exp},
                {"main_score", out.main_score}};
  return out;
}

}  // namespace sentbench::mteb_scoring
