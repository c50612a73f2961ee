// File I/O the harness and plugins share: atomic writes, content hashes, and safetensors.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sentbench/export.hpp"

namespace sentbench {

// Writes `content` to `path` via a temporary file in the same folder, fsync, then rename: readers see
// the old file or the new one, never half of it. Creates parent folders.
SENTBENCH_API void write_file_atomic(const std::filesystem::path& path, std::string_view content);
// Reads a whole file; IoError naming the path when it cannot.
SENTBENCH_API std::string read_file(const std::filesystem::path& path);

// Builds a folder atomically: fill(tmp) writes into a fresh temporary sibling folder, which is then
// renamed to `dir` (replacing an existing one). A crash leaves either the old folder or the new one.
SENTBENCH_API void write_dir_atomic(const std::filesystem::path& dir,
                                    const std::function<void(const std::filesystem::path& tmp)>& fill);

// 64-bit content hashes (XXH3), printed as 16 hex digits.
SENTBENCH_API std::string hash_bytes(std::string_view bytes);
SENTBENCH_API std::string hash_file(const std::filesystem::path& path);
// Hash of a folder: relative paths and contents of every regular file, in sorted order.
SENTBENCH_API std::string hash_dir(const std::filesystem::path& dir);

// Element types of safetensors files that sentbench reads and writes.
enum class DType : int { kF32, kF16, kBF16, kF64, kI64, kI32, kU8 };
SENTBENCH_API const char* to_string(DType dtype);
SENTBENCH_API std::size_t element_size(DType dtype);

// One tensor inside a safetensors file: a view of bytes owned by the file (memory-mapped).
struct TensorView {
  DType dtype = DType::kF32;
  std::vector<std::int64_t> shape;
  const std::byte* data = nullptr;
  std::size_t nbytes = 0;
  std::int64_t numel() const;
};

// A memory-mapped safetensors file with a validated header (offsets in bounds, non-overlapping,
// sizes matching dtype × shape). Views stay valid while this object lives.
class SENTBENCH_API SafetensorsFile {
 public:
  static SafetensorsFile open(const std::filesystem::path& path);
  SafetensorsFile(SafetensorsFile&&) noexcept;
  SafetensorsFile& operator=(SafetensorsFile&&) noexcept;
  ~SafetensorsFile();

  const std::filesystem::path& path() const { return path_; }
  const std::map<std::string, TensorView>& tensors() const { return tensors_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  bool contains(const std::string& name) const { return tensors_.count(name) != 0; }
  // The view of `name`; IoError naming the file and the tensor when absent.
  const TensorView& at(const std::string& name) const;

 private:
  SafetensorsFile() = default;
  std::filesystem::path path_;
  void* map_ = nullptr;
  std::size_t map_size_ = 0;
  std::map<std::string, TensorView> tensors_;
  std::map<std::string, std::string> metadata_;
};

// Writes tensors (data copied from the views) and optional string metadata, atomically.
SENTBENCH_API void write_safetensors(const std::filesystem::path& path,
                                     const std::map<std::string, TensorView>& tensors,
                                     const std::map<std::string, std::string>& metadata = {});

}  // namespace sentbench
