// `sentbench sweep RECIPE --grid KEY=V1,V2,... [--seeds N] [--parallel N] -o DIR`: one run folder per grid
// combination and seed, each run a child process of this executable (`sentbench run ... -o DIR/NAME`) so
// that a crash or an out-of-memory kill of one run does not end the sweep; then one report over all of
// them (DIR/sweep.md, sweep.html, sweep.json). Resumable: run it again and finished runs are skipped,
// interrupted ones continue from their checkpoints.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstring>
#include <ctime>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "commands.hpp"
#include "report.hpp"
#include "run_folder.hpp"
#include "runner.hpp"
#include "sentbench/errors.hpp"
#include "sentbench/io.hpp"
#include "sentbench/log.hpp"
#include "sentbench/threads.hpp"
#include "sweep_report.hpp"
#include "text_table.hpp"

namespace fs = std::filesystem;

namespace sentbench::cli {
namespace {

// The README's measured quickstart (2,100 steps in 465 s at 1 thread on a 2-core machine): 0.22 s a step,
// rounded up. Only --dry-run uses it, and only before any run of the sweep has finished.
constexpr double kDefaultStepSeconds = 0.25;

struct Args {
  std::string recipe;
  std::vector<std::string> grid;
  std::vector<std::string> sets;
  int seeds = 1;
  int parallel = 1;
  bool dry_run = false;
  std::string output;
  std::string sort;
  bool no_cache = false;
  double step_seconds = kDefaultStepSeconds;
};

// What a run folder holds when the sweep looks at it, and so what the sweep does with it.
enum class State { kFresh, kDone, kResume, kRestart };

const char* state_text(State s) {
  switch (s) {
    case State::kFresh: return "pending";
    case State::kDone: return "done";
    case State::kResume: return "unfinished, has a checkpoint: --resume";
    case State::kRestart: return "unfinished, no checkpoint: --overwrite";
  }
  return "?";
}

// Whether a run folder holds training state `run --resume` continues from: a checkpoint (step-*) of the
// run or of a stage, or a finished stage (stage.json).
bool has_training_state(const fs::path& dir) {
  std::vector<fs::path> places = {dir};
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir / "stages", ec)) {
    if (!e.is_directory()) continue;
    if (fs::exists(e.path() / "stage.json")) return true;
    places.push_back(e.path());
  }
  for (const fs::path& where : places) {
    std::error_code ec2;
    for (const auto& e : fs::directory_iterator(where / "checkpoints", ec2)) {
      if (e.is_directory() && e.path().filename().string().rfind("step-", 0) == 0) return true;
    }
  }
  return false;
}

// A run counts as finished when its report.json (written last, after results.json and run.json) loads.
std::optional<Report> finished_report(const fs::path& dir) {
  if (!fs::exists(dir / "report.json")) return std::nullopt;
  try {
    return load_report(dir / "report.json");
  } catch (const Error& e) {
    log::warn("{} does not load ({}); the run is done again", (dir / "report.json").string(), e.what());
    return std::nullopt;
  }
}

State classify(const fs::path& dir, std::optional<Report>* report) {
  if (!fs::exists(dir)) return State::kFresh;
  *report = finished_report(dir);
  if (*report) return State::kDone;
  return has_training_state(dir) ? State::kResume : State::kRestart;
}

// Keys the sweep itself may set differently between invocations (threads follow --parallel) or that name
// the run's folder: they do not make a finished run another run.
bool incidental_key(const std::string& line) {
  for (const char* key : {"run.threads:", "run.name:", "run.output_dir:"}) {
    if (line.rfind(key, 0) == 0) return true;
  }
  return false;
}

// Training steps a recipe asks for: [train].steps, or the sum of every [[stage]]'s.
std::int64_t recipe_steps(const Config& recipe) {
  if (recipe.contains("train")) return recipe.table("train").get_int("steps", 0);
  std::int64_t steps = 0;
  for (const Config& stage : recipe.tables("stage")) steps += stage.get_int("steps", 0);
  return steps;
}

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

