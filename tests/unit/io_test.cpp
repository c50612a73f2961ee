// io.hpp: atomic writes leave old-or-new never half, hashes track content, safetensors validate.
#include "sentbench/io.hpp"

#include <cstring>
#include <fstream>

#include <gtest/gtest.h>

#include "sentbench/errors.hpp"
#include "test_util.hpp"

namespace fs = std::filesystem;
using sentbench::test::TempDir;

namespace sentbench {
namespace {

std::size_t count_entries(const fs::path& dir) {
  return static_cast<std::size_t>(std::distance(fs::directory_iterator(dir), fs::directory_iterator()));
}

TEST(Io, WriteFileAtomicReplacesAndLeavesNoTemp) {
  TempDir tmp;
  const fs::path file = tmp / "a/b/file.txt";
  write_file_atomic(file, "first");
  write_file_atomic(file, "second version");
  EXPECT_EQ(read_file(file), "second version");
  EXPECT_EQ(count_entries(file.parent_path()), 1u);
}

TEST(Io, ReadMissingFileNamesIt) {
  TempDir tmp;
  try {
    read_file(tmp / "nope.txt");
    FAIL() << "expected IoError";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("nope.txt"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("no such file"), std::string::npos);
  }
}

TEST(Io, WriteDirAtomicKeepsOldFolderWhenFillFails) {
  TempDir tmp;
  const fs::path dir = tmp / "ckpt";
  write_dir_atomic(dir, [](const fs::path& d) { write_file_atomic(d / "x", "old"); });
  EXPECT_THROW(write_dir_atomic(dir,
                                [](const fs::path& d) {
                                  write_file_atomic(d / "x", "new");
                                  throw IoError("disk full");
                                }),
               IoError);
  EXPECT_EQ(read_file(dir / "x"), "old");
  EXPECT_EQ(count_entries(tmp.path()), 1u) << "the temporary folder must be cleaned up";

  write_dir_atomic(dir, [](const fs::path& d) { write_file_atomic(d / "y", "new"); });
  EXPECT_FALSE(fs::exists(dir / "x"));
  EXPECT_EQ(read_file(dir / "y"), "new");
  EXPECT_EQ(count_entries(tmp.path()), 1u);
}

TEST(Io, HashesFollowContentAndNames) {
  TempDir tmp;
  EXPECT_EQ(hash_bytes("abc"), hash_bytes("abc"));
  EXPECT_NE(hash_bytes("abc"), hash_bytes("abd"));
  EXPECT_EQ(hash_bytes("abc").size(), 16u);
  write_file_atomic(tmp / "d/f1", "hello");
  write_file_atomic(tmp / "d/sub/f2", "world");
  EXPECT_EQ(hash_file(tmp / "d/f1"), hash_bytes("hello"));
  const std::string h1 = hash_dir(tmp / "d");
  EXPECT_EQ(h1, hash_dir(tmp / "d"));
  write_file_atomic(tmp / "d/sub/f2", "World");
  const std::string h2 = hash_dir(tmp / "d");
  EXPECT_NE(h1, h2);
  fs::rename(tmp / "d/f1", tmp / "d/f0");
  EXPECT_NE(h2, hash_dir(tmp / "d")) << "a renamed file changes the folder hash";
}

TEST(Safetensors, RoundTripKeepsDtypesShapesAndBytes) {
  TempDir tmp;
  const std::vector<float> a = {1.f, -2.f, 3.5f, 0.f, 5.f, 6.f};
  const std::vector<std::uint16_t> b = {0x3f80, 0x4000};  // bf16 1.0, 2.0
  std::map<std::string, TensorView> tensors;
  tensors["layer.weight"] = {DType::kF32, {2, 3}, reinterpret_cast<const std::byte*>(a.data()), a.size() * 4};
  tensors["scale"] = {DType::kBF16, {2}, reinterpret_cast<const std::byte*>(b.data()), b.size() * 2};
  write_safetensors(tmp / "m.safetensors", tensors, {{"format", "pt"}});

  const SafetensorsFile file = SafetensorsFile::open(tmp / "m.safetensors");
  ASSERT_EQ(file.tensors().size(), 2u);
  EXPECT_EQ(file.metadata().at("format"), "pt");
  const TensorView& w = file.at("layer.weight");
  EXPECT_EQ(w.dtype, DType::kF32);
  EXPECT_EQ(w.shape, (std::vector<std::int64_t>{2, 3}));
  EXPECT_EQ(std::memcmp(w.data, a.data(), a.size() * 4), 0);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(w.data) % 4, 0u) << "data section is aligned";
  EXPECT_EQ(file.at("scale").dtype, DType::kBF16);
  EXPECT_THROW(file.at("missing"), IoError);
}

// Writes a file with a hand-made header so each validation rule can be hit.
void write_raw(const fs::path& path, const std::string& header, std::size_t data_bytes, std::uint64_t claimed_len = 0) {
  std::ofstream out(path, std::ios::binary);
  const std::uint64_t len = claimed_len ? claimed_len : header.size();
  out.write(reinterpret_cast<const char*>(&len), 8);
  out << header << std::string(data_bytes, '\0');
}

void expect_invalid(const fs::path& path, const std::string& fragment) {
  try {
    SafetensorsFile::open(path);
    FAIL() << "expected IoError containing: " << fragment;
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(path.filename().string()), std::string::npos) << e.what();
  }
}

