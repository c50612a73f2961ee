// PluginHost: vets each plugin by its PluginInfo before any of its objects exist, and ties every object's
// lifetime to its library.
#include "plugin_host.hpp"

#include <dlfcn.h>

#include <algorithm>
#include <cstdlib>
#include <exception>
#include <string_view>
#include <system_error>
#include <utility>

#include <boost/dll/runtime_symbol_info.hpp>
#include <boost/dll/shared_library.hpp>
#include <fmt/format.h>
#include <torch/version.h>

#include "sentbench/log.hpp"

#ifndef SENTBENCH_PLUGIN_INSTALL_SUBDIR
#define SENTBENCH_PLUGIN_INSTALL_SUBDIR "lib/sentbench/plugins"
#endif

namespace sentbench {
namespace fs = std::filesystem;

namespace {

constexpr const char* kInfoSymbol = "sentbench_plugin_info";
constexpr const char* kFactorySymbol = "sentbench_create";

const char* kind_name(PluginKind kind) { return kind == PluginKind::kEncoder ? "encoder" : "recipe"; }
const char* a_kind(PluginKind kind) { return kind == PluginKind::kEncoder ? "an encoder" : "a recipe"; }

std::string or_empty(const char* text) { return text ? std::string(text) : std::string(); }

std::string join(const std::vector<std::string>& items, std::string_view separator) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += separator;
    out += item;
  }
  return out;
}

// Deletes a plugin's object and only then lets go of its library: the destructor is code inside that
// library. Lives in libsentbench (as does the shared_ptr control block that calls it), so releasing the
// last reference never returns into unmapped code.
struct ObjectDeleter {
  std::shared_ptr<const void> library;
  void operator()(PluginObject* object) noexcept {
    delete object;
    library.reset();
  }
};

}  // namespace

// One accepted library. Objects' deleters share ownership of it, so it outlives the host when they do.
struct PluginHost::Loaded {
  boost::dll::shared_library library;
  PluginFactory* factory = nullptr;
};

std::string incompatibility(const PluginInfo& info) {
  // abi_major/abi_minor are the first two ints of PluginInfo under every ABI version; nothing else may
  // be read before they match.
  if (info.abi_major != kAbiMajor || info.abi_minor > kAbiMinor) {
    const bool newer = info.abi_major > kAbiMajor || (info.abi_major == kAbiMajor && info.abi_minor > kAbiMinor);
    return fmt::format("built for sentbench plugin ABI {}.{}, this sentbench has ABI {}.{}: {}", info.abi_major,
                       info.abi_minor, kAbiMajor, kAbiMinor,
                       newer ? "use a newer sentbench, or rebuild the plugin against this SDK"
                             : "rebuild the plugin against this SDK");
  }
  if (info.name == nullptr || *info.name == '\0') return "its PluginInfo has no name: set PluginInfo::name";
  if (info.kind != PluginKind::kEncoder && info.kind != PluginKind::kRecipe) {
    return fmt::format("unknown plugin kind {} (this sentbench knows {} = encoder, {} = recipe)",
                       static_cast<int>(info.kind), static_cast<int>(PluginKind::kEncoder),
                       static_cast<int>(PluginKind::kRecipe));
  }
  // "" means the plugin does not use LibTorch at all, so any host's LibTorch is fine.
  const std::string torch = or_empty(info.torch_version);
  if (!torch.empty() && torch != TORCH_VERSION) {
    return fmt::format("built against LibTorch {}, this sentbench uses LibTorch {}: rebuild the plugin against "
                       "the same LibTorch (tensors and their types cross the plugin boundary)",
                       torch, TORCH_VERSION);
  }
  if (info.cxx11_abi != _GLIBCXX_USE_CXX11_ABI) {
    return fmt::format("built with _GLIBCXX_USE_CXX11_ABI={}, this sentbench uses _GLIBCXX_USE_CXX11_ABI={}: "
                       "rebuild the plugin with the same C++ ABI (take the flag from TORCH_CXX_FLAGS, as "
                       "sentbench_add_plugin does)",
                       info.cxx11_abi, _GLIBCXX_USE_CXX11_ABI);
  }
  if (info.key_count > 0 && info.keys == nullptr) {
    return fmt::format("its PluginInfo declares {} keys but PluginInfo::keys is null", info.key_count);
  }
  for (std::size_t i = 0; i < info.key_count; ++i) {
    if (info.keys[i].name == nullptr || *info.keys[i].name == '\0') {
      return fmt::format("key #{} of its PluginInfo has no name", i);
    }
  }
  return {};
}

PluginHost::PluginHost() = default;
PluginHost::~PluginHost() = default;

