// The harness's recipe keys and `sentbench validate` (see recipe_schema.hpp).
#include "recipe_schema.hpp"

#include <algorithm>
#include <cstring>
#include <map>
#include <mutex>
#include <utility>

#include <fmt/format.h>

#include "plugin_host.hpp"

namespace sentbench {

namespace {

// Task types and their extra keys. Tasks register from static initializers in other libraries, so the
// map lives in a function (constructed on first use) behind a lock.
struct EvalRegistry {
  std::mutex mutex;
  std::map<std::string, std::vector<KeySpec>> types;
};

EvalRegistry& eval_registry() {
  static EvalRegistry registry;
  return registry;
}

std::optional<std::vector<KeySpec>> eval_type_keys(const std::string& type) {
  EvalRegistry& registry = eval_registry();
  std::lock_guard<std::mutex> lock(registry.mutex);
  auto it = registry.types.find(type);
  if (it == registry.types.end()) return std::nullopt;
  return it->second;
}

std::string join_key(const std::string& prefix, const std::string& key) {
  return prefix.empty() ? key : prefix + "." + key;
}

std::string table_label(const std::string& path) {
  if (path.empty()) return "the top level";
  if (path.find('[') != std::string::npos) return "table '" + path + "'";
  return "[" + path + "]";
}

std::string section_label(const std::string& section) {
  return section == "eval" || section == "stage" ? "[[" + section + "]]" : "[" + section + "]";
}

std::string join(const std::vector<std::string>& items, const std::string& separator = ", ") {
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "" : separator) + item;
  return out;
}

// What follows "unknown X 'word'": the closest known name, else `if_none` when nothing is known, else
// the known names after `listing`.
std::string name_hint(const std::string& word, const std::vector<std::string>& known, const std::string& if_none,
                      const std::string& listing) {
  const std::string suggestion = closest_match(word, known);
  if (!suggestion.empty()) return fmt::format("; did you mean '{}'?", suggestion);
  if (known.empty()) return "; " + if_none;
  return fmt::format(" ({}: {})", listing, join(known));
}

const char* kind_name(PluginKind kind) { return kind == PluginKind::kEncoder ? "encoder" : "recipe"; }
const char* a_kind(PluginKind kind) { return kind == PluginKind::kEncoder ? "an encoder" : "a recipe"; }

void add(std::vector<RecipeProblem>& out, SourceLocation where, std::string message) {
  out.push_back(RecipeProblem{std::move(where), std::move(message)});
}

// Checks declared keys (presence, type) and, when `check_unknown`, flags keys nobody declared. Dotted
// specs ("init.hidden") declare sub-tables; a required key inside a sub-table is only missing when the
// sub-table is there (declare the sub-table itself required to demand it).
void check_table(const Config& table, const std::vector<KeySpec>& keys, bool check_unknown,
                 std::vector<RecipeProblem>& out) {
  std::vector<const KeySpec*> direct;
  std::vector<std::pair<std::string, std::vector<KeySpec>>> nested;  // declaration order
  for (const KeySpec& spec : keys) {
    const char* dot = std::strchr(spec.name, '.');
    if (!dot) {
      direct.push_back(&spec);
      continue;
    }
    const std::string prefix(spec.name, dot);
    auto it = std::find_if(nested.begin(), nested.end(), [&](const auto& group) { return group.first == prefix; });
    if (it == nested.end()) it = nested.insert(nested.end(), {prefix, {}});
    // The rest of the name is a suffix of the same C string, so it lives as long as the spec does.
    it->second.push_back(KeySpec{dot + 1, spec.type, spec.required, spec.help});
  }

  for (const KeySpec* spec : direct) {
    const std::string full = join_key(table.path(), spec->name);
    const std::optional<ValueType> type = table.type_of(spec->name);
    if (!type) {
      if (spec->required) {
        add(out, table.where(),
            fmt::format("missing required key '{}' in {} ({}: {})", full, table_label(table.path()),
                        type_phrase(spec->type), spec->help ? spec->help : ""));
      }
    } else if (!accepts(spec->type, *type)) {
      add(out, table.where(spec->name),
          fmt::format("key '{}': expected {}, found {}", full, type_phrase(spec->type), table.describe(spec->name)));
    }
  }

  for (const auto& entry : nested) {
    const std::string& prefix = entry.first;  // a named variable: C++17 lambdas cannot capture a binding
    const auto& specs = entry.second;
    const std::optional<ValueType> type = table.type_of(prefix);
    if (!type) continue;
    if (*type == ValueType::kTable) {
      check_table(table.table(prefix), specs, check_unknown, out);
      continue;
    }
    const bool declared =
        std::any_of(direct.begin(), direct.end(), [&](const KeySpec* s) { return s->name == prefix; });
    if (!declared) {  // a direct spec of that name already judged its type
      add(out, table.where(prefix),
          fmt::format("key '{}': expected a table, found {}", join_key(table.path(), prefix), table.describe(prefix)));
    }
  }

  if (!check_unknown) return;
  std::vector<std::string> known;
  for (const KeySpec* spec : direct) known.emplace_back(spec->name);
  for (const auto& group : nested) {
    if (std::find(known.begin(), known.end(), group.first) == known.end()) known.push_back(group.first);
  }
  for (const std::string& key : table.keys()) {
    if (std::find(known.begin(), known.end(), key) != known.end()) continue;
    std::string message = fmt::format("unknown key '{}'", join_key(table.path(), key));
    const std::string suggestion = closest_match(key, known);
    if (!suggestion.empty()) {
      message += fmt::format("; did you mean '{}'?", join_key(table.path(), suggestion));
    } else if (known.empty()) {
      message += fmt::format(" ({} takes no keys)", table_label(table.path()));
    } else {
      message += fmt::format(" (valid keys in {}: {})", table_label(table.path()), join(known));
    }
    add(out, table.where(key), std::move(message));
  }
}

// [encoder] and [train]: the harness's keys, then the plugin's own keys once the plugin is known.
void check_plugin_section(const Config& section, const std::vector<KeySpec>& harness_keys, PluginKind kind,
                          const PluginHost* host, std::vector<RecipeProblem>& out) {
  const PluginRecord* record = nullptr;
  if (host && section.type_of("plugin") == ValueType::kString) {
    const std::string name = section.get_string("plugin");
    record = host->find(name, kind);
    if (!record) {
      const PluginKind other = kind == PluginKind::kEncoder ? PluginKind::kRecipe : PluginKind::kEncoder;
      std::string message;
      if (host->find(name, other)) {
        message = fmt::format("'{}' is {} plugin, not {} plugin", name, a_kind(other), a_kind(kind));
      } else {
        message = fmt::format("unknown {} plugin '{}'", kind_name(kind), name) +
                  name_hint(name, host->names(kind),
                            fmt::format("no {} plugins were found (see `sentbench plugins`, [run].plugin_dirs and "
                                        "$SENTBENCH_PLUGIN_PATH)",
                                        kind_name(kind)),
                            "available");
      }
      add(out, section.where("plugin"), std::move(message));
    }
  }
  if (!record) {
    // Without the plugin's declarations the other keys cannot be judged: only the harness's are checked.
    check_table(section, harness_keys, false, out);
    return;
  }
  std::vector<KeySpec> keys = harness_keys;
  keys.insert(keys.end(), record->keys.begin(), record->keys.end());
  check_table(section, keys, true, out);
}

void check_eval(const Config& eval, std::vector<RecipeProblem>& out) {
  if (eval.type_of("type") != ValueType::kString) {
    check_table(eval, eval_keys(), false, out);  // reports the missing or mistyped type
    return;
  }
  const std::string type = eval.get_string("type");
  const std::optional<std::vector<KeySpec>> extra = eval_type_keys(type);
  if (!extra) {
    add(out, eval.where("type"),
        fmt::format("unknown eval type '{}'", type) +
            name_hint(type, eval_types(), "no eval types are registered", "known types"));
    check_table(eval, eval_keys(), false, out);
    return;
  }
  std::vector<KeySpec> keys = eval_keys();
  keys.insert(keys.end(), extra->begin(), extra->end());
  check_table(eval, keys, true, out);
}

// The tables of an array of tables ([[eval]], [[stage]]), in order with their index. With `out`, what is
// not such an array (`each` says what one table is for) or not a table is reported; without, left out.
std::vector<std::pair<std::size_t, Config>> array_tables(const Config& recipe, const std::string& name,
                                                         const std::string& each, std::vector<RecipeProblem>* out) {
  std::vector<std::pair<std::size_t, Config>> tables;
  const std::optional<ValueType> type = recipe.type_of(name);
  if (type != ValueType::kArray) {
    if (!out || !type) return tables;
    std::string message = fmt::format("key '{}': expected an array of tables ([[{}]]), found {}", name, name,
                                      recipe.describe(name));
    if (type == ValueType::kTable) message += fmt::format("; write [[{}]] ({}) instead of [{}]", name, each, name);
    add(*out, recipe.where(name), std::move(message));
    return tables;
  }
  for (std::size_t i = 0;; ++i) {
    const std::string key = fmt::format("{}[{}]", name, i);
    const std::optional<ValueType> item = recipe.type_of(key);
    if (!item) break;
    if (*item == ValueType::kTable) {
      tables.emplace_back(i, recipe.table(key));
    } else if (out) {
      add(*out, recipe.where(key), fmt::format("key '{}': expected a table, found {}", key, recipe.describe(key)));
    }
  }
  return tables;
}

void check_evals(const Config& recipe, std::vector<RecipeProblem>& out) {
  std::map<std::string, SourceLocation> names;  // reports key results by name, so names must be unique
  for (const auto& [index, eval] : array_tables(recipe, "eval", "one per task", &out)) {
    check_eval(eval, out);
    if (eval.type_of("name") == ValueType::kString) {
      const std::string name = eval.get_string("name");
      auto [it, inserted] = names.emplace(name, eval.where("name"));
      if (!inserted) {
        add(out, eval.where("name"),
            fmt::format("duplicate eval name '{}' (also used at {}); names must be unique", name, it->second.str()));
      }
    }
  }
}

// The names [[eval]] tables are known by (their name, else their type), for eval_tasks.
std::vector<std::string> eval_names(const Config& recipe) {
  std::vector<std::string> names;
  for (const auto& [index, eval] : array_tables(recipe, "eval", "", nullptr)) {
    if (eval.type_of("name") == ValueType::kString) {
      names.push_back(eval.get_string("name"));
    } else if (eval.type_of("type") == ValueType::kString) {
      names.push_back(eval.get_string("type"));
    }
  }
  return names;
}

// The harness's part of the evaluation keys of a [train] or [[stage]] table: the names in eval_tasks
// must be [[eval]] tasks of the recipe, and eval_max_items a count. (Their types are the plugin's
// KeySpecs' business; a wrong type is reported there.)
void check_training_eval_keys(const Config& train, const std::vector<std::string>& evals,
                              std::vector<RecipeProblem>& out) {
  if (train.type_of("eval_tasks") == ValueType::kArray) {
    for (std::size_t i = 0;; ++i) {
      const std::string key = fmt::format("eval_tasks[{}]", i);
      const std::optional<ValueType> type = train.type_of(key);
      if (!type) break;
      if (*type != ValueType::kString) {
        add(out, train.where(key), fmt::format("key '{}': expected the name of an [[eval]] task (a string), found {}",
                                               join_key(train.path(), key), train.describe(key)));
        continue;
      }
      const std::string name = train.get_string(key);
      if (std::find(evals.begin(), evals.end(), name) != evals.end()) continue;
      add(out, train.where(key),
          fmt::format("key '{}': no [[eval]] task is named '{}'", join_key(train.path(), "eval_tasks"), name) +
              name_hint(name, evals, "the recipe has no [[eval]] tasks (add them, or remove eval_tasks)",
                        "the recipe's tasks"));
    }
  }
  if (train.type_of("eval_max_items") == ValueType::kInteger && train.get_int("eval_max_items") < 0) {
    add(out, train.where("eval_max_items"),
        fmt::format("key '{}': must be 0 (the whole task) or a positive number of items, found {}",
                    join_key(train.path(), "eval_max_items"), train.get_int("eval_max_items")));
  }
}

}  // namespace