std::string shell_quote(const std::string& s) {
  if (!s.empty() && s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./=,:@+") ==
                        std::string::npos) {
    return s;
  }
  std::string out = "'";
  for (const char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string last_lines(const fs::path& file, std::size_t n) {
  std::ifstream in(file);
  std::deque<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    lines.push_back(line);
    if (lines.size() > n) lines.pop_front();
  }
  std::string out;
  for (const auto& l : lines) out += "    " + l + "\n";
  return out;
}

// ---- child processes ------------------------------------------------------------------------------------

std::vector<pid_t> g_running;  // pids of the runs in progress (0: free slot); sized before handlers exist
volatile std::sig_atomic_t g_signal = 0;

// Ctrl-C / SIGTERM: stop starting runs and pass the signal on, once per signal, to each run (each is in its
// own process group, so a terminal's Ctrl-C reaches it only through here: a run told twice exits at once
// instead of checkpointing). A second signal is passed on again and so does stop them at once.
extern "C" void sweep_stop_signal(int sig) {  // a name of its own: extern "C" names are global
  g_signal = sig;
  for (const pid_t pid : g_running) {
    if (pid > 0) ::kill(pid, sig);
  }
}

struct Child {
  pid_t pid = 0;
  std::size_t run = 0;
  std::chrono::steady_clock::time_point start;
};

pid_t start_child(const std::string& exe, const std::vector<std::string>& args, const fs::path& log_file,
                  int cores_each) {
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) throw Error(fmt::format("sweep: fork failed: {}", std::strerror(errno)));
  if (pid == 0) {
    ::setpgid(0, 0);
    // The run ends with the sweep, even when the sweep is SIGKILLed: it stops as on SIGTERM, checkpointing.
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) std::_Exit(143);
    const int fd = ::open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      ::dup2(fd, STDOUT_FILENO);
      ::dup2(fd, STDERR_FILENO);
      ::close(fd);
    }
    const int null = ::open("/dev/null", O_RDONLY);
    if (null >= 0) ::dup2(null, STDIN_FILENO), ::close(null);
    if (cores_each > 0) {
      // As --nproc does for its ranks: each run's pools over its share of the cores.
      const std::string n = std::to_string(cores_each);
      ::setenv("SENTBENCH_CORES", n.c_str(), 1);
      ::setenv("OPENBLAS_NUM_THREADS", n.c_str(), 0);
      ::setenv("OMP_NUM_THREADS", n.c_str(), 0);
    }
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(exe.c_str(), argv.data());
    std::fprintf(stderr, "error: sweep: cannot start %s: %s\n", exe.c_str(), std::strerror(errno));
    std::_Exit(127);
  }
  ::setpgid(pid, pid);  // also here, so that no signal can find it still in the sweep's group
  return pid;
}

