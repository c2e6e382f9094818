// The process supervisor of run and calibrate: the work happens in a worker process, started
// again after a crash or a hang, so one bad kernel call costs its row and not the whole run.
#pragma once

#include <string>
#include <vector>

namespace roofbench {

// Runs `args` (argv[1..] of this process) as a supervised worker until it finishes, restarting
// it after a crash or a hang with the job it was running recorded as failed; returns the
// worker's exit status. Reuses the journal when it belongs to the same command line, otherwise
// starts a new one. Hang limits come from the worker's begin lines.
int supervise(const std::vector<std::string>& args, const std::string& journal);

}  // namespace roofbench