std::string stage_name(const Config& stage, std::size_t index) {
  if (stage.type_of("name") == ValueType::kString) return stage.get_string("name");
  const std::string plugin = stage.type_of("plugin") == ValueType::kString ? stage.get_string("plugin") : "stage";
  return fmt::format("{}-{}", index + 1, plugin);
}

namespace {

// [[stage]] tables: each one a [train] table of its own plugin, with a name that is a folder name
// (stages/<name>/) unique in the recipe.
void check_stages(const Config& recipe, const PluginHost* host, std::vector<RecipeProblem>& out) {
  if (recipe.type_of("stage") == ValueType::kArray && !recipe.contains("stage[0]")) {
    add(out, recipe.where("stage"), "key 'stage': the list of [[stage]] tables is empty");
    return;
  }
  std::map<std::string, SourceLocation> names;
  for (const auto& [i, stage] : array_tables(recipe, "stage", "one per training stage", &out)) {
    check_plugin_section(stage, stage_keys(), PluginKind::kRecipe, host, out);
    const std::string name = stage_name(stage, i);
    const SourceLocation where = stage.contains("name") ? stage.where("name") : stage.where();
    // The name is a folder under stages/: one plain path component.
    if (name.empty() || name == "." || name == ".." || name.find_first_of("/\\") != std::string::npos ||
        name.find('\0') != std::string::npos) {
      add(out, where, fmt::format("stage name '{}' cannot be a folder name (stages/<name>/): use letters, digits, "
                                  "'-', '_' or '.', without '/'", name));
      continue;
    }
    auto [it, inserted] = names.emplace(name, where);
    if (!inserted) {
      add(out, where,
          fmt::format("duplicate stage name '{}' (also used at {}); give each [[stage]] its own name = \"...\"", name,
                      it->second.str()));
    }
  }
}

}  // namespace

