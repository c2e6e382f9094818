#include "benchmarks/doctor.h"

#include <fmt/format.h>
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <time.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <numeric>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <thread>

#include "benchmarks/canary.h"
#include "benchmarks/interrupt.h"
#include "kernels/core/buffer.h"
#include "kernels/core/cpu.h"
#include "kernels/core/text_file.h"

namespace roofbench {

// ============================================================================================
// The summariser: pure functions of the rounds.
// ============================================================================================

double percentile(std::span<const double> values, double p) {
  std::vector<double> v;
  for (double x : values)
    if (std::isfinite(x)) v.push_back(x);
  if (v.empty()) return kNoValue;
  std::sort(v.begin(), v.end());
  const double pos = std::clamp(p, 0.0, 1.0) * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  const std::size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (pos - static_cast<double>(lo)) * (v[hi] - v[lo]);
}

namespace {

double median_where(std::span<const double> values, std::span<const Round> rounds, auto&& keep) {
  std::vector<double> v;
  for (std::size_t i = 0; i < values.size() && i < rounds.size(); ++i)
    if (std::isfinite(values[i]) && keep(rounds[i])) v.push_back(values[i]);
  return percentile(v, 0.5);
}

// A probe's best round by its kind: what its slow rounds are judged against.
double best_of(Kind kind, const ProbeStats& s) {
  switch (kind) {
    case Kind::higher_is_better: return s.max;
    case Kind::lower_is_better: return s.min;
    case Kind::zero_is_best: return 0;
    case Kind::steady: return s.median;
    case Kind::info: break;
  }
  return s.best;
}

bool is_slow(double x, Kind kind, const ProbeStats& s, double tolerance) {
  if (!std::isfinite(x)) return false;
  switch (kind) {
    case Kind::higher_is_better: return x < s.best * (1 - tolerance);
    case Kind::lower_is_better: return x > s.best * (1 + tolerance);
    case Kind::zero_is_best: return x > tolerance;
    case Kind::steady: return std::abs(x - s.median) > tolerance;
    case Kind::info: return false;
  }
  return false;
}

// Slow rounds, and the longest run of them. A run ends at a round that is not slow, at one
// without a value, and at the churn (its seconds were not probed, so no phase is claimed
// across them). Returns the values of the rounds outside slow phases.
std::vector<double> find_slow_phases(std::span<const double> values, std::span<const Round> rounds, Kind kind,
                                     double tolerance, ProbeStats& s) {
  std::vector<double> slow_values, steady_values;
  std::size_t phase_first = 0;
  bool in_phase = false;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (is_slow(values[i], kind, s, tolerance)) {
      ++s.slow_rounds;
      slow_values.push_back(values[i]);
      if (!in_phase || rounds[i].after_churn != rounds[phase_first].after_churn) phase_first = i;
      in_phase = true;
      s.longest_phase_s = std::max(s.longest_phase_s, rounds[i].end_s - rounds[phase_first].start_s);
    } else {
      in_phase = false;
      if (std::isfinite(values[i])) steady_values.push_back(values[i]);
    }
  }
  s.slow_median = percentile(slow_values, 0.5);
  return steady_values;
}

}  // namespace

