// read_text_list: the texts files of `sentbench encode | tokenize | bench encode`.
#include <gtest/gtest.h>

#include "sentbench/errors.hpp"
#include "sentbench/io.hpp"
#include "test_util.hpp"
#include "sentbench/data/text_list.hpp"

using sentbench::test::error_of;
using sentbench::test::has_substr;
using sentbench::test::TempDir;

namespace sentbench {
namespace {

TEST(TextList, LinesKeepBlankLinesAsEmptyTexts) {
  TempDir tmp;
  write_file_atomic(tmp / "t.txt", "\xEF\xBB\xBF" "first\r\n\n  spaced  \nlast");
  EXPECT_EQ(read_text_list(tmp / "t.txt", TextListFormat::kLines),
            (std::vector<std::string>{"first", "", "  spaced  ", "last"}));
}

TEST(TextList, JsonlStringsAndTextObjects) {
  TempDir tmp;
  write_file_atomic(tmp / "t.jsonl", "\"a\\nb\"\n\n{\"text\": \"\\tc\", \"id\": 3}\n\"\"\n");
  EXPECT_EQ(read_text_list(tmp / "t.jsonl", TextListFormat::kJsonl), (std::vector<std::string>{"a\nb", "\tc", ""}));
}

TEST(TextList, BadJsonlLinesNameFileAndLine) {
  TempDir tmp;
  write_file_atomic(tmp / "t.jsonl", "\"ok\"\n42\n");
  std::string message = error_of([&] { read_text_list(tmp / "t.jsonl", TextListFormat::kJsonl); });
  EXPECT_TRUE(has_substr(message, "t.jsonl:2: expected a JSON string")) << message;
  EXPECT_TRUE(has_substr(message, "found a JSON number")) << message;
  write_file_atomic(tmp / "t.jsonl", "{\"txt\": \"x\"}\n");
  message = error_of([&] { read_text_list(tmp / "t.jsonl", TextListFormat::kJsonl); });
  EXPECT_TRUE(has_substr(message, "t.jsonl:1: expected a JSON string")) << message;
  EXPECT_TRUE(has_substr(message, "an object without a \"text\" string")) << message;
  write_file_atomic(tmp / "t.jsonl", "\"ok\"\n\"open\n");
  message = error_of([&] { read_text_list(tmp / "t.jsonl", TextListFormat::kJsonl); });
  EXPECT_TRUE(has_substr(message, "t.jsonl:2: malformed JSON")) << message;
  EXPECT_TRUE(has_substr(message, "one complete JSON string")) << message;
}

TEST(TextList, InvalidUtf8BecomesReplacementCharacter) {
  TempDir tmp;
  write_file_atomic(tmp / "t.txt", "ok\nbad \xff\ncut \xe2\x82\n");
  EXPECT_EQ(read_text_list(tmp / "t.txt", TextListFormat::kLines),
            (std::vector<std::string>{"ok", "bad \xEF\xBF\xBD", "cut \xEF\xBF\xBD"}));
  write_file_atomic(tmp / "t.jsonl", "\"bad \xff\"\n{\"text\": \"cut \xe2\x82\"}\n");
  EXPECT_EQ(read_text_list(tmp / "t.jsonl", TextListFormat::kJsonl), (std::vector<std::string>{"bad \xEF\xBF\xBD", "cut \xEF\xBF\xBD"}));
}

TEST(TextList, MissingFileIsAnIoError) {
  TempDir tmp;
  const std::string message =
      error_of<IoError>([&] { read_text_list(tmp / "absent.txt", TextListFormat::kLines); });
  EXPECT_TRUE(has_substr(message, "absent.txt")) << message;
}

}  // namespace
}  // namespace sentbench
