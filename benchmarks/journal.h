// Crash isolation and resumption for the commands that measure (`run`, `calibrate`).
//
// A peer library can crash (a SIGSEGV inside oneDNN), hang, or be killed with the process.
// None of that may cost more than the row it happened on. So the command the user starts is a
// supervisor: it starts the same command line again as a worker process and waits. The worker
// writes a journal, `OUTPUT.journal` beside the output, one JSON object per line, as it goes:
//
//   {"journal":1,"args":[...]}                      the command line it belongs to (first line)
//   {"begin":NAME,"step":"check"|"time","limit_s":T} a kernel call is about to start ...
//   {"end":NAME}                                     ... and returned
//   {"checked":NAME} / {"skipped":NAME,"reason":R} / {"failed":NAME,"reason":R}
//                                                    the outcome of a job's check against naive
//   {"rep":NAME,"s":SECONDS,"c":CANARY,"o":OTHERS,"w":WAITED}
//                                                    one timed repetition, as soon as it is taken, with
//                                                    the canary around it, the share of the
//                                                    machine others took and the largest share a
//                                                    thread waited for its vCPU (protocol.h
//                                                    Repetition; 0 unknown)
//   {"record":KEY,"value":JSON}                      a finished stage (calibrate's machine part)
//
// When the worker dies of a signal, or stays inside one `begin` longer than its limit (then the
// supervisor kills it), the supervisor appends {"failed":NAME,"reason":...} for the job that was
// running and starts the worker again. A worker reads the journal first and does not redo what
// it records: a job already checked is not checked again, a job with all its repetitions is not
// timed again, a failed job is written as failed. Killed outright (SIGKILL, a power cut), the
// journal stays, and the same command run again picks up where it stopped; with another command
// line it is discarded. A worker that completes its output removes the journal.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace roofbench {

class Journal {
 public:
  // The journal of this worker process (the supervisor passes its path in ROOFBENCH_JOURNAL),
  // or nullopt when the process is not a supervised worker.
  static std::optional<Journal> for_this_worker();
  // Reads an existing journal at path (for tests and the supervisor).
  explicit Journal(std::string path);

  void begin(std::string_view job, std::string_view step, double limit_s);
  void end(std::string_view job);
  void checked(std::string_view job);
  void skipped(std::string_view job, std::string_view reason);
  void failed(std::string_view job, std::string_view reason);
  void repetition(std::string_view job, double seconds, double canary_s = 0, double others = 0, double waited = 0);
  void record(std::string_view key, const nlohmann::json& value);

  // What earlier workers recorded.
  struct Outcome {
    enum Kind { checked, skipped, failed } kind;
    std::string reason;
  };
  std::optional<Outcome> outcome(const std::string& job) const;
  std::vector<double> repetitions(const std::string& job) const;
  std::vector<double> canaries(const std::string& job) const;  // beside repetitions(); 0 unknown
  std::vector<double> others(const std::string& job) const;    // beside repetitions(); 0 unknown
  std::vector<double> waited(const std::string& job) const;    // beside repetitions(); 0 unknown
  std::optional<nlohmann::json> recorded(const std::string& key) const;
  std::size_t repetitions_total() const;

  // The job inside a begin with no end in the journal, with its step and limit (the one a crash
  // or a hang is blamed on).
  struct Open {
    std::string job, step;
    double limit_s = 0;
  };
  std::optional<Open> open() const { return open_; }

  const std::string& path() const { return path_; }
  void remove() const;  // once the output is complete

 private:
  void append(const nlohmann::json& line);
  void apply(const nlohmann::json& line);

  std::string path_;
  std::map<std::string, Outcome> outcomes_;
  std::map<std::string, std::vector<double>> reps_;
  std::map<std::string, std::vector<double>> canaries_;
  std::map<std::string, std::vector<double>> others_;
  std::map<std::string, std::vector<double>> waited_;
  std::map<std::string, nlohmann::json> records_;
  std::optional<Open> open_;
};

// The journal beside an output file.
std::string journal_path(const std::string& output);

// The environment variable that names the journal to a supervised worker (supervisor.h).
inline constexpr const char* kJournalEnv = "ROOFBENCH_JOURNAL";

// For the supervisor of `args`: reuses `journal` when it belongs to the same command line
// (saying so on stderr), otherwise starts a new one.
void start_or_resume_journal(const std::string& journal, const std::vector<std::string>& args);

// True when `journal` holds nothing beyond its header: the worker did no job.
bool journal_is_empty(const std::string& journal);

// True in the worker process: the command then does the work itself.
bool is_supervised_worker();

// Test hooks, called where a kernel is about to be called (its check, each timed repetition),
// to check the supervisor and the skip path end to end on any CPU: for a job whose name contains
// TEXT, ROOFBENCH_TEST_CRASH=TEXT raises SIGSEGV, ROOFBENCH_TEST_HANG=TEXT never returns, and
// ROOFBENCH_TEST_UNAVAILABLE=TEXT throws KernelUnavailable as a library declining the shape would.
void test_fault_hook(std::string_view job);

}  // namespace roofbench
