// The masked-LM objective on the training services: batches of corpus texts masked on the loader thread,
// the loss over the selected tokens, the held-out evaluation and the masked-LM folder.
#include "mlm_recipe.hpp"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cmath>
#include <random>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "masking.hpp"
#include "sentbench/data/seeded_random.hpp"
#include "sentbench/errors.hpp"
#include "sentbench/io.hpp"
#include "sentbench/log.hpp"
#include "sentbench/token_encoder.hpp"
#include "text_corpus.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace sentbench::mlm {

const KeySpec kTrainKeys[] = {
    SENTBENCH_TRAINING_KEYS,
    {"plugin", ValueType::kString, true, "\"mlm\""},
    {"data", ValueType::kPath, true,
     "text corpus: one text a line (.txt, .txt.gz) or JSONL (.jsonl, .jsonl.gz: a JSON string or {\"text\": ...} a "
     "line); streamed"},
    {"batch_size", ValueType::kInteger, true, "texts per step (the global batch, split evenly between ranks)"},
    {"max_seq_length", ValueType::kInteger, false, "tokens per text, <s> and </s> included (default: the encoder's)"},
    {"mask_rate", ValueType::kFloat, false, "share of the non-special tokens selected for prediction (default 0.15)"},
    {"held_out", ValueType::kInteger, false,
     "lines at the start of `data` held out for evaluation and never trained on (default 1000; 0: no evaluation)"},
    {"shuffle_buffer", ValueType::kInteger, false, "texts in the shuffle buffer (default 4096; 1 = file order)"},
    {"prefetch", ValueType::kInteger, false, "batches tokenized and masked ahead on the loader thread (default 2)"},
};
const std::size_t kTrainKeyCount = sizeof(kTrainKeys) / sizeof(kTrainKeys[0]);

MlmSettings read_settings(const Config& c) {
  MlmSettings s;
  s.train = read_training_settings(c);
  s.data = c.get_path("data");
  s.batch_size = c.get_int("batch_size");
  s.max_seq_length = c.get_int("max_seq_length", s.max_seq_length);
  s.mask_rate = c.get_double("mask_rate", s.mask_rate);
  s.held_out = c.get_int("held_out", s.held_out);
  s.shuffle_buffer = c.get_int("shuffle_buffer", s.shuffle_buffer);
  s.prefetch = c.get_int("prefetch", s.prefetch);
  if (!fs::is_regular_file(s.data)) {
    c.fail("data", fmt::format("{} {}; point `data` at a text corpus (one text a line, .txt or .txt.gz, or JSONL) — "
                               "`sentbench data debian` writes one as corpus.txt.gz",
                               s.data.string(), fs::exists(s.data) ? "is not a file" : "does not exist"));
  }
  if (s.batch_size < 1) c.fail("batch_size", "must be at least 1");
  if (s.max_seq_length != 0 && s.max_seq_length < 3) {
    c.fail("max_seq_length", "must be at least 3 (<s>, one token, </s>), or left out for the encoder's");
  }
  if (!(s.mask_rate > 0 && s.mask_rate < 1)) {
    c.fail("mask_rate", fmt::format("{} is not a share between 0 and 1 (exclusive); RoBERTa uses 0.15", s.mask_rate));
  }
  if (s.held_out < 0) c.fail("held_out", "must not be negative (0: no held-out evaluation)");
  if (s.shuffle_buffer < 1) c.fail("shuffle_buffer", "must be at least 1 (1 = file order)");
  if (s.prefetch < 1) c.fail("prefetch", "must be at least 1");
  return s;
}

// ---- LM head -------------------------------------------------------------------------------------

LmHead::LmHead(const at::Tensor& word_embeddings, std::uint64_t seed) : decoder_(word_embeddings) {
  const std::int64_t vocab = word_embeddings.size(0), hidden = word_embeddings.size(1);
  at::Generator generator = at::detail::createCPUGenerator(seed);
  const auto options = torch::TensorOptions().dtype(torch::kFloat32);
  dense_w_ = torch::empty({hidden, hidden}, options).normal_(0.0, 0.02, generator).requires_grad_(true);
  dense_b_ = torch::zeros({hidden}, options).requires_grad_(true);
  norm_w_ = torch::ones({hidden}, options).requires_grad_(true);
  norm_b_ = torch::zeros({hidden}, options).requires_grad_(true);
  bias_ = torch::zeros({vocab}, options).requires_grad_(true);
}

