// Checkpoint files are safetensors and JSON only: nothing pickled, everything hash-verified.
#include "checkpoint.hpp"

#include <ATen/CPUGeneratorImpl.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>

#include "sentbench/errors.hpp"
#include "sentbench/io.hpp"
#include "sentbench/log.hpp"
#include "sentbench/training.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace sentbench {
namespace {

const char* kManifest = "manifest.json";

TensorView view_of(const at::Tensor& t) {
  DType dtype = DType::kF32;
  switch (t.scalar_type()) {
    case at::kFloat: dtype = DType::kF32; break;
    case at::kLong: dtype = DType::kI64; break;
    case at::kByte: dtype = DType::kU8; break;
    default: throw IoError(fmt::format("checkpoint: cannot store a tensor of type {}", c10::toString(t.scalar_type())));
  }
  return TensorView{dtype, t.sizes().vec(), reinterpret_cast<const std::byte*>(t.data_ptr()),
                    static_cast<std::size_t>(t.numel()) * t.element_size()};
}

// Writes named tensors (made contiguous and kept alive while writing).
void write_tensors(const fs::path& path, const std::vector<std::pair<std::string, at::Tensor>>& named) {
  std::vector<at::Tensor> keep;
  std::map<std::string, TensorView> views;
  for (const auto& [name, tensor] : named) {
    keep.push_back(tensor.detach().contiguous());
    views[name] = view_of(keep.back());
  }
  write_safetensors(path, views);
}

at::Tensor read_tensor(const SafetensorsFile& file, const std::string& name) {
  const TensorView& v = file.at(name);
  const auto type = v.dtype == DType::kF32 ? at::kFloat : v.dtype == DType::kI64 ? at::kLong : at::kByte;
  return torch::from_blob(const_cast<std::byte*>(v.data), v.shape, type).clone();
}

std::string param_key(const at::Tensor& p) { return c10::guts::to_string(p.unsafeGetTensorImpl()); }

bool verify(const fs::path& dir, std::string& why) {
  if (!fs::exists(dir / kManifest)) {
    why = "no manifest";
    return false;
  }
  try {
    const json manifest = json::parse(read_file(dir / kManifest));
    for (const auto& [file, hash] : manifest["files"].items()) {
      if (!fs::exists(dir / file)) {
        why = file + " is missing";
        return false;
      }
      if (hash_file(dir / file) != hash.get<std::string>()) {
        why = file + " does not match its hash";
        return false;
      }
    }
  } catch (const std::exception& e) {
    why = e.what();
    return false;
  }
  return true;
}

std::vector<fs::path> checkpoints_by_step(const fs::path& root) {
  std::vector<fs::path> dirs;
  if (!fs::is_directory(root)) return dirs;
  for (const auto& entry : fs::directory_iterator(root)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_directory() && name.rfind("step-", 0) == 0) dirs.push_back(entry.path());
  }
  std::sort(dirs.begin(), dirs.end());  // zero-padded step numbers sort as numbers
  return dirs;
}

}  // namespace

fs::path save_checkpoint(const fs::path& root, const std::vector<at::Tensor>& params, torch::optim::AdamW& optimizer,
                         const CheckpointMeta& meta, int keep, const std::function<void(const fs::path&)>& save_model) {
  const fs::path dir = root / fmt::format("step-{:08d}", meta.step);
  write_dir_atomic(dir, [&](const fs::path& tmp) {
    std::vector<std::pair<std::string, at::Tensor>> p, o;
    for (std::size_t i = 0; i < params.size(); ++i) {
      p.emplace_back(fmt::format("p.{}", i), params[i]);
      auto it = optimizer.state().find(param_key(params[i]));
      if (it == optimizer.state().end()) continue;  // never stepped (e.g. no gradient yet)
      auto& s = static_cast<torch::optim::AdamWParamState&>(*it->second);
      o.emplace_back(fmt::format("exp_avg.{}", i), s.exp_avg());
      o.emplace_back(fmt::format("exp_avg_sq.{}", i), s.exp_avg_sq());
      o.emplace_back(fmt::format("step.{}", i), torch::tensor({s.step()}, torch::kLong));
    }
    write_tensors(tmp / "params.safetensors", p);
    write_tensors(tmp / "optimizer.safetensors", o);
    at::Tensor rng;
    {
      at::Generator gen = at::detail::getDefaultCPUGenerator();
      std::lock_guard<std::mutex> lock(gen.mutex());
      rng = gen.get_state();
    }
    write_tensors(tmp / "rng.safetensors", {{"cpu", rng}});
    json state = {{"step", meta.step}, {"state", json::parse(meta.state_json)}};
    if (!meta.run_id.empty()) state["run_id"] = meta.run_id;
    write_file_atomic(tmp / "state.json", state.dump(2) + "\n");
    save_model(tmp / "model");
    json files = json::object();
    for (const auto& entry : fs::recursive_directory_iterator(tmp)) {
      if (entry.is_regular_file()) files[fs::relative(entry.path(), tmp).generic_string()] = hash_file(entry.path());
    }
    write_file_atomic(tmp / kManifest, json{{"step", meta.step}, {"files", files}}.dump(2) + "\n");
  });
  // Prune this run's checkpoints only: a folder may still hold another run's (moved aside by the harness
  // unless the user insisted), and those are not ours to delete.
  std::vector<fs::path> own;
  for (const fs::path& c : checkpoints_by_step(root)) {
    if (checkpoint_run_id(c) == meta.run_id) own.push_back(c);
  }
  for (std::size_t i = 0; keep > 0 && i + static_cast<std::size_t>(keep) < own.size(); ++i) fs::remove_all(own[i]);
  return dir;
}

