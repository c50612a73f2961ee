// The encoder conformance suite: what every Encoder plugin must do, whatever its model. A plugin joins by
// instantiating the value-parameterised suite with one EncoderCase per configuration it wants checked:
//
//   INSTANTIATE_TEST_SUITE_P(MyPlugin, EncoderConformance,
//                            ::testing::Values(sentbench::conformance::EncoderCase{"my_plugin", make_it}),
//                            sentbench::conformance::case_name);
//
// in a file added to the SOURCES of tests/conformance/CMakeLists.txt, next to encoder_conformance.cpp (the
// checks) and builtin_encoders_test.cpp (the built-in plugins' cases).
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include <gtest/gtest.h>

#include "sentbench/encoder.hpp"

namespace sentbench::conformance {

using EncoderFactory = std::function<std::shared_ptr<Encoder>()>;

// One encoder configuration under test and what it promises.
struct EncoderCase {
  std::string name;      // test-name suffix: letters, digits and underscores
  EncoderFactory make;   // a fresh encoder (float32 when the plugin has a dtype setting)
  // Why this case cannot run on this machine (e.g. its model files are absent), or "" when it can; the
  // tests of the case are then skipped with that reason. Unset: always runs.
  std::function<std::string()> unavailable;
  // Largest absolute difference allowed between a text encoded alone and within a batch of 64 texts of
  // mixed lengths (padding must not leak into the result).
  double batch_tolerance = 1e-5;
  // The same encoder with bfloat16 compute; unset when the plugin has no dtype setting (the check skips).
  EncoderFactory make_bf16;
  double bf16_min_cosine = 0.99;  // each row's cosine to the float32 row must reach this
  // Loads what save() wrote into the folder; unset skips the round trip check.
  std::function<std::shared_ptr<Encoder>(const std::filesystem::path&)> load_saved;
};

// Prints the case name in gtest messages instead of the struct's bytes.
inline void PrintTo(const EncoderCase& c, std::ostream* os) { *os << c.name; }
// For INSTANTIATE_TEST_SUITE_P's name generator.
inline std::string case_name(const ::testing::TestParamInfo<EncoderCase>& info) { return info.param.name; }

// An encoder from a plugin file, created through the PluginHost as `sentbench run` creates it, from an
// [encoder] table written in TOML ("[encoder]\nplugin = \"roberta\"\nmodel = '/models/x'\n").
std::shared_ptr<Encoder> load_plugin_encoder(const std::filesystem::path& plugin_file, const std::string& toml);

// Runs each check on a fresh encoder from the case's factory.
class EncoderConformance : public ::testing::TestWithParam<EncoderCase> {
 protected:
  void SetUp() override;
  std::shared_ptr<Encoder> encoder_;
};

}  // namespace sentbench::conformance