TEST(Safetensors, RejectsMalformedFiles) {
  TempDir tmp;
  write_raw(tmp / "len.safetensors", "{}", 0, 1000);
  expect_invalid(tmp / "len.safetensors", "exceeds the file size");
  write_raw(tmp / "json.safetensors", "{not json", 0);
  expect_invalid(tmp / "json.safetensors", "not JSON");
  write_raw(tmp / "oob.safetensors", R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", 8);
  expect_invalid(tmp / "oob.safetensors", "outside");
  write_raw(tmp / "size.safetensors", R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,16]}})", 16);
  expect_invalid(tmp / "size.safetensors", "needs 12");
  write_raw(tmp / "overlap.safetensors",
            R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", 12);
  expect_invalid(tmp / "overlap.safetensors", "overlap");
  write_raw(tmp / "dtype.safetensors", R"({"w":{"dtype":"C64","shape":[1],"data_offsets":[0,8]}})", 8);
  expect_invalid(tmp / "dtype.safetensors", "unsupported dtype C64");
  std::ofstream(tmp / "short.safetensors") << "abc";
  expect_invalid(tmp / "short.safetensors", "shorter");
}

// Each malformed header names the file and the tensor or field, in sentbench's IoError (never a raw
// nlohmann exception).
struct HeaderCase {
  const char* name;    // file stem
  std::string header;  // the JSON header
  std::size_t data_bytes;
  std::vector<std::string> fragments;  // all must appear in the message
};

void expect_header_rejected(const HeaderCase& c) {
  TempDir tmp;
  const fs::path path = tmp / (std::string(c.name) + ".safetensors");
  write_raw(path, c.header, c.data_bytes);
  for (const auto& fragment : c.fragments) expect_invalid(path, fragment);
}

constexpr const char* kOk = R"("ok":{"dtype":"F32","shape":[1],"data_offsets":[0,4]})";

TEST(SafetensorsHeader, DtypeNullNamesTensorAndField) {
  expect_header_rejected({"dtype_null", R"({"w":{"dtype":null,"shape":[1],"data_offsets":[0,4]}})", 4,
                          {"tensor 'w'", "dtype must be a string such as \"F32\", got null"}});
}

TEST(SafetensorsHeader, DtypeNumberNamesTensorAndField) {
  expect_header_rejected({"dtype_number", R"({"w":{"dtype":7,"shape":[1],"data_offsets":[0,4]}})", 4,
                          {"tensor 'w'", "dtype must be a string", "got number 7"}});
}

TEST(SafetensorsHeader, MissingFieldIsNamed) {
  expect_header_rejected({"no_shape", R"({"w":{"dtype":"F32","data_offsets":[0,4]}})", 4,
                          {"tensor 'w'", "no \"shape\" field"}});
}

TEST(SafetensorsHeader, TensorEntryNotAnObject) {
  expect_header_rejected({"entry_string", R"({"w":"F32"})", 0, {"tensor 'w'", "must be an object", "got string"}});
}