std::vector<fs::path> PluginHost::default_dirs(const std::vector<fs::path>& extra) {
  std::vector<fs::path> dirs;
  auto add = [&dirs](fs::path dir) {
    if (dir.empty()) return;
    std::error_code ec;
    const fs::path absolute = fs::absolute(dir, ec);
    dir = (ec ? dir : absolute).lexically_normal();
    if (!dir.has_filename() && dir.has_relative_path()) dir = dir.parent_path();  // drop a trailing '/'
    if (std::find(dirs.begin(), dirs.end(), dir) == dirs.end()) dirs.push_back(std::move(dir));
  };

  boost::dll::fs::error_code ec;
  const auto exe = boost::dll::program_location(ec);
  if (!ec) {
    const fs::path exe_dir = fs::path(exe.parent_path().string());
    add(exe_dir / "plugins");                                   // build tree: plugins next to the binary
    add(exe_dir / ".." / SENTBENCH_PLUGIN_INSTALL_SUBDIR);      // installed: <prefix>/bin + <prefix>/lib/...
  } else {
    log::warn("cannot locate the sentbench executable ({}); only $SENTBENCH_PLUGIN_PATH is searched for plugins",
              ec.message());
  }
  if (const char* env = std::getenv("SENTBENCH_PLUGIN_PATH")) {
    std::string_view rest(env);
    while (!rest.empty()) {
      const std::size_t colon = rest.find(':');
      add(fs::path(std::string(rest.substr(0, colon))));
      if (colon == std::string_view::npos) break;
      rest.remove_prefix(colon + 1);
    }
  }
  for (const auto& dir : extra) add(dir);
  return dirs;
}

void PluginHost::scan(const fs::path& dir) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) return;  // a default folder that this installation does not have
  scanned_.push_back(dir);
  if (!fs::is_directory(dir, ec)) {
    refused_.push_back({dir, "listed as a plugin folder but is not a folder", ""});
    return;
  }
  std::vector<fs::path> files;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().extension() == ".so") files.push_back(it->path());
  }
  if (ec) {
    refused_.push_back({dir, fmt::format("cannot list the plugin folder: {}", ec.message()), ""});
    return;
  }
  std::sort(files.begin(), files.end());
  for (const auto& file : files) {
    try {
      load(file);
    } catch (const PluginError& e) {
      log::debug("{}", e.what());  // already in refused(); `sentbench plugins` shows it
    }
  }
}

void PluginHost::scan_all(const std::vector<fs::path>& dirs) {
  for (const auto& dir : dirs) scan(dir);
}

const PluginRecord& PluginHost::load(const fs::path& file) {
  std::error_code ec;
  fs::path path = fs::absolute(file, ec);
  path = (ec ? file : path).lexically_normal();
  const std::string label = path.filename().string();  // names the plugin in errors until its info is read
  if (!fs::exists(path, ec)) throw PluginError(label, fmt::format("no such file: {}", path.string()));

  // The same file reached twice (a folder listed twice, a symlink) is one plugin, not a duplicate.
  for (std::size_t i = 0; i < plugins_.size(); ++i) {
    if (fs::equivalent(plugins_[i].path, path, ec)) return plugins_[i];
  }
  for (const auto& r : refused_) {
    if (fs::equivalent(r.path, path, ec)) throw PluginError(label, r.reason);
  }
  auto refuse = [&](std::string reason, const std::string& name) -> PluginError {
    refused_.push_back({path, reason, name == label ? std::string() : name});
    return PluginError(name, reason);
  };
  if (!fs::is_regular_file(path, ec)) throw refuse("not a regular file", label);

  // RTLD_NOW: an unresolvable symbol refuses the plugin here, with the linker's message, instead of
  // killing the process at its first call. RTLD_LOCAL: libsentbench and LibTorch are already loaded by
  // the host, so a plugin binds to those single copies (shared typeinfo, so dynamic_cast and catch work)
  // while its own symbols cannot interpose on another plugin's.
  auto loaded = std::make_shared<Loaded>();
  boost::dll::fs::error_code load_ec;
  loaded->library.load(boost::dll::fs::path(path.string()),
                       boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local, load_ec);
  if (load_ec || !loaded->library.is_loaded()) {
    // Boost.DLL leaves dlerror() untouched on failure; it holds the loader's own explanation.
    const char* why = dlerror();
    std::string reason = fmt::format("cannot be loaded: {}", why ? why : load_ec.message());
    if (reason.find("undefined symbol") != std::string::npos) {
      reason += " (probably built against another sentbench, LibTorch or C++ ABI: rebuild it against this SDK)";
    }
    throw refuse(std::move(reason), label);
  }

  if (!loaded->library.has(kInfoSymbol)) {
    throw refuse(fmt::format("not a sentbench plugin (no {} symbol)", kInfoSymbol), label);
  }
  const PluginInfo* info = loaded->library.get_alias<const PluginInfo* const>(kInfoSymbol);
  if (info == nullptr) throw refuse(fmt::format("{} is a null pointer", kInfoSymbol), label);
  if (std::string reason = incompatibility(*info); !reason.empty()) {
    throw refuse(std::move(reason), info->abi_major == kAbiMajor && info->name ? info->name : label);
  }
  const std::string name = info->name;
  for (const auto& other : plugins_) {
    if (other.name == name) {
      throw refuse(fmt::format("a plugin named '{}' is already loaded from {}; this one ({}) is ignored: remove "
                               "one of them from the plugin folders",
                               name, other.path.string(), path.string()),
                   name);
    }
  }
  if (!loaded->library.has(kFactorySymbol)) {
    throw refuse(fmt::format("exports {} but no {} factory (define both with SENTBENCH_PLUGIN)", kInfoSymbol,
                             kFactorySymbol),
                 name);
  }
  loaded->factory = &loaded->library.get_alias<PluginFactory>(kFactorySymbol);

  PluginRecord record;
  record.name = name;
  record.kind = info->kind;
  record.version = or_empty(info->version);
  record.description = or_empty(info->description);
  record.path = path;
  if (info->key_count > 0) record.keys.assign(info->keys, info->keys + info->key_count);
  log::debug("loaded {} plugin '{}' {} from {}", kind_name(record.kind), record.name, record.version, path.string());
  plugins_.push_back(std::move(record));
  libraries_.push_back(std::move(loaded));
  return plugins_.back();
}

