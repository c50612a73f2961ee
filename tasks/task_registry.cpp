// The task-type registry, the cached encode path every task uses, and the embedding cache.
#include <chrono>
#include <cstdlib>
#include <map>
#include <mutex>

#include <fmt/format.h>
#include <torch/torch.h>

#include "embedding_cache.hpp"
#include "sentbench/errors.hpp"
#include "sentbench/eval_keys.hpp"
#include "sentbench/io.hpp"
#include "sentbench/log.hpp"
#include "task.hpp"

namespace fs = std::filesystem;

namespace sentbench {

Task::~Task() = default;

Scores Task::evaluate_lexical(TaskContext&) {
  throw std::logic_error(fmt::format("task type {} has no lexical baseline", type()));
}

namespace {
std::map<std::string, TaskTypeSpec>& registry() {
  static std::map<std::string, TaskTypeSpec> types;
  return types;
}
std::mutex& registry_mutex() {
  static std::mutex m;
  return m;
}
}  // namespace

void register_task_type(TaskTypeSpec spec) {
  const std::string type = spec.info.type;
  if (type.empty() || !spec.factory) throw std::logic_error("register_task_type: a task type needs a name and a factory");
  if (spec.info.main_metric.empty()) throw std::logic_error("task type " + type + " names no main metric");
  std::lock_guard<std::mutex> lock(registry_mutex());
  register_eval_type(type, spec.keys);
  registry()[type] = std::move(spec);
}

const TaskTypeSpec* find_task_type(const std::string& type) {
  std::lock_guard<std::mutex> lock(registry_mutex());
  auto it = registry().find(type);
  return it == registry().end() ? nullptr : &it->second;
}

std::vector<std::string> task_types() {
  std::lock_guard<std::mutex> lock(registry_mutex());
  std::vector<std::string> names;
  for (const auto& [name, spec] : registry()) names.push_back(name);
  return names;
}

std::unique_ptr<Task> make_task(const Config& table) {
  const std::string type = table.get_string("type");
  const TaskTypeSpec* spec = find_task_type(type);
  if (!spec) table.fail("type", fmt::format("unknown eval type '{}' (known: {})", type, fmt::join(task_types(), ", ")));
  return spec->factory(table);
}

// ---- embedding cache ------------------------------------------------------------------------------

EmbeddingCache::EmbeddingCache(fs::path dir) : dir_(std::move(dir)) {
  if (!dir_.empty()) return;
  if (const char* env = std::getenv("SENTBENCH_CACHE")) {
    dir_ = env;
  } else if (const char* xdg = std::getenv("XDG_CACHE_HOME")) {
    dir_ = fs::path(xdg) / "sentbench" / "embeddings";
  } else if (const char* home = std::getenv("HOME")) {
    dir_ = fs::path(home) / ".cache" / "sentbench" / "embeddings";
  } else {
    dir_ = fs::temp_directory_path() / "sentbench-cache";
  }
}

std::optional<at::Tensor> EmbeddingCache::get(const std::string& key) const {
  const fs::path file = dir_ / (key + ".safetensors");
  if (!fs::exists(file)) return std::nullopt;
  try {
    const SafetensorsFile st = SafetensorsFile::open(file);
    const TensorView& v = st.at("embeddings");
    if (v.dtype != DType::kF32 || v.shape.size() != 2) return std::nullopt;
    return torch::from_blob(const_cast<std::byte*>(v.data), v.shape, torch::kFloat32).clone();
  } catch (const Error& e) {
    log::warn("ignoring a corrupt cache entry {}: {}", file.string(), e.what());
    return std::nullopt;
  }
}

void EmbeddingCache::put(const std::string& key, const at::Tensor& embeddings) const {
  const at::Tensor t = embeddings.to(torch::kFloat32).contiguous();
  std::map<std::string, TensorView> views;
  views["embeddings"] = TensorView{DType::kF32, t.sizes().vec(), reinterpret_cast<const std::byte*>(t.data_ptr()),
                                   static_cast<std::size_t>(t.numel()) * 4};
  try {
    write_safetensors(dir_ / (key + ".safetensors"), views);
  } catch (const Error& e) {
    log::warn("could not write the embedding cache: {}", e.what());  // a cache is never worth failing a run
  }
}

std::string model_key(Encoder& encoder) {
  const EncoderInfo i = encoder.info();
  std::string digest = fmt::format("{}|{}|{}|{}|{}|{}|{}", i.name, i.model, i.dim, i.max_tokens, i.pooling,
                                   i.normalize, i.parameters);
  // Hash each parameter in place (no copy of a large model), then hash the list of hashes.
  for (const at::Tensor& p : encoder.parameters()) {
    const at::Tensor c = p.detach().contiguous();
    digest += '|' + hash_bytes(std::string_view(static_cast<const char*>(c.data_ptr()), c.numel() * c.element_size()));
  }
  return hash_bytes(digest);
}

Encoded encode_texts(Encoder& encoder, const std::vector<std::string>& texts, TaskContext& context,
                     const std::string& what) {
  Encoded out;
  std::string key;
  if (context.cache) {
    std::string all;
    for (const auto& t : texts) (all += t) += '\0';
    // The token ids too: an encoder's parameters and settings do not show its tokenizer (a rebuilt
    // vocabulary of the same size leaves a random-init model's weights unchanged), its ids do.
    std::string ids;
    for (const auto& row : encoder.tokenize(texts).ids) {
      ids.append(reinterpret_cast<const char*>(row.data()), row.size() * sizeof(row.front()));
      ids.append(4, '\xff');  // row separator: -1 is never an id
    }
    key = hash_bytes(fmt::format("{}|{}|{}|{}", context.model_key, what, hash_bytes(all), hash_bytes(ids)));
    if (auto hit = context.cache->get(key)) {
      if (hit->size(0) == static_cast<std::int64_t>(texts.size())) {
        out.embeddings = *hit;
        out.cache_hit = true;
        return out;
      }
    }
  }
  EncodeOptions options = context.encode;
  options.label = fmt::format("{} {}", context.label, what);
  const auto start = std::chrono::steady_clock::now();
  out.embeddings = encoder.encode(texts, options);
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (context.cache) context.cache->put(key, out.embeddings);
  return out;
}

}  // namespace sentbench
