#include "kernels/core/cpu.h"

#include <algorithm>
#include <cstdlib>
#include <stdexcept>

#include <cpuid.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fstream>
#include <string>

namespace roofbench {
namespace {

// __builtin_cpu_supports of clang 14 knows neither "avxvnni", "f16c" nor "avx512fp16": those
// three come from CPUID there (leaf 7.1 EAX bit 4, leaf 1 ECX bit 29, leaf 7.0 EDX bit 23).
// Each is only set together with avx2 or avx512f, whose check covers the OS's saving of the
// vector registers.
#if defined(__clang__)
bool cpuid_bit(unsigned leaf, unsigned subleaf, int reg, unsigned bit) {
  unsigned r[4] = {};
  return __get_cpuid_count(leaf, subleaf, &r[0], &r[1], &r[2], &r[3]) && ((r[reg] >> bit) & 1u);
}
#define ROOFBENCH_HAS_AVXVNNI (__builtin_cpu_supports("avx2") && cpuid_bit(7, 1, 0, 4))
#define ROOFBENCH_HAS_F16C cpuid_bit(1, 0, 2, 29)
#define ROOFBENCH_HAS_AVX512FP16 cpuid_bit(7, 0, 3, 23)
#else
#define ROOFBENCH_HAS_AVXVNNI __builtin_cpu_supports("avxvnni")
#define ROOFBENCH_HAS_F16C __builtin_cpu_supports("f16c")
#define ROOFBENCH_HAS_AVX512FP16 __builtin_cpu_supports("avx512fp16")
#endif

std::string read_line(const std::string& path) {
  std::ifstream in(path);
  std::string s;
  std::getline(in, s);
  return s;
}

// sysfs numbers look like "2", "32K" or "32768K".
std::int64_t parse_size(const std::string& s) {
  if (s.empty()) return 0;
  std::int64_t v = 0;
  std::size_t i = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') v = v * 10 + (s[i++] - '0');
  if (i < s.size() && (s[i] == 'K' || s[i] == 'k')) v <<= 10;
  if (i < s.size() && (s[i] == 'M' || s[i] == 'm')) v <<= 20;
  return v;
}

int count_cpus(const std::string& list) {  // "0-1,4,6-7"
  int n = 0;
  std::size_t i = 0;
  while (i < list.size()) {
    const int a = std::stoi(list.substr(i));
    while (i < list.size() && list[i] != '-' && list[i] != ',') ++i;
    int b = a;
    if (i < list.size() && list[i] == '-') b = std::stoi(list.substr(++i));
    while (i < list.size() && list[i] != ',') ++i;
    if (i < list.size()) ++i;
    n += b - a + 1;
  }
  return n > 0 ? n : 1;
}

// XCR0, the OS's record of which register state it saves; only readable (xgetbv) when the OS
// set CR4.OSXSAVE, which CPUID leaf 1 ECX bit 27 mirrors.
std::uint64_t read_xcr0() {
  std::uint32_t lo = 0, hi = 0;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (std::uint64_t{hi} << 32) | lo;
}

CpuInfo detect() {
  CpuInfo info;
  info.logical_cpus = static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
  {
    std::ifstream in("/proc/cpuinfo");
    for (std::string line; std::getline(in, line);)
      if (line.rfind("model name", 0) == 0) {
        info.model = line.substr(line.find(':') + 2);
        break;
      }
  }
  // Defaults of a common desktop core, used only where sysfs is absent.
  info.l1d = {1, 32 << 10, 1};
  info.l2 = {2, 512 << 10, 1};
  info.l3 = {3, 8 << 20, info.logical_cpus};
  for (int idx = 0; idx < 8; ++idx) {
    const std::string dir = "/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(idx) + "/";
    const std::string type = read_line(dir + "type");
    if (type.empty()) break;
    if (type == "Instruction") continue;
    const int level = static_cast<int>(parse_size(read_line(dir + "level")));
    const CacheLevel c{level, parse_size(read_line(dir + "size")), count_cpus(read_line(dir + "shared_cpu_list"))};
    if (c.bytes <= 0) continue;
    if (level == 1) info.l1d = c;
    if (level == 2) info.l2 = c;
    if (level == 3) info.l3 = c;
  }

  __builtin_cpu_init();
  const unsigned disabled = disabled_isas(std::getenv("ROOFBENCH_DISABLE_ISA"));
  // An ISA implied by a disabled one (f16c by avx2+fma, the AVX-512 extensions by avx512f)
  // goes with it, since each check below asks for its base through info.has().
  auto set = [&](Isa isa, bool on) {
    const unsigned bit = 1u << static_cast<unsigned>(isa);
    if (on && !(disabled & bit)) info.flags |= bit;
  };
  set(Isa::none, true);
  set(Isa::avx2_fma, __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"));
  set(Isa::avx512f, __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq"));
  set(Isa::avx512_bf16, info.has(Isa::avx512f) && __builtin_cpu_supports("avx512bf16"));
  set(Isa::avx512_vnni, info.has(Isa::avx512f) && __builtin_cpu_supports("avx512vnni"));
  set(Isa::avx_vnni, ROOFBENCH_HAS_AVXVNNI);
  set(Isa::f16c, ROOFBENCH_HAS_F16C && info.has(Isa::avx2_fma));
  set(Isa::avx512_fp16, info.has(Isa::avx512f) && ROOFBENCH_HAS_AVX512FP16);

  // AMX: CPUID and XCR0, then the kernel's permission. The permission is asked for only when
  // the tiles would be used (not disabled), so ROOFBENCH_DISABLE_ISA=amx_tile leaves the
  // process exactly as a CPU without AMX would.
  unsigned r1[4] = {}, r7[4] = {};
  __get_cpuid_count(1, 0, &r1[0], &r1[1], &r1[2], &r1[3]);
  __get_cpuid_count(7, 0, &r7[0], &r7[1], &r7[2], &r7[3]);
  const bool osxsave = (r1[2] >> 27) & 1u;
  const AmxSupport amx = decode_amx(r1[2], r7[3], osxsave ? read_xcr0() : 0);
  if (!amx.tile) {
    info.amx_absent = amx.absent;
  } else if (disabled & (1u << static_cast<unsigned>(Isa::amx_tile))) {
    info.amx_absent = "amx_tile is disabled by ROOFBENCH_DISABLE_ISA";
  } else if (!info.has(Isa::avx512f)) {
    // The tile kernels pack with AVX-512 code (every AMX CPU has it), so the tiles go with it.
    info.amx_absent = "the AMX kernels need avx512f (their packing), which is absent or disabled";
  } else if (const std::string refused = request_amx_permission(); !refused.empty()) {
    info.amx_absent = refused;
  } else {
    set(Isa::amx_tile, true);
    set(Isa::amx_bf16, amx.bf16);
    set(Isa::amx_int8, amx.int8);
  }
  return info;
}

}  // namespace

AmxSupport decode_amx(std::uint32_t leaf1_ecx, std::uint32_t leaf7_edx, std::uint64_t xcr0) {
  AmxSupport s;
  if (!((leaf7_edx >> 24) & 1u)) {
    s.absent = "the CPU has no AMX tiles (CPUID.(7,0):EDX bit 24 amx_tile clear)";
    return s;
  }
  // Without OSXSAVE, xgetbv itself is undefined: the caller passes 0, but a fake XCR0 with a
  // clear OSXSAVE must not count either.
  constexpr std::uint64_t kTileState = (std::uint64_t{1} << 17) | (std::uint64_t{1} << 18);
  if (!((leaf1_ecx >> 27) & 1u) || (xcr0 & kTileState) != kTileState) {
    s.absent = "the OS does not enable the AMX tile state (XCR0 bits 17 and 18 XTILECFG/XTILEDATA not both set)";
    return s;
  }
  s.tile = true;
  s.bf16 = (leaf7_edx >> 22) & 1u;
  s.int8 = (leaf7_edx >> 25) & 1u;
  return s;
}

std::string request_amx_permission() {
  constexpr long kArchReqXcompPerm = 0x1023;  // asm/prctl.h of Linux 5.16+; older headers lack it
  constexpr long kXfeatureXtiledata = 18;
  if (syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0) return "";
  const int err = errno;
  return "Linux refused the AMX tile data permission (arch_prctl(ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA): " +
         std::string(std::strerror(err)) + "; Linux 5.16 or later is needed)";
}

unsigned disabled_isas(const char* list) {
  unsigned mask = 0;
  if (!list) return mask;
  std::string_view rest(list);
  while (!rest.empty()) {
    const std::size_t comma = rest.find(',');
    const std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    if (item.empty()) continue;
    bool known = false;
    std::string names;
    for (Isa isa : kAllIsas) {
      std::string underscored(name(isa));
      std::replace(underscored.begin(), underscored.end(), '+', '_');
      if (isa != Isa::none && (item == name(isa) || item == underscored)) {
        mask |= 1u << static_cast<unsigned>(isa);
        known = true;
      }
      if (isa != Isa::none) names += (names.empty() ? "" : ", ") + underscored;
    }
    if (!known)
      throw std::invalid_argument("ROOFBENCH_DISABLE_ISA: unknown ISA '" + std::string(item) + "' (known: " + names +
                                  ")");
  }
  return mask;
}

std::string_view name(Isa isa) {
  switch (isa) {
    case Isa::none: return "none";
    case Isa::avx2_fma: return "avx2+fma";
    case Isa::avx512f: return "avx512f";
    case Isa::avx512_bf16: return "avx512_bf16";
    case Isa::avx512_vnni: return "avx512_vnni";
    case Isa::avx_vnni: return "avx_vnni";
    case Isa::f16c: return "f16c";
    case Isa::avx512_fp16: return "avx512_fp16";
    case Isa::amx_tile: return "amx_tile";
    case Isa::amx_bf16: return "amx_bf16";
    case Isa::amx_int8: return "amx_int8";
  }
  return "?";
}

bool CpuInfo::has(Isa isa) const { return (flags >> static_cast<unsigned>(isa)) & 1u; }

const CpuInfo& cpu() {
  static const CpuInfo info = detect();
  return info;
}

std::int64_t physical_memory_bytes() {
  return static_cast<std::int64_t>(sysconf(_SC_PHYS_PAGES)) * static_cast<std::int64_t>(sysconf(_SC_PAGE_SIZE));
}

std::int64_t available_memory_bytes() {
  std::ifstream meminfo("/proc/meminfo");
  for (std::string line; std::getline(meminfo, line);)
    if (line.starts_with("MemAvailable:")) return std::stoll(line.substr(13)) * 1024;  // "MemAvailable:  123 kB"
  return static_cast<std::int64_t>(sysconf(_SC_AVPHYS_PAGES)) * static_cast<std::int64_t>(sysconf(_SC_PAGE_SIZE));
}

}  // namespace roofbench
