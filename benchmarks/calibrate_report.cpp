#include "benchmarks/calibrate_parts.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "predictor/roofline.h"

namespace roofbench {

// Every unit measured, with its ops per cycle: "yes" marks the dtype's roof (what machine_peak
// returns), "no" a unit that counts but is slower, "excluded" one that does not count (roof false).
void print_summary(const Profile& p) {
  if (p.machine.contains("measured_hz"))
    fmt::print("\nmeasured clock: {:.2f} GHz (dependent integer adds, 1 thread)\n",
               p.machine["measured_hz"].get<double>() / 1e9);
  fmt::print("\n{:<5} {:>7}  {:>9}  {:>10}  {:>7}  {:<8}  {}\n", "dtype", "threads", "G(FL)OP/s", "ops/cycle", "spread",
             "roof", "unit (instructions)");
  for (const PeakEntry& e : p.peaks) {
    const PeakEntry* roof = machine_roof(p, *parse_dtype(e.dtype), e.threads);
    fmt::print("{:<5} {:>7}  {:>9.1f}  {:>10.1f}  {:>6.1f}%  {:<8}  {}\n", e.dtype, e.threads, e.ops_per_s / 1e9,
               e.ops_per_cycle, 100 * e.spread,
               !e.roof      ? "excluded"
               : roof == &e ? "yes"
                            : "no",
               e.isa);
  }
  fmt::print("\n{:<6} {:<7} {:>7}  {:>12}  {:>9}\n", "level", "kernel", "threads", "capacity", "GB/s");
  for (const BandwidthEntry& b : p.bandwidth)
    fmt::print("{:<6} {:<7} {:>7}  {:>12}  {:>9.1f}\n", name(b.level), b.kernel, b.threads,
               b.capacity_bytes ? fmt::format("{} KiB", b.capacity_bytes >> 10) : "-", b.bytes_per_s / 1e9);
  if (p.latency.empty()) return;
  fmt::print("\n{:<6} {:>12}  {:>7}  {:>11}   (dependent loads, random chase, best of repetitions)\n", "level",
             "working set", "threads", "ns per load");
  for (const LatencyEntry& e : p.latency)
    fmt::print("{:<6} {:>12}  {:>7}  {:>11.1f}\n", name(e.level), fmt::format("{} KiB", e.bytes >> 10), e.threads,
               e.ns_per_load);
}

// One line per fit, every term with its unit: per region is the blocking fits' cost per
// parallel region or barrier, pack their packing rate (G elements/s of the busiest thread), half
// M/N/K the half-lengths (elements) of the others, "cv err" the
// error on training points each predicted by a fit of the others (the figure the terms were
// chosen by), "train err" on the points themselves.
void print_fits(const Profile& p) {
  fmt::print(
      "\n{:<7} {:<9} {:<6} {:<5} {:>3}  {:>9}  {:>7} {:>7} {:>7} {:>7}  {:>9}  {:>9}  {:>10}  {:>10}  {:>17}  {:>5}  "
      "{:>7}  {:>9}\n",
      "op", "class", "impl", "dtype", "thr", "G(FL)OP/s", "L1 GB/s", "L2 GB/s", "L3 GB/s", "DRAM", "overhead",
      "per group", "per region", "pack Gel/s", "half M/N/K", "blend", "cv err", "train err");
  const auto us = [](double s) { return s > 0 ? fmt::format("{:.3f}us", s * 1e6) : std::string("-"); };
  for (const KernelFit& k : p.kernels) {
    const bool halves = k.half_mnk[0] > 0 || k.half_mnk[1] > 0 || k.half_mnk[2] > 0;
    fmt::print(
        "{:<7} {:<9} {:<6} {:<5} {:>3}  {:>9.1f}  {:>7.1f} {:>7.1f} {:>7.1f} {:>7.1f}  {:>7.1f}us  {:>9}  {:>10}  "
        "{:>10}  {:>17}  "
        "{:>5}  {:>7}  {:>8.1f}%\n",
        name(k.op), name(k.shape_class), name(k.impl), name(k.dtype), k.threads, k.compute_ops_per_s / 1e9,
        k.bytes_per_s[0] / 1e9, k.bytes_per_s[1] / 1e9, k.bytes_per_s[2] / 1e9, k.bytes_per_s[3] / 1e9,
        k.overhead_s * 1e6, us(k.group_overhead_s), k.blocking ? us(k.region_overhead_s) : std::string("-"),
        k.pack_elems_per_s > 0 ? fmt::format("{:.2f}", k.pack_elems_per_s / 1e9) : std::string("-"),
        halves ? fmt::format("{:.3g}/{:.3g}/{:.3g}", k.half_mnk[0], k.half_mnk[1], k.half_mnk[2])
               : std::string(k.blocking ? "tiles" : "-"),
        k.blend == 0 ? std::string("max") : fmt::format("p={}", k.blend),
        k.cv_mape >= 0 ? fmt::format("{:.1f}%", 100 * k.cv_mape) : std::string("-"), 100 * k.train_mape);
  }
  for (const nlohmann::json& u : p.unfitted)
    fmt::print("{:<7} {:<9} {:<6} {:<5} {:>3}  classic roofline: {}\n", u.value("op", "?"), u.value("class", "?"),
               u.value("impl", "?"), u.value("dtype", "?"), u.value("threads", 0), u.value("reason", "?"));
}

void measure_machine(Profile& profile, const CalibrateOptions& opt, const Settings& s);
void measure_again(Profile& profile, const CalibrateOptions& opt, const Settings& s);

}  // namespace roofbench
