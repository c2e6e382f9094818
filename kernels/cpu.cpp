#include "kernels/cpu.h"

#include <algorithm>
#include <cstdlib>
#include <stdexcept>

#include <unistd.h>

#include <fstream>
#include <string>

namespace roofbench {
namespace {

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
  set(Isa::avx_vnni, __builtin_cpu_supports("avxvnni"));
  set(Isa::f16c, __builtin_cpu_supports("f16c") && info.has(Isa::avx2_fma));
  set(Isa::avx512_fp16, info.has(Isa::avx512f) && __builtin_cpu_supports("avx512fp16"));
  return info;
}

}  // namespace

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
      throw std::invalid_argument("ROOFBENCH_DISABLE_ISA: unknown ISA '" + std::string(item) + "' (known: " + names + ")");
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
  }
  return "?";
}

bool CpuInfo::has(Isa isa) const { return (flags >> static_cast<unsigned>(isa)) & 1u; }

const CpuInfo& cpu() {
  static const CpuInfo info = detect();
  return info;
}

}  // namespace roofbench