std::string checkpoint_run_id(const fs::path& dir) {
  std::error_code ec;
  if (!fs::exists(dir / "state.json", ec)) return "";
  try {
    const json state = json::parse(read_file(dir / "state.json"));
    return state.is_object() ? state.value("run_id", "") : "";
  } catch (const std::exception&) {
    return "";
  }
}

std::optional<fs::path> latest_checkpoint(const fs::path& root, const std::string& run_id) {
  auto all = checkpoints_by_step(root);
  for (auto it = all.rbegin(); it != all.rend(); ++it) {
    std::string why;
    if (!verify(*it, why)) {
      log::warn("skipping checkpoint {}: {}", it->string(), why);
      continue;
    }
    const std::string owner = checkpoint_run_id(*it);
    if (!run_id.empty() && !owner.empty() && owner != run_id) {
      log::warn("skipping checkpoint {}: written by run {}, not this run ({})", it->string(), owner, run_id);
      continue;
    }
    return *it;
  }
  return std::nullopt;
}

CheckpointMeta load_checkpoint(const fs::path& dir, const std::vector<at::Tensor>& current,
                               torch::optim::AdamW& optimizer) {
  std::string why;
  if (!verify(dir, why)) throw IoError(fmt::format("checkpoint {} is not usable: {}", dir.string(), why));
  torch::NoGradGuard no_grad;
  const SafetensorsFile params = SafetensorsFile::open(dir / "params.safetensors");
  const SafetensorsFile opt = SafetensorsFile::open(dir / "optimizer.safetensors");
  if (params.tensors().size() != current.size()) {
    throw IoError(fmt::format("checkpoint {} holds {} parameters, the model being trained has {}: was it made with another model or recipe?",
                              dir.string(), params.tensors().size(), current.size()));
  }
  for (std::size_t i = 0; i < current.size(); ++i) {
    const at::Tensor saved = read_tensor(params, fmt::format("p.{}", i));
    if (saved.sizes() != current[i].sizes()) {
      throw IoError(fmt::format("checkpoint {}: parameter {} has shape {}, the model's is {}", dir.string(), i,
                                fmt::join(saved.sizes(), "x"), fmt::join(current[i].sizes(), "x")));
    }
    current[i].copy_(saved);
    const std::string name = fmt::format("exp_avg.{}", i);
    if (!opt.contains(name)) continue;
    auto state = std::make_unique<torch::optim::AdamWParamState>();
    state->exp_avg(read_tensor(opt, name));
    state->exp_avg_sq(read_tensor(opt, fmt::format("exp_avg_sq.{}", i)));
    state->step(read_tensor(opt, fmt::format("step.{}", i)).item<std::int64_t>());
    optimizer.state()[param_key(current[i])] = std::move(state);
  }
  const SafetensorsFile rng = SafetensorsFile::open(dir / "rng.safetensors");
  {
    at::Generator gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_state(read_tensor(rng, "cpu"));
  }
  const json state = json::parse(read_file(dir / "state.json"));
  return CheckpointMeta{state["step"].get<std::int64_t>(), state["state"].dump(), state.value("run_id", "")};
}

void save_parameters(const fs::path& file, const std::vector<at::Tensor>& params) {
  std::vector<std::pair<std::string, at::Tensor>> named;
  for (std::size_t i = 0; i < params.size(); ++i) named.emplace_back(fmt::format("p.{}", i), params[i]);
  write_tensors(file, named);
}

void load_parameters(const fs::path& file, const std::vector<at::Tensor>& params) {
  torch::NoGradGuard no_grad;
  const SafetensorsFile saved = SafetensorsFile::open(file);
  if (saved.tensors().size() != params.size()) {
    throw IoError(fmt::format("{} holds {} parameters, the model has {}: was it written for another model?",
                              file.string(), saved.tensors().size(), params.size()));
  }
  std::vector<at::Tensor> loaded;
  for (std::size_t i = 0; i < params.size(); ++i) {
    loaded.push_back(read_tensor(saved, fmt::format("p.{}", i)));
    if (loaded.back().sizes() != params[i].sizes()) {
      throw IoError(fmt::format("{}: parameter {} has shape {}, the model's is {}", file.string(), i,
                                fmt::join(loaded.back().sizes(), "x"), fmt::join(params[i].sizes(), "x")));
    }
  }
  // Copied only once every shape has matched: a mismatch leaves the model as it was.
  for (std::size_t i = 0; i < params.size(); ++i) params[i].copy_(loaded[i]);
}

}  // namespace sentbench