const PluginRecord* PluginHost::find(std::string_view name, PluginKind kind) const {
  for (const auto& p : plugins_) {
    if (p.name == name && p.kind == kind) return &p;
  }
  return nullptr;
}

std::vector<std::string> PluginHost::names(PluginKind kind) const {
  std::vector<std::string> out;
  for (const auto& p : plugins_) {
    if (p.kind == kind) out.push_back(p.name);
  }
  return out;
}

std::shared_ptr<PluginObject> PluginHost::create(std::string_view name, PluginKind kind, const Config& section) const {
  const PluginRecord* record = find(name, kind);
  if (record == nullptr) {
    const std::string wanted(name);
    for (const auto& p : plugins_) {
      if (p.name == name) {
        throw PluginError(wanted, fmt::format("is {} plugin ({}), not {} plugin", a_kind(p.kind),
                                              p.path.string(), a_kind(kind)));
      }
    }
    for (const auto& r : refused_) {
      if (r.name == name) {
        throw PluginError(wanted, fmt::format("not loaded: {} was refused: {}", r.path.string(), r.reason));
      }
    }
    const auto available = names(kind);
    std::string message = fmt::format("no {} plugin of this name; available {} plugins: {}", kind_name(kind),
                                      kind_name(kind), available.empty() ? "(none)" : join(available, ", "));
    if (const std::string close = closest_match(name, available); !close.empty()) {
      message += fmt::format(" (did you mean '{}'?)", close);
    }
    std::vector<std::string> dirs;
    for (const auto& d : scanned_) dirs.push_back(d.string());
    message += fmt::format("; searched: {}", dirs.empty() ? "(no plugin folder exists)" : join(dirs, ", "));
    throw PluginError(wanted, message);
  }

  const auto& loaded = libraries_[static_cast<std::size_t>(record - plugins_.data())];
  PluginObject* raw = nullptr;
  // SENTBENCH_PLUGIN already converts foreign exceptions; a hand-written factory may not, and nothing
  // but a sentbench::Error should reach the caller.
  try {
    raw = loaded->factory(section);
  } catch (const Error&) {
    throw;  // ConfigError and friends already say what and where
  } catch (const std::exception& e) {
    throw PluginError(record->name, fmt::format("its factory failed: {}", e.what()));
  } catch (...) {
    throw PluginError(record->name, "its factory threw an exception that is not a std::exception");
  }
  if (raw == nullptr) throw PluginError(record->name, "its factory returned no object");
  return std::shared_ptr<PluginObject>(raw, ObjectDeleter{loaded});
}

std::shared_ptr<Encoder> PluginHost::create_encoder(std::string_view name, const Config& section) const {
  auto object = create(name, PluginKind::kEncoder, section);
  auto encoder = std::dynamic_pointer_cast<Encoder>(object);
  if (!encoder) {
    throw PluginError(std::string(name),
                      "declares itself an encoder but its factory returned an object that is not a "
                      "sentbench::Encoder (is it built against this SDK?)");
  }
  return encoder;
}

std::shared_ptr<Recipe> PluginHost::create_recipe(std::string_view name, const Config& section) const {
  auto object = create(name, PluginKind::kRecipe, section);
  auto recipe = std::dynamic_pointer_cast<Recipe>(object);
  if (!recipe) {
    throw PluginError(std::string(name),
                      "declares itself a recipe but its factory returned an object that is not a "
                      "sentbench::Recipe (is it built against this SDK?)");
  }
  return recipe;
}

}  // namespace sentbench
