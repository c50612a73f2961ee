// Helpers of the distributed integration tests (loopback and two network namespaces): the tiny recipe,
// reading and comparing train logs and checkpoints, and starting ranks the torchrun way (environment
// variables) as separate processes, optionally under a wrapper such as `ip netns exec NS`.
#pragma once

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "sentbench/io.hpp"
#include "test_util.hpp"

namespace sentbench::test {

// A small RoBERTa on the committed Debian pairs; dropout off so 1 and 2 ranks can agree to 1e-5.
inline std::filesystem::path write_recipe(const TempDir& tmp, const std::string& extra_train = "",
                                          const std::string& extra_run = "") {
  const std::filesystem::path debian = std::filesystem::path(SENTBENCH_SOURCE_DIR) / "datasets" / "data" / "debian";
  std::ofstream(tmp / "recipe.toml") << "[run]\nname = 'dist'\nseed = 3\nthreads = 1\n" << extra_run
                                     << "\n[encoder]\nplugin = 'roberta'\ntokenizer = '" << (debian / "tokenizer").string()
                                     << "'\nmax_seq_length = 32\npooling = 'mean'\n"
                                        "[encoder.init]\nhidden = 32\nlayers = 2\nheads = 2\nffn = 64\ndropout = 0.0\n"
                                        "[train]\nplugin = 'contrastive'\ndata = '"
                                     << (debian / "pairs.jsonl.gz").string()
                                     << "'\nsteps = 5\nbatch_size = 8\nlr = 1e-3\nwarmup_steps = 2\n"
                                        "shuffle_buffer = 64\nkeep_checkpoints = 1\n"
                                     << extra_train << "\n";
  return tmp / "recipe.toml";
}

// step -> loss from a run folder's train_log.jsonl (a step logged twice is a test failure).
inline std::map<std::int64_t, double> losses(const std::filesystem::path& run) {
  std::map<std::int64_t, double> out;
  std::ifstream in(run / "train_log.jsonl");
  for (std::string line; std::getline(in, line);) {
    const auto j = nlohmann::json::parse(line);
    EXPECT_EQ(out.count(j.at("step").get<std::int64_t>()), 0u) << "step logged twice: " << line;
    out[j.at("step").get<std::int64_t>()] = j.at("loss").get<double>();
  }
  return out;
}

// Largest absolute difference over all float32 tensors of two safetensors files (same names required).
inline double max_param_diff(const std::filesystem::path& a, const std::filesystem::path& b) {
  const SafetensorsFile fa = SafetensorsFile::open(a), fb = SafetensorsFile::open(b);
  EXPECT_EQ(fa.tensors().size(), fb.tensors().size());
  double worst = 0;
  for (const auto& [name, ta] : fa.tensors()) {
    const TensorView& tb = fb.at(name);
    EXPECT_EQ(ta.shape, tb.shape) << name;
    if (ta.dtype != DType::kF32 || ta.nbytes != tb.nbytes) continue;
    const auto* x = reinterpret_cast<const float*>(ta.data);
    const auto* y = reinterpret_cast<const float*>(tb.data);
    for (std::int64_t i = 0; i < ta.numel(); ++i) worst = std::max(worst, static_cast<double>(std::fabs(x[i] - y[i])));
  }
  return worst;
}

inline std::filesystem::path final_params(const std::filesystem::path& run, int step) {
  char name[32];
  std::snprintf(name, sizeof name, "step-%08d", step);
  return run / "checkpoints" / name / "params.safetensors";
}

// Both runs logged `steps` steps with the same losses (1e-5), the loss went down, and the last checkpoints
// hold the same parameters (1e-5).
inline void expect_same_training(const std::filesystem::path& one, const std::filesystem::path& two, int steps) {
  const auto l1 = losses(one), l2 = losses(two);
  ASSERT_EQ(l1.size(), static_cast<std::size_t>(steps));
  ASSERT_EQ(l2.size(), static_cast<std::size_t>(steps));
  for (const auto& [step, loss] : l1) EXPECT_NEAR(l2.at(step), loss, 1e-5) << "step " << step;
  EXPECT_LT(l1.rbegin()->second, l1.begin()->second) << "the loss goes down";
  EXPECT_LE(max_param_diff(final_params(one, steps), final_params(two, steps)), 1e-5);
}

// How one rank is started: torchrun's variables, extra ones (GLOO_SOCKET_IFNAME...), and a command the
// sentbench executable runs under (e.g. {"/usr/sbin/ip", "netns", "exec", NS}; empty: run it directly).
struct RankLaunch {
  int rank = 0;
  int world = 2;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  std::vector<std::pair<std::string, std::string>> env;
  std::vector<std::string> wrapper;
};

// Starts `sentbench args...` as `launch` describes, stdout and stderr to `log`.
inline pid_t start_rank(const RankLaunch& launch, const std::vector<std::string>& args, const std::filesystem::path& log) {
  std::vector<std::string> command = launch.wrapper;
  command.push_back(SENTBENCH_CLI);
  command.insert(command.end(), args.begin(), args.end());
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // a test killed by its timeout leaves no rank training on
    ::setenv("RANK", std::to_string(launch.rank).c_str(), 1);
    ::setenv("LOCAL_RANK", std::to_string(launch.rank).c_str(), 1);
    ::setenv("WORLD_SIZE", std::to_string(launch.world).c_str(), 1);
    ::setenv("MASTER_ADDR", launch.master_addr.c_str(), 1);
    ::setenv("MASTER_PORT", std::to_string(launch.master_port).c_str(), 1);
    ::setenv("OPENBLAS_NUM_THREADS", "1", 1);
    for (const auto& [name, value] : launch.env) ::setenv(name.c_str(), value.c_str(), 1);
    FILE* f = std::freopen(log.c_str(), "w", stderr);
    if (f == nullptr) std::_Exit(126);
    ::dup2(::fileno(stderr), ::fileno(stdout));
    std::vector<char*> argv;
    for (auto& a : command) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    std::_Exit(127);
  }
  return pid;
}

