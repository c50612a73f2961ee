// The conformance suite instantiated for the encoders built here: roberta from the shared tiny model
// (skipped without the shared data), roberta randomly initialised on the committed Debian tokenizer (runs
// everywhere), and the example plugin `hashing`.
#include <filesystem>
#include <string>

#include "encoder_conformance.hpp"
#include "sentbench/io.hpp"
#include "test_util.hpp"

namespace fs = std::filesystem;

namespace sentbench::conformance {
namespace {

fs::path plugin_file(const std::string& name) {
  return fs::path(SENTBENCH_BINARY_DIR) / "bin" / "plugins" / ("sentbench-" + name + ".so");
}

// A TOML literal string (paths here hold no single quote).
std::string literal(const fs::path& p) { return "'" + p.string() + "'"; }

std::shared_ptr<Encoder> roberta(const std::string& keys) {
  return load_plugin_encoder(plugin_file("roberta"), "[encoder]\nplugin = \"roberta\"\n" + keys);
}

std::shared_ptr<Encoder> roberta_from(const fs::path& dir) { return roberta("model = " + literal(dir) + "\n"); }

fs::path tiny_roberta() { return test::shared_data() / "tiny-roberta"; }

EncoderCase tiny_roberta_case() {
  EncoderCase c;
  c.name = "roberta_tiny";
  c.unavailable = [] {
    return test::shared_data().empty() || !fs::exists(tiny_roberta() / "model.safetensors")
               ? "reference data tiny-roberta not found: set $SENTBENCH_SHARED_DATA or place the shared data at "
                 "../shared/data"
               : "";
  };
  c.make = [] { return roberta_from(tiny_roberta()); };
  c.make_bf16 = [] { return roberta("model = " + literal(tiny_roberta()) + "\ndtype = \"bfloat16\"\n"); };
  c.load_saved = roberta_from;
  return c;
}

// Random weights on the tokenizer the quickstart trains with: no shared data needed.
EncoderCase random_roberta_case() {
  const std::string keys = "tokenizer = " + literal(fs::path(SENTBENCH_SOURCE_DIR) / "datasets/data/debian/tokenizer") +
                           "\nmax_seq_length = 64\n[encoder.init]\nhidden = 32\nlayers = 2\nheads = 4\nffn = 64\nseed = 5\n";
  EncoderCase c;
  c.name = "roberta_random_init";
  c.make = [keys] { return roberta(keys); };
  c.make_bf16 = [keys] { return roberta("dtype = \"bfloat16\"\n" + keys); };
  c.load_saved = roberta_from;
  return c;
}

EncoderCase hashing_case() {
  EncoderCase c;
  c.name = "example_hashing";
  c.make = [] { return load_plugin_encoder(plugin_file("hashing"), "[encoder]\nplugin = \"hashing\"\ndim = 64\n"); };
  // save() writes hashing.toml: [encoder] keys at its top level.
  c.load_saved = [](const fs::path& dir) {
    return load_plugin_encoder(plugin_file("hashing"), "[encoder]\n" + read_file(dir / "hashing.toml"));
  };
  return c;
}

INSTANTIATE_TEST_SUITE_P(Builtin, EncoderConformance,
                         ::testing::Values(tiny_roberta_case(), random_roberta_case(), hashing_case()), case_name);

}  // namespace
}  // namespace sentbench::conformance