ProbeStats summarise(std::span<const double> values, std::span<const Round> rounds, Kind kind, double tolerance,
                     double churn_end_s) {
  ProbeStats s;
  const std::size_t n = std::min(values.size(), rounds.size());
  values = values.first(n);
  rounds = rounds.first(n);
  std::vector<double> finite;
  for (double x : values)
    if (std::isfinite(x)) finite.push_back(x);
  s.rounds = static_cast<int>(finite.size());
  if (finite.empty()) return s;
  s.median = percentile(finite, 0.5);
  s.p10 = percentile(finite, 0.1);
  s.p90 = percentile(finite, 0.9);
  s.min = *std::min_element(finite.begin(), finite.end());
  s.max = *std::max_element(finite.begin(), finite.end());
  s.mean = std::accumulate(finite.begin(), finite.end(), 0.0) / static_cast<double>(finite.size());
  const bool relative = kind == Kind::higher_is_better || kind == Kind::lower_is_better || kind == Kind::info;
  if (relative && s.median != 0) s.spread = (s.p90 - s.p10) / std::abs(s.median);

  s.best = best_of(kind, s);
  const std::vector<double> steady_values = find_slow_phases(values, rounds, kind, tolerance, s);

  // How well the rounds outside slow phases agree: the half-width of their p10-p90 band.
  s.steady_rounds = static_cast<int>(steady_values.size());
  const double m = percentile(steady_values, 0.5);
  if (s.steady_rounds > 0 && m != 0)
    s.repeat_pct = 100 * std::max(percentile(steady_values, 0.9) - m, m - percentile(steady_values, 0.1)) / std::abs(m);

  // Before and after the churn, when there was one (some round is after it).
  if (std::any_of(rounds.begin(), rounds.end(), [](const Round& r) { return r.after_churn; })) {
    s.median_before = median_where(values, rounds, [](const Round& r) { return !r.after_churn; });
    s.median_after = median_where(values, rounds, [](const Round& r) { return r.after_churn; });
    const double until = std::isfinite(churn_end_s) ? churn_end_s + kSoonAfterChurnS : -1;
    s.median_soon_after =
        median_where(values, rounds, [&](const Round& r) { return r.after_churn && r.start_s < until; });
  }
  return s;
}

DoctorSummary summarise_rounds(const Rounds& r) {
  DoctorSummary out;
  out.rounds = static_cast<int>(r.rounds.size());
  if (!r.rounds.empty()) out.seconds = r.rounds.back().end_s - r.rounds.front().start_s;
  out.churn_gib = r.churn_gib;
  out.churn_touch_gbps = r.churn_touch_gbps;
  auto add = [&](Role role, int cpu, std::string name, std::string unit, Kind kind, double tol, auto&& get) {
    std::vector<double> v;
    v.reserve(r.rounds.size());
    for (const Round& round : r.rounds) v.push_back(get(round));
    out.probes.push_back(
        {role, cpu, std::move(name), std::move(unit), kind, tol, summarise(v, r.rounds, kind, tol, r.churn_end_s)});
  };
  auto per_cpu = [&](std::size_t i, double CpuRound::*field) {
    return [i, field](const Round& round) { return i < round.cpu.size() ? round.cpu[i].*field : kNoValue; };
  };
  for (std::size_t i = 0; i < r.cpu_ids.size(); ++i) {
    const int c = r.cpu_ids[i];
    add(Role::steal, c, fmt::format("steal cpu{}", c), "%", Kind::zero_is_best, kStealOffPct,
        per_cpu(i, &CpuRound::steal_pct));
    add(Role::busy, c, fmt::format("busy cpu{}", c), "%", Kind::info, 0, per_cpu(i, &CpuRound::busy_pct));
  }
  // Busy time that was not ours: the vCPUs' mean busy share minus this process's own. On a
  // shared machine this is the first thing to know (a build, another benchmark).
  add(Role::others, -1, "others busy", "%", Kind::zero_is_best, kOthersBusyOffPct, [](const Round& round) {
    double sum = 0;
    int n = 0;
    for (const CpuRound& c : round.cpu)
      if (std::isfinite(c.busy_pct)) sum += c.busy_pct, ++n;
    if (n == 0 || !std::isfinite(round.own_busy_pct)) return kNoValue;
    return std::max(0.0, sum / n - round.own_busy_pct);
  });
  for (std::size_t i = 0; i < r.cpu_ids.size(); ++i) {
    const int c = r.cpu_ids[i];
    // The spinner's rate in thousands of chunks per second: a 20 us chunk makes ~50 of them.
    add(Role::spinner, c, fmt::format("spinner cpu{}", c), "kchunk/s", Kind::higher_is_better, kSlowTolerance,
        [f = per_cpu(i, &CpuRound::chunks_per_s)](const Round& round) { return f(round) / 1e3; });
    add(Role::stall, c, fmt::format("stall cpu{}", c), "ms", Kind::zero_is_best, kStallOffMs,
        per_cpu(i, &CpuRound::stall_ms));
  }
  add(Role::canary, -1, "canary", "ms", Kind::lower_is_better, kSlowTolerance,
      [](const Round& round) { return round.canary_ms; });
  add(Role::stream, -1, "stream read", "GB/s", Kind::higher_is_better, kSlowTolerance,
      [](const Round& round) { return round.stream_gbps; });
  add(Role::tlb, -1, "TLB walk", "ns/hop", Kind::lower_is_better, kSlowTolerance,
      [](const Round& round) { return round.tlb_ns_per_hop; });
  add(Role::drift, -1, "clock drift", "ppm", Kind::steady, kDriftOffPpm,
      [](const Round& round) { return round.drift_ppm; });
  add(Role::clock_read, -1, "clock read", "ns", Kind::lower_is_better, kSlowTolerance,
      [](const Round& round) { return round.clock_read_ns; });
  return out;
}

