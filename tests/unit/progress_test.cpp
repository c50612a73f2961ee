// Progress: counts from many threads, renders rate/ETA, formats durations and counts.
#include "sentbench/progress.hpp"

#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "sentbench/log.hpp"

namespace sentbench {
namespace {

TEST(Progress, CountsConcurrentAdds) {
  log::set_level(log::Level::kQuiet);
  Progress p("count", 40000, "items");
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) threads.emplace_back([&] { for (int i = 0; i < 10000; ++i) p.add(); });
  for (auto& t : threads) t.join();
  EXPECT_EQ(p.done(), 40000);
  log::set_level(log::Level::kInfo);
}

TEST(Progress, RenderShowsFractionRateAndEta) {
  Progress p("encode", 200, "texts");
  p.set(50);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  p.set_status("loss 0.50");
  const std::string line = p.render(true);
  EXPECT_NE(line.find("encode ["), std::string::npos) << line;
  EXPECT_NE(line.find("25% 50/200 texts"), std::string::npos) << line;
  EXPECT_NE(line.find("texts/s"), std::string::npos) << line;
  EXPECT_NE(line.find("ETA"), std::string::npos) << line;
  EXPECT_NE(line.find("loss 0.50"), std::string::npos) << line;
  EXPECT_EQ(p.render(false).find('['), std::string::npos) << "plain lines have no bar";
  p.finish();
}

TEST(Progress, UnknownTotalHasNoEta) {
  Progress p("stream", 0, "pairs");
  p.add(7);
  const std::string line = p.render(true);
  EXPECT_NE(line.find("7 pairs"), std::string::npos) << line;
  EXPECT_EQ(line.find("ETA"), std::string::npos) << line;
}

TEST(Progress, Formatting) {
  EXPECT_EQ(format_duration(4.25), "4.2s");
  EXPECT_EQ(format_duration(185), "3m05s");
  EXPECT_EQ(format_duration(3720), "1h02m");
  EXPECT_EQ(format_count(12345), "12.3k");
  EXPECT_EQ(format_count(2.5e6), "2.5M");
  EXPECT_EQ(format_count(42), "42");
}

}  // namespace
}  // namespace sentbench
