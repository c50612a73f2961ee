// k-means for clustering evaluation: k-means++ initialisation, Lloyd iterations, mini-batch updates
// for large sets; seeded and reproducible.
#pragma once

#include <cstdint>

#include <torch/types.h>

namespace sentbench {

struct KMeansOptions {
  std::int64_t k = 8;
  std::int64_t max_iterations = 100;       // Lloyd iterations; passes over the data for mini-batch
  std::int64_t restarts = 1;               // keep the run with the lowest inertia
  std::int64_t minibatch_threshold = 20000;  // above this many points use mini-batch k-means
  std::int64_t batch_size = 4096;          // mini-batch size
  double tolerance = 1e-4;                 // relative inertia change that stops Lloyd iterations
  std::uint64_t seed = 42;
};

struct KMeansResult {
  at::Tensor labels;     // [N] int64 cluster of each point
  at::Tensor centroids;  // [k, dim]
  double inertia = 0;    // sum of squared distances to the assigned centroid
  std::int64_t iterations = 0;  // Lloyd iterations, or mini-batch steps, of the kept restart
};

// points [N, dim] float32; 1 <= k <= N, else std::invalid_argument (as for bad options).
// Initialisation is greedy k-means++ (scikit-learn's: 2 + ln k candidates per centre, keep the one that
// lowers the potential most). Lloyd stops when no label changes, when inertia falls by less than
// tolerance × inertia, or after max_iterations; an empty cluster is re-seeded at the point farthest
// from its centroid. Above minibatch_threshold points it runs Sculley's mini-batch k-means (k-means++
// on a 3 × batch_size sample, per-centre learning rate 1 / points seen, batches drawn with
// replacement) for at most max_iterations passes, stopping early after 10 batches without improvement
// of the smoothed batch inertia, then labels every point. The same seed and options give the same
// result on a CPU (random draws come from std::mt19937_64 with our own uniform mapping, not from
// implementation-defined std distributions or torch's global generator).
KMeansResult kmeans(const at::Tensor& points, const KMeansOptions& options);

}  // namespace sentbench
