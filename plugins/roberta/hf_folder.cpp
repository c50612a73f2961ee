// Reading and writing Hugging Face RoBERTa folders with the SDK's safetensors reader.
#include "hf_folder.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <set>

#include "sentbench/errors.hpp"
#include "sentbench/io.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace sentbench::roberta {
namespace {

json read_json(const fs::path& path) {
  try {
    return json::parse(read_file(path));
  } catch (const json::exception& e) {
    throw DataError(fmt::format("{}: not valid JSON: {}", path.string(), e.what()));
  }
}

template <typename T>
void take(const json& j, const char* key, T& field) {
  if (j.contains(key) && !j[key].is_null()) field = j[key].get<T>();
}

torch::ScalarType to_torch(DType dtype) {
  switch (dtype) {
    case DType::kF32: return torch::kFloat32;
    case DType::kF16: return torch::kFloat16;
    case DType::kBF16: return torch::kBFloat16;
    case DType::kF64: return torch::kFloat64;
    case DType::kI64: return torch::kInt64;
    case DType::kI32: return torch::kInt32;
    case DType::kU8: return torch::kUInt8;
  }
  return torch::kFloat32;
}

std::string shape_str(c10::IntArrayRef shape) { return fmt::format("[{}]", fmt::join(shape, ", ")); }

}  // namespace

RobertaConfig read_config(const fs::path& config_json) {
  const json j = read_json(config_json);
  RobertaConfig c;
  take(j, "vocab_size", c.vocab_size);
  take(j, "hidden_size", c.hidden_size);
  take(j, "num_hidden_layers", c.num_hidden_layers);
  take(j, "num_attention_heads", c.num_attention_heads);
  take(j, "intermediate_size", c.intermediate_size);
  take(j, "max_position_embeddings", c.max_position_embeddings);
  take(j, "type_vocab_size", c.type_vocab_size);
  take(j, "pad_token_id", c.pad_token_id);
  take(j, "bos_token_id", c.bos_token_id);
  take(j, "eos_token_id", c.eos_token_id);
  take(j, "layer_norm_eps", c.layer_norm_eps);
  take(j, "hidden_dropout_prob", c.hidden_dropout_prob);
  take(j, "attention_probs_dropout_prob", c.attention_probs_dropout_prob);
  take(j, "initializer_range", c.initializer_range);
  take(j, "hidden_act", c.hidden_act);
  if (j.contains("model_type") && j["model_type"] != "roberta" && j["model_type"] != "xlm-roberta") {
    throw ConfigError(fmt::format("{}: model_type '{}' is not a RoBERTa model", config_json.string(),
                                  j["model_type"].get<std::string>()));
  }
  return c;
}

SentenceSettings read_sentence_settings(const fs::path& dir) {
  SentenceSettings s;
  if (fs::exists(dir / "sentence_bert_config.json")) {
    const json j = read_json(dir / "sentence_bert_config.json");
    if (j.contains("max_seq_length") && j["max_seq_length"].is_number()) s.max_seq_length = j["max_seq_length"].get<std::int64_t>();
    if (j.contains("do_lower_case") && j["do_lower_case"].is_boolean()) s.do_lower_case = j["do_lower_case"].get<bool>();
  }
  if (!fs::exists(dir / "modules.json")) return s;
  s.normalize = false;
  for (const auto& module : read_json(dir / "modules.json")) {
    const std::string type = module.value("type", "");
    if (type.find("Normalize") != std::string::npos) s.normalize = true;
    if (type.find("Pooling") != std::string::npos) {
      const fs::path cfg = dir / module.value("path", "1_Pooling") / "config.json";
      if (!fs::exists(cfg)) continue;
      const json p = read_json(cfg);
      for (const auto& [flag, mode] : {std::pair{"pooling_mode_mean_tokens", "mean"}, std::pair{"pooling_mode_cls_token", "cls"},
                                        std::pair{"pooling_mode_max_tokens", "max"}}) {
        if (p.value(flag, false)) s.pooling = mode;
      }
    }
  }
  return s;
}

fs::path weights_file(const fs::path& dir) {
  if (fs::exists(dir / "model.safetensors")) return dir / "model.safetensors";
  if (fs::exists(dir / "model.safetensors.index.json")) {
    throw ConfigError(fmt::format("{}: sharded safetensors checkpoints are not supported yet; merge the shards into "
                                  "one model.safetensors", dir.string()));
  }
  for (const char* pickled : {"pytorch_model.bin", "model.bin", "pytorch_model.bin.index.json"}) {
    if (fs::exists(dir / pickled)) {
      throw ConfigError(fmt::format(
          "{}: refusing the pickled checkpoint {} (loading a pickle can run arbitrary code). Convert it once with "
          "Python: `from transformers import AutoModel; AutoModel.from_pretrained(\"{}\").save_pretrained(\"{}\", "
          "safe_serialization=True)`, which writes model.safetensors",
          dir.string(), pickled, dir.string(), dir.string()));
    }
  }
  throw ConfigError(fmt::format("{}: no model.safetensors in this folder (is it a Hugging Face model folder?)", dir.string()));
}