at::Tensor LmHead::forward(const at::Tensor& states) const {
  at::Tensor x = torch::gelu(torch::linear(states, dense_w_, dense_b_));  // exact (erf) GELU, as RoBERTa
  x = torch::layer_norm(x, {x.size(-1)}, norm_w_, norm_b_, kLayerNormEps);
  return torch::linear(x, decoder_, bias_);
}

std::vector<at::Tensor> LmHead::parameters() const { return {dense_w_, dense_b_, norm_w_, norm_b_, bias_}; }

std::vector<std::pair<std::string, at::Tensor>> LmHead::named_tensors() const {
  return {{"lm_head.dense.weight", dense_w_},        {"lm_head.dense.bias", dense_b_},
          {"lm_head.layer_norm.weight", norm_w_},    {"lm_head.layer_norm.bias", norm_b_},
          {"lm_head.bias", bias_},                   {"lm_head.decoder.weight", decoder_},
          {"lm_head.decoder.bias", bias_}};
}

// ---- objective -------------------------------------------------------------------------------------

namespace {

// Salts of the generators derived from the run seed, so no two coincide.
constexpr std::uint64_t kStreamSalt = 0x6d6c6d2d73747265ULL;   // "mlm-stre"
constexpr std::uint64_t kMaskSalt = 0x6d6c6d2d6d61736bULL;     // "mlm-mask"
constexpr std::uint64_t kHeldOutSalt = 0x6d6c6d2d68656c64ULL;  // "mlm-held"
constexpr std::uint64_t kHeadSalt = 0x6d6c6d2d68656164ULL;     // "mlm-head"

// Tokens per held-out forward pass (texts are packed, so this bounds the activations).
constexpr std::size_t kEvalBatchTokens = 8192;

// One step's batch: this rank's rows, masked, and where its targets are.
struct MlmBatch : PreparedBatch {
  TokenBatch inputs;
  std::vector<std::int64_t> positions;  // packed index of each selected token in `inputs`
  std::vector<std::int64_t> targets;    // its original id
  std::int64_t global_selected = 0;     // selected tokens in the whole global batch
  std::int32_t most_frequent = -1;      // the unigram baseline's token, counting this batch
};

// Masked-token loss (summed), correct predictions and baseline hits over some rows.
struct Tally {
  double loss_sum = 0;
  std::int64_t correct = 0, unigram = 0, selected = 0;
};

class MlmObjective : public TrainingObjective {
 public:
  MlmObjective(Encoder& encoder, TokenEncoder& tokens, const MlmSettings& s, const TrainContext& context,
               std::int64_t max_seq_length)
      : encoder_(encoder),
        tokens_(tokens),
        settings_(s),
        output_dir_(context.output_dir),
        group_(*context.group),
        max_seq_length_(max_seq_length),
        special_(tokens.special_tokens()),
        spec_(MaskingSpec::from(special_, s.mask_rate)),
        head_(tokens.word_embeddings(), derive_seed(context.seed, kHeadSalt)),
        stream_(s.data, derive_seed(context.seed, kStreamSalt), static_cast<std::size_t>(s.shuffle_buffer),
                static_cast<std::uint64_t>(s.held_out)),
        mask_seed_(derive_seed(context.seed, kMaskSalt)),
        counts_(static_cast<std::size_t>(special_.vocab_size), 0) {
    // One line more than the slice: the corpus must leave something to train on.
    std::vector<std::string> held = read_held_out(s.data, static_cast<std::size_t>(s.held_out) + 1);
    if (static_cast<std::int64_t>(held.size()) <= s.held_out) {
      context.config.fail("held_out", fmt::format("{} has only {} non-blank lines, so held_out = {} leaves none to train "
                                                  "on; lower held_out (the evaluation slice) or use a larger corpus",
                                                  s.data.string(), held.size(), s.held_out));
    }
    held.pop_back();
    // The held-out mask is drawn once from its own seed: every evaluation scores the same positions.
    std::mt19937_64 rng(derive_seed(context.seed, kHeldOutSalt));
    held_out_ = mask_tokens(tokenize(held).ids, spec_, rng);
  }