TEST(SafetensorsHeader, ShapeNotAList) {
  expect_header_rejected({"shape_string", R"({"w":{"dtype":"F32","shape":"4","data_offsets":[0,16]}})", 16,
                          {"tensor 'w'", "shape must be a list of non-negative integers, got string"}});
  // null used to read as a scalar shape []
  expect_header_rejected({"shape_null", R"({"w":{"dtype":"F32","shape":null,"data_offsets":[0,4]}})", 4,
                          {"tensor 'w'", "shape must be a list", "got null"}});
}

TEST(SafetensorsHeader, ShapeNegativeOrFractionalEntry) {
  expect_header_rejected({"shape_negative", R"({"w":{"dtype":"F32","shape":[2,-1],"data_offsets":[0,4]}})", 4,
                          {"tensor 'w'", "shape[1] must be a non-negative integer, got number -1"}});
  expect_header_rejected({"shape_fraction", R"({"w":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}})", 4,
                          {"tensor 'w'", "shape[0] must be a non-negative integer, got number 1.5"}});
}

TEST(SafetensorsHeader, ShapeWhoseSizeOverflowsIsRefused) {
  expect_header_rejected({"shape_huge",
                          R"({"w":{"dtype":"F32","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,0]}})", 0,
                          {"tensor 'w'", "more elements than any file holds"}});
}

TEST(SafetensorsHeader, OffsetsNotTwoIntegers) {
  expect_header_rejected({"offsets_string", R"({"w":{"dtype":"F32","shape":[1],"data_offsets":"0,4"}})", 4,
                          {"tensor 'w'", "data_offsets must be a list of two integers"}});
  expect_header_rejected({"offsets_negative", R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}})", 4,
                          {"tensor 'w'", "data_offsets[0] must be a non-negative integer, got number -4"}});
  // 0.5 used to read as 0
  expect_header_rejected({"offsets_fraction", R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0.5,4]}})", 4,
                          {"tensor 'w'", "data_offsets[0] must be a non-negative integer, got number 0.5"}});
  expect_header_rejected({"offsets_reversed", R"({"w":{"dtype":"F32","shape":[0],"data_offsets":[4,0]}})", 4,
                          {"tensor 'w'", "end before they begin"}});
}

TEST(SafetensorsHeader, OffsetsOutOfRangeOrWrongSizeNameTheTensor) {
  expect_header_rejected({"offsets_outside", R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", 8,
                          {"tensor 'w'", "data_offsets [0, 16) fall outside the 8-byte data section"}});
  expect_header_rejected({"offsets_size", R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,16]}})", 16,
                          {"tensor 'w'", "hold 16 bytes but F32 × shape needs 12"}});
}

TEST(SafetensorsHeader, OverlapNamesBothTensors) {
  expect_header_rejected(
      {"overlap_named",
       R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
       12, {"tensors 'a' [0, 8) and 'b' [4, 12) overlap"}});
}

TEST(SafetensorsHeader, HeaderNotAnObject) {
  expect_header_rejected({"header_array", R"([1, 2])", 0, {"header must be a JSON object of tensors, got array"}});
}

TEST(SafetensorsHeader, MetadataMustBeAnObjectOfStrings) {
  expect_header_rejected({"metadata_string", std::string("{\"__metadata__\":\"pt\",") + kOk + "}", 4,
                          {"__metadata__ must be an object of strings, got string"}});
  expect_header_rejected({"metadata_number", std::string("{\"__metadata__\":{\"format\":1},") + kOk + "}", 4,
                          {"__metadata__ 'format' must be a string, got number 1"}});
}

TEST(SafetensorsHeader, EmptyTensorsOverlapNothing) {
  TempDir tmp;
  write_raw(tmp / "empty.safetensors",
            R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"e":{"dtype":"F32","shape":[0],"data_offsets":[4,4]}})",
            8);
  const SafetensorsFile file = SafetensorsFile::open(tmp / "empty.safetensors");
  EXPECT_EQ(file.at("e").nbytes, 0u);
}

}  // namespace
}  // namespace sentbench
