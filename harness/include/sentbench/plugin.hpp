// The plugin boundary: ABI version, the plain PluginInfo struct, and the export macro.
//
// A plugin is a shared library exporting exactly two aliases (BOOST_DLL_ALIAS):
//   sentbench_plugin_info   const PluginInfo*  — read by the host before anything is created
//   sentbench_create        PluginObject* (*)(const Config&) — the factory for the plugin's object
// Use SENTBENCH_PLUGIN(info, Class) below: it defines both and turns any exception thrown by the
// constructor into PluginError naming the plugin.
#pragma once

#include <cstddef>
#include <memory>

#include <boost/dll/alias.hpp>
#include <torch/version.h>  // TORCH_VERSION: recorded in PluginInfo so the host can refuse a mismatch

#include "sentbench/config.hpp"
#include "sentbench/errors.hpp"
#include "sentbench/export.hpp"
#include "sentbench/version.hpp"

namespace sentbench {

// Bump the major version on any change that breaks layout or virtual tables of SDK types; the minor
// version on additions a host can ignore. The host refuses a plugin whose major differs or whose minor
// is newer than its own.
// 1.1: TrainContext::group, allow_world_size_change. 2.0: Encoder::default_batch_tokens() (a virtual
// appended to Encoder: a 1.x plugin's vtable has no slot for it). 2.1: TrainContext::run_id.
// 2.2: TrainContext::evaluate; training services (training.hpp) and TokenEncoder (token_encoder.hpp).
inline constexpr int kAbiMajor = 2;
inline constexpr int kAbiMinor = 2;

enum class PluginKind : int { kEncoder = 1, kRecipe = 2 };

// Declares one key of a plugin's own recipe section so `sentbench validate` can check it without
// creating the plugin. Dotted names declare nested tables ("init.hidden" is [encoder.init] hidden).
struct KeySpec {
  const char* name;
  ValueType type;
  bool required;
  const char* help;
};

// Plain description of a plugin, readable before any of its code runs. Only POD members, so its
// layout never depends on the C++ library.
struct PluginInfo {
  int abi_major;
  int abi_minor;
  PluginKind kind;
  const char* name;         // unique among loaded plugins; what a recipe's `plugin = "..."` names
  const char* version;      // the plugin's own version
  const char* description;  // one line for `sentbench plugins`
  const char* torch_version;  // LibTorch the plugin was built against ("" when it does not use torch)
  int cxx11_abi;              // _GLIBCXX_USE_CXX11_ABI of the plugin's build
  const KeySpec* keys;        // the keys of the plugin's recipe section
  std::size_t key_count;
};

// Base of every object a plugin creates. Its destructor is defined in libsentbench so the vtable and
// typeinfo live there and dynamic_cast works across the boundary.
class SENTBENCH_API PluginObject {
 public:
  virtual ~PluginObject();
};

using PluginFactory = PluginObject*(const Config&);

}  // namespace sentbench

// LibTorch version of this build; the host compares it with its own.
#define SENTBENCH_TORCH_VERSION TORCH_VERSION

#define SENTBENCH_PLUGIN_INFO_INIT(kind, name, version, description, keys)                      \
  ::sentbench::PluginInfo {                                                                     \
    ::sentbench::kAbiMajor, ::sentbench::kAbiMinor, kind, name, version, description,           \
        SENTBENCH_TORCH_VERSION, _GLIBCXX_USE_CXX11_ABI, keys, sizeof(keys) / sizeof(keys[0])   \
  }

// Defines the two exported aliases for a plugin whose object is `Class`, constructed from the
// plugin's Config section. `info_expr` is a PluginInfo (see SENTBENCH_PLUGIN_INFO_INIT).
#define SENTBENCH_PLUGIN(info_expr, Class)                                                  \
  namespace sentbench_plugin_detail {                                                       \
  static const ::sentbench::PluginInfo kInfo = info_expr;                                   \
  static const ::sentbench::PluginInfo* const sentbench_plugin_info = &kInfo;               \
  static ::sentbench::PluginObject* sentbench_create(const ::sentbench::Config& config) {   \
    try {                                                                                   \
      return new Class(config);                                                             \
    } catch (const ::sentbench::Error&) {                                                   \
      throw; /* typed errors already say what and where */                                  \
    } catch (const std::exception& e) {                                                     \
      throw ::sentbench::PluginError(kInfo.name, e.what());                                 \
    } catch (...) {                                                                         \
      throw ::sentbench::PluginError(kInfo.name, "unknown exception in factory");           \
    }                                                                                       \
  }                                                                                         \
  }                                                                                         \
  BOOST_DLL_ALIAS(sentbench_plugin_detail::sentbench_plugin_info, sentbench_plugin_info)    \
  BOOST_DLL_ALIAS(sentbench_plugin_detail::sentbench_create, sentbench_create)
