// Evaluation metrics as pure functions: retrieval (trec_eval conventions), clustering, correlation.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

namespace sentbench::metrics {

// ---- retrieval -----------------------------------------------------------------------------------
// Graded judgements of one query: doc id -> gain (> 0 relevant; 0, negative or absent not relevant).
using Judgements = std::unordered_map<std::string, int>;
// One retrieved document with its score.
struct Scored {
  std::string doc_id;
  double score = 0;
};

// Orders a ranking as trec_eval does before scoring: by score descending, ties by doc id descending.
// trec_eval ignores the rank column and re-sorts every query with comp_sim_docno (form_res_rels.c,
// usnistgov/trec_eval): `if (p1->sim > p2->sim) return -1; if (p1->sim < p2->sim) return 1;
// return strcmp(p2->docno, p1->docno);` — note the swapped arguments, so equal scores come out in
// decreasing strcmp (byte) order: "d2" before "d10" before "d1". NaN scores (which trec_eval cannot
// order consistently) go last, so the sort stays a strict weak ordering.
void trec_sort(std::vector<Scored>& ranking);

// Metrics of one query's ranking (already trec_sort-ed) at cut-off k (k >= 1, else
// std::invalid_argument). nDCG uses linear gains and log2(rank+1) discounts (trec_eval's ndcg_cut),
// with the ideal ranking built from all judgements and also truncated at k. Recall and AP divide by
// the number of relevant judgements, retrieved or not; P@k divides by k even when fewer were
// retrieved. A query without relevant documents must be excluded by the caller (these return 0 for it).
double ndcg_at_k(const std::vector<Scored>& ranking, const Judgements& qrels, int k);
double mrr_at_k(const std::vector<Scored>& ranking, const Judgements& qrels, int k);
double recall_at_k(const std::vector<Scored>& ranking, const Judgements& qrels, int k);
double precision_at_k(const std::vector<Scored>& ranking, const Judgements& qrels, int k);  // divides by k
double average_precision_at_k(const std::vector<Scored>& ranking, const Judgements& qrels, int k);  // MAP@k term

// Per-query and mean values of every metric at every cut-off, keyed "ndcg@10", "mrr@10", "recall@100",
// "map@100", "p@10". Rankings are trec_sort-ed here (copies), so callers may pass them in any order.
// The scored queries are those of `qrels` with at least one relevant judgement, in key order; one
// missing from `runs` scores 0 everywhere (as trec_eval -c). Queries of qrels without a relevant
// judgement, and queries of runs absent from qrels, are skipped and counted in queries_skipped. Every
// key is present even when no query is scored (mean 0, empty per-query list). A ranking that lists a
// document twice, or a cut-off < 1, throws std::invalid_argument (trec_eval refuses duplicates too).
struct RetrievalScores {
  std::map<std::string, double> mean;                                  // metric -> mean over queries
  std::map<std::string, std::vector<double>> per_query;                // metric -> value per scored query
  std::vector<std::string> query_ids;                                  // the scored queries, in order
  std::int64_t queries_skipped = 0;
};
RetrievalScores score_retrieval(const std::map<std::string, std::vector<Scored>>& runs,
                                const std::map<std::string, Judgements>& qrels, const std::vector<int>& cutoffs);

// ---- clustering ----------------------------------------------------------------------------------
// Homogeneity, completeness and V-measure (beta = 1) of predicted clusters against gold labels, as
// scikit-learn defines them: h = 1 - H(C|K)/H(C) (1 when H(C) = 0), c = 1 - H(K|C)/H(K) (1 when
// H(K) = 0), v = 2hc/(h+c) (0 when h+c = 0); natural logs. Empty input scores 1, 1, 1 (as sklearn);
// different lengths throw std::invalid_argument. Label values are arbitrary (only equality matters).
struct VMeasure {
  double homogeneity = 0;
  double completeness = 0;
  double v_measure = 0;
};
VMeasure v_measure(const std::vector<std::int64_t>& gold, const std::vector<std::int64_t>& predicted);

// ---- correlation ---------------------------------------------------------------------------------
// Ranks starting at 1; ties get the average of the ranks they span (scipy's rankdata "average").
std::vector<double> average_ranks(const std::vector<double>& values);
// Both are NaN when undefined (fewer than two pairs, or a constant side) and throw
// std::invalid_argument when x and y differ in length.
double pearson(const std::vector<double>& x, const std::vector<double>& y);
double spearman(const std::vector<double>& x, const std::vector<double>& y);  // Pearson of average ranks

// Mean and sample standard deviation (n-1); std is 0 for fewer than two values, mean NaN for none.
struct MeanStd {
  double mean = 0;
  double std = 0;
};
MeanStd mean_std(const std::vector<double>& values);

}  // namespace sentbench::metrics
