// The keys of [[eval]] tables, by task type. Task types (tasks/, or code built on the SDK) register
// their keys here so that recipe validation checks [[eval]] tables without knowing any task type.
#pragma once

#include <string>
#include <vector>

#include "sentbench/plugin.hpp"

namespace sentbench {

// Registers (or replaces) the extra keys of [[eval]] tables of `type`.
void register_eval_type(const std::string& type, std::vector<KeySpec> keys);
// The registered types, sorted.
std::vector<std::string> eval_types();

}  // namespace sentbench
