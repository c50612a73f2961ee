// Two hosts for real: two ranks in two network namespaces joined by a veth pair (a private /30 of this
// test's own, GLOO_SOCKET_IFNAME naming each side's veth), started the torchrun way with
// `ip netns exec NS sentbench train`. 5 steps on 2 ranks end like 1 rank; cutting the link mid-run (link
// down, or the veth pair deleted) stops both ranks within [run].dist_timeout (plus the diagnosis), each
// naming the other. Needs root (CAP_SYS_ADMIN, CAP_NET_ADMIN) and iproute2; skips, saying what was tried,
// where namespaces cannot be made (an unprivileged container).
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <sstream>

#include <gtest/gtest.h>

#include "distributed_test_util.hpp"

namespace fs = std::filesystem;
using namespace sentbench::test;

namespace sentbench {
namespace {

std::string ip_binary() {
  for (const char* p : {"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"}) {
    if (::access(p, X_OK) == 0) return p;
  }
  return {};
}

// Two namespaces `sbnet<pid>a|b` holding the two ends `sbv<pid>a|b` of a veth pair, addressed
// 10.213.7.1/30 and 10.213.7.2/30 (the namespaces are private: no clash with the host or another run).
// Removed when the object dies (deleting a namespace destroys the veth end inside it, and with it its peer).
class TwoHosts {
 public:
  static constexpr const char* kAddress[2] = {"10.213.7.1", "10.213.7.2"};

  TwoHosts() {
    ip_ = ip_binary();
    if (::geteuid() != 0) {
      why_not_ = "needs root to create network namespaces and a veth pair (CAP_SYS_ADMIN, CAP_NET_ADMIN); euid is " +
                 std::to_string(::geteuid());
      return;
    }
    if (ip_.empty()) {
      why_not_ = "`ip` (iproute2) not found in /usr/sbin, /sbin, /usr/bin, /bin: run scripts/install-deps.sh";
      return;
    }
    remove_stale();
    const std::string id = std::to_string(::getpid());
    for (int i = 0; i < 2; ++i) {
      ns_[i] = "sbnet" + id + (i == 0 ? "a" : "b");
      veth_[i] = "sbv" + id + (i == 0 ? "a" : "b");
    }
    const std::vector<std::string> steps = {
        "netns add " + ns_[0],
        "netns add " + ns_[1],
        "link add " + veth_[0] + " type veth peer name " + veth_[1],
        "link set " + veth_[0] + " netns " + ns_[0],
        "link set " + veth_[1] + " netns " + ns_[1],
        "-n " + ns_[0] + " addr add " + kAddress[0] + "/30 dev " + veth_[0],
        "-n " + ns_[1] + " addr add " + kAddress[1] + "/30 dev " + veth_[1],
        "-n " + ns_[0] + " link set lo up",
        "-n " + ns_[1] + " link set lo up",
        "-n " + ns_[0] + " link set " + veth_[0] + " up",
        "-n " + ns_[1] + " link set " + veth_[1] + " up",
    };
    std::ostringstream tried;
    for (const auto& s : steps) {
      const CommandResult r = ip(s);
      tried << "\n  $ " << ip_ << " " << s;
      if (r.exit_code != 0) tried << "  -> exit " << r.exit_code << ": " << r.output.substr(0, r.output.find_last_not_of('\n') + 1);
      if (r.exit_code != 0) {
        why_not_ = "could not set up two network namespaces joined by a veth pair (no CAP_SYS_ADMIN/CAP_NET_ADMIN, "
                   "or no veth support in this kernel?); tried:" + tried.str();
        return;
      }
    }
  }
  ~TwoHosts() {
    for (int i = 0; i < 2; ++i) {
      if (!ns_[i].empty()) ip("netns del " + ns_[i]);
    }
    if (!veth_[0].empty()) ip("link del " + veth_[0]);  // when setup stopped before moving it into a namespace
  }
  TwoHosts(const TwoHosts&) = delete;
  TwoHosts& operator=(const TwoHosts&) = delete;

  bool ready() const { return why_not_.empty(); }
  const std::string& why_not() const { return why_not_; }

  // Rank `rank` (0 or 1) in namespace `rank`, rendezvous at rank 0's veth address.
  RankLaunch rank(int rank, int port) const {
    RankLaunch launch;
    launch.rank = rank;
    launch.world = 2;
    launch.master_addr = kAddress[0];
    launch.master_port = port;
    launch.env = {{"GLOO_SOCKET_IFNAME", veth_[rank]}};
    launch.wrapper = {ip_, "netns", "exec", ns_[rank]};
    return launch;
  }

  // Cuts the link at rank 0's end: takes it down (the peer loses carrier; packets in flight and after are
  // lost, addresses stay), or deletes the pair (rank 0's MASTER_ADDR is gone with it).
  enum class Cut { kDown, kDelete };
  CommandResult cut(Cut how) const {
    return ip("-n " + ns_[0] + " link " + (how == Cut::kDown ? "set " + veth_[0] + " down" : "del " + veth_[0]));
  }

 private:
  CommandResult ip(const std::string& args) const { return run_command(ip_ + " " + args); }

  // Namespaces left by an earlier run of this test that was killed before its cleanup.
  void remove_stale() const {
    std::istringstream list(ip("netns list").output);
    for (std::string line; std::getline(list, line);) {
      if (line.rfind("sbnet", 0) != 0) continue;
      const std::string name = line.substr(0, line.find(' '));
      const pid_t owner = static_cast<pid_t>(std::atol(name.c_str() + 5));
      if (owner > 0 && ::kill(owner, 0) != 0 && errno == ESRCH) ip("netns del " + name);
    }
  }