std::string exit_text(int status) {
  if (WIFEXITED(status)) return fmt::format("exit {}", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return fmt::format("killed by signal {} ({})", WTERMSIG(status), strsignal(WTERMSIG(status)));
  return "ended";
}

// ---- the command ----------------------------------------------------------------------------------------

struct Planned {
  SweepPlan plan;
  std::vector<std::vector<std::string>> overrides;  // per run: the sweep's --set options, then the run's
  std::vector<std::int64_t> steps;                  // per run: training steps of its resolved recipe
  std::vector<std::string> recipe_json;             // per run: its resolved recipe (for finished-run checks)
  int recipe_threads = 0;                           // [run].threads of the first configuration
  bool user_threads = false;                        // --set or --grid sets run.threads
};

Planned plan_and_check(const Args& args) {
  std::vector<GridAxis> axes;
  for (const auto& g : args.grid) axes.push_back(parse_grid_axis(g));
  const Config base = Config::load(args.recipe, args.sets);
  const std::int64_t base_seed = base.table_or_empty("run").get_int("seed", 42);
  Planned p;
  p.plan = plan_sweep(std::move(axes), args.seeds, base_seed);
  for (const auto& set : args.sets) {
    const std::string key = set.substr(0, set.find('='));
    for (const auto& a : p.plan.axes) {
      if (a.key == key) {
        throw UsageError(fmt::format("--set {} and --grid {}=... both set {}: keep it in one of them", set, a.key, key));
      }
    }
    if (key == "run.threads") p.user_threads = true;
  }
  for (const auto& a : p.plan.axes) p.user_threads = p.user_threads || a.key == "run.threads";

  // Every configuration is loaded and validated before any run starts: a bad value in the grid's last
  // combination fails now, not hours into the sweep.
  for (const SweepRun& run : p.plan.runs) {
    std::vector<std::string> overrides = args.sets;
    for (const auto& o : run.overrides()) overrides.push_back(o);
    std::string sets;
    for (const auto& o : run.overrides()) sets += " --set " + shell_quote(o);
    try {
      const bool first_of_config = p.plan.configs[run.config].runs.front() == p.recipe_json.size();
      Config recipe = first_of_config ? check_recipe(Config::load(args.recipe, overrides)).recipe
                                      : Config::load(args.recipe, overrides);
      if (p.recipe_json.empty()) p.recipe_threads = static_cast<int>(recipe.table_or_empty("run").get_int("threads", 0));
      p.steps.push_back(recipe_steps(recipe));
      p.recipe_json.push_back(recipe.to_json());
    } catch (const ConfigError& e) {
      throw ConfigError(fmt::format("sweep run {} (the recipe with{}):\n{}\nfix the --grid values (or the recipe) and run "
                                    "the sweep again; no run was started",
                                    run.name, sets, e.what()));
    }
    p.overrides.push_back(std::move(overrides));
  }
  return p;
}

// Holds DIR/.sweep.lock for the sweep's lifetime: two sweeps in one folder would start the same runs.
class SweepLock {
 public:
  explicit SweepLock(const fs::path& dir) {
    const fs::path path = dir / ".sweep.lock";
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) throw IoError(fmt::format("cannot open {}: {}", path.string(), std::strerror(errno)));
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      char buf[64] = {};
      const ssize_t n = ::pread(fd_, buf, sizeof buf - 1, 0);
      ::close(fd_);
      throw UsageError(fmt::format("another sentbench sweep is working in {} (pid {}): wait for it to finish, or give "
                                   "this sweep another folder with -o DIR",
                                   dir.string(), n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "?"));
    }
    const std::string pid = std::to_string(::getpid());
    if (::ftruncate(fd_, 0) == 0 && ::pwrite(fd_, pid.data(), pid.size(), 0) < 0) {
      // the pid is only for the message above
    }
  }
  ~SweepLock() {
    if (fd_ >= 0) ::close(fd_);
  }
  SweepLock(const SweepLock&) = delete;
  SweepLock& operator=(const SweepLock&) = delete;

 private:
  int fd_ = -1;
};

