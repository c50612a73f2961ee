// Lists of texts to encode or tokenize (`sentbench encode`, `tokenize`, `bench encode`): one text a line.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace sentbench {

// How a texts file spells its texts.
enum class TextListFormat {
  kLines,  // each line is one text as it stands; blank lines are empty texts (row i = line i)
  kJsonl,  // each line is a JSON string, or an object with a "text" string; blank lines are skipped
};

// The texts of `path` in file order (.gz is decompressed; a trailing "\r" and a leading byte-order mark
// are dropped, as LineReader does). JSONL lets texts hold newlines and any whitespace. DataError naming
// file:line for a malformed line; IoError when the file cannot be read.
std::vector<std::string> read_text_list(const std::filesystem::path& path, TextListFormat format);

// The text of one non-blank JSONL line: a JSON string, or an object's "text" string. DataError naming
// `where` ("file:line") otherwise.
std::string parse_text_json(const std::string& line, const std::string& where);

}  // namespace sentbench
