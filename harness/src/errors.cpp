// Out-of-line destructors anchor the error classes' typeinfo in libsentbench, so a plugin's throw is
// caught by the host's catch clauses.
#include "sentbench/errors.hpp"

#include <utility>

namespace sentbench {

Error::~Error() = default;
ConfigError::~ConfigError() = default;
UsageError::~UsageError() = default;
DataError::~DataError() = default;
IoError::~IoError() = default;

Interrupted::Interrupted(int signal, const std::string& message) : Error(message), signal_(signal) {}
Interrupted::~Interrupted() = default;

PluginError::PluginError(std::string plugin, const std::string& message)
    : Error("plugin '" + plugin + "': " + message), plugin_(std::move(plugin)) {}
PluginError::~PluginError() = default;

}  // namespace sentbench
