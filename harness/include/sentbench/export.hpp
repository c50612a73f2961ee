// Symbol visibility for the SDK: plugins build with hidden visibility, so every SDK class whose
// vtable or typeinfo crosses the plugin boundary is marked with SENTBENCH_API.
#pragma once

#define SENTBENCH_API __attribute__((visibility("default")))
