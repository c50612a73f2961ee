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
#include <optional>
#include <random>
#include <tuple>

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

namespace {

using nlohmann::json;

// A header value for an error message: its JSON type and (shortened) text, e.g. `null`, `number -1`.
std::string short_dump(const json& value) {
  std::string text = value.dump(-1, ' ', false, json::error_handler_t::replace);
  if (text.size() > 40) text = text.substr(0, 37) + "...";
  return text;
}

std::string describe(const json& value) {
  return value.is_null() ? "null" : fmt::format("{} {}", value.type_name(), short_dump(value));
}

// A whole number in [0, 2^53], from an integer JSON value only (1.5, -1, "8" and true are refused).
std::optional<std::uint64_t> count_of(const json& value) {
  if (value.is_number_unsigned()) return value.get<std::uint64_t>();
  if (value.is_number_integer() && value.get<std::int64_t>() >= 0) return static_cast<std::uint64_t>(value.get<std::int64_t>());
  return std::nullopt;
}

std::string dtype_names() {
  std::string names;
  for (const auto& d : kDTypes) names += fmt::format("{}\"{}\"", names.empty() ? "" : ", ", d.name);
  return names;
}

// One tensor entry of the header, every field checked on its own so the message names it.
// `fail(why)` throws; `data_size` is the size of the data section.
template <typename Fail>
TensorView parse_tensor_entry(const std::string& name, const json& entry, std::size_t data_size, Fail&& fail,
                              std::pair<std::uint64_t, std::uint64_t>& range) {
  const std::string who = fmt::format("tensor '{}'", name);
  if (!entry.is_object())
    fail(fmt::format("{}: must be an object {{\"dtype\", \"shape\", \"data_offsets\"}}, got {}", who, describe(entry)));
  for (const char* key : {"dtype", "shape", "data_offsets"})
    if (!entry.contains(key)) fail(fmt::format("{}: no \"{}\" field (each tensor has dtype, shape and data_offsets)", who, key));

  TensorView view;
  const json& dtype = entry.at("dtype");
  if (!dtype.is_string())
    fail(fmt::format("{}: dtype must be a string such as \"F32\", got {}", who, describe(dtype)));
  const std::string dtype_name = dtype.get<std::string>();
  const auto found = std::find_if(std::begin(kDTypes), std::end(kDTypes),
                                  [&](const DTypeName& d) { return dtype_name == d.name; });
  if (found == std::end(kDTypes))
    fail(fmt::format("{}: unsupported dtype {} (supported: {})", who, dtype_name.substr(0, 40), dtype_names()));
  view.dtype = found->dtype;

  const json& shape = entry.at("shape");
  if (!shape.is_array()) fail(fmt::format("{}: shape must be a list of non-negative integers, got {}", who, describe(shape)));
  // Element count in 64 bits without overflow: a shape whose product passes 2^62 cannot fit any file.
  constexpr std::uint64_t kMaxElements = std::uint64_t{1} << 62;
  std::uint64_t numel = 1;
  for (std::size_t i = 0; i < shape.size(); ++i) {
    const auto dim = count_of(shape[i]);
    if (!dim) fail(fmt::format("{}: shape[{}] must be a non-negative integer, got {}", who, i, describe(shape[i])));
    if (*dim > kMaxElements) fail(fmt::format("{}: shape[{}] = {} is larger than any file", who, i, *dim));
    view.shape.push_back(static_cast<std::int64_t>(*dim));
    if (numel != 0 && *dim > kMaxElements / numel)
      fail(fmt::format("{}: shape {} has more elements than any file holds", who, short_dump(shape)));
    numel *= *dim;
  }

  const json& offsets = entry.at("data_offsets");
  if (!offsets.is_array() || offsets.size() != 2)
    fail(fmt::format("{}: data_offsets must be a list of two integers [begin, end], got {}", who, describe(offsets)));
  std::uint64_t bounds[2] = {0, 0};
  for (std::size_t i = 0; i < 2; ++i) {
    const auto v = count_of(offsets[i]);
    if (!v) fail(fmt::format("{}: data_offsets[{}] must be a non-negative integer, got {}", who, i, describe(offsets[i])));
    bounds[i] = *v;
  }
  const auto [begin, end] = bounds;
  if (begin > end) fail(fmt::format("{}: data_offsets [{}, {}] end before they begin", who, begin, end));
  if (end > data_size)
    fail(fmt::format("{}: data_offsets [{}, {}) fall outside the {}-byte data section", who, begin, end, data_size));
  view.nbytes = static_cast<std::size_t>(end - begin);
  if (view.nbytes != numel * found->size)
    fail(fmt::format("{}: data_offsets [{}, {}) hold {} bytes but {} × shape needs {}", who, begin, end, view.nbytes,
                     dtype_name, numel * found->size));
  range = {begin, end};
  return view;
}

}  // namespace

