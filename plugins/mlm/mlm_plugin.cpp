// The plugin entry points of the masked-LM pre-training recipe.
#include "mlm_recipe.hpp"

namespace {
const sentbench::PluginInfo kMlmInfo{
    sentbench::kAbiMajor, sentbench::kAbiMinor, sentbench::PluginKind::kRecipe, "mlm", "0.1.0",
    "masked-LM pre-training (15% selected, 80/10/10 dynamic masking, LM head tied to the embeddings), held-out "
    "accuracy and perplexity",
    TORCH_VERSION, _GLIBCXX_USE_CXX11_ABI, sentbench::mlm::kTrainKeys, sentbench::mlm::kTrainKeyCount};
}  // namespace

SENTBENCH_PLUGIN(kMlmInfo, sentbench::mlm::MlmRecipe)
