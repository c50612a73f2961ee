// kmeans on data whose answer is known: separated blobs are recovered exactly (V-measure 1) by Lloyd
// and by mini-batch, runs are reproducible from the seed, and the k == N / k > N edges behave.
#include "kmeans.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "metrics.hpp"

namespace sentbench {
namespace {

struct Blobs {
  at::Tensor points;
  std::vector<std::int64_t> labels;
};

// `clusters` Gaussian blobs (std 0.5) around centres 20 units apart per axis on average, shuffled.
Blobs make_blobs(std::int64_t clusters, std::int64_t per_cluster, std::int64_t dim, std::uint64_t seed) {
  torch::manual_seed(seed);
  const at::Tensor centres = torch::randn({clusters, dim}) * 20;
  const at::Tensor gold = torch::arange(clusters, torch::kLong).repeat_interleave(per_cluster);
  const at::Tensor perm = torch::randperm(clusters * per_cluster, torch::kLong);
  const at::Tensor shuffled = gold.index_select(0, perm).contiguous();
  const at::Tensor points = centres.index_select(0, shuffled) + torch::randn({clusters * per_cluster, dim}) * 0.5;
  return {points.contiguous(), std::vector<std::int64_t>(shuffled.data_ptr<std::int64_t>(),
                                                         shuffled.data_ptr<std::int64_t>() + shuffled.numel())};
}

std::vector<std::int64_t> to_vector(const at::Tensor& labels) {
  const at::Tensor l = labels.to(torch::kLong).contiguous();
  return {l.data_ptr<std::int64_t>(), l.data_ptr<std::int64_t>() + l.numel()};
}

// Σ ||x - c(x)||², recomputed independently of the implementation's expansion.
double recomputed_inertia(const at::Tensor& points, const KMeansResult& r) {
  return (points - r.centroids.index_select(0, r.labels)).pow(2).sum().item<double>();
}

TEST(KMeans, LloydRecoversSeparatedBlobs) {
  const Blobs blobs = make_blobs(5, 40, 16, 1);
  KMeansOptions o;
  o.k = 5;
  o.seed = 7;
  const KMeansResult r = kmeans(blobs.points, o);
  EXPECT_EQ(r.labels.sizes(), (std::vector<std::int64_t>{200}));
  EXPECT_EQ(r.labels.scalar_type(), torch::kLong);
  EXPECT_EQ(r.centroids.sizes(), (std::vector<std::int64_t>{5, 16}));
  const metrics::VMeasure v = metrics::v_measure(blobs.labels, to_vector(r.labels));
  EXPECT_DOUBLE_EQ(v.v_measure, 1.0);
  EXPECT_GE(r.iterations, 1);
  EXPECT_NEAR(r.inertia, recomputed_inertia(blobs.points, r), 1e-3 * r.inertia);
}

TEST(KMeans, MiniBatchRecoversSeparatedBlobs) {
  const Blobs blobs = make_blobs(6, 400, 24, 2);
  KMeansOptions o;
  o.k = 6;
  o.minibatch_threshold = 500;  // 2400 points: mini-batch path
  o.batch_size = 128;
  o.seed = 3;
  const KMeansResult r = kmeans(blobs.points, o);
  const metrics::VMeasure v = metrics::v_measure(blobs.labels, to_vector(r.labels));
  EXPECT_DOUBLE_EQ(v.v_measure, 1.0);
  // Early stopping should end well before 100 passes of 19 batches.
  EXPECT_LT(r.iterations, 100 * 19);
  EXPECT_NEAR(r.inertia, recomputed_inertia(blobs.points, r), 1e-3 * r.inertia);
}

TEST(KMeans, SameSeedSameResult) {
  // Overlapping blobs, so the outcome genuinely depends on the random draws.
  torch::manual_seed(9);
  const at::Tensor points = torch::randn({300, 8});
  for (const std::int64_t threshold : {100000, 100}) {  // Lloyd, then mini-batch
    KMeansOptions o;
    o.k = 7;
    o.seed = 123;
    o.minibatch_threshold = threshold;
    o.batch_size = 64;
    const KMeansResult a = kmeans(points, o);
    torch::manual_seed(999);  // torch's global generator must not matter
    const KMeansResult b = kmeans(points, o);
    EXPECT_TRUE(torch::equal(a.labels, b.labels)) << "threshold " << threshold;
    EXPECT_TRUE(torch::equal(a.centroids, b.centroids)) << "threshold " << threshold;
    EXPECT_EQ(a.inertia, b.inertia);
    EXPECT_EQ(a.iterations, b.iterations);
  }
}

TEST(KMeans, RestartsNeverWorsenInertia) {
  // Restart 0 is the same run whatever the number of restarts, so more restarts can only help.
  torch::manual_seed(4);
  const at::Tensor points = torch::randn({250, 5});
  KMeansOptions o;
  o.k = 9;
  const double one = kmeans(points, o).inertia;
  o.restarts = 6;
  const double six = kmeans(points, o).inertia;
  EXPECT_LE(six, one);
}

TEST(KMeans, KEqualsNGivesEveryPointItsOwnCluster) {
  torch::manual_seed(6);
  const at::Tensor points = torch::randn({12, 3});
  KMeansOptions o;
  o.k = 12;
  const KMeansResult r = kmeans(points, o);
  std::vector<std::int64_t> labels = to_vector(r.labels);
  std::sort(labels.begin(), labels.end());
  for (std::int64_t i = 0; i < 12; ++i) EXPECT_EQ(labels[static_cast<std::size_t>(i)], i);
  EXPECT_NEAR(r.inertia, 0.0, 1e-6);
}

TEST(KMeans, DuplicatePointsAndMoreClustersThanDistinctPoints) {
  // 3 distinct points, k = 4: a centre necessarily doubles up; the run must still finish cleanly.
  const at::Tensor points = torch::tensor({{0.f, 0.f}, {0.f, 0.f}, {5.f, 5.f}, {5.f, 5.f}, {9.f, 0.f}});
  KMeansOptions o;
  o.k = 4;
  const KMeansResult r = kmeans(points, o);
  EXPECT_NEAR(r.inertia, 0.0, 1e-6);
  EXPECT_TRUE(torch::all(r.labels.ge(0) & r.labels.lt(4)).item<bool>());
  EXPECT_FALSE(torch::any(torch::isnan(r.centroids)).item<bool>());
}

TEST(KMeans, RejectsKAboveNAndBadInput) {
  const at::Tensor points = torch::randn({5, 3});
  KMeansOptions o;
  o.k = 6;
  try {
    kmeans(points, o);
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("k = 6"), std::string::npos) << what;
    EXPECT_NE(what.find("only 5 points"), std::string::npos) << what;
  }
  o.k = 0;
  EXPECT_THROW(kmeans(points, o), std::invalid_argument);
  o.k = 2;
  EXPECT_THROW(kmeans(points.to(torch::kDouble), o), std::invalid_argument);
  EXPECT_THROW(kmeans(torch::randn({5}), o), std::invalid_argument);
  o.restarts = 0;
  EXPECT_THROW(kmeans(points, o), std::invalid_argument);
}

}  // namespace
}  // namespace sentbench