int run_sweep(const Args& args) {
  if (args.parallel < 1) throw UsageError("--parallel must be 1 or more");
  Planned p = plan_and_check(args);
  const SweepPlan& plan = p.plan;
  const fs::path dir = args.output.empty()
                           ? fs::path(run_dir_for(Config::load(args.recipe, args.sets), std::nullopt).string() + "-sweep")
                           : fs::path(args.output);
  const std::size_t n = plan.runs.size();

  // What each folder holds now.
  std::vector<State> state(n);
  std::vector<SweepRunOutcome> outcome(n);
  for (std::size_t i = 0; i < n; ++i) {
    state[i] = classify(dir / plan.runs[i].name, &outcome[i].report);
    if (state[i] == State::kDone) outcome[i].status = "done";
  }
  // A finished run is reused only if it ran the settings this sweep would give it.
  std::string mismatched;
  for (std::size_t i = 0; i < n; ++i) {
    if (state[i] != State::kDone) continue;
    std::vector<std::string> diff = settings_differences(outcome[i].report->recipe.dump(), p.recipe_json[i]);
    diff.erase(std::remove_if(diff.begin(), diff.end(), incidental_key), diff.end());
    if (diff.empty()) continue;
    mismatched += fmt::format("\n  {}:", (dir / plan.runs[i].name).string());
    for (const auto& d : diff) mismatched += "\n    " + d;
  }
  if (!mismatched.empty()) {
    throw UsageError(fmt::format("finished runs in {} were run with other settings than this sweep gives them "
                                 "(finished → now):{}\nrun the sweep with the same recipe and --set options as before, "
                                 "give it another folder (-o DIR), or delete those run folders to run them again",
                                 dir.string(), mismatched));
  }
  const std::size_t done = static_cast<std::size_t>(std::count(state.begin(), state.end(), State::kDone));
  const std::string shape = fmt::format("{} configuration{}{} = {} run{}", plan.configs.size(),
                                        plan.configs.size() == 1 ? "" : "s",
                                        plan.seeds.empty() ? "" : fmt::format(" × {} seeds", plan.seeds.size()), n,
                                        n == 1 ? "" : "s");

  if (args.dry_run) {
    // Time per step and evaluation time per run, measured on this sweep's finished runs when it has any.
    double train_seconds = 0, eval_seconds = 0;
    std::int64_t trained_steps = 0;
    std::size_t measured = 0;
    for (std::size_t i = 0; i < n; ++i) {
      if (!outcome[i].report) continue;
      const Report& r = *outcome[i].report;
      if (r.training && r.training->steps > 0) train_seconds += r.training->seconds, trained_steps += r.training->steps;
      for (const TaskResult& t : r.tasks) {
        eval_seconds += t.model.wall_seconds;
        for (const auto& [name, b] : t.baselines) eval_seconds += b.wall_seconds;
      }
      ++measured;
    }
    const double per_step = trained_steps > 0 ? train_seconds / static_cast<double>(trained_steps) : args.step_seconds;
    const double eval_per_run = measured > 0 ? eval_seconds / static_cast<double>(measured) : 0;
    TextTable table({"#", "run", "settings", "steps", "state"},
                    {TextTable::Align::kRight, TextTable::Align::kLeft, TextTable::Align::kLeft, TextTable::Align::kRight,
                     TextTable::Align::kLeft});
    double total = 0;
    for (std::size_t i = 0; i < n; ++i) {
      std::string settings;
      for (const auto& o : plan.runs[i].overrides()) settings += (settings.empty() ? "" : " ") + o;
      table.add_row({std::to_string(i + 1), plan.runs[i].name, settings, std::to_string(p.steps[i]), state_text(state[i])});
      if (state[i] != State::kDone) total += static_cast<double>(p.steps[i]) * per_step + eval_per_run;
    }
    std::cout << fmt::format("sweep of {} in {}: {}, {} finished, {} to run\n\n", args.recipe, dir.string(), shape, done,
                             n - done)
              << table.str() << '\n';
    const int at_once = static_cast<int>(std::min<std::size_t>(static_cast<std::size_t>(args.parallel), std::max<std::size_t>(1, n - done)));
    std::string how = measured > 0
                          ? fmt::format("{:.3f} s per training step and {} of evaluation per run, measured on the {} "
                                        "finished run{}", per_step, human_seconds(eval_per_run), measured,
                                        measured == 1 ? "" : "s")
                          : fmt::format("{:.3f} s per training step (--step-seconds; no run has finished to measure), "
                                        "evaluation not included", per_step);
    std::cout << fmt::format("estimated time: {} for {} run{} at {} at once ({}; resumed runs counted whole)\n",
                             human_seconds(total / at_once), n - done, n - done == 1 ? "" : "s", at_once, how);
    return 0;
  }

  fs::create_directories(dir);
  SweepLock lock(dir);
  char exe_buf[4096];
  const ssize_t len = ::readlink("/proc/self/exe", exe_buf, sizeof exe_buf - 1);
  if (len <= 0) throw Error("sweep: cannot find this program's path (/proc/self/exe)");
  const std::string exe(exe_buf, static_cast<std::size_t>(len));

  // --parallel N: each run gets cores / N (its [run].threads capped to that, as --nproc splits them too).
  int cores_each = 0;
  if (args.parallel > 1) {
    const int cores = usable_cores();
    cores_each = std::max(1, cores / args.parallel);
    if (args.parallel > cores) {
      log::warn("--parallel {} runs more runs at once than the {} usable core{}: they will slow each other down",
                args.parallel, cores, cores == 1 ? "" : "s");
    }
  }

  std::cout << fmt::format("sweep of {} in {}: {}, {} finished earlier, {} to run{}\n", args.recipe, dir.string(), shape,
                           done, n - done,
                           args.parallel > 1 ? fmt::format(" ({} at once, {} core{} each)", args.parallel, cores_each,
                                                           cores_each == 1 ? "" : "s")
                                             : "")
            << std::flush;
  std::deque<std::size_t> queue;
  for (std::size_t i = 0; i < n; ++i) {
    if (state[i] == State::kDone) {
      std::cout << fmt::format("[{}/{}] skipped  {}: finished earlier\n", i + 1, n, plan.runs[i].name);
    } else {
      queue.push_back(i);
    }
  }
  std::cout << std::flush;

  g_running.assign(static_cast<std::size_t>(args.parallel), 0);
  struct sigaction sa {};
  sa.sa_handler = sweep_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: waitpid returns on a signal, and the loop stops starting runs
  struct sigaction old_int {}, old_term {};
  ::sigaction(SIGINT, &sa, &old_int);
  ::sigaction(SIGTERM, &sa, &old_term);

  using clock = std::chrono::steady_clock;
  std::vector<Child> running;
  std::vector<double> durations;
  std::size_t finished_now = 0, failed = 0;
  const std::size_t to_run = queue.size();
  auto eta = [&]() -> std::string {
    if (durations.empty()) return "?";
    double mean = 0;
    for (const double d : durations) mean += d;
    mean /= static_cast<double>(durations.size());
    double left = static_cast<double>(queue.size()) * mean;
    for (const Child& c : running) left += std::max(0.0, mean - std::chrono::duration<double>(clock::now() - c.start).count());
    return human_seconds(left / args.parallel);
  };
  while (!queue.empty() || !running.empty()) {
    while (g_signal == 0 && !queue.empty() && running.size() < static_cast<std::size_t>(args.parallel)) {
      const std::size_t i = queue.front();
      queue.pop_front();
      const SweepRun& run = plan.runs[i];
      const fs::path run_dir = dir / run.name;
      fs::create_directories(run_dir);
      std::vector<std::string> command = {exe, "run", args.recipe};
      for (const auto& o : p.overrides[i]) command.insert(command.end(), {"--set", o});
      if (cores_each > 0 && !p.user_threads) {
        const int threads = p.recipe_threads > 0 ? std::min(p.recipe_threads, cores_each) : cores_each;
        command.insert(command.end(), {"--set", fmt::format("run.threads={}", threads)});
      }
      command.insert(command.end(), {"-o", run_dir.string()});
      if (state[i] == State::kResume) command.push_back("--resume");
      if (state[i] == State::kRestart) command.push_back("--overwrite");
      if (args.no_cache) command.push_back("--no-cache");
      std::string line;
      for (std::size_t a = 0; a < command.size(); ++a) line += (a ? " " : "") + shell_quote(a == 0 ? "sentbench" : command[a]);
      const fs::path log_file = run_dir / "sweep.log";
      {
        std::ofstream header(log_file, std::ios::app);
        header << fmt::format("==== sentbench sweep {}: {}\n", utc_now(), line);
      }
      Child child{0, i, clock::now()};
      child.pid = start_child(exe, command, log_file, cores_each);
      for (pid_t& slot : g_running) {
        if (slot == 0) {
          slot = child.pid;
          break;
        }
      }
      if (g_signal != 0) ::kill(child.pid, g_signal);  // a signal that came while it was starting
      running.push_back(child);
      const char* how = state[i] == State::kResume ? " (resuming from its checkpoint)"
                        : state[i] == State::kRestart ? " (unfinished, no checkpoint: starting over)" : "";
      std::cout << fmt::format("[{}/{}] started  {}{}; log {}\n", i + 1, n, run.name, how, log_file.string()) << std::flush;
    }
    if (running.empty()) break;  // stopped by a signal with nothing left running
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, 0);
    if (pid < 0) {
      if (errno == EINTR) continue;
      throw Error(fmt::format("sweep: waitpid failed: {}", std::strerror(errno)));
    }
    auto it = std::find_if(running.begin(), running.end(), [&](const Child& c) { return c.pid == pid; });
    if (it == running.end()) continue;
    for (pid_t& slot : g_running) {
      if (slot == pid) slot = 0;
    }
    const Child child = *it;
    running.erase(it);
    const double seconds = std::chrono::duration<double>(clock::now() - child.start).count();
    const SweepRun& run = plan.runs[child.run];
    const fs::path run_dir = dir / run.name;
    SweepRunOutcome& o = outcome[child.run];
    o.elapsed_seconds = seconds;
    o.report = finished_report(run_dir);
    const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    const bool stopped = (WIFEXITED(status) && (WEXITSTATUS(status) == 130 || WEXITSTATUS(status) == 143)) ||
                         (WIFSIGNALED(status) && g_signal != 0);
    if (ok) {
      o.status = "done";
      ++finished_now;
      durations.push_back(seconds);
    } else if (stopped) {
      o.status = "interrupted";
    } else {
      o.status = fmt::format("failed ({})", exit_text(status));
      ++failed;
      durations.push_back(seconds);
    }
    std::cout << fmt::format("[{}/{}] {:<8} {} in {} · {} of {} to run finished{} · ETA {}\n", child.run + 1, n,
                             ok ? "done" : stopped ? "stopped" : "FAILED", run.name, human_seconds(seconds), finished_now,
                             to_run, failed ? fmt::format(", {} failed", failed) : "", eta());
    if (!ok && !stopped) std::cout << fmt::format("  last lines of {}:\n{}", (run_dir / "sweep.log").string(), last_lines(run_dir / "sweep.log", 6));
    std::cout << std::flush;
  }
  ::sigaction(SIGINT, &old_int, nullptr);
  ::sigaction(SIGTERM, &old_term, nullptr);
  if (g_signal != 0) {
    const std::size_t have = static_cast<std::size_t>(std::count_if(outcome.begin(), outcome.end(), [](const SweepRunOutcome& o) { return o.report.has_value(); }));
    log::warn("sweep stopped by signal {} ({}): {} of {} runs finished; run the same command again to continue (finished "
              "runs are skipped, interrupted ones resume from their checkpoints)",
              static_cast<int>(g_signal), strsignal(g_signal), have, n);
    return 128 + g_signal;
  }

  SweepReportOptions options;
  std::string keys;
  for (const auto& a : plan.axes) keys += (keys.empty() ? "" : ", ") + a.key;
  options.title = fmt::format("Sweep of {} over {}", fs::path(args.recipe).filename().string(), keys);
  options.recipe = args.recipe;
  options.sets = args.sets;
  options.sort_task = args.sort;
  const SweepSummary summary = summarize_sweep(plan, outcome, options);
  const auto files = write_sweep_report(summary, dir);
  std::cout << '\n' << render_sweep_markdown(summary) << std::flush;
  for (const auto& f : files) log::info("sweep report: {}", f.string());
  if (failed > 0) {
    throw Error(fmt::format("{} of {} runs failed (their logs: {}/<run>/sweep.log); the report covers the others. Run the "
                            "same command again to retry them",
                            failed, n, dir.string()));
  }
  return 0;
}

}  // namespace