SafetensorsFile SafetensorsFile::open(const fs::path& path) {
  auto bad = [&](const std::string& why) {
    return IoError(fmt::format("{}: not a valid safetensors file: {}", path.string(), why));
  };
  const auto fail = [&](const std::string& why) { throw bad(why); };
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw IoError(fmt::format("cannot open {}: {}", path.string(), errno_text()));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw IoError(fmt::format("cannot read {}: not a regular file", path.string()));
  }
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
  if (header_len > size - 8)
    throw bad(fmt::format("header length {} exceeds the file size {} (truncated file, or not safetensors)", header_len,
                          size));
  const std::string_view header(reinterpret_cast<const char*>(bytes + 8), header_len);
  json root;
  try {
    root = json::parse(header);
  } catch (const json::exception& e) {
    std::string why = e.what();
    if (const auto close = why.find("] "); why.rfind("[json.exception", 0) == 0 && close != std::string::npos)
      why.erase(0, close + 2);
    throw bad("header is not JSON: " + why);
  }
  if (!root.is_object())
    throw bad(fmt::format("header must be a JSON object of tensors, got {}", describe(root)));
  const std::byte* data = bytes + 8 + header_len;
  const std::size_t data_size = size - 8 - header_len;
  // Each range with its tensor, to name both sides of an overlap.
  std::vector<std::tuple<std::uint64_t, std::uint64_t, std::string>> ranges;
  try {
    for (auto it = root.begin(); it != root.end(); ++it) {
      if (it.key() == "__metadata__") {
        if (!it->is_object())
          fail(fmt::format("__metadata__ must be an object of strings, got {}", describe(*it)));
        for (auto m = it->begin(); m != it->end(); ++m) {
          if (!m->is_string())
            fail(fmt::format("__metadata__ '{}' must be a string, got {}", m.key(), describe(*m)));
          file.metadata_[m.key()] = m->get<std::string>();
        }
        continue;
      }
      std::pair<std::uint64_t, std::uint64_t> range;
      TensorView view = parse_tensor_entry(it.key(), *it, data_size, fail, range);
      view.data = data + range.first;
      ranges.emplace_back(range.first, range.second, it.key());
      file.tensors_.emplace(it.key(), std::move(view));
    }
  } catch (const json::exception& e) {
    // Every field is checked before it is read, so this is a gap in the checks; still name the file.
    throw bad(std::string("malformed header: ") + e.what());
  }
  // Empty tensors hold no bytes, so they overlap nothing wherever their offsets point.
  ranges.erase(std::remove_if(ranges.begin(), ranges.end(), [](const auto& r) { return std::get<0>(r) == std::get<1>(r); }),
               ranges.end());
  std::sort(ranges.begin(), ranges.end());
  for (std::size_t i = 1; i < ranges.size(); ++i) {
    const auto& [b0, e0, n0] = ranges[i - 1];
    const auto& [b1, e1, n1] = ranges[i];
    if (b1 < e0)
      throw bad(fmt::format("tensors '{}' [{}, {}) and '{}' [{}, {}) overlap in the data section", n0, b0, e0, n1, b1, e1));
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
