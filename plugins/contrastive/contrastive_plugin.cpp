// The plugin entry points of the contrastive training recipe.
#include "contrastive_recipe.hpp"

namespace {
const sentbench::PluginInfo kContrastiveInfo{
    sentbench::kAbiMajor, sentbench::kAbiMinor, sentbench::PluginKind::kRecipe, "contrastive", "0.1.0",
    "in-batch negatives (MNRL, symmetric), weighted data mixing, GradCache, exact resume", TORCH_VERSION,
    _GLIBCXX_USE_CXX11_ABI, sentbench::contrastive::kTrainKeys, sentbench::contrastive::kTrainKeyCount};
}  // namespace

SENTBENCH_PLUGIN(kContrastiveInfo, sentbench::contrastive::ContrastiveRecipe)