void add_sweep_command(CLI::App& app, Action& action) {
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand(
      "sweep",
      "Run a recipe over a grid of settings: one run per combination of the --grid values (times --seeds seeds), each "
      "a `sentbench run` child process in its own folder DIR/<name> (name from the settings, e.g. lr=1e-3,seed=43; "
      "output in DIR/<name>/sweep.log), then one report over all of them: DIR/sweep.md, sweep.html and sweep.json with "
      "each configuration's main scores (mean ± std over seeds), speed, and a paired-bootstrap interval against the "
      "best. Resumable: run the same command again and finished runs are skipped, unfinished ones continue from their "
      "checkpoints (--resume) or start over (--overwrite). Ctrl-C / SIGTERM stop every run at its next safe point.");
  cmd->add_option("recipe", args->recipe, "recipe file (TOML)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--grid", args->grid,
                  "a recipe key and its values, as --set takes them: --grid train.lr=1e-3,3e-3 --grid "
                  "'stage[1].batch_size=32,64' (commas inside [...] or quotes do not split; repeat for more keys)")
      ->type_name("KEY=V1,V2,...")
      ->allow_extra_args(false)
      ->required();
  cmd->add_option("--seeds", args->seeds,
                  "runs per configuration with seeds [run].seed, [run].seed+1, ... (1: the recipe's seed, not in the names)")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  cmd->add_option("--parallel", args->parallel,
                  "runs at once; each gets cores/N threads ([run].threads capped to that, as --nproc splits them)")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  cmd->add_option("--set", args->sets, "override a recipe key in every run, TOML syntax: --set 'stage[0].steps=100'")
      ->type_name("KEY=VALUE")
      ->allow_extra_args(false);
  cmd->add_option("-o,--output", args->output, "sweep folder (default: [run].output_dir/[run].name-sweep)");
  cmd->add_option("--sort", args->sort, "order the report by this task's main score (default: the first task)")
      ->type_name("TASK");
  cmd->add_flag("--dry-run", args->dry_run,
                "list the runs (name, settings, done or pending) and estimate the time left; start nothing");
  cmd->add_option("--step-seconds", args->step_seconds,
                  "--dry-run: seconds per training step to assume when no run of the sweep has finished yet")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_flag("--no-cache", args->no_cache, "pass --no-cache to every run (re-encode instead of using the embedding cache)");
  cmd->callback([&action, args] { action = [args] { return run_sweep(*args); }; });
}

}  // namespace sentbench::cli
