// What this CPU can run and how big its caches are, asked once at run time. Kernels compiled
// for an ISA are only ever called after supports() says yes (no SIGILL).
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

namespace roofbench {

// The AMX values come last so the bits of the older ones (CpuInfo::flags) keep their places.
// amx_tile is the tile architecture itself (ldtilecfg, tileloadd); amx_bf16 and amx_int8 are
// built on it, so disabling amx_tile disables both.
enum class Isa {
  none,
  avx2_fma,
  avx512f,
  avx512_bf16,
  avx512_vnni,
  avx_vnni,
  f16c,
  avx512_fp16,
  amx_tile,
  amx_bf16,
  amx_int8
};
inline constexpr Isa kAllIsas[] = {Isa::none,        Isa::avx2_fma, Isa::avx512f, Isa::avx512_bf16,
                                   Isa::avx512_vnni, Isa::avx_vnni, Isa::f16c,    Isa::avx512_fp16,
                                   Isa::amx_tile,    Isa::amx_bf16, Isa::amx_int8};
std::string_view name(Isa isa);

// The environment variable ROOFBENCH_DISABLE_ISA (comma-separated ISA names, "avx512f,f16c")
// makes cpu() report those ISAs, and those built on them, as absent: on an AVX-512 machine the
// AVX2 fallbacks then run, to compare them or to test them. Throws std::invalid_argument on
// an unknown name. Returns the mask of the named ISAs (bit per Isa).
unsigned disabled_isas(const char* list);

// AMX as CPUID and XCR0 report it, decoded from the register values alone so a test can feed
// it the values of a CPU it does not run on. A unit counts only if the CPU has it (CPUID leaf 7
// subleaf 0 EDX: bit 24 amx_tile, 22 amx_bf16, 25 amx_int8) AND the OS saves the tile state
// (XCR0 bits 17 XTILECFG and 18 XTILEDATA, readable only when CPUID leaf 1 ECX bit 27 OSXSAVE
// is set): a CPU whose OS does not enable the tiles raises #UD on the first tile instruction.
struct AmxSupport {
  bool tile = false, bf16 = false, int8 = false;
  std::string_view absent;  // why tile is false: "" when it is true
  bool operator==(const AmxSupport&) const = default;
};
AmxSupport decode_amx(std::uint32_t leaf1_ecx, std::uint32_t leaf7_edx, std::uint64_t xcr0);

// Linux also wants each process to ask for the tile data state before its first tile
// instruction (arch_prctl(ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA)), or that instruction
// raises SIGILL. Returns "" when granted (the permission covers every thread of the process),
// else why not, with the errno text.
std::string request_amx_permission();

struct CacheLevel {
  int level = 0;
  std::int64_t bytes = 0;  // one instance
  int shared_by = 1;       // logical CPUs sharing one instance
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
  // Why amx_tile is absent ("" when present): the CPU, the OS (XCR0), the arch_prctl request
  // or ROOFBENCH_DISABLE_ISA. Skip messages and tests quote it.
  std::string amx_absent;
};

const CpuInfo& cpu();  // read once, immutable afterwards

// Physical memory, and the memory available now without swapping (MemAvailable of
// /proc/meminfo; free pages where the kernel does not report it). Asked at the moment of use,
// not cached: the second changes while roofbench runs.
std::int64_t physical_memory_bytes();
std::int64_t available_memory_bytes();

}  // namespace roofbench
