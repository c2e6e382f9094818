// `roofbench doctor`: probes this machine's noise over time (benchmarks/doctor.h).
#include <fmt/format.h>

#include <cstdio>
#include <fstream>
#include <memory>

#include "benchmarks/commands/command.h"
#include "benchmarks/doctor.h"
#include "benchmarks/interrupt.h"
#include "kernels/core/cpu.h"
#include "kernels/core/text_file.h"

namespace roofbench {

namespace {

std::string first_line_of(const char* path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line.empty() ? "unknown" : line;
}

}  // namespace

int doctor_command(const DoctorOptions& options) {
  DoctorOptions o = options;
  if (o.threads == 0) o.threads = cpu().logical_cpus;
  check_doctor_options(o, physical_memory_bytes(), available_memory_bytes());
  if (!o.csv.empty()) check_writable(o.csv);
  catch_interrupts();

  const std::vector<int> cpu_ids = probe_cpus();

  fmt::print(
      "roofbench doctor: {:g} s in rounds of {:g} s on {} ({} logical CPUs, probing {}), canary on {} "
      "thread{}, {}\n",
      o.seconds, kRoundS, cpu().model, cpu().logical_cpus, cpu_ids.size(), o.threads, o.threads == 1 ? "" : "s",
      o.churn_gib > 0 ? fmt::format("churn of {:g} GiB half-way", o.churn_gib) : std::string("no churn"));
  fmt::print("clocksource {}, transparent huge pages {}\n",
             first_line_of("/sys/devices/system/clocksource/clocksource0/current_clocksource"),
             first_line_of("/sys/kernel/mm/transparent_hugepage/enabled"));
  std::fflush(stdout);

  const Rounds r = probe(o);
  const DoctorSummary summary = summarise_rounds(r);
  fmt::print("\n{}", format_summary(summary));
  std::fflush(stdout);
  if (!o.csv.empty()) write_text_atomically(o.csv, format_rounds_csv(r));
  if (interrupted()) {
    fmt::print(stderr, "roofbench doctor: interrupted by {} after {} rounds: summarised what was probed\n",
               signal_name(interrupt_signal()), r.rounds.size());
    return 128 + interrupt_signal();
  }
  return 0;
}

Handler define_doctor(CLI::App& cmd, const Invocation&) {
  auto doctor = std::make_shared<DoctorOptions>();  // ranges checked by doctor_command, which knows the memory
  cmd.add_option("--seconds", doctor->seconds, "Total probe time, in rounds of 0.5 s (at most 3600)")
      ->capture_default_str();
  cmd.add_option("--churn-gib", doctor->churn_gib, "GiB allocated, touched and freed half-way (0: none)")
      ->capture_default_str();
  cmd.add_option("--csv", doctor->csv, "Write the per-round time series to this CSV");
  cmd.add_option("--threads", doctor->threads, "The canary's threads (default: every logical CPU)")
      ->check(CLI::Range(1, 1024));
  return [doctor] { return doctor_command(*doctor); };
}

}  // namespace roofbench