const std::vector<KeySpec>& run_keys() {
  static const std::vector<KeySpec> keys = {
      {"name", ValueType::kString, false, "name of the run; labels the output folder and the report"},
      {"output_dir", ValueType::kPath, false, "folder for checkpoints, logs and the report (relative to the recipe)"},
      {"seed", ValueType::kInteger, false, "seed for initialization, data order and sampling"},
      {"threads", ValueType::kInteger, false, "cores to use (0 = all); each kind of work gives them to LibTorch's or OpenBLAS's pool (sentbench/threads.hpp)"},
      {"plugin_dirs", ValueType::kArray, false, "extra folders (strings) searched for plugins"},
      {"deterministic", ValueType::kBoolean, false, "use deterministic kernels: reproducible but slower"},
      {"dist_backend", ValueType::kString, false, "distributed training backend: \"auto\" (default) or \"gloo\""},
      {"dist_timeout", ValueType::kFloat, false,
       "seconds a rank waits for the others (rendezvous, each collective) before failing (default 300)"},
      {"dist_bucket_mb", ValueType::kFloat, false, "MiB of gradients per all-reduce bucket (default 4)"},
  };
  return keys;
}

const std::vector<KeySpec>& encoder_keys() {
  static const std::vector<KeySpec> keys = {
      {"plugin", ValueType::kString, true, "the encoder plugin to load, e.g. \"roberta\" (see `sentbench plugins`)"},
  };
  return keys;
}

