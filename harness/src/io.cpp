// Atomic file/folder writes, XXH3 content hashes, and a memory-mapped safetensors reader/writer.
#include "sentbench/io.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <random>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <xxhash.h>

#include "sentbench/errors.hpp"

namespace fs = std::filesystem;

namespace sentbench {
namespace {

std::string errno_text() { return std::strerror(errno); }

// A sibling name no other writer will pick: same folder (so rename is atomic), pid + random suffix.
fs::path temp_sibling(const fs::path& path) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  return path.parent_path() / fmt::format(".{}.tmp-{}-{:x}", path.filename().string(), ::getpid(), rng());
}

void fsync_path(const fs::path& path, int flags) {
  const int fd = ::open(path.c_str(), flags);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

std::string hex64(XXH64_hash_t h) { return fmt::format("{:016x}", static_cast<unsigned long long>(h)); }

}  // namespace

void write_file_atomic(const fs::path& path, std::string_view content) {
  if (path.has_parent_path()) fs::create_directories(path.parent_path());
  const fs::path tmp = temp_sibling(path);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw IoError(fmt::format("cannot write {}: {}", tmp.string(), errno_text()));
  std::size_t written = 0;
  while (written < content.size()) {
    const ssize_t n = ::write(fd, content.data() + written, content.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      const std::string why = errno_text();
      ::close(fd);
      fs::remove(tmp);
      throw IoError(fmt::format("cannot write {}: {}", path.string(), why));
    }
    written += static_cast<std::size_t>(n);
  }
  ::fsync(fd);
  ::close(fd);
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp);
    throw IoError(fmt::format("cannot rename {} to {}: {}", tmp.string(), path.string(), ec.message()));
  }
  fsync_path(path.has_parent_path() ? path.parent_path() : fs::path("."), O_RDONLY | O_DIRECTORY);
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError(fmt::format("cannot read {}: {}", path.string(), fs::exists(path) ? errno_text() : "no such file"));
  std::string data;
  in.seekg(0, std::ios::end);
  data.resize(static_cast<std::size_t>(in.tellg()));
  in.seekg(0);
  in.read(data.data(), static_cast<std::streamsize>(data.size()));
  if (!in) throw IoError(fmt::format("cannot read {}: short read", path.string()));
  return data;
}

void write_dir_atomic(const fs::path& dir, const std::function<void(const fs::path&)>& fill) {
  if (dir.has_parent_path()) fs::create_directories(dir.parent_path());
  const fs::path tmp = temp_sibling(dir);
  fs::create_directories(tmp);
  try {
    fill(tmp);
  } catch (...) {
    std::error_code ec;
    fs::remove_all(tmp, ec);
    throw;
  }
  for (const auto& entry : fs::recursive_directory_iterator(tmp)) {
    if (entry.is_regular_file()) fsync_path(entry.path(), O_RDONLY);
  }
  // rename() cannot replace a non-empty folder: move the old one aside first, then drop it.
  fs::path old;
  if (fs::exists(dir)) {
    old = temp_sibling(dir);
    fs::rename(dir, old);
  }
  std::error_code ec;
  fs::rename(tmp, dir, ec);
  if (ec) {
    if (!old.empty()) fs::rename(old, dir);
    fs::remove_all(tmp);
    throw IoError(fmt::format("cannot rename {} to {}: {}", tmp.string(), dir.string(), ec.message()));
  }
  if (!old.empty()) fs::remove_all(old);
  fsync_path(dir.has_parent_path() ? dir.parent_path() : fs::path("."), O_RDONLY | O_DIRECTORY);
}

std::string hash_bytes(std::string_view bytes) { return hex64(XXH3_64bits(bytes.data(), bytes.size())); }

namespace {
void hash_stream_file(XXH3_state_t* state, const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError(fmt::format("cannot read {} to hash it", path.string()));
  std::vector<char> buffer(1 << 20);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    XXH3_64bits_update(state, buffer.data(), static_cast<std::size_t>(in.gcount()));
  }
}
}  // namespace

