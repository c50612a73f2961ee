// PluginHost against purpose-built plugins (tests/fixtures/plugins): what it accepts, what it refuses and
// why, what happens when factories misbehave, and that objects keep their library loaded.
#include "plugin_host.hpp"

#include <dlfcn.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <torch/version.h>

#include "sentbench/config.hpp"
#include "sentbench/errors.hpp"

namespace fs = std::filesystem;
using sentbench::Config;
using sentbench::PluginError;
using sentbench::PluginHost;
using sentbench::PluginKind;

namespace {

fs::path plugin_dir() { return fs::path(SENTBENCH_TEST_PLUGIN_DIR); }
fs::path plugin(const std::string& name) { return plugin_dir() / ("sentbench-" + name + ".so"); }

std::string host_abi() { return fmt::format("ABI {}.{}", sentbench::kAbiMajor, sentbench::kAbiMinor); }

::testing::AssertionResult contains(const std::string& haystack, const std::string& needle) {
  if (haystack.find(needle) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "'" << needle << "' not in: " << haystack;
}

// Loads `file` expecting a refusal; returns the PluginError's message ("" when it loaded after all).
std::string refusal(PluginHost& host, const fs::path& file) {
  try {
    host.load(file);
  } catch (const PluginError& e) {
    return e.what();
  }
  return "";
}

// A fresh folder, removed with everything in it at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "plugin_host_test.XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// Text that is long enough for the loader to read an ELF header from, and is not one.
void write_bogus_so(const fs::path& file) {
  std::ofstream(file) << "This is a text file that happens to be called bogus.so; it is not a shared library.\n";
}

// Whether the dynamic loader still has `file` mapped (RTLD_NOLOAD never loads anything).
bool is_mapped(const fs::path& file) {
  void* handle = dlopen(file.c_str(), RTLD_LAZY | RTLD_NOLOAD);
  if (handle == nullptr) return false;
  dlclose(handle);
  return true;
}

// Restores an environment variable when the test ends.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value, 1);
  }
  ~ScopedEnv() {
    if (old_) ::setenv(name_, old_->c_str(), 1);
    else ::unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

// ---- accepted plugins -------------------------------------------------------------------------------

TEST(PluginHost, LoadsGoodEncoderAndReadsItsInfo) {
  PluginHost host;
  const auto& record = host.load(plugin("test_encoder"));
  EXPECT_EQ(record.name, "test_encoder");
  EXPECT_EQ(record.kind, PluginKind::kEncoder);
  EXPECT_EQ(record.version, "1.2.3");
  EXPECT_EQ(record.description, "fixture: counts tokens");
  EXPECT_EQ(record.path, plugin("test_encoder"));
  ASSERT_EQ(record.keys.size(), 1u);
  EXPECT_STREQ(record.keys[0].name, "dim");
  EXPECT_EQ(record.keys[0].type, sentbench::ValueType::kInteger);
  EXPECT_FALSE(record.keys[0].required);
  EXPECT_EQ(host.plugins().size(), 1u);
  EXPECT_TRUE(host.refused().empty());
  EXPECT_EQ(host.find("test_encoder", PluginKind::kEncoder), &host.plugins()[0]);
  EXPECT_EQ(host.find("test_encoder", PluginKind::kRecipe), nullptr);
}

TEST(PluginHost, LoadsGoodRecipe) {
  PluginHost host;
  const auto& record = host.load(plugin("test_recipe"));
  EXPECT_EQ(record.name, "test_recipe");
  EXPECT_EQ(record.kind, PluginKind::kRecipe);
  EXPECT_EQ(record.version, "0.4.0");
  EXPECT_EQ(host.names(PluginKind::kRecipe), std::vector<std::string>{"test_recipe"});
  EXPECT_TRUE(host.names(PluginKind::kEncoder).empty());
}

TEST(PluginHost, CreatedEncoderRunsPluginCode) {
  PluginHost host;
  host.load(plugin("test_encoder"));
  auto encoder = host.create_encoder("test_encoder", Config::parse("dim = 6"));
  ASSERT_NE(encoder, nullptr);
  EXPECT_EQ(encoder->info().name, "test_encoder");
  EXPECT_EQ(encoder->info().dim, 6);
  const auto batch = encoder->tokenize({"a bb ccc", ""});
  ASSERT_EQ(batch.size(), 2u);
  EXPECT_EQ(batch.ids[0], (std::vector<std::int32_t>{1, 2, 3}));
  const at::Tensor out = encoder->forward(batch);
  ASSERT_EQ(out.dim(), 2);
  EXPECT_EQ(out.size(0), 2);
  EXPECT_EQ(out.size(1), 6);
  EXPECT_FLOAT_EQ(out[0][0].item<float>(), 3.0f);  // token count
  EXPECT_FLOAT_EQ(out[0][1].item<float>(), 6.0f);  // id sum
  EXPECT_FLOAT_EQ(out[1][0].item<float>(), 0.0f);
}

TEST(PluginHost, CreatedRecipeTrainsThroughContext) {
  PluginHost host;
  host.load(plugin("test_encoder"));
  host.load(plugin("test_recipe"));
  auto encoder = host.create_encoder("test_encoder", Config());
  auto recipe = host.create_recipe("test_recipe", Config::parse("steps = 3"));
  ASSERT_NE(recipe, nullptr);
  std::map<std::int64_t, double> losses;
  sentbench::TrainContext context;
  context.log_metrics = [&](std::int64_t step, const sentbench::MetricRow& row, const sentbench::TagRow&) { losses[step] = row.at("loss"); };
  recipe->train(*encoder, context);
  EXPECT_EQ(losses, (std::map<std::int64_t, double>{{1, 1.0}, {2, 0.5}, {3, 1.0 / 3.0}}));
}

TEST(PluginHost, ConfigErrorFromPluginPassesThroughUnchanged) {
  PluginHost host;
  host.load(plugin("test_encoder"));
  try {
    host.create_encoder("test_encoder", Config::parse("dim = 1", "recipe.toml"));
    FAIL() << "dim = 1 was accepted";
  } catch (const PluginError& e) {
    FAIL() << "ConfigError was turned into PluginError: " << e.what();
  } catch (const sentbench::ConfigError& e) {
    EXPECT_TRUE(contains(e.what(), "dim"));
    EXPECT_TRUE(contains(e.what(), "at least 2"));
    EXPECT_TRUE(contains(e.what(), "recipe.toml"));
  }
}

TEST(PluginHost, SameFileLoadedTwiceIsOnePlugin) {
  PluginHost host;
  const std::string name = host.load(plugin("test_encoder")).name;
  EXPECT_EQ(host.load(plugin_dir() / "." / "sentbench-test_encoder.so").name, name);
  host.scan(plugin_dir());  // finds it again among the others
  EXPECT_EQ(std::count_if(host.plugins().begin(), host.plugins().end(), [](const auto& p) { return p.name == "test_encoder"; }), 1);
  for (const auto& r : host.refused()) EXPECT_NE(r.path, plugin("test_encoder")) << r.reason;
}

// ---- refused at load time ---------------------------------------------------------------------------

TEST(PluginHost, RefusesOtherAbiMajorNamingBothVersions) {
  PluginHost host;
  const std::string message = refusal(host, plugin("bad_abi_major"));
  EXPECT_TRUE(contains(message, fmt::format("built for sentbench plugin ABI 99.{}", sentbench::kAbiMinor)));
  EXPECT_TRUE(contains(message, "this sentbench has " + host_abi()));
  EXPECT_TRUE(contains(message, "rebuild the plugin against this SDK"));
  EXPECT_TRUE(host.plugins().empty());
  ASSERT_EQ(host.refused().size(), 1u);
  EXPECT_EQ(host.refused()[0].path, plugin("bad_abi_major"));
  EXPECT_TRUE(contains(message, host.refused()[0].reason));
}

TEST(PluginHost, RefusesNewerAbiMinor) {
  PluginHost host;
  const std::string message = refusal(host, plugin("bad_abi_minor"));
  EXPECT_TRUE(contains(message, fmt::format("ABI {}.{}", sentbench::kAbiMajor, sentbench::kAbiMinor + 1)));
  EXPECT_TRUE(contains(message, "this sentbench has " + host_abi()));
  EXPECT_TRUE(contains(message, "newer sentbench"));
  EXPECT_TRUE(host.plugins().empty());
}

TEST(PluginHost, RefusesOtherLibTorchNamingBothVersions) {
  PluginHost host;
  const std::string message = refusal(host, plugin("bad_torch"));
  EXPECT_TRUE(contains(message, "plugin 'bad_torch'"));
  EXPECT_TRUE(contains(message, "built against LibTorch 0.0.1-test"));
  EXPECT_TRUE(contains(message, std::string("this sentbench uses LibTorch ") + TORCH_VERSION));
  EXPECT_TRUE(host.plugins().empty());
}

TEST(PluginHost, RefusesOtherCxxAbiNamingBothSides) {
  PluginHost host;
  const std::string message = refusal(host, plugin("bad_cxx11_abi"));
  // The fixture is really compiled with the old ABI, so this also shows the host reads the info of a
  // library it must not use, without touching anything else in it.
  EXPECT_TRUE(contains(message, "built with _GLIBCXX_USE_CXX11_ABI=0"));
  EXPECT_TRUE(contains(message, fmt::format("this sentbench uses _GLIBCXX_USE_CXX11_ABI={}", _GLIBCXX_USE_CXX11_ABI)));
  EXPECT_TRUE(host.plugins().empty());
}

TEST(PluginHost, RefusesSharedLibraryThatIsNotAPlugin) {
  PluginHost host;
  const std::string message = refusal(host, plugin("not_a_plugin"));
  EXPECT_TRUE(contains(message, "not a sentbench plugin (no sentbench_plugin_info symbol)"));
  EXPECT_TRUE(contains(message, "sentbench-not_a_plugin.so"));
  ASSERT_EQ(host.refused().size(), 1u);
  EXPECT_EQ(host.refused()[0].reason, "not a sentbench plugin (no sentbench_plugin_info symbol)");
}

TEST(PluginHost, RefusesPluginWithoutFactory) {
  PluginHost host;
  const std::string message = refusal(host, plugin("no_factory"));
  EXPECT_TRUE(contains(message, "plugin 'no_factory'"));
  EXPECT_TRUE(contains(message, "no sentbench_create factory"));
}

TEST(PluginHost, RefusesFileThatIsNotElfWithLoaderMessage) {
  TempDir dir;
  const fs::path bogus = dir.path() / "bogus.so";
  write_bogus_so(bogus);
  PluginHost host;
  const std::string message = refusal(host, bogus);
  EXPECT_TRUE(contains(message, "cannot be loaded"));
  EXPECT_TRUE(contains(message, bogus.string()));  // dlerror() names the file
  EXPECT_TRUE(contains(message, "invalid ELF header"));
  ASSERT_EQ(host.refused().size(), 1u);
  EXPECT_EQ(host.refused()[0].path, bogus);
}

TEST(PluginHost, RefusesPluginWithUnresolvedSymbolAtLoadTime) {
  PluginHost host;
  const std::string message = refusal(host, plugin("unresolved"));
  EXPECT_TRUE(contains(message, "cannot be loaded"));
  EXPECT_TRUE(contains(message, "undefined symbol"));
  EXPECT_TRUE(contains(message, "function_from_another_sdk"));
  EXPECT_TRUE(contains(message, "rebuild it against this SDK"));
  EXPECT_FALSE(is_mapped(plugin("unresolved")));
}

TEST(PluginHost, MissingFileThrowsNoSuchFile) {
  PluginHost host;
  const fs::path missing = plugin_dir() / "sentbench-does_not_exist.so";
  try {
    host.load(missing);
    FAIL() << "a missing file loaded";
  } catch (const PluginError& e) {
    EXPECT_TRUE(contains(e.what(), "no such file"));
    EXPECT_TRUE(contains(e.what(), missing.string()));
  }
  EXPECT_TRUE(host.refused().empty());
  EXPECT_TRUE(host.plugins().empty());
}

TEST(PluginHost, RefusesSecondPluginWithSameNameNamingBothPaths) {
  PluginHost host;
  host.load(plugin("test_encoder"));
  const std::string message = refusal(host, plugin("test_encoder_dup"));
  EXPECT_TRUE(contains(message, "a plugin named 'test_encoder' is already loaded"));
  EXPECT_TRUE(contains(message, plugin("test_encoder").string()));
  EXPECT_TRUE(contains(message, plugin("test_encoder_dup").string()));
  ASSERT_EQ(host.plugins().size(), 1u);
  EXPECT_EQ(host.plugins()[0].path, plugin("test_encoder"));
  EXPECT_EQ(host.plugins()[0].version, "1.2.3");
  // The first one stays usable.
  EXPECT_EQ(host.create_encoder("test_encoder", Config())->info().dim, 4);
}

// ---- misbehaving factories --------------------------------------------------------------------------

TEST(PluginHost, FactoryThrowingStdExceptionGivesPluginErrorNamingPlugin) {
  PluginHost host;
  host.load(plugin("throws_std"));
  try {
    host.create_encoder("throws_std", Config());
    FAIL() << "no exception";
  } catch (const PluginError& e) {
    EXPECT_EQ(e.plugin(), "throws_std");
    EXPECT_TRUE(contains(e.what(), "plugin 'throws_std'"));
    EXPECT_TRUE(contains(e.what(), "cannot open vocabulary file 'missing-vocab.json'"));
  }
}

TEST(PluginHost, FactoryThrowingNonStdExceptionGivesPluginError) {
  PluginHost host;
  host.load(plugin("throws_other"));
  host.load(plugin("test_encoder"));
  try {
    host.create_encoder("throws_other", Config());
    FAIL() << "no exception";
  } catch (const PluginError& e) {
    EXPECT_EQ(e.plugin(), "throws_other");
    EXPECT_TRUE(contains(e.what(), "not a std::exception"));
  }
  // Nothing is left broken: the host still creates objects.
  EXPECT_EQ(host.create_encoder("test_encoder", Config())->info().dim, 4);
}

TEST(PluginHost, HandWrittenFactoryStdExceptionIsWrappedByHost) {
  PluginHost host;
  host.load(plugin("misbehaving"));
  try {
    host.create_encoder("misbehaving", Config::parse("mode = \"std\""));
    FAIL() << "no exception";
  } catch (const PluginError& e) {
    EXPECT_EQ(e.plugin(), "misbehaving");
    EXPECT_TRUE(contains(e.what(), "raw std::runtime_error from a factory without SENTBENCH_PLUGIN"));
  }
  EXPECT_THROW(host.create_encoder("misbehaving", Config::parse("mode = \"config\"")), sentbench::ConfigError);
}

TEST(PluginHost, FactoryReturningNothingGivesPluginError) {
  PluginHost host;
  host.load(plugin("misbehaving"));
  try {
    host.create_encoder("misbehaving", Config::parse("mode = \"null\""));
    FAIL() << "no exception";
  } catch (const PluginError& e) {
    EXPECT_EQ(e.plugin(), "misbehaving");
    EXPECT_TRUE(contains(e.what(), "returned no object"));
  }
}

TEST(PluginHost, ObjectOfWrongKindGivesPluginError) {
  PluginHost host;
  host.load(plugin("misbehaving"));
  try {
    host.create_encoder("misbehaving", Config::parse("mode = \"recipe\""));
    FAIL() << "a Recipe was handed out as an Encoder";
  } catch (const PluginError& e) {
    EXPECT_EQ(e.plugin(), "misbehaving");
    EXPECT_TRUE(contains(e.what(), "not a sentbench::Encoder"));
  }
}

TEST(PluginHost, UnknownNameListsAvailablePluginsOfThatKind) {
  PluginHost host;
  host.scan(plugin_dir());
  try {
    host.create_encoder("test_encodr", Config());
    FAIL() << "no exception";
  } catch (const PluginError& e) {
    EXPECT_EQ(e.plugin(), "test_encodr");
    EXPECT_TRUE(contains(e.what(), "no encoder plugin of this name"));
    EXPECT_TRUE(contains(e.what(), "misbehaving, test_encoder, throws_other, throws_std"));
    EXPECT_FALSE(contains(e.what(), "test_recipe"));  // a recipe is no answer to "which encoder"
    EXPECT_TRUE(contains(e.what(), "did you mean 'test_encoder'"));
    EXPECT_TRUE(contains(e.what(), plugin_dir().string()));  // where it looked
  }
  try {
    host.create_encoder("test_recipe", Config());
    FAIL() << "a recipe plugin was created as an encoder";
  } catch (const PluginError& e) {
    EXPECT_TRUE(contains(e.what(), "is a recipe plugin"));
  }
  try {
    host.create_encoder("bad_torch", Config());
    FAIL() << "a refused plugin was created";
  } catch (const PluginError& e) {
    EXPECT_TRUE(contains(e.what(), "was refused"));
    EXPECT_TRUE(contains(e.what(), "LibTorch 0.0.1-test"));
  }
}

TEST(PluginHost, UnknownNameWithNothingLoaded) {
  PluginHost host;
  try {
    host.create_recipe("contrastive", Config());
    FAIL() << "no exception";
  } catch (const PluginError& e) {
    EXPECT_TRUE(contains(e.what(), "available recipe plugins: (none)"));
  }
}

// ---- lifetime -------------------------------------------------------------------------------------

TEST(PluginHost, ObjectKeepsLibraryLoadedAfterHostIsDestroyed) {
  const fs::path file = plugin("test_encoder");
  ASSERT_FALSE(is_mapped(file)) << "another test left the fixture loaded";
  auto host = std::make_unique<PluginHost>();
  host->load(file);
  auto encoder = host->create_encoder("test_encoder", Config::parse("dim = 3"));
  auto second = host->create_encoder("test_encoder", Config());
  host.reset();
  EXPECT_TRUE(is_mapped(file));

  // Virtual calls into the plugin still work: its code is still mapped.
  EXPECT_EQ(encoder->info().dim, 3);
  EXPECT_FLOAT_EQ(encoder->forward(encoder->tokenize({"one two"}))[0][0].item<float>(), 2.0f);

  second.reset();
  EXPECT_TRUE(is_mapped(file)) << "released while an object still lives";
  encoder.reset();
  EXPECT_FALSE(is_mapped(file)) << "the last object should release the library";
}

TEST(PluginHost, RefusedLibrariesAreUnloaded) {
  PluginHost host;
  refusal(host, plugin("bad_torch"));
  EXPECT_FALSE(is_mapped(plugin("bad_torch")));
}

// ---- scanning ----------------------------------------------------------------------------------------

TEST(PluginHost, ScanReportsGoodPluginsAndEveryRefusalWithItsReason) {
  TempDir extra;
  write_bogus_so(extra.path() / "bogus.so");
  std::ofstream(extra.path() / "README.txt") << "not a .so, so not even looked at\n";
  PluginHost host;
  host.scan_all({plugin_dir(), extra.path(), extra.path() / "missing-folder"});

  std::vector<std::string> names;
  for (const auto& p : host.plugins()) names.push_back(p.name);
  EXPECT_EQ(names, (std::vector<std::string>{"misbehaving", "test_encoder", "test_recipe", "throws_other", "throws_std"}));

  std::map<std::string, std::string> refused;
  for (const auto& r : host.refused()) refused[r.path.filename().string()] = r.reason;
  const std::map<std::string, std::string> expected = {
      {"sentbench-bad_abi_major.so", "built for sentbench plugin ABI 99."},
      {"sentbench-bad_abi_minor.so", "this sentbench has " + host_abi()},
      {"sentbench-bad_torch.so", "built against LibTorch 0.0.1-test"},
      {"sentbench-bad_cxx11_abi.so", "_GLIBCXX_USE_CXX11_ABI=0"},
      {"sentbench-no_factory.so", "no sentbench_create factory"},
      {"sentbench-not_a_plugin.so", "not a sentbench plugin (no sentbench_plugin_info symbol)"},
      {"sentbench-test_encoder_dup.so", "a plugin named 'test_encoder' is already loaded from " + plugin("test_encoder").string()},
      {"sentbench-unresolved.so", "undefined symbol"},
      {"bogus.so", "invalid ELF header"},
  };
  EXPECT_EQ(refused.size(), expected.size());
  for (const auto& [file, reason] : expected) {
    ASSERT_TRUE(refused.count(file)) << file << " was not refused";
    EXPECT_TRUE(contains(refused[file], reason)) << file;
  }
  EXPECT_FALSE(refused.count("README.txt"));
}

TEST(PluginHost, ScanOfMissingFolderIsSilent) {
  PluginHost host;
  host.scan(plugin_dir() / "no-such-folder");
  EXPECT_TRUE(host.plugins().empty());
  EXPECT_TRUE(host.refused().empty());
}

TEST(PluginHost, DefaultDirsInSearchOrder) {
  const fs::path old_cwd = fs::current_path();
  ScopedEnv env("SENTBENCH_PLUGIN_PATH", "/opt/a::/opt/b/:relative/plugins:/opt/a");
  const auto dirs = PluginHost::default_dirs({"/recipe/plugins", "/opt/b"});
  const fs::path exe_dir = fs::read_symlink("/proc/self/exe").parent_path();
  ASSERT_EQ(dirs.size(), 6u);
  EXPECT_EQ(dirs[0], exe_dir / "plugins");
  EXPECT_EQ(dirs[1].parent_path().filename(), "sentbench") << dirs[1];  // <prefix>/lib*/sentbench/plugins
  EXPECT_EQ(dirs[1].filename(), "plugins");
  EXPECT_TRUE(contains(dirs[1].string(), exe_dir.parent_path().string() + "/"));
  EXPECT_FALSE(contains(dirs[1].string(), ".."));
  EXPECT_EQ(dirs[2], "/opt/a");
  EXPECT_EQ(dirs[3], "/opt/b");  // trailing '/' dropped, so the later "/opt/b" is a duplicate
  EXPECT_EQ(dirs[4], old_cwd / "relative/plugins");
  EXPECT_EQ(dirs[5], "/recipe/plugins");
}

TEST(PluginHost, DefaultDirsWithoutEnvironment) {
  ScopedEnv env("SENTBENCH_PLUGIN_PATH", "");
  const auto dirs = PluginHost::default_dirs();
  ASSERT_EQ(dirs.size(), 2u);
  // This test binary lives in <build>/tests, so its "plugins" folder is the fixtures folder.
  EXPECT_EQ(dirs[0], fs::path(SENTBENCH_TEST_PLUGIN_DIR).lexically_normal());
}

// ---- the example plugin (plugins/example), as built in tree ---------------------------------------

// Loads bin/plugins/sentbench-hashing.so; skips the test when the example is not part of this build.
class HashingExample : public ::testing::Test {
 protected:
  void SetUp() override {
    const fs::path file = fs::path(SENTBENCH_BINARY_DIR) / "bin/plugins/sentbench-hashing.so";
    if (!fs::exists(file)) GTEST_SKIP() << file << " not built";
    host_.load(file);
  }
  std::shared_ptr<sentbench::Encoder> make(const std::string& toml = "") {
    return host_.create_encoder("hashing", Config::parse(toml, "example.toml"));
  }
  static float norm(const at::Tensor& row) { return row.norm().item<float>(); }

  PluginHost host_;
};

TEST_F(HashingExample, DeclaresItsKeysAndInfo) {
  const auto* record = host_.find("hashing", PluginKind::kEncoder);
  ASSERT_NE(record, nullptr);
  std::vector<std::string> keys;
  for (const auto& k : record->keys) keys.push_back(k.name);
  EXPECT_EQ(keys, (std::vector<std::string>{"dim", "lowercase"}));
  const auto info = make()->info();
  EXPECT_EQ(info.name, "hashing");
  EXPECT_EQ(info.dim, 256);
  EXPECT_TRUE(info.normalize);
  EXPECT_EQ(info.parameters, 0);
  EXPECT_EQ(make("dim = 32")->info().dim, 32);
  EXPECT_THROW(make("dim = 0"), sentbench::ConfigError);
}

TEST_F(HashingExample, LowercasesAndSplitsOnPunctuation) {
  const auto batch = make()->tokenize({"Hello, hello HELLO world!", "", "  ...  "});
  ASSERT_EQ(batch.size(), 3u);
  ASSERT_EQ(batch.ids[0].size(), 4u);
  EXPECT_EQ(batch.ids[0][0], batch.ids[0][1]);
  EXPECT_EQ(batch.ids[0][0], batch.ids[0][2]);
  EXPECT_NE(batch.ids[0][0], batch.ids[0][3]);
  for (auto id : batch.ids[0]) EXPECT_TRUE(id >= 0 && id < 256) << id;
  EXPECT_TRUE(batch.ids[1].empty());
  EXPECT_TRUE(batch.ids[2].empty());
  const auto cased = make("lowercase = false")->tokenize({"Hello hello"});
  EXPECT_NE(cased.ids[0][0], cased.ids[0][1]);
}

TEST_F(HashingExample, ForwardGivesNormalisedLogTf) {
  auto encoder = make();
  const auto batch = encoder->tokenize({"apple apple banana", ""});
  const std::int32_t apple = batch.ids[0][0], banana = batch.ids[0][2];
  ASSERT_NE(apple, banana);
  const at::Tensor out = encoder->forward(batch);
  ASSERT_EQ(out.size(0), 2);
  ASSERT_EQ(out.size(1), 256);
  EXPECT_NEAR(norm(out[0]), 1.0f, 1e-5);
  EXPECT_NEAR(out[0][apple].item<float>() / out[0][banana].item<float>(), std::log(3.0) / std::log(2.0), 1e-5);
  EXPECT_EQ(norm(out[1]), 0.0f);  // an empty text is the zero vector, not NaN
}

TEST_F(HashingExample, EncodeKeepsInputOrderAndSimilarTextsAreCloser) {
  const std::vector<std::string> texts = {"the cat sat on the mat", "a dog", "The cat sat on a mat.", "a dog"};
  const at::Tensor out = make()->encode(texts, {});
  ASSERT_EQ(out.size(0), 4);
  const float same = out[1].dot(out[3]).item<float>();
  const float close = out[0].dot(out[2]).item<float>();
  const float far = out[0].dot(out[1]).item<float>();
  EXPECT_NEAR(same, 1.0f, 1e-5);
  EXPECT_GT(close, 0.5f);
  EXPECT_LT(far, close);
}

TEST_F(HashingExample, SaveWritesSettingsAsToml) {
  TempDir dir;
  make("dim = 64\nlowercase = false")->save(dir.path() / "model");
  const Config saved = Config::load(dir.path() / "model" / "hashing.toml");
  EXPECT_EQ(saved.get_string("plugin"), "hashing");
  EXPECT_EQ(saved.get_int("dim"), 64);
  EXPECT_FALSE(saved.get_bool("lowercase"));
  EXPECT_EQ(host_.create_encoder("hashing", saved)->info().dim, 64);  // the file is a usable [encoder] section
}

// ---- the compatibility rules themselves -------------------------------------------------------------

sentbench::PluginInfo good_info() {
  static const sentbench::KeySpec keys[] = {{"k", sentbench::ValueType::kString, false, "help"}};
  return SENTBENCH_PLUGIN_INFO_INIT(PluginKind::kEncoder, "x", "1.0", "d", keys);
}

TEST(Incompatibility, AcceptsMatchingInfo) { EXPECT_EQ(sentbench::incompatibility(good_info()), ""); }

TEST(Incompatibility, EmptyTorchVersionMeansNoTorch) {
  auto info = good_info();
  info.torch_version = "";
  EXPECT_EQ(sentbench::incompatibility(info), "");
}

TEST(Incompatibility, OlderMajorAsksForRebuild) {
  auto info = good_info();
  info.abi_major = sentbench::kAbiMajor - 1;
  info.name = nullptr;  // never read under another major
  const std::string reason = sentbench::incompatibility(info);
  EXPECT_TRUE(contains(reason, fmt::format("ABI {}.", sentbench::kAbiMajor - 1)));
  EXPECT_TRUE(contains(reason, "rebuild the plugin against this SDK"));
  EXPECT_FALSE(contains(reason, "newer sentbench"));
}

TEST(Incompatibility, RefusesMalformedInfo) {
  auto info = good_info();
  info.name = "";
  EXPECT_TRUE(contains(sentbench::incompatibility(info), "no name"));
  info = good_info();
  info.kind = static_cast<PluginKind>(7);
  EXPECT_TRUE(contains(sentbench::incompatibility(info), "unknown plugin kind 7"));
  info = good_info();
  info.keys = nullptr;
  EXPECT_TRUE(contains(sentbench::incompatibility(info), "declares 1 keys"));
}

}  // namespace