const std::vector<KeySpec>& train_keys() {
  static const std::vector<KeySpec> keys = {
      {"plugin", ValueType::kString, true,
       "the training recipe plugin, e.g. \"contrastive\" (see `sentbench plugins`)"},
  };
  return keys;
}

const std::vector<KeySpec>& stage_keys() {
  static const std::vector<KeySpec> keys = {
      {"plugin", ValueType::kString, true,
       "the training recipe plugin of this stage, e.g. \"mlm\" or \"contrastive\" (see `sentbench plugins`)"},
      {"name", ValueType::kString, false,
       "the stage's name: its folder stages/<name>/ and its label in logs and reports (default \"<index>-<plugin>\")"},
  };
  return keys;
}

const std::vector<KeySpec>& eval_keys() {
  static const std::vector<KeySpec> keys = {
      {"type", ValueType::kString, true, "the task type, e.g. \"retrieval\", \"sts\" or \"clustering\""},
      {"name", ValueType::kString, false, "label of the task in reports; unique among [[eval]] tables"},
      {"baselines", ValueType::kArray, false, "baselines scored beside the model: \"lexical\" (BM25 or TF-IDF), "
                                             "\"random-init\"; default both"},
      {"optional", ValueType::kBoolean, false, "skip the task with a note (instead of failing) when its data is absent"},
  };
  return keys;
}

