// Real Gloo ranks over loopback, run as threads of one test process: the in-process harness of the
// distributed tests and of the recipes' "2 ranks train like 1" tests.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "sentbench/distributed.hpp"

namespace sentbench::test {

// Collectives time out after timeout_s; joining may take up to a minute (threads start in any order, and
// a client that came before the server retries its connection after a pause).
inline DistOptions quick(double timeout_s = 20.0) {
  DistOptions o;
  o.timeout = std::chrono::milliseconds(static_cast<std::int64_t>(timeout_s * 1000));
  o.join_timeout = std::chrono::milliseconds(60'000);
  o.heartbeat = std::chrono::milliseconds(200);
  return o;
}

// Runs fn(rank, group) on `world` threads, each holding its own Gloo rank; returns each rank's error text.
inline std::vector<std::string> run_ranks(int world, const DistOptions& options,
                                          const std::function<void(int, ProcessGroup&)>& fn,
                                          const std::function<void(DistEnv&)>& adjust = {},
                                          int port = free_local_port()) {
  std::vector<std::string> errors(static_cast<std::size_t>(world));
  std::vector<std::thread> threads;
  for (int r = 0; r < world; ++r) {
    threads.emplace_back([&, r] {
      try {
        DistEnv env;
        env.rank = r;
        env.world_size = world;
        env.master_port = port;
        if (adjust) adjust(env);
        auto group = init_process_group(env, options);
        fn(r, *group);
      } catch (const std::exception& e) {
        errors[static_cast<std::size_t>(r)] = e.what();
      }
    });
  }
  for (auto& t : threads) t.join();
  return errors;
}

}  // namespace sentbench::test