namespace {

// "±0.8%", "±12%": one decimal while it says something.
std::string pct(double x) { return x < 10 ? fmt::format("{:.1f}%", x) : fmt::format("{:.0f}%", x); }

std::string ratio(double x) { return fmt::format("{:.1f}\u00d7", x); }

const ProbeSummary* find(const DoctorSummary& s, Role role) {
  for (const ProbeSummary& p : s.probes)
    if (p.role == role) return &p;
  return nullptr;
}

// How much slower the probe ran after the churn than before, as a factor >= 0 (1 = the same):
// the worse of the first seconds after it and the whole remainder.
double churn_slowdown(const ProbeSummary& p) {
  const ProbeStats& st = p.stats;
  double worst = kNoValue;
  for (double after : {st.median_soon_after, st.median_after}) {
    if (!std::isfinite(after) || !std::isfinite(st.median_before) || after <= 0 || st.median_before <= 0) continue;
    const double f = p.kind == Kind::higher_is_better ? st.median_before / after : after / st.median_before;
    if (!std::isfinite(worst) || f > worst) worst = f;
  }
  return worst;
}

// Line 1 of the verdict: the figure. The canary is the signal the measurement protocol rejects
// slow repetitions by; its agreement outside slow phases is what a measurement can hope for.
std::string repeat_line(const ProbeSummary* canary) {
  if (canary == nullptr || canary->stats.rounds == 0)
    return "Measurements on this machine: the canary recorded nothing, so how well they repeat is unknown.\n";
  if (canary->stats.steady_rounds < 3 || !std::isfinite(canary->stats.repeat_pct)) {
    // Too few quiet rounds to leave the slow ones out: the band over every round, said so.
    const ProbeStats& c = canary->stats;
    const double all = 100 * std::max(c.p90 - c.median, c.median - c.p10) / c.median;
    return fmt::format(
        "Measurements on this machine repeat to about \u00b1{} (the canary's p10-p90 over all {} rounds: "
        "only {} were outside slow phases, too few to leave the others out).\n",
        pct(all), c.rounds, c.steady_rounds);
  }
  return fmt::format(
      "Measurements on this machine repeat to about \u00b1{} (the canary's p10-p90 over the {} of {} "
      "rounds outside slow phases).\n",
      pct(canary->stats.repeat_pct), canary->stats.steady_rounds, canary->stats.rounds);
}

std::string join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (const std::string& t : parts) out += (out.empty() ? "" : std::string(sep)) + t;
  return out;
}

std::vector<std::string> steal_reasons(const DoctorSummary& s) {
  std::vector<std::string> steal;
  for (const ProbeSummary& p : s.probes)
    if (p.role == Role::steal && p.stats.rounds > 0 && (p.stats.mean >= kStealNotablePct || p.stats.max >= 10))
      steal.push_back(
          fmt::format("vCPU {} lost {} of its time (up to {} in a round)", p.cpu, pct(p.stats.mean), pct(p.stats.max)));
  return steal;
}