const std::vector<KeySpec>& report_keys() {
  static const std::vector<KeySpec> keys = {
      {"formats", ValueType::kArray, false, "report files to write: \"json\", \"md\", \"html\", \"mteb\" (a folder of MTEB results files)"},
      {"title", ValueType::kString, false, "title of the Markdown and HTML reports"},
      {"tolerance", ValueType::kTable, false, "how far a run may fall behind a baseline before `regress` fails"},
      {"tolerance.main_score", ValueType::kFloat, false, "largest allowed drop of a task's main score (absolute)"},
      {"tolerance.throughput", ValueType::kFloat, false, "largest allowed relative drop in throughput (0.1 = 10%)"},
      {"tolerance.significance", ValueType::kBoolean, false,
       "also fail a main-score drop that the paired bootstrap finds significant (default true)"},
      {"tolerance.min_drop", ValueType::kFloat, false, "a significant drop fails only when larger than this (default 0.001)"},
      {"tolerance.alpha", ValueType::kFloat, false, "1 - level of the bootstrap interval (0.05: 95%)"},
  };
  return keys;
}

void register_eval_type(const std::string& type, std::vector<KeySpec> keys) {
  EvalRegistry& registry = eval_registry();
  std::lock_guard<std::mutex> lock(registry.mutex);
  registry.types[type] = std::move(keys);
}

std::vector<std::string> eval_types() {
  EvalRegistry& registry = eval_registry();
  std::lock_guard<std::mutex> lock(registry.mutex);
  std::vector<std::string> out;
  for (const auto& entry : registry.types) out.push_back(entry.first);
  return out;
}

std::vector<Config> training_tables(const Config& recipe) {
  std::vector<Config> out;
  if (recipe.type_of("train") == ValueType::kTable) out.push_back(recipe.table("train"));
  for (const auto& [index, stage] : array_tables(recipe, "stage", "", nullptr)) out.push_back(stage);
  return out;
}

std::string RecipeProblem::str() const {
  const std::string location = where.str();
  return location.empty() ? message : location + ": " + message;
}

void validate_table(const Config& table, const std::vector<KeySpec>& keys, std::vector<RecipeProblem>& out) {
  check_table(table, keys, true, out);
}

