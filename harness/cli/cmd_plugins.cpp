// `sentbench plugins`: what the host found (name, kind, version, path) and every refused file.
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "commands.hpp"
#include "plugin_host.hpp"

namespace sentbench::cli {

void add_plugins_command(CLI::App& app, Action& action) {
  auto extra = std::make_shared<std::vector<std::string>>();
  CLI::App* cmd = app.add_subcommand(
      "plugins", "List the plugins found (next to the executable, in $SENTBENCH_PLUGIN_PATH, in --dir) and refused files.");
  cmd->add_option("--dir", *extra, "also scan this folder")->type_name("DIR");
  cmd->callback([&action, extra] {
    action = [extra] {
      std::vector<std::filesystem::path> dirs(extra->begin(), extra->end());
      PluginHost host;
      const auto searched = PluginHost::default_dirs(dirs);
      host.scan_all(searched);
      std::cout << fmt::format("{:<16} {:<8} {:<10} {}\n", "NAME", "KIND", "VERSION", "PATH");
      for (const auto& p : host.plugins()) {
        std::cout << fmt::format("{:<16} {:<8} {:<10} {}\n", p.name, p.kind == PluginKind::kEncoder ? "encoder" : "recipe",
                                 p.version, p.path.string());
      }
      if (host.plugins().empty()) std::cout << "(no plugins found)\n";
      if (!host.refused().empty()) {
        std::cout << "\nrefused:\n";
        for (const auto& r : host.refused()) std::cout << fmt::format("  {}: {}\n", r.path.string(), r.reason);
      }
      std::cout << "\nsearched:";
      for (const auto& d : searched) std::cout << ' ' << d.string();
      std::cout << '\n';
      return 0;
    };
  });
}

}  // namespace sentbench::cli