void load_weights(RobertaModel& model, const fs::path& dir) {
  const SafetensorsFile file = SafetensorsFile::open(weights_file(dir));
  auto params = model->named_parameters(true);
  std::set<std::string> seen;
  std::vector<std::string> unexpected, misshaped;
  torch::NoGradGuard no_grad;
  for (const auto& [raw_name, view] : file.tensors()) {
    std::string name = raw_name;
    if (name.rfind("roberta.", 0) == 0) name = name.substr(8);  // masked-LM checkpoints (roberta-large on the hub)
    if (name.rfind("lm_head.", 0) == 0 || name.rfind("pooler.", 0) == 0 ||
        name == "embeddings.position_ids") {
      continue;  // heads and buffers a sentence encoder does not use
    }
    torch::Tensor* target = params.find(name);
    if (!target) {
      unexpected.push_back(raw_name);
      continue;
    }
    const torch::Tensor source =
        torch::from_blob(const_cast<std::byte*>(view.data), view.shape, torch::TensorOptions().dtype(to_torch(view.dtype)));
    if (source.sizes() != target->sizes()) {
      misshaped.push_back(fmt::format("{} is {} in the file, the config needs {}", raw_name, shape_str(source.sizes()),
                                      shape_str(target->sizes())));
      seen.insert(name);  // reported as mis-shaped, not also as missing
      continue;
    }
    target->copy_(source);
    seen.insert(name);
  }
  std::vector<std::string> missing;
  for (const auto& item : params) {
    if (!seen.count(item.key())) missing.push_back(item.key());
  }
  if (!missing.empty() || !unexpected.empty() || !misshaped.empty()) {
    std::string message = fmt::format("{} does not match its config.json:", file.path().string());
    if (!missing.empty()) message += fmt::format("\n  missing ({}): {}", missing.size(), fmt::join(missing, ", "));
    if (!unexpected.empty()) message += fmt::format("\n  unexpected ({}): {}", unexpected.size(), fmt::join(unexpected, ", "));
    if (!misshaped.empty()) message += fmt::format("\n  wrong shape ({}): {}", misshaped.size(), fmt::join(misshaped, "; "));
    throw ConfigError(message);
  }
}

void save_model_files(const RobertaModel& model, const fs::path& dir, const std::string& pooling, bool normalize,
                      std::int64_t max_seq_length, const ModelHead& head) {
  const RobertaConfig& c = model->config;
  const json config = {{"architectures", {head.architecture}}, {"model_type", "roberta"},
                       {"vocab_size", c.vocab_size}, {"hidden_size", c.hidden_size},
                       {"num_hidden_layers", c.num_hidden_layers}, {"num_attention_heads", c.num_attention_heads},
                       {"intermediate_size", c.intermediate_size}, {"max_position_embeddings", c.max_position_embeddings},
                       {"type_vocab_size", c.type_vocab_size}, {"pad_token_id", c.pad_token_id},
                       {"bos_token_id", c.bos_token_id}, {"eos_token_id", c.eos_token_id},
                       {"layer_norm_eps", c.layer_norm_eps}, {"hidden_dropout_prob", c.hidden_dropout_prob},
                       {"attention_probs_dropout_prob", c.attention_probs_dropout_prob},
                       {"initializer_range", c.initializer_range}, {"hidden_act", c.hidden_act},
                       {"position_embedding_type", "absolute"}, {"torch_dtype", "float32"}};
  write_file_atomic(dir / "config.json", config.dump(2) + "\n");

  std::vector<torch::Tensor> keep;  // owns the contiguous float copies while the views point at them
  std::map<std::string, TensorView> views;
  const auto add = [&](const std::string& name, const torch::Tensor& value) {
    torch::Tensor t = value.detach().to(torch::kFloat32).contiguous();
    keep.push_back(t);
    const bool fresh = views.emplace(name, TensorView{DType::kF32, t.sizes().vec(),
                                                      reinterpret_cast<const std::byte*>(t.data_ptr()),
                                                      static_cast<std::size_t>(t.numel()) * 4}).second;
    if (!fresh) throw Error(fmt::format("saving {}: the tensor name {} is used twice (a head tensor named like an "
                                        "encoder tensor?)", dir.string(), name));
  };
  for (const auto& item : model->named_parameters(true)) add(head.prefix + item.key(), item.value());
  for (const auto& [name, value] : head.tensors) add(name, value);
  write_safetensors(dir / "model.safetensors", views, {{"format", "pt"}});

  write_file_atomic(dir / "sentence_bert_config.json",
                    json{{"max_seq_length", max_seq_length}, {"do_lower_case", false}}.dump(2) + "\n");
  json modules = json::array({
      {{"idx", 0}, {"name", "0"}, {"path", ""}, {"type", "sentence_transformers.models.Transformer"}},
      {{"idx", 1}, {"name", "1"}, {"path", "1_Pooling"}, {"type", "sentence_transformers.models.Pooling"}},
  });
  if (normalize) {
    modules.push_back({{"idx", 2}, {"name", "2"}, {"path", "2_Normalize"}, {"type", "sentence_transformers.models.Normalize"}});
    fs::create_directories(dir / "2_Normalize");
  }
  write_file_atomic(dir / "modules.json", modules.dump(2) + "\n");
  const json pooling_config = {{"word_embedding_dimension", c.hidden_size},
                               {"pooling_mode_cls_token", pooling == "cls"},
                               {"pooling_mode_mean_tokens", pooling == "mean"},
                               {"pooling_mode_max_tokens", pooling == "max"},
                               {"pooling_mode_mean_sqrt_len_tokens", false}};
  write_file_atomic(dir / "1_Pooling" / "config.json", pooling_config.dump(2) + "\n");
}

}  // namespace sentbench::roberta