namespace {

// One top-level section of a recipe and how to check it: a registry, so a new section is one entry.
struct Section {
  const char* name;
  const std::vector<KeySpec>& (*keys)();  // the harness's keys of the section
  // Checks the section's value in the recipe (its type included) and appends what is wrong.
  void (*check)(const Config& recipe, const PluginHost* host, std::vector<RecipeProblem>& out);
};

// The section's table, or nullopt (and a problem) when the recipe gives it something else.
std::optional<Config> section_table(const Config& recipe, const char* name, std::vector<RecipeProblem>& out) {
  if (recipe.type_of(name) == ValueType::kTable) return recipe.table(name);
  add(out, recipe.where(name),
      fmt::format("key '{}': expected a table ([{}]), found {}", name, name, recipe.describe(name)));
  return std::nullopt;
}

void check_run(const Config& recipe, const PluginHost*, std::vector<RecipeProblem>& out) {
  if (auto run = section_table(recipe, "run", out)) validate_table(*run, run_keys(), out);
}
void check_encoder(const Config& recipe, const PluginHost* host, std::vector<RecipeProblem>& out) {
  if (auto encoder = section_table(recipe, "encoder", out)) {
    check_plugin_section(*encoder, encoder_keys(), PluginKind::kEncoder, host, out);
  }
}
void check_train(const Config& recipe, const PluginHost* host, std::vector<RecipeProblem>& out) {
  if (auto train = section_table(recipe, "train", out)) {
    check_plugin_section(*train, train_keys(), PluginKind::kRecipe, host, out);
  }
}
void check_stage_section(const Config& recipe, const PluginHost* host, std::vector<RecipeProblem>& out) {
  check_stages(recipe, host, out);
}
void check_eval_section(const Config& recipe, const PluginHost*, std::vector<RecipeProblem>& out) {
  check_evals(recipe, out);
}
void check_report(const Config& recipe, const PluginHost*, std::vector<RecipeProblem>& out) {
  if (auto report = section_table(recipe, "report", out)) validate_table(*report, report_keys(), out);
}

const std::vector<Section>& sections() {
  static const std::vector<Section> list = {
      {"run", run_keys, check_run},          {"encoder", encoder_keys, check_encoder},
      {"train", train_keys, check_train},    {"stage", stage_keys, check_stage_section},
      {"eval", eval_keys, check_eval_section}, {"report", report_keys, check_report},
  };
  return list;
}

// A top-level key that is no section: a misspelled [section], or a key written above the first header
// (where TOML puts it at the top level).
void report_stray(const Config& recipe, const std::string& key, std::vector<RecipeProblem>& out) {
  std::vector<std::string> names, labels;
  for (const Section& section : sections()) {
    names.emplace_back(section.name);
    labels.push_back(section_label(section.name));
  }
  if (recipe.type_of(key) == ValueType::kTable) {
    const std::string suggestion = closest_match(key, names);
    add(out, recipe.where(key),
        fmt::format("unknown section [{}]", key) +
            (suggestion.empty() ? fmt::format(" (valid sections: {})", join(labels))
                                : fmt::format("; did you mean {}?", section_label(suggestion))));
    return;
  }
  std::string home;
  for (const Section& section : sections()) {
    for (const KeySpec& spec : section.keys()) {
      if (home.empty() && key == spec.name) home = section.name;
    }
  }
  add(out, recipe.where(key),
      fmt::format("unknown top-level key '{}'", key) +
          (home.empty() ? "; every key belongs to a section such as [run] or [encoder]"
                        : fmt::format("; did you mean to put it under {}?", section_label(home))));
}

}  // namespace

std::vector<RecipeProblem> validate_recipe(const Config& recipe, const PluginHost* host) {
  std::vector<RecipeProblem> out;
  for (const std::string& key : recipe.keys()) {
    const auto& list = sections();
    auto section = std::find_if(list.begin(), list.end(), [&](const Section& s) { return key == s.name; });
    if (section == list.end()) {
      report_stray(recipe, key, out);
    } else {
      section->check(recipe, host, out);
    }
  }
  if (!recipe.contains("encoder")) {
    add(out, recipe.where(), "missing section [encoder]: every recipe names an encoder plugin (plugin = \"...\")");
  }
  if (recipe.contains("train") && recipe.contains("stage")) {
    add(out, recipe.where("stage"),
        fmt::format("the recipe has both [train] (at {}) and [[stage]] tables; a recipe trains either in one [train] "
                    "table or in [[stage]] tables run in order: turn [train] into the first [[stage]] (same keys), "
                    "or remove the [[stage]] tables",
                    recipe.where("train").str()));
  }
  // Evaluation during training names [[eval]] tasks: they must exist.
  const std::vector<std::string> evals = eval_names(recipe);
  for (const Config& train : training_tables(recipe)) check_training_eval_keys(train, evals, out);
  return out;
}

}  // namespace sentbench