// Rank `rank` of `world` on loopback at `port`.
inline pid_t start_rank(int rank, int world, int port, const std::vector<std::string>& args,
                        const std::filesystem::path& log) {
  RankLaunch launch;
  launch.rank = rank;
  launch.world = world;
  launch.master_port = port;
  return start_rank(launch, args, log);
}

// Waits up to `limit` for pid to end; its exit code, or -1 when it is still running.
inline int wait_exit(pid_t pid, std::chrono::seconds limit, std::chrono::steady_clock::duration* took = nullptr) {
  const auto start = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - start < limit) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      if (took) *took = std::chrono::steady_clock::now() - start;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return -1;
}

inline std::size_t lines_in(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::size_t n = 0;
  for (std::string line; std::getline(in, line);) ++n;
  return n;
}

// Waits up to `limit` until `run`'s train log has `steps` lines; whether it got there.
inline bool wait_for_logged_steps(const std::filesystem::path& run, std::size_t steps, std::chrono::seconds limit) {
  const auto started = std::chrono::steady_clock::now();
  while (lines_in(run / "train_log.jsonl") < steps && std::chrono::steady_clock::now() - started < limit) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return lines_in(run / "train_log.jsonl") >= steps;
}

// Rank processes that are SIGKILLed and reaped when the test ends before they do (a failed assertion).
class RankProcesses {
 public:
  RankProcesses() = default;
  RankProcesses(const RankProcesses&) = delete;
  RankProcesses& operator=(const RankProcesses&) = delete;
  ~RankProcesses() {
    for (pid_t pid : pids_) {
      if (pid > 0) ::kill(pid, SIGKILL), ::waitpid(pid, nullptr, 0);
    }
  }
  void add(pid_t pid) { pids_.push_back(pid); }
  // Waits up to `limit` for all of them, polling together; each one's exit code (-1: still running) and,
  // in `took`, how long it ran from this call on. Those that ended are reaped.
  std::vector<int> wait_all(std::chrono::seconds limit, std::vector<std::chrono::steady_clock::duration>* took = nullptr) {
    const auto start = std::chrono::steady_clock::now();
    std::vector<int> codes(pids_.size(), -1);
    if (took) took->assign(pids_.size(), limit);
    for (std::size_t left = pids_.size(); left > 0 && std::chrono::steady_clock::now() - start < limit;) {
      for (std::size_t i = 0; i < pids_.size(); ++i) {
        int status = 0;
        if (pids_[i] <= 0 || ::waitpid(pids_[i], &status, WNOHANG) != pids_[i]) continue;
        codes[i] = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        if (took) (*took)[i] = std::chrono::steady_clock::now() - start;
        pids_[i] = -1;
        --left;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return codes;
  }

 private:
  std::vector<pid_t> pids_;
};

}  // namespace sentbench::test
