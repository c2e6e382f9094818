// What this CPU can run and how big its caches are, asked once at run time. Kernels compiled
// for an ISA are only ever called after supports() says yes (no SIGILL).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace roofbench {

enum class Isa { none, avx2_fma, avx512f, avx512_bf16, avx512_vnni, avx_vnni, f16c, avx512_fp16 };
std::string_view name(Isa isa);

struct CacheLevel {
  int level = 0;
  std::int64_t bytes = 0;   // one instance
  int shared_by = 1;        // logical CPUs sharing one instance
};

struct CpuInfo {
  std::string model;
  int logical_cpus = 1;
  CacheLevel l1d, l2, l3;  // from sysfs; sensible defaults if the system hides them
  bool has(Isa isa) const;
  unsigned flags = 0;  // bit per Isa
};

const CpuInfo& cpu();  // read once, immutable afterwards

}  // namespace roofbench