  std::vector<at::Tensor> extra_parameters() override { return head_.parameters(); }
  std::string examples_unit() const override { return "texts"; }

  std::unique_ptr<PreparedBatch> next_batch() override {
    std::vector<std::string> texts;
    texts.reserve(static_cast<std::size_t>(settings_.batch_size));
    for (std::int64_t i = 0; i < settings_.batch_size; ++i) texts.push_back(stream_.next());
    TokenBatch rows = tokenize(texts);
    count_tokens(rows);
    ++batches_;
    // A fresh mask every time a text is drawn (dynamic masking), from a generator seeded by the batch
    // number: the data state (the batch count) fixes it, so a resumed run masks exactly as before. The
    // whole global batch is masked, then sharded, so the masks do not depend on the number of ranks.
    std::mt19937_64 rng(derive_seed(mask_seed_, static_cast<std::uint64_t>(batches_)));
    const MaskedRows masked = mask_tokens(rows.ids, spec_, rng);
    const std::size_t world = static_cast<std::size_t>(group_.world_size());
    const std::size_t shard = rows.size() / world, begin = static_cast<std::size_t>(group_.rank()) * shard;
    MaskedShard mine = shard_rows(masked, begin, begin + shard);

    auto b = std::make_unique<MlmBatch>();
    b->inputs.ids = std::move(mine.ids);
    b->positions = std::move(mine.positions);
    b->targets = std::move(mine.targets);
    b->global_selected = static_cast<std::int64_t>(masked.selected.size());
    b->most_frequent = most_frequent_;
    b->examples = rows.size();
    b->tokens = b->inputs.tokens();
    b->data_state = data_state();
    return b;
  }

  // The stream position, the batch count (which seeds the masks) and the token counts of the training
  // texts drawn so far (the unigram baseline's statistics).
  std::string data_state() const override {
    const StreamState st = stream_.state();
    return json{{"stream", {{"epoch", st.epoch}, {"consumed", st.consumed}, {"rng", st.rng}}},
                {"batches", batches_},
                {"counts", counts_}}
        .dump();
  }

  void restore_data(const std::string& state) override {
    try {
      const json j = json::parse(state);
      const json& st = j.at("stream");
      stream_.restore(StreamState{st.at("epoch").get<std::uint64_t>(), st.at("consumed").get<std::uint64_t>(),
                                  st.at("rng").get<std::string>()});
      batches_ = j.at("batches").get<std::int64_t>();
      std::vector<std::int64_t> counts = j.at("counts").get<std::vector<std::int64_t>>();
      if (counts.size() != counts_.size()) {
        throw DataError(fmt::format("the checkpoint counted tokens of a {}-token vocabulary, the encoder has {}; resume "
                                    "with the encoder the run started with",
                                    counts.size(), counts_.size()));
      }
      counts_ = std::move(counts);
    } catch (const json::exception& e) {
      throw DataError(fmt::format("cannot restore the mlm data position from the checkpoint: {} (a damaged checkpoint, "
                                  "or one of another recipe?)",
                                  e.what()));
    }
    most_frequent_ = -1;
    for (std::size_t id = 0; id < counts_.size(); ++id) note_count(static_cast<std::int32_t>(id));
  }

  double forward_backward(PreparedBatch& batch, MetricRow& metrics) override {
    auto& b = static_cast<MlmBatch&>(batch);
    unigram_token_ = b.most_frequent;
    if (b.global_selected == 0) {  // only empty texts in the whole batch: nothing to learn from
      metrics["mlm_accuracy"] = 0.0;
      return 0.0;
    }
    const double scale = loss_scale(b);
    const Tally t = score(b.inputs, b.positions, b.targets, scale);
    double correct = static_cast<double>(t.correct);
    if (group_.distributed()) {  // the metric of the global batch, not of rank 0's shard
      at::Tensor c = torch::tensor({correct}, torch::kFloat64);
      group_.all_reduce_sum(c);
      correct = c.item<double>();
    }
    metrics["mlm_accuracy"] = correct / static_cast<double>(b.global_selected);
    return t.loss_sum * scale;
  }

