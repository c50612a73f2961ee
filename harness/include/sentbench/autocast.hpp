// bf16 autocast on CPU for a scope: encoders use it at inference, recipes for training steps.
#pragma once

#include <ATen/autocast_mode.h>

namespace sentbench {

// Turns CPU autocast to bfloat16 on for the scope when `on`, then restores the previous state.
class CpuAutocast {
 public:
  explicit CpuAutocast(bool on) : on_(on) {
    if (!on_) return;
    previous_ = at::autocast::is_cpu_enabled();
    at::autocast::set_cpu_enabled(true);
    at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
  }
  ~CpuAutocast() {
    if (!on_) return;
    at::autocast::set_cpu_enabled(previous_);
    at::autocast::clear_cache();
  }
  CpuAutocast(const CpuAutocast&) = delete;
  CpuAutocast& operator=(const CpuAutocast&) = delete;

 private:
  bool on_;
  bool previous_ = false;
};

}  // namespace sentbench