std::string hash_file(const fs::path& path) {
  std::unique_ptr<XXH3_state_t, decltype(&XXH3_freeState)> state(XXH3_createState(), &XXH3_freeState);
  XXH3_64bits_reset(state.get());
  hash_stream_file(state.get(), path);
  return hex64(XXH3_64bits_digest(state.get()));
}

std::string hash_dir(const fs::path& dir) {
  if (!fs::is_directory(dir)) throw IoError(fmt::format("cannot hash {}: not a folder", dir.string()));
  std::vector<fs::path> files;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file()) files.push_back(fs::relative(entry.path(), dir));
  }
  std::sort(files.begin(), files.end());
  std::unique_ptr<XXH3_state_t, decltype(&XXH3_freeState)> state(XXH3_createState(), &XXH3_freeState);
  XXH3_64bits_reset(state.get());
  for (const auto& rel : files) {
    const std::string name = rel.generic_string();
    XXH3_64bits_update(state.get(), name.data(), name.size() + 1);  // the NUL separates name and content
    hash_stream_file(state.get(), dir / rel);
  }
  return hex64(XXH3_64bits_digest(state.get()));
}

// ---- safetensors ----------------------------------------------------------------------------------

namespace {
struct DTypeName {
  DType dtype;
  const char* name;
  std::size_t size;
};
constexpr DTypeName kDTypes[] = {{DType::kF32, "F32", 4}, {DType::kF16, "F16", 2}, {DType::kBF16, "BF16", 2},
                                 {DType::kF64, "F64", 8}, {DType::kI64, "I64", 8}, {DType::kI32, "I32", 4}, {DType::kU8, "U8", 1}};
}  // namespace

const char* to_string(DType dtype) {
  for (const auto& d : kDTypes) if (d.dtype == dtype) return d.name;
  return "?";
}

std::size_t element_size(DType dtype) {
  for (const auto& d : kDTypes) if (d.dtype == dtype) return d.size;
  return 0;
}