std::vector<std::string> churn_reasons(const DoctorSummary& s) {
  std::vector<std::string> churn;
  for (const ProbeSummary& p : s.probes)
    if (p.role == Role::tlb || p.role == Role::stream || p.role == Role::canary)
      if (const double f = churn_slowdown(p); std::isfinite(f) && f >= 1 + kSlowTolerance)
        churn.push_back(fmt::format("{} {}", p.name, ratio(f)));
  return churn;
}

// The spinners, all vCPUs in one reason: stalls of milliseconds (the vCPU was taken away, by
// the host or by another process) and rounds of a slower compute rate (shared or throttled).
std::vector<std::string> spinner_reasons(const DoctorSummary& s) {
  double worst_stall = 0;
  int worst_stall_cpu = -1, stall_rounds = 0, slow_rate_rounds = 0, rounds = 0;
  for (const ProbeSummary& p : s.probes) {
    rounds = std::max(rounds, p.stats.rounds);
    if (p.role == Role::stall && p.stats.rounds > 0) {
      if (p.stats.max > worst_stall) worst_stall = p.stats.max, worst_stall_cpu = p.cpu;
      stall_rounds = std::max(stall_rounds, p.stats.slow_rounds);
    }
    if (p.role == Role::spinner) slow_rate_rounds = std::max(slow_rate_rounds, p.stats.slow_rounds);
  }
  std::vector<std::string> spin;
  if (worst_stall >= 10 * kStallOffMs || (stall_rounds > 0 && stall_rounds * 10 >= rounds))
    spin.push_back(fmt::format("stalls of up to {:.1f} ms on vCPU {} (over {:g} ms in {} of {} rounds)", worst_stall,
                               worst_stall_cpu, kStallOffMs, stall_rounds, rounds));
  if (slow_rate_rounds > 0 && slow_rate_rounds * 10 >= rounds)
    spin.push_back(fmt::format("a compute rate more than {:.0f}% below best in {} of {} rounds", 100 * kSlowTolerance,
                               slow_rate_rounds, rounds));
  return spin;
}

// Line 2 of the verdict: the reasons found in the data, most direct first.
std::vector<std::string> reasons(const DoctorSummary& s, const ProbeSummary* canary) {
  std::vector<std::string> why;
  if (canary != nullptr && canary->stats.slow_rounds > 0) {
    const ProbeStats& c = canary->stats;
    why.push_back(fmt::format(
        "slow phases seen by the canary lasting up to {:.1f} s ({} of {} rounds more than {:.0f}% "
        "slow, {} its best)",
        c.longest_phase_s, c.slow_rounds, c.rounds, 100 * canary->tolerance, ratio(c.slow_median / c.best)));
  }
  if (const ProbeSummary* o = find(s, Role::others);
      o != nullptr && o->stats.slow_rounds * 10 >= o->stats.rounds && o->stats.slow_rounds > 0)
    why.push_back(
        fmt::format("other processes kept the vCPUs busy ({} on average, up to {}, in {} of {} rounds over "
                    "{:g}%)",
                    pct(o->stats.mean), pct(o->stats.max), o->stats.slow_rounds, o->stats.rounds, o->tolerance));
  if (const auto steal = steal_reasons(s); !steal.empty()) why.push_back("steal: " + join(steal, ", "));
  if (const auto churn = churn_reasons(s); !churn.empty())
    why.push_back(fmt::format("slower after the {:g} GiB churn: {}", s.churn_gib, join(churn, ", ")));
  if (const auto spin = spinner_reasons(s); !spin.empty()) why.push_back("the spinners saw " + join(spin, " and "));
  if (const ProbeSummary* d = find(s, Role::drift); d != nullptr && d->stats.slow_rounds > 0)
    why.push_back(
        fmt::format("unstable clock: CLOCK_MONOTONIC's rate moved by more than {:g} ppm in {} of {} rounds "
                    "(from {:.0f} to {:.0f} ppm)",
                    d->tolerance, d->stats.slow_rounds, d->stats.rounds, d->stats.min, d->stats.max));
  if (const ProbeSummary* c = find(s, Role::clock_read); c != nullptr && c->stats.median >= kClockReadSlowNs)
    why.push_back(
        fmt::format("slow clock: one read costs {:.0f} ns (a clocksource that traps to the host)", c->stats.median));
  return why;
}

}  // namespace