  // Held-out masked-token accuracy and perplexity with the encoder as it is now (the services call it in
  // eval mode without grad, on rank 0), written to mlm_eval.json with the unigram baseline.
  MetricRow evaluate(std::int64_t step) override {
    if (held_out_.ids.empty()) return {};
    Tally total;
    std::size_t begin = 0;
    while (begin < held_out_.ids.size()) {
      std::size_t end = begin, tokens = 0;
      while (end < held_out_.ids.size() && (end == begin || tokens + held_out_.ids[end].size() <= kEvalBatchTokens)) {
        tokens += held_out_.ids[end++].size();
      }
      const MaskedShard part = shard_rows(held_out_, begin, end);
      TokenBatch inputs;
      inputs.ids = part.ids;
      const Tally t = score(inputs, part.positions, part.targets, 0.0);
      total.loss_sum += t.loss_sum;
      total.correct += t.correct;
      total.unigram += t.unigram;
      total.selected += t.selected;
      begin = end;
    }
    const double n = static_cast<double>(std::max<std::int64_t>(1, total.selected));
    const double accuracy = static_cast<double>(total.correct) / n, loss = total.loss_sum / n;
    const double baseline = static_cast<double>(total.unigram) / n;
    const json report = {{"step", step},
                         {"held_out_texts", held_out_.ids.size()},
                         {"masked_tokens", total.selected},
                         {"mask_rate", settings_.mask_rate},
                         {"loss", loss},
                         {"accuracy", accuracy},
                         {"perplexity", std::exp(loss)},
                         {"unigram_baseline", {{"token_id", unigram_token_}, {"accuracy", baseline}}}};
    write_file_atomic(output_dir_ / "mlm_eval.json", report.dump(2) + "\n");
    log::info("step {}: held-out masked-token accuracy {:.4f} (unigram baseline {:.4f}), perplexity {:.2f}", step,
              accuracy, baseline, std::exp(loss));
    return {{"heldout_accuracy", accuracy}, {"heldout_perplexity", std::exp(loss)}};
  }

  // A masked-LM folder: the encoder under "roberta." and RoBERTa's lm_head.* tensors.
  void save_model(Encoder&, const fs::path& dir) override {
    tokens_.save_with_head(dir, head_.named_tensors(), "roberta.", "RobertaForMaskedLM");
  }

 private:
  // The encoder's tokens, cut to this recipe's length (the encoder cuts to its own, which may be longer).
  TokenBatch tokenize(const std::vector<std::string>& texts) const {
    TokenBatch batch = encoder_.tokenize(texts);
    const auto limit = static_cast<std::size_t>(max_seq_length_);
    for (auto& row : batch.ids) {
      if (row.size() <= limit) continue;
      row.resize(special_.eos >= 0 ? limit - 1 : limit);
      if (special_.eos >= 0) row.push_back(special_.eos);  // a cut text still ends as the model expects
    }
    return batch;
  }

  void count_tokens(const TokenBatch& rows) {
    for (const auto& row : rows.ids) {
      for (const std::int32_t id : row) {
        if (spec_.is_special(id)) continue;
        ++counts_[static_cast<std::size_t>(id)];
        note_count(id);
      }
    }
  }

  // Counts only grow, so checking each counted id keeps the most frequent exact (ties: the lower id).
  void note_count(std::int32_t id) {
    const auto i = static_cast<std::size_t>(id);
    if (counts_[i] == 0) return;
    if (most_frequent_ < 0) {
      most_frequent_ = id;
      return;
    }
    const std::int64_t best = counts_[static_cast<std::size_t>(most_frequent_)];
    if (counts_[i] > best || (counts_[i] == best && id < most_frequent_)) most_frequent_ = id;
  }

  // Each rank's loss is its selected tokens' summed cross-entropy over the global batch's count, times the
  // number of ranks: the services average the ranks' gradients (and losses), which then equal the
  // gradient (and loss) of the mean over the whole global batch, however the selected tokens fell.
  double loss_scale(const MlmBatch& b) const {
    return static_cast<double>(group_.world_size()) / static_cast<double>(b.global_selected);
  }

