// Hugging Face / sentence-transformers model folders: read config + weights + pooling settings, write a
// folder that sentence-transformers loads.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "roberta_model.hpp"

namespace sentbench::roberta {

// What a sentence-transformers folder says about the pipeline around the transformer.
struct SentenceSettings {
  std::optional<std::string> pooling;        // from 1_Pooling/config.json
  std::optional<bool> normalize;             // a Normalize module in modules.json
  std::optional<std::int64_t> max_seq_length;  // sentence_bert_config.json
  std::optional<bool> do_lower_case;
};

RobertaConfig read_config(const std::filesystem::path& config_json);
SentenceSettings read_sentence_settings(const std::filesystem::path& dir);

// Loads model.safetensors into `model`. Accepts RobertaModel keys and masked-LM checkpoints (prefix
// "roberta.", lm_head.* and pooler.* ignored); F32/F16/BF16 converted to the model's dtype. Missing,
// unexpected or mis-shaped tensors: one ConfigError listing them all. Pickled .bin files are refused.
void load_weights(RobertaModel& model, const std::filesystem::path& dir);

// The model folder's weights file, or an error saying what is there instead and how to convert it.
std::filesystem::path weights_file(const std::filesystem::path& dir);

// What a folder holds beside the encoder: a task head (e.g. RobertaForMaskedLM's lm_head.*) and the
// names Hugging Face gives the whole. The default is a plain RobertaModel folder.
struct ModelHead {
  std::string prefix;                       // before every encoder key ("roberta." in a masked-LM folder)
  std::string architecture = "RobertaModel";  // config.json "architectures"
  std::vector<std::pair<std::string, torch::Tensor>> tensors;  // saved under their own names
};

// Writes config.json, model.safetensors (the encoder's keys under head.prefix, then the head's tensors;
// F32), sentence_bert_config.json, modules.json, 1_Pooling/config.json into dir (the tokenizer files are
// written by the caller). The sentence-transformers files stay in a masked-LM folder too: the next
// training stage, or `roberta` loading it, keeps the pooling the encoder had.
void save_model_files(const RobertaModel& model, const std::filesystem::path& dir, const std::string& pooling,
                      bool normalize, std::int64_t max_seq_length, const ModelHead& head = {});

}  // namespace sentbench::roberta
