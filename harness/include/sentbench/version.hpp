// The sentbench release this SDK belongs to.
#pragma once

namespace sentbench {
inline constexpr const char* kVersion = "0.1.0";
}
