// k-means: greedy k-means++, Lloyd, mini-batch (Sculley 2010); see kmeans.hpp for the contract.
#include "kmeans.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include <torch/torch.h>

namespace sentbench {

namespace {

// Bounds the [rows, k] distance block of one assignment pass (64 MiB of float32).
constexpr std::int64_t kAssignElements = std::int64_t{1} << 24;
// Mini-batch stops after this many batches without a new best smoothed inertia (sklearn's default).
constexpr std::int64_t kMaxNoImprovement = 10;

// Our own mapping from the engine's bits: std::uniform_*_distribution may differ between standard
// libraries, which would make "same seed, same clusters" depend on the toolchain.
double uniform01(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

std::int64_t uniform_index(std::mt19937_64& rng, std::int64_t n) {
  return std::min(n - 1, static_cast<std::int64_t>(uniform01(rng) * static_cast<double>(n)));
}

void validate(const at::Tensor& points, const KMeansOptions& o) {
  auto fail = [](const std::string& what) { throw std::invalid_argument("kmeans: " + what); };
  if (!points.defined() || points.dim() != 2) fail("points must be a 2-D [N, dim] tensor");
  if (points.scalar_type() != at::kFloat) {
    fail(std::string("expects float32 points, got ") + c10::toString(points.scalar_type()));
  }
  if (o.k < 1) fail("k must be >= 1, got " + std::to_string(o.k));
  if (o.k > points.size(0)) {
    fail("k = " + std::to_string(o.k) + " clusters but only " + std::to_string(points.size(0)) +
         " points; k must not exceed the number of points (use a larger subset or fewer clusters)");
  }
  if (o.max_iterations < 1 || o.restarts < 1 || o.batch_size < 1) {
    fail("max_iterations, restarts and batch_size must be >= 1");
  }
  if (!(o.tolerance >= 0)) fail("tolerance must be >= 0");
}

// Points with their squared norms, computed once for the ||x||² - 2x·c + ||c||² expansion.
struct Data {
  at::Tensor x;     // [n, d]
  at::Tensor x_sq;  // [n]
};

// ||row||² without an [n, d] temporary: x.pow(2).sum(1) spent 0.4 s of a 0.9 s k-means run (50k × 384),
// nearly all of it allocating and first-touching that temporary; norm() reduces without one.
at::Tensor squared_norms(const at::Tensor& t) { return t.norm(2, {1}).square(); }

Data make_data(const at::Tensor& x) { return {x, squared_norms(x)}; }

// Squared distances of every point to `centres` [m, d] -> [n, m], clamped at 0 against cancellation.
at::Tensor squared_distances(const Data& data, const at::Tensor& centres) {
  const at::Tensor c_sq = squared_norms(centres);
  return torch::addmm(c_sq.unsqueeze(0), data.x, centres.t(), /*beta=*/1, /*alpha=*/-2)
      .add_(data.x_sq.unsqueeze(1))
      .clamp_min_(0);
}

// Nearest centroid of every point and the squared distance to it, in row blocks so memory stays
// bounded for large N × k.
std::tuple<at::Tensor, at::Tensor> assign(const Data& data, const at::Tensor& centroids) {
  const std::int64_t n = data.x.size(0), k = centroids.size(0);
  const at::Tensor c_sq = squared_norms(centroids).unsqueeze(0);
  const at::Tensor c_t = centroids.t();
  at::Tensor labels = torch::empty({n}, data.x.options().dtype(at::kLong));
  at::Tensor dist = torch::empty({n}, data.x.options());
  const std::int64_t rows = std::max<std::int64_t>(1, kAssignElements / k);
  for (std::int64_t r0 = 0; r0 < n; r0 += rows) {
    const std::int64_t rn = std::min(rows, n - r0);
    // argmin does not need ||x||², so it is added to the minimum only.
    const at::Tensor partial = torch::addmm(c_sq, data.x.narrow(0, r0, rn), c_t, /*beta=*/1, /*alpha=*/-2);
    at::Tensor best, which;
    std::tie(best, which) = partial.min(1);
    labels.narrow(0, r0, rn).copy_(which);
    dist.narrow(0, r0, rn).copy_(best.add_(data.x_sq.narrow(0, r0, rn)).clamp_min_(0));
  }
  return {labels, dist};
}

// Greedy k-means++ (Arthur & Vassilvitskii 2007; sklearn's variant with 2 + ln k local trials): each
// new centre is the best of several D²-sampled candidates by the potential it leaves.
at::Tensor kmeans_plus_plus(const Data& data, std::int64_t k, std::mt19937_64& rng) {
  const std::int64_t n = data.x.size(0);
  const std::int64_t trials = 2 + static_cast<std::int64_t>(std::log(static_cast<double>(k)));
  at::Tensor centroids = torch::empty({k, data.x.size(1)}, data.x.options());
  const std::int64_t first = uniform_index(rng, n);
  centroids[0].copy_(data.x[first]);
  at::Tensor closest = squared_distances(data, data.x.narrow(0, first, 1)).squeeze(1);  // [n]
  std::vector<double> cumulative(static_cast<std::size_t>(n));
  for (std::int64_t c = 1; c < k; ++c) {
    const at::Tensor closest_cpu = closest.to(torch::kCPU, at::kDouble).contiguous();
    const double* w = closest_cpu.data_ptr<double>();
    double total = 0;
    for (std::int64_t i = 0; i < n; ++i) cumulative[static_cast<std::size_t>(i)] = (total += w[i]);
    std::vector<std::int64_t> candidates;
    for (std::int64_t t = 0; t < trials; ++t) {
      const double target = uniform01(rng) * total;
      const auto it = std::upper_bound(cumulative.begin(), cumulative.end(), target);
      // total == 0 (every point sits on a centre) falls through to the last point.
      candidates.push_back(std::min<std::int64_t>(n - 1, it - cumulative.begin()));
    }
    const at::Tensor cand_idx = torch::tensor(candidates, torch::dtype(at::kLong)).to(data.x.device());
    const at::Tensor to_candidates = squared_distances(data, data.x.index_select(0, cand_idx));  // [n, trials]
    const at::Tensor potentials = torch::minimum(to_candidates, closest.unsqueeze(1)).to(at::kDouble).sum(0);
    const std::int64_t best = potentials.argmin().item<std::int64_t>();
    closest = torch::minimum(closest, to_candidates.select(1, best));
    centroids[c].copy_(data.x[candidates[static_cast<std::size_t>(best)]]);
  }
  return centroids;
}

// Re-seeds empty clusters at the points farthest from their centroids (as sklearn), taking each
// point out of the cluster it leaves so that cluster's mean stays its own. Works on sums/counts.
void relocate_empty(const Data& data, const at::Tensor& labels, const at::Tensor& dist, at::Tensor& sums,
                    at::Tensor& counts) {
  const at::Tensor empty = (counts == 0).nonzero().squeeze(1).cpu();
  const std::int64_t n_empty = empty.numel();
  if (n_empty == 0) return;
  const at::Tensor far = std::get<1>(dist.topk(n_empty)).cpu();
  const at::Tensor far_labels = labels.index_select(0, far.to(labels.device())).cpu();
  for (std::int64_t j = 0; j < n_empty; ++j) {
    const std::int64_t cluster = empty[j].item<std::int64_t>();
    const std::int64_t point = far[j].item<std::int64_t>();
    const std::int64_t old = far_labels[j].item<std::int64_t>();
    if (counts[old].item<std::int64_t>() <= 1) continue;  // never empty another cluster
    sums[old].sub_(data.x[point]);
    counts[old].sub_(1);
    sums[cluster].copy_(data.x[point]);
    counts[cluster].fill_(1);
  }
}

// Means of the assigned points; clusters still empty after relocation keep their previous centroid.
at::Tensor update_centroids(const Data& data, const at::Tensor& labels, const at::Tensor& dist,
                            const at::Tensor& previous) {
  const std::int64_t k = previous.size(0);
  at::Tensor sums = torch::zeros_like(previous).index_add_(0, labels, data.x);
  at::Tensor counts = torch::bincount(labels, {}, k);
  relocate_empty(data, labels, dist, sums, counts);
  const at::Tensor means = sums / counts.clamp_min(1).unsqueeze(1).to(sums.scalar_type());
  return torch::where((counts > 0).unsqueeze(1), means, previous);
}

double total(const at::Tensor& dist) { return dist.sum(at::kDouble).item<double>(); }

KMeansResult lloyd(const Data& data, const KMeansOptions& o, std::mt19937_64& rng) {
  KMeansResult r;
  r.centroids = kmeans_plus_plus(data, o.k, rng);
  at::Tensor dist;
  std::tie(r.labels, dist) = assign(data, r.centroids);
  r.inertia = total(dist);
  for (std::int64_t it = 1; it <= o.max_iterations; ++it) {
    r.centroids = update_centroids(data, r.labels, dist, r.centroids);
    at::Tensor labels;
    std::tie(labels, dist) = assign(data, r.centroids);
    const double inertia = total(dist);
    r.iterations = it;
    const bool converged = torch::equal(labels, r.labels) || r.inertia - inertia <= o.tolerance * r.inertia;
    r.labels = labels;
    r.inertia = inertia;
    if (converged) break;
  }
  return r;
}

// Sculley, "Web-scale k-means clustering" (WWW 2010), vectorised per batch as sklearn does: a centre
// that received b new points after having seen v moves to (v·c + Σ batch points) / (v + b), which is
// the per-point 1/v learning-rate update with assignments taken before the batch.
KMeansResult minibatch(const Data& data, const KMeansOptions& o, std::mt19937_64& rng) {
  const std::int64_t n = data.x.size(0);
  const std::int64_t batch = std::min(o.batch_size, n);
  // k-means++ on a sample: seeding on all N points would cost as much as the whole mini-batch run.
  const std::int64_t init_size = std::min(n, std::max(3 * o.batch_size, 3 * o.k));
  std::vector<std::int64_t> perm(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) perm[static_cast<std::size_t>(i)] = i;
  for (std::int64_t i = 0; i < init_size; ++i) {  // partial Fisher-Yates
    std::swap(perm[static_cast<std::size_t>(i)], perm[static_cast<std::size_t>(i + uniform_index(rng, n - i))]);
  }
  perm.resize(static_cast<std::size_t>(init_size));
  const at::Tensor init_idx = torch::tensor(perm, torch::dtype(at::kLong)).to(data.x.device());
  const Data sample{data.x.index_select(0, init_idx), data.x_sq.index_select(0, init_idx)};

  KMeansResult r;
  r.centroids = kmeans_plus_plus(sample, o.k, rng);
  at::Tensor seen = torch::zeros({o.k}, data.x.options());
  const std::int64_t steps = o.max_iterations * ((n + batch - 1) / batch);
  const double alpha = std::min(1.0, 2.0 * static_cast<double>(batch) / (static_cast<double>(n) + 1.0));
  double smoothed = 0, best = std::numeric_limits<double>::infinity();
  std::int64_t no_improvement = 0;
  std::vector<std::int64_t> draw(static_cast<std::size_t>(batch));
  for (std::int64_t step = 1; step <= steps; ++step) {
    for (auto& d : draw) d = uniform_index(rng, n);
    const at::Tensor idx = torch::tensor(draw, torch::dtype(at::kLong)).to(data.x.device());
    const Data b{data.x.index_select(0, idx), data.x_sq.index_select(0, idx)};
    at::Tensor labels, dist;
    std::tie(labels, dist) = assign(b, r.centroids);
    const at::Tensor sums = torch::zeros_like(r.centroids).index_add_(0, labels, b.x);
    const at::Tensor hits = torch::bincount(labels, {}, o.k).to(seen.scalar_type());
    const at::Tensor now_seen = seen + hits;
    const at::Tensor moved = (r.centroids * seen.unsqueeze(1) + sums) / now_seen.clamp_min(1).unsqueeze(1);
    r.centroids = torch::where((hits > 0).unsqueeze(1), moved, r.centroids);
    seen = now_seen;
    r.iterations = step;

    const double batch_inertia = total(dist) / static_cast<double>(batch);
    smoothed = step == 1 ? batch_inertia : smoothed * (1 - alpha) + batch_inertia * alpha;
    if (smoothed < best) {
      best = smoothed;
      no_improvement = 0;
    } else if (++no_improvement >= kMaxNoImprovement) {
      break;
    }
  }

  at::Tensor dist;
  std::tie(r.labels, dist) = assign(data, r.centroids);
  if (torch::bincount(r.labels, {}, o.k).eq(0).any().item<bool>()) {
    // A centre no batch ever reached: one Lloyd step with re-seeding gives every cluster a point.
    r.centroids = update_centroids(data, r.labels, dist, r.centroids);
    std::tie(r.labels, dist) = assign(data, r.centroids);
  }
  r.inertia = total(dist);
  return r;
}

}  // namespace

KMeansResult kmeans(const at::Tensor& points, const KMeansOptions& options) {
  validate(points, options);
  torch::NoGradGuard no_grad;
  const Data data = make_data(points.contiguous());
  const bool use_minibatch = points.size(0) > options.minibatch_threshold;
  // One engine per restart, seeded from a master engine, so restart r is the same run whatever the
  // number of restarts.
  std::mt19937_64 master(options.seed);
  KMeansResult best;
  for (std::int64_t restart = 0; restart < options.restarts; ++restart) {
    std::mt19937_64 rng(master());
    KMeansResult r = use_minibatch ? minibatch(data, options, rng) : lloyd(data, options, rng);
    if (restart == 0 || r.inertia < best.inertia) best = std::move(r);
  }
  return best;
}

}  // namespace sentbench
