// What this CPU can run and how big its caches are, asked once at run time. Kernels compiled
// for an ISA are only ever called after supports() says yes (no SIGILL).
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

namespace roofbench {

enum class Isa { none, avx2_fma, avx512f, avx512_bf16, avx512_vnni, avx_vnni, f16c, avx512_fp16 };
inline constexpr Isa kAllIsas[] = {Isa::none,     Isa::avx2_fma, Isa::avx512f, Isa::avx512_bf16,
                                   Isa::avx512_vnni, Isa::avx_vnni, Isa::f16c,    Isa::avx512_fp16};
std::string_view name(Isa isa);

// The environment variable ROOFBENCH_DISABLE_ISA (comma-separated ISA names, "avx512f,f16c")
// makes cpu() report those ISAs, and those built on them, as absent: on an AVX-512 machine the
// AVX2 fallbacks then run, to compare them or to test them. Throws std::invalid_argument on
// an unknown name. Returns the mask of the named ISAs (bit per Isa).
unsigned disabled_isas(const char* list);

struct CacheLevel {
  int level = 0;
  std::int64_t bytes = 0;   // one instance
  int shared_by = 1;        // logical CPUs sharing one instance
};

struct CpuInfo {
  std::string model;
  int logical_cpus = 1;
  CacheLevel l1d, l2, l3;  // from sysfs; sensible defaults if the system hides them
  // What cold-cache rotation must outgrow and the bandwidth sweep must pass: L3, or L2 on a
  // CPU without one.
  std::int64_t last_level_cache_bytes() const { return std::max(l3.bytes, l2.bytes); }
  bool has(Isa isa) const;
  unsigned flags = 0;  // bit per Isa
};

const CpuInfo& cpu();  // read once, immutable afterwards

// Physical memory, and the memory available now without swapping (MemAvailable of
// /proc/meminfo; free pages where the kernel does not report it). Asked at the moment of use,
// not cached: the second changes while roofbench runs.
std::int64_t physical_memory_bytes();
std::int64_t available_memory_bytes();

}  // namespace roofbench