  std::string ip_;
  std::string ns_[2], veth_[2];
  std::string why_not_;
};

constexpr int kPort = 29511;  // free in rank 0's fresh namespace

#define REQUIRE_TWO_HOSTS(net) \
  if (!(net).ready()) GTEST_SKIP() << "two-namespace test skipped: " << (net).why_not()

TEST(DistributedNetns, TwoHostsTrainLikeOneRank) {
  TwoHosts net;
  REQUIRE_TWO_HOSTS(net);
  TempDir tmp;
  const fs::path recipe = write_recipe(tmp, "", "dist_timeout = 30.0\n");
  const auto one = run_cli("-q train " + recipe.string() + " -o " + (tmp / "one").string());
  ASSERT_EQ(one.exit_code, 0) << one.output;

  // Both ranks get the same -o, as on two hosts with a shared file system; rank 0 alone writes.
  const std::vector<std::string> args = {"train", recipe.string(), "-o", (tmp / "two").string()};
  RankProcesses ranks;
  ranks.add(start_rank(net.rank(0, kPort), args, tmp / "rank0.log"));
  ranks.add(start_rank(net.rank(1, kPort), args, tmp / "rank1.log"));
  const std::vector<int> code = ranks.wait_all(std::chrono::seconds(120));
  const std::string log0 = read_file(tmp / "rank0.log"), log1 = read_file(tmp / "rank1.log");
  ASSERT_EQ(code[0], 0) << "rank 0:\n" << log0 << "\nrank 1:\n" << log1;
  ASSERT_EQ(code[1], 0) << "rank 1:\n" << log1 << "\nrank 0:\n" << log0;
  EXPECT_TRUE(has_substr(log0, std::string("joining through ") + TwoHosts::kAddress[0] + ":" + std::to_string(kPort)));
  expect_same_training(tmp / "one", tmp / "two", 5);
}

// Two ranks on a long run; once rank 0 has logged 3 steps, the link is cut `how`. Both ranks must stop
// with a non-zero exit within the timeout plus the diagnosis, each naming the other.
void cut_link_mid_run(const TwoHosts& net, TwoHosts::Cut how) {
  TempDir tmp;
  constexpr int kTimeout = 5;  // [run].dist_timeout, seconds
  constexpr int kMargin = 20;  // diagnosis (heartbeat pause 2.5 s, store reconnect up to 5 s) and exit
  const fs::path recipe = write_recipe(tmp, "", "dist_timeout = " + std::to_string(kTimeout) + ".0\n");
  const std::vector<std::string> args = {"train", recipe.string(), "--set", "train.steps=100000", "-o",
                                         (tmp / "run").string()};
  RankProcesses ranks;
  ranks.add(start_rank(net.rank(0, kPort), args, tmp / "rank0.log"));
  ranks.add(start_rank(net.rank(1, kPort), args, tmp / "rank1.log"));
  ASSERT_TRUE(wait_for_logged_steps(tmp / "run", 3, std::chrono::seconds(120)))
      << "rank 0 never logged 3 steps:\n" << read_file(tmp / "rank0.log") << "\nrank 1:\n" << read_file(tmp / "rank1.log");

  const CommandResult cut = net.cut(how);
  ASSERT_EQ(cut.exit_code, 0) << cut.output;
  std::vector<std::chrono::steady_clock::duration> took;
  const std::vector<int> code = ranks.wait_all(std::chrono::seconds(kTimeout + kMargin), &took);
  const std::string log[2] = {read_file(tmp / "rank0.log"), read_file(tmp / "rank1.log")};
  for (int r = 0; r < 2; ++r) {
    SCOPED_TRACE("rank " + std::to_string(r) + ", " + std::to_string(std::chrono::duration<double>(took[r]).count()) +
                 " s after the cut:\n" + log[r]);
    EXPECT_NE(code[r], -1) << "still running " << kTimeout + kMargin << " s after the link was cut";
    EXPECT_NE(code[r], 0);
    EXPECT_TRUE(has_substr(log[r], "error: rank " + std::to_string(r) + " of 2, step "));
  }
  // Rank 0 hosts the store and reads it over loopback, so it sees rank 1's heartbeats stop.
  EXPECT_TRUE(has_substr(log[0], "rank 1 stopped responding"));
  EXPECT_TRUE(has_substr(log[0], "or the network to it is down"));
  // Rank 1 cannot reach the store any more: it names rank 0 and where it was.
  EXPECT_TRUE(has_substr(log[1], std::string("rank 0 (which hosts the rendezvous store at ") + TwoHosts::kAddress[0] +
                                     ":" + std::to_string(kPort) + ") is gone or not responding"));
  // No peer closed a socket: a collective waits out the timeout before failing.
  EXPECT_GE(took[0], std::chrono::seconds(kTimeout - 1));
}

TEST(DistributedNetns, LinkDownMidRunStopsBothRanksWithANamedError) {
  TwoHosts net;
  REQUIRE_TWO_HOSTS(net);
  cut_link_mid_run(net, TwoHosts::Cut::kDown);
}

TEST(DistributedNetns, LinkDeletedMidRunStopsBothRanksWithANamedError) {
  TwoHosts net;
  REQUIRE_TWO_HOSTS(net);
  cut_link_mid_run(net, TwoHosts::Cut::kDelete);
}

}  // namespace
}  // namespace sentbench
