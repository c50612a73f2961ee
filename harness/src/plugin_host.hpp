// PluginHost: finds, vets and loads sentbench plugins (Boost.DLL) and creates their objects.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sentbench/config.hpp"
#include "sentbench/encoder.hpp"
#include "sentbench/plugin.hpp"
#include "sentbench/recipe.hpp"

namespace sentbench {

// A plugin that passed every check: its info was read, nothing was created yet.
struct PluginRecord {
  std::string name;
  PluginKind kind = PluginKind::kEncoder;
  std::string version;
  std::string description;
  std::filesystem::path path;
  std::vector<KeySpec> keys;  // points into the loaded library, valid while the host lives
};

// A file that looked like a plugin but was refused, with the reason.
struct RefusedPlugin {
  std::filesystem::path path;
  std::string reason;
  std::string name;  // the plugin's name when its info could be read, so "not found" errors can say why
};

// Why this host cannot use a plugin described by `info`, or "" when it can: ABI version (checked first,
// because the fields after it mean nothing under another major version), name, kind, LibTorch version
// and C++ ABI. Messages name both sides and say how to fix it.
std::string incompatibility(const PluginInfo& info);

// Scans plugin folders, refuses bad plugins with a reason, and creates objects whose deleter keeps
// their library loaded for as long as they live.
class PluginHost {
 public:
  PluginHost();
  ~PluginHost();
  PluginHost(const PluginHost&) = delete;
  PluginHost& operator=(const PluginHost&) = delete;

  // The folders searched, in order: <exe dir>/plugins, <exe dir>/../lib/sentbench/plugins,
  // each entry of $SENTBENCH_PLUGIN_PATH (colon-separated), then `extra` (a recipe's [run].plugin_dirs).
  static std::vector<std::filesystem::path> default_dirs(const std::vector<std::filesystem::path>& extra = {});

  // Loads every *.so in dir (non-recursive, sorted by name, so the first of two same-named plugins is
  // deterministic); missing folders are skipped silently, refused files land in refused().
  void scan(const std::filesystem::path& dir);
  void scan_all(const std::vector<std::filesystem::path>& dirs);
  // Loads one file; throws PluginError with the reason when it is refused (the reason is also recorded).
  // A missing file throws without being recorded; a file already loaded (same inode) returns its record.
  // The reference is valid until the next load.
  const PluginRecord& load(const std::filesystem::path& file);

  const std::vector<PluginRecord>& plugins() const { return plugins_; }
  const std::vector<RefusedPlugin>& refused() const { return refused_; }
  // nullptr when no plugin of that name and kind was found.
  const PluginRecord* find(std::string_view name, PluginKind kind) const;
  // Names of the plugins of a kind (for "did you mean" and error messages).
  std::vector<std::string> names(PluginKind kind) const;

  // Create objects through the plugin's factory. PluginError names the plugin when it is unknown (listing
  // the available ones, or why a file of that name was refused), its factory throws something other than
  // a sentbench::Error, returns nothing or returns the wrong kind; ConfigError from the plugin passes
  // through. The object keeps its library loaded, even after the host is gone.
  std::shared_ptr<Encoder> create_encoder(std::string_view name, const Config& section) const;
  std::shared_ptr<Recipe> create_recipe(std::string_view name, const Config& section) const;

 private:
  std::shared_ptr<PluginObject> create(std::string_view name, PluginKind kind, const Config& section) const;
  struct Loaded;
  std::vector<PluginRecord> plugins_;
  std::vector<std::shared_ptr<Loaded>> libraries_;  // parallel to plugins_
  std::vector<RefusedPlugin> refused_;
  std::vector<std::filesystem::path> scanned_;  // for "not found" messages
};

}  // namespace sentbench
