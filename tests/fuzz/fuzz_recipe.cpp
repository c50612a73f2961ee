// Recipe TOML: Config::parse from a string, then what `sentbench validate` checks (recipe_schema's
// validate_recipe, without a plugin host: plugin sections are checked by their plugins only when loaded),
// then the resolved copy every run saves (to_toml, to_json).
#include <string>
#include <string_view>

#include "fuzz_util.hpp"
#include "recipe_schema.hpp"
#include "sentbench/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  sentbench::fuzz::expect_clean([&] {
    // A folder that does not exist anchors relative includes, so they fail instead of reading the tree.
    const sentbench::Config recipe = sentbench::Config::parse(text, "/nonexistent-sentbench-fuzz/recipe.toml");
    for (const auto& problem : sentbench::validate_recipe(recipe, nullptr)) (void)problem.str();
    (void)recipe.to_toml();
    (void)recipe.to_json();
  });
  return 0;
}