std::int64_t TensorView::numel() const {
  std::int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

SafetensorsFile::SafetensorsFile(SafetensorsFile&& other) noexcept { *this = std::move(other); }

SafetensorsFile& SafetensorsFile::operator=(SafetensorsFile&& other) noexcept {
  if (this != &other) {
    if (map_) ::munmap(map_, map_size_);
    path_ = std::move(other.path_);
    map_ = std::exchange(other.map_, nullptr);
    map_size_ = std::exchange(other.map_size_, 0);
    tensors_ = std::move(other.tensors_);
    metadata_ = std::move(other.metadata_);
  }
  return *this;
}

SafetensorsFile::~SafetensorsFile() {
  if (map_) ::munmap(map_, map_size_);
}

const TensorView& SafetensorsFile::at(const std::string& name) const {
  auto it = tensors_.find(name);
  if (it == tensors_.end()) throw IoError(fmt::format("{}: no tensor named '{}'", path_.string(), name));
  return it->second;
}

SafetensorsFile SafetensorsFile::open(const fs::path& path) {
  auto bad = [&](const std::string& why) {
    return IoError(fmt::format("{}: not a valid safetensors file: {}", path.string(), why));
  };
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw IoError(fmt::format("cannot open {}: {}", path.string(), errno_text()));
  struct stat st {};
  ::fstat(fd, &st);
  const auto size = static_cast<std::size_t>(st.st_size);
  if (size < 8) {
    ::close(fd);
    throw bad("shorter than its 8-byte header length");
  }
  void* map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (map == MAP_FAILED) throw IoError(fmt::format("cannot map {}: {}", path.string(), errno_text()));
  SafetensorsFile file;
  file.path_ = path;
  file.map_ = map;
  file.map_size_ = size;

  const auto* bytes = static_cast<const std::byte*>(map);
  std::uint64_t header_len = 0;
  std::memcpy(&header_len, bytes, 8);  // little-endian, as is every machine sentbench runs on
  if (header_len > size - 8) throw bad(fmt::format("header length {} exceeds the file size {}", header_len, size));
  const std::string_view header(reinterpret_cast<const char*>(bytes + 8), header_len);
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(header);
  } catch (const std::exception& e) {
    throw bad(std::string("header is not JSON: ") + e.what());
  }
  if (!json.is_object()) throw bad("header is not a JSON object");
  const std::byte* data = bytes + 8 + header_len;
  const std::size_t data_size = size - 8 - header_len;
  std::vector<std::pair<std::size_t, std::size_t>> ranges;
  for (auto it = json.begin(); it != json.end(); ++it) {
    if (it.key() == "__metadata__") {
      for (auto m = it->begin(); m != it->end(); ++m) {
        file.metadata_[m.key()] = m->is_string() ? m->get<std::string>() : m->dump();
      }
      continue;
    }
    const auto& entry = *it;
    if (!entry.is_object() || !entry.contains("dtype") || !entry.contains("shape") || !entry.contains("data_offsets")) {
      throw bad(fmt::format("tensor '{}' lacks dtype, shape or data_offsets", it.key()));
    }
    TensorView view;
    const std::string dtype = entry["dtype"].get<std::string>();
    const auto found = std::find_if(std::begin(kDTypes), std::end(kDTypes),
                                    [&](const DTypeName& d) { return dtype == d.name; });
    if (found == std::end(kDTypes)) throw bad(fmt::format("tensor '{}' has unsupported dtype {}", it.key(), dtype));
    view.dtype = found->dtype;
    for (const auto& d : entry["shape"]) {
      if (!d.is_number_integer() || d.get<std::int64_t>() < 0) throw bad(fmt::format("tensor '{}' has a bad shape", it.key()));
      view.shape.push_back(d.get<std::int64_t>());
    }
    const auto& off = entry["data_offsets"];
    if (!off.is_array() || off.size() != 2) throw bad(fmt::format("tensor '{}' has bad data_offsets", it.key()));
    const auto begin = off[0].get<std::uint64_t>();
    const auto end = off[1].get<std::uint64_t>();
    if (begin > end || end > data_size) {
      throw bad(fmt::format("tensor '{}' offsets [{}, {}) fall outside the {}-byte data section", it.key(), begin, end, data_size));
    }
    view.nbytes = end - begin;
    if (view.nbytes != static_cast<std::size_t>(view.numel()) * found->size) {
      throw bad(fmt::format("tensor '{}' has {} bytes but {} × shape needs {}", it.key(), view.nbytes, dtype,
                            view.numel() * found->size));
    }
    view.data = data + begin;
    ranges.emplace_back(begin, end);
    file.tensors_.emplace(it.key(), std::move(view));
  }
  std::sort(ranges.begin(), ranges.end());
  for (std::size_t i = 1; i < ranges.size(); ++i) {
    if (ranges[i].first < ranges[i - 1].second) throw bad("two tensors overlap in the data section");
  }
  return file;
}

void write_safetensors(const fs::path& path, const std::map<std::string, TensorView>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  nlohmann::json header = nlohmann::json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::size_t offset = 0;
  for (const auto& [name, view] : tensors) {
    if (view.nbytes != static_cast<std::size_t>(view.numel()) * element_size(view.dtype)) {
      throw IoError(fmt::format("cannot write {}: tensor '{}' size does not match its shape", path.string(), name));
    }
    header[name] = {{"dtype", to_string(view.dtype)}, {"shape", view.shape}, {"data_offsets", {offset, offset + view.nbytes}}};
    offset += view.nbytes;
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // keeps the data section 8-byte aligned
  std::string out;
  out.reserve(8 + text.size() + offset);
  const std::uint64_t len = text.size();
  out.append(reinterpret_cast<const char*>(&len), 8);
  out += text;
  for (const auto& [name, view] : tensors) out.append(reinterpret_cast<const char*>(view.data), view.nbytes);
  write_file_atomic(path, out);
}

}  // namespace sentbench