std::string verdict(const DoctorSummary& s) {
  const ProbeSummary* canary = find(s, Role::canary);
  std::string out = repeat_line(canary);
  const std::vector<std::string> why = reasons(s, canary);
  if (why.empty()) {
    out += "Why: nothing in the data stands out: no steal, no other load, no slow phase seen by the canary, ";
    out += s.churn_gib > 0 ? "memory as fast after the churn as before, " : "no churn probed, ";
    out += "no stalls, a steady clock.\n";
  } else {
    out += "Why: " + join(why, "; ") + ".\n";
  }
  // Line 3: the churn's own figure, when there was one.
  if (s.churn_gib > 0 && std::isfinite(s.churn_touch_gbps))
    out += fmt::format(
        "The {:g} GiB churn touched its fresh pages at {:.2f} GB/s{}.\n", s.churn_gib, s.churn_touch_gbps,
        s.churn_touch_gbps < 2 ? " (slow, as docs/noise.md measured for memory the host had taken back)" : "");
  return out;
}

namespace {

std::string num(double x) {
  if (!std::isfinite(x)) return "-";
  const double a = std::abs(x);
  if (a == 0) return "0";
  if (a >= 100) return fmt::format("{:.0f}", x);
  if (a >= 10) return fmt::format("{:.1f}", x);
  if (a >= 1) return fmt::format("{:.2f}", x);
  return fmt::format("{:.3f}", x);
}

}  // namespace

std::string format_summary(const DoctorSummary& s) {
  std::string out;
  const bool churned = std::any_of(s.probes.begin(), s.probes.end(),
                                   [](const ProbeSummary& p) { return std::isfinite(p.stats.median_after); });
  out += fmt::format(
      "{} rounds over {:.1f} s. slow: rounds more than 10% off the probe's best (steal: over {:g}%, "
      "others busy: over {:g}%, stall: over {:g} ms, drift: over {:g} ppm from its median); phase_s: the "
      "longest run of them; spread: (p90-p10)/median.\n",
      s.rounds, s.seconds, kStealOffPct, kOthersBusyOffPct, kStallOffMs, kDriftOffPpm);
  out += fmt::format("{:<14} {:>8} {:>8} {:>8} {:>8} {:>7} {:>5} {:>7}", "probe", "unit", "median", "min", "max",
                     "spread", "slow", "phase_s");
  if (churned) out += fmt::format(" {:>8} {:>8} {:>8}", "before", "after", "first5s");
  out += "\n";
  for (const ProbeSummary& p : s.probes) {
    const ProbeStats& st = p.stats;
    out += fmt::format("{:<14} {:>8} {:>8} {:>8} {:>8} {:>7} {:>5} {:>7}", p.name, p.unit, num(st.median), num(st.min),
                       num(st.max), std::isfinite(st.spread) ? fmt::format("{:.1f}%", 100 * st.spread) : "-",
                       p.kind == Kind::info ? std::string("-") : std::to_string(st.slow_rounds),
                       p.kind == Kind::info ? std::string("-") : fmt::format("{:.1f}", st.longest_phase_s));
    if (churned)
      out += fmt::format(" {:>8} {:>8} {:>8}", num(st.median_before), num(st.median_after), num(st.median_soon_after));
    out += "\n";
  }
  if (s.churn_gib > 0)
    out +=
        std::isfinite(s.churn_touch_gbps)
            ? fmt::format("churn: {:g} GiB allocated, touched at {:.2f} GB/s, freed\n", s.churn_gib, s.churn_touch_gbps)
            : fmt::format("churn: {:g} GiB not done (the probe ended first)\n", s.churn_gib);
  out += "\n" + verdict(s);
  return out;
}