  // Loss (summed over the selected tokens), correct predictions and unigram hits; back-propagates the
  // loss times `backward_scale` unless that is 0.
  Tally score(const TokenBatch& inputs, const std::vector<std::int64_t>& positions,
              const std::vector<std::int64_t>& targets, double backward_scale) {
    Tally t;
    t.selected = static_cast<std::int64_t>(targets.size());
    const at::Tensor index = torch::tensor(positions, torch::kLong);
    const at::Tensor target = torch::tensor(targets, torch::kLong);
    const at::Tensor states = tokens_.token_states(inputs).index_select(0, index);
    // Logits of the selected tokens only: the same loss as scoring every token and ignoring the others, at
    // a seventh of the decoder's cost. Cross-entropy in fp32 whatever autocast did to the logits.
    const at::Tensor logits = head_.forward(states).to(torch::kFloat32);
    const at::Tensor loss_sum = torch::nn::functional::cross_entropy(
        logits, target, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum));
    if (backward_scale != 0) (loss_sum * backward_scale).backward();
    t.loss_sum = loss_sum.item<double>();
    t.correct = logits.argmax(1).eq(target).sum().item<std::int64_t>();
    if (unigram_token_ >= 0) t.unigram = target.eq(unigram_token_).sum().item<std::int64_t>();
    return t;
  }

  Encoder& encoder_;
  TokenEncoder& tokens_;
  const MlmSettings& settings_;
  fs::path output_dir_;
  ProcessGroup& group_;
  std::int64_t max_seq_length_;
  SpecialTokens special_;
  MaskingSpec spec_;
  LmHead head_;
  MaskedRows held_out_;
  // Loader thread's: the stream, the batch count and the token counts (data_state() reads them only while
  // the loader is not running, as the services promise).
  TextStream stream_;
  std::uint64_t mask_seed_;
  std::int64_t batches_ = 0;
  std::vector<std::int64_t> counts_;
  std::int32_t most_frequent_ = -1;
  // Training thread's: the baseline token as of the batch trained last.
  std::int32_t unigram_token_ = -1;
};

}  // namespace

MlmRecipe::MlmRecipe(const Config& config) : settings_(read_settings(config)) {}

void MlmRecipe::train(Encoder& encoder, TrainContext& context) {
  auto* tokens = dynamic_cast<TokenEncoder*>(&encoder);
  const EncoderInfo info = encoder.info();
  if (!tokens) {
    context.config.fail("plugin", fmt::format("the mlm recipe needs token-level outputs, and the '{}' encoder does "
                                              "not provide them (it is not a TokenEncoder); use [encoder] plugin = "
                                              "\"roberta\"",
                                              info.name));
  }
  const int world = context.group->world_size();
  if (settings_.batch_size % world != 0) {
    context.config.fail("batch_size", fmt::format("the global batch {} must split evenly between the {} ranks; use a "
                                                  "multiple of {}",
                                                  settings_.batch_size, world, world));
  }
  const std::int64_t max_seq_length = settings_.max_seq_length > 0 ? settings_.max_seq_length : info.max_tokens;
  if (max_seq_length > info.max_tokens) {
    context.config.fail("max_seq_length", fmt::format("{} exceeds the encoder's {} tokens; lower it, or raise the "
                                                      "encoder's max_seq_length",
                                                      max_seq_length, info.max_tokens));
  }
  MlmObjective objective(encoder, *tokens, settings_, context, max_seq_length);
  if (context.dry_run) {
    std::int64_t head = 0;
    for (const auto& p : objective.extra_parameters()) head += p.numel();
    fmt::print("dry run of mlm: {} steps of {} texts (max {} tokens, mask rate {}), {} encoder + {} LM-head "
               "parameters; {} held-out texts\n",
               settings_.train.steps, settings_.batch_size, max_seq_length, settings_.mask_rate, info.parameters, head,
               settings_.held_out);
    return;
  }

  TrainingOptions options;
  options.prefetch = settings_.prefetch;
  run_training(encoder, context, settings_.train, objective, options);
}

}  // namespace sentbench::mlm
