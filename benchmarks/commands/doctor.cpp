// `roofbench doctor`: probes this machine's noise over time (benchmarks/doctor.h).
#include <memory>

#include "benchmarks/commands/command.h"
#include "benchmarks/doctor.h"

namespace roofbench {

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
