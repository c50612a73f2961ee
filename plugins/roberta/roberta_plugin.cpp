// The plugin entry points of the roberta encoder backend.
#include "roberta_encoder.hpp"

namespace {
const sentbench::PluginInfo kRobertaInfo{
    sentbench::kAbiMajor, sentbench::kAbiMinor, sentbench::PluginKind::kEncoder, "roberta", "0.1.0",
    "RoBERTa encoder (byte-level BPE, Hugging Face folders, mean/cls/max pooling)", TORCH_VERSION,
    _GLIBCXX_USE_CXX11_ABI, sentbench::roberta::kEncoderKeys, sentbench::roberta::kEncoderKeyCount};
}  // namespace

SENTBENCH_PLUGIN(kRobertaInfo, sentbench::roberta::RobertaEncoder)