nlohmann::json summary_json(const DoctorSummary& s) {
  const auto value = [](double x) { return std::isfinite(x) ? nlohmann::json(x) : nlohmann::json(nullptr); };
  nlohmann::json probes = nlohmann::json::array();
  for (const ProbeSummary& p : s.probes) {
    const ProbeStats& st = p.stats;
    probes.push_back({{"name", p.name},
                      {"unit", p.unit},
                      {"median", value(st.median)},
                      {"p10", value(st.p10)},
                      {"p90", value(st.p90)},
                      {"best", value(st.best)},
                      {"rounds", st.rounds},
                      {"slow_rounds", st.slow_rounds},
                      {"longest_slow_phase_s", value(st.longest_phase_s)},
                      {"repeat_pct", value(st.repeat_pct)}});
  }
  nlohmann::json lines = nlohmann::json::array();
  const std::string v = verdict(s);
  for (std::size_t at = 0; at < v.size();) {
    const std::size_t end = std::min(v.find('\n', at), v.size());
    if (end > at) lines.push_back(v.substr(at, end - at));
    at = end + 1;
  }
  return {{"seconds", value(s.seconds)}, {"rounds", s.rounds}, {"verdict", lines}, {"probes", probes}};
}

std::string format_rounds_csv(const Rounds& r) {
  auto cell = [](double x) { return csv_number(std::isfinite(x) ? std::optional<double>(x) : std::nullopt); };
  std::string out = "round,start_s,end_s,after_churn";
  for (int c : r.cpu_ids)
    out += fmt::format(",steal_pct_cpu{0},busy_pct_cpu{0},chunks_per_s_cpu{0},stall_ms_cpu{0}", c);
  out += ",own_busy_pct,canary_ms,stream_gbps,tlb_ns_per_hop,clock_drift_ppm,clock_read_ns,churn_touch_gbps\n";
  bool churn_written = false;
  for (std::size_t i = 0; i < r.rounds.size(); ++i) {
    const Round& round = r.rounds[i];
    out += fmt::format("{},{},{},{}", i, cell(round.start_s), cell(round.end_s), round.after_churn ? 1 : 0);
    for (std::size_t k = 0; k < r.cpu_ids.size(); ++k) {
      const CpuRound c = k < round.cpu.size() ? round.cpu[k] : CpuRound{};
      out += fmt::format(",{},{},{},{}", cell(c.steal_pct), cell(c.busy_pct), cell(c.chunks_per_s), cell(c.stall_ms));
    }
    // The churn's rate on the first round after it, where a plot of the series wants the mark.
    const bool mark = round.after_churn && !churn_written;
    churn_written |= mark;
    out += fmt::format(",{},{},{},{},{},{},{}\n", cell(round.own_busy_pct), cell(round.canary_ms),
                       cell(round.stream_gbps), cell(round.tlb_ns_per_hop), cell(round.drift_ppm),
                       cell(round.clock_read_ns), mark ? cell(r.churn_touch_gbps) : "");
  }
  return out;
}

void check_doctor_options(const DoctorOptions& o, std::int64_t physical, std::int64_t available) {
  // Written as !(x > 0) so a NaN is refused too.
  if (!(o.seconds > 0) || !(o.seconds <= 3600))
    throw std::invalid_argument(fmt::format("--seconds {:g}: must be more than 0 and at most 3600", o.seconds));
  if (!(o.churn_gib >= 0))
    throw std::invalid_argument(fmt::format("--churn-gib {:g}: must be 0 (no churn) or more", o.churn_gib));
  const double bytes = o.churn_gib * double(1ull << 30);
  if (bytes > 0.5 * static_cast<double>(physical))
    throw std::invalid_argument(fmt::format("--churn-gib {:g}: more than half the physical memory ({:.1f} GiB)",
                                            o.churn_gib, static_cast<double>(physical) / double(1ull << 30)));
  // Touching more than is available would swap or meet the OOM killer, not measure the churn.
  if (bytes > static_cast<double>(available))
    throw std::invalid_argument(fmt::format("--churn-gib {:g}: more than the memory available now ({:.1f} GiB)",
                                            o.churn_gib, static_cast<double>(available) / double(1ull << 30)));
  if (o.threads < 0 || o.threads > 1024)
    throw std::invalid_argument(fmt::format("--threads {}: must be between 1 and 1024", o.threads));
}

}  // namespace roofbench
