#include "benchmarks/journal.h"

#include <fcntl.h>
#include <sched.h>
#include <fmt/format.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "benchmarks/interrupt.h"
#include "kernels/registry.h"

namespace roofbench {
namespace {

constexpr const char* kJournalEnv = "ROOFBENCH_JOURNAL";
constexpr int kJournalVersion = 1;

// The complete lines of a journal; a last line cut short by a kill is dropped.
std::vector<nlohmann::json> read_lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<nlohmann::json> out;
  for (std::string line; std::getline(in, line);) {
    if (in.eof()) break;  // no newline after it: the write was cut short
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_discarded() && j.is_object()) out.push_back(std::move(j));
  }
  return out;
}

nlohmann::json header(const std::vector<std::string>& args) {
  return {{"journal", kJournalVersion}, {"args", args}};
}

bool belongs_to(const std::string& path, const std::vector<std::string>& args) {
  const std::vector<nlohmann::json> lines = read_lines(path);
  return !lines.empty() && lines.front() == header(args);
}

// One write(2) per line in append mode: a line is either whole in the file or, if the process
// is killed inside the call, cut short at the end, where read_lines drops it.
void append_line(const std::string& path, const nlohmann::json& line) {
  const std::string text = line.dump() + "\n";
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error(fmt::format("{}: cannot append to the journal: {}", path, std::strerror(errno)));
  const ssize_t n = ::write(fd, text.data(), text.size());
  const int saved = errno;
  ::close(fd);
  if (n != static_cast<ssize_t>(text.size()))
    throw std::runtime_error(fmt::format("{}: cannot append to the journal: {}", path, std::strerror(saved)));
}

// The supervisor's child, for its signal handler: the one other piece of global state a handler
// can reach (interrupt.cpp has the first).
volatile std::sig_atomic_t g_worker = 0;

// A signal sent to the supervisor by another process (kill, timeout, a test) is passed on to the
// worker, which stops as Ctrl-C stops it. One a terminal generated (si_code SI_KERNEL) already
// reached the worker, which is in the same process group: passing it on would make it a second
// signal, which kills at once.
extern "C" void forward_signal(int signal, siginfo_t* info, void*) {
  if (g_worker > 0 && info->si_code <= 0) ::kill(static_cast<pid_t>(g_worker), signal);
}

std::string describe(int status) {
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    const char* name = sigabbrev_np(sig);
    return fmt::format("SIG{}", name ? name : std::to_string(sig));
  }
  return fmt::format("exit status {}", WEXITSTATUS(status));
}

// The supervisor's view of a growing journal: reads only what was appended since the last look,
// so watching costs nothing measurable beside the worker's timings.
struct Tail {
  std::string path;
  std::streamoff offset = 0;
  std::optional<Journal::Open> open;
  long begins = 0;  // begin lines seen: each starts a new limit, even for the same job

  void poll() {
    std::ifstream in(path, std::ios::binary);
    in.seekg(0, std::ios::end);
    const std::streamoff size = in.tellg();
    if (size <= offset) return;
    in.seekg(offset);
    std::string chunk(static_cast<std::size_t>(size - offset), '\0');
    in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    const std::size_t last_newline = chunk.rfind('\n');
    if (last_newline == std::string::npos) return;  // a line still being written
    offset += static_cast<std::streamoff>(last_newline + 1);
    std::istringstream lines(chunk.substr(0, last_newline + 1));
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind("{\"begin\"", 0) != 0 && line.rfind("{\"end\"", 0) != 0 && line.rfind("{\"failed\"", 0) != 0)
        continue;  // only these move the open job; skipping the rest keeps a poll cheap
      const nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
      if (j.is_discarded()) continue;
      if (j.contains("begin"))
        open = Journal::Open{j.value("begin", ""), j.value("step", ""), j.value("limit_s", 0.0)}, ++begins;
      else
        open.reset();
    }
  }
};

}  // namespace

std::string journal_path(const std::string& output) {
  return output + ".journal";
}

bool is_supervised_worker() {
  return std::getenv(kJournalEnv) != nullptr;
}

std::optional<Journal> Journal::for_this_worker() {
  const char* path = std::getenv(kJournalEnv);
  if (!path) return std::nullopt;
  return Journal(path);
}

Journal::Journal(std::string path) : path_(std::move(path)) {
  for (const nlohmann::json& line : read_lines(path_)) apply(line);
}

void Journal::apply(const nlohmann::json& line) {
  const auto text = [&](const char* key) { return line.value(key, std::string()); };
  if (line.contains("begin")) {
    open_ = Open{text("begin"), text("step"), line.value("limit_s", 0.0)};
  } else if (line.contains("end")) {
    open_.reset();
  } else if (line.contains("checked")) {
    outcomes_[text("checked")] = {Outcome::checked, ""};
  } else if (line.contains("skipped")) {
    outcomes_[text("skipped")] = {Outcome::skipped, text("reason")};
  } else if (line.contains("failed")) {
    outcomes_[text("failed")] = {Outcome::failed, text("reason")};
    open_.reset();
  } else if (line.contains("rep") && line.contains("s") && line["s"].is_number()) {
    reps_[text("rep")].push_back(line["s"].get<double>());
    canaries_[text("rep")].push_back(line.contains("c") && line["c"].is_number() ? line["c"].get<double>() : 0.0);
    others_[text("rep")].push_back(line.contains("o") && line["o"].is_number() ? line["o"].get<double>() : 0.0);
    waited_[text("rep")].push_back(line.contains("w") && line["w"].is_number() ? line["w"].get<double>() : 0.0);
  } else if (line.contains("record") && line.contains("value")) {
    records_[text("record")] = line["value"];
  }
}

void Journal::append(const nlohmann::json& line) {
  append_line(path_, line);
  apply(line);
}

void Journal::begin(std::string_view job, std::string_view step, double limit_s) {
  append({{"begin", job}, {"step", step}, {"limit_s", limit_s}});
}
void Journal::end(std::string_view job) {
  append({{"end", job}});
}
void Journal::checked(std::string_view job) {
  append({{"checked", job}});
}
void Journal::skipped(std::string_view job, std::string_view reason) {
  append({{"skipped", job}, {"reason", reason}});
}
void Journal::failed(std::string_view job, std::string_view reason) {
  append({{"failed", job}, {"reason", reason}});
}
void Journal::repetition(std::string_view job, double seconds, double canary_s, double others, double waited) {
  append({{"rep", job}, {"s", seconds}, {"c", canary_s}, {"o", others}, {"w", waited}});
}
void Journal::record(std::string_view key, const nlohmann::json& value) {
  append({{"record", key}, {"value", value}});
}

std::optional<Journal::Outcome> Journal::outcome(const std::string& job) const {
  const auto it = outcomes_.find(job);
  return it == outcomes_.end() ? std::nullopt : std::optional(it->second);
}

std::vector<double> Journal::repetitions(const std::string& job) const {
  const auto it = reps_.find(job);
  return it == reps_.end() ? std::vector<double>{} : it->second;
}

std::vector<double> Journal::canaries(const std::string& job) const {
  const auto it = canaries_.find(job);
  return it == canaries_.end() ? std::vector<double>{} : it->second;
}

std::vector<double> Journal::others(const std::string& job) const {
  const auto it = others_.find(job);
  return it == others_.end() ? std::vector<double>{} : it->second;
}

std::vector<double> Journal::waited(const std::string& job) const {
  const auto it = waited_.find(job);
  return it == waited_.end() ? std::vector<double>{} : it->second;
}

std::optional<nlohmann::json> Journal::recorded(const std::string& key) const {
  const auto it = records_.find(key);
  return it == records_.end() ? std::nullopt : std::optional(it->second);
}

std::size_t Journal::repetitions_total() const {
  std::size_t n = 0;
  for (const auto& [job, reps] : reps_) n += reps.size();
  return n;
}

void Journal::remove() const {
  std::error_code ec;
  std::filesystem::remove(path_, ec);
}

void test_fault_hook(std::string_view job) {
  const auto matches = [&](const char* var) {
    const char* text = std::getenv(var);
    return text && *text && job.find(text) != std::string_view::npos;
  };
  if (matches("ROOFBENCH_TEST_UNAVAILABLE"))
    throw KernelUnavailable(fmt::format("{}: declined by ROOFBENCH_TEST_UNAVAILABLE", job));
  if (matches("ROOFBENCH_TEST_CRASH")) {
    // The default action, as a crash in a library without sanitizers ends: AddressSanitizer's
    // handler would otherwise report the SIGSEGV and exit with status 1 instead of dying of it.
    std::signal(SIGSEGV, SIG_DFL);
    std::raise(SIGSEGV);
  }
  if (matches("ROOFBENCH_TEST_HANG"))
    for (;;) ::pause();
}

int supervise(const std::vector<std::string>& args, const std::string& journal) {
  if (std::filesystem::exists(journal) && belongs_to(journal, args)) {
    const Journal j(journal);
    fmt::print(stderr, "roofbench: resuming from {}: {} timed repetitions kept (delete it to start afresh)\n", journal,
               j.repetitions_total());
  } else {
    if (std::filesystem::exists(journal))
      fmt::print(stderr, "roofbench: {} belongs to another command line: starting afresh\n", journal);
    std::ofstream(journal, std::ios::trunc) << header(args).dump() << "\n";
    if (!std::filesystem::exists(journal))
      throw std::runtime_error(fmt::format("{}: cannot write the journal", journal));
  }
  std::vector<std::string> argv_strings{"/proc/self/exe"};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : argv_strings) argv.push_back(a.data());
  argv.push_back(nullptr);
  setenv(kJournalEnv, journal.c_str(), 1);

  struct sigaction action {};
  action.sa_sigaction = forward_signal;
  action.sa_flags = SA_SIGINFO | SA_RESTART;
  sigemptyset(&action.sa_mask);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaction(sig, &action, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  // The worker gets the CPUs the command was started with, not the one core libgomp pinned this
  // process's thread to (OMP_PROC_BIND, main.cpp): from ROOFBENCH_AFFINITY, or every CPU when the
  // user bound threads themselves (the kernel still confines the worker to its cpuset).
  cpu_set_t worker_cpus;
  CPU_ZERO(&worker_cpus);
  if (const char* list = std::getenv("ROOFBENCH_AFFINITY")) {
    std::stringstream in(list);
    for (std::string c; std::getline(in, c, ',');)
      if (!c.empty()) CPU_SET(std::atoi(c.c_str()), &worker_cpus);
  } else {
    for (int c = 0; c < CPU_SETSIZE; ++c) CPU_SET(c, &worker_cpus);
  }

  const pid_t me = ::getpid();
  for (int restarts = 0;; ++restarts) {
    const pid_t child = ::fork();
    if (child < 0) throw std::runtime_error(fmt::format("cannot start the worker: {}", std::strerror(errno)));
    if (child == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // a supervisor killed outright takes its worker along
      if (::getppid() != me) _exit(127);
      ::sched_setaffinity(0, sizeof worker_cpus, &worker_cpus);
      ::execv(argv[0], argv.data());
      _exit(127);
    }
    g_worker = child;
    int status = 0;
    long last_begins = -1;
    auto open_since = std::chrono::steady_clock::now();
    bool killed_for_hang = false;
    Tail tail{journal};
    for (;;) {
      const pid_t r = ::waitpid(child, &status, WNOHANG);
      if (r == child) break;
      if (r < 0 && errno != EINTR) throw std::runtime_error(fmt::format("waitpid: {}", std::strerror(errno)));
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      // A hang is judged against the limit the worker wrote in its begin line.
      tail.poll();
      const std::optional<Journal::Open>& open = tail.open;
      if (tail.begins != last_begins) open_since = std::chrono::steady_clock::now(), last_begins = tail.begins;
      if (open && open->limit_s > 0 &&
          std::chrono::duration<double>(std::chrono::steady_clock::now() - open_since).count() > open->limit_s &&
          !killed_for_hang) {
        ::kill(child, SIGKILL);
        killed_for_hang = true;
      }
    }
    g_worker = 0;
    if (WIFEXITED(status)) {
      // A worker that stopped on an error before doing anything leaves no journal behind.
      if (read_lines(journal).size() <= 1) std::filesystem::remove(journal);
      return WEXITSTATUS(status);
    }
    const int sig = WTERMSIG(status);
    if (!killed_for_hang && (sig == SIGINT || sig == SIGTERM || sig == SIGHUP)) return 128 + sig;
    Journal j(journal);
    const std::optional<Journal::Open> open = j.open();
    if (!open) {
      fmt::print(stderr, "roofbench: error: the worker died of {} outside any kernel call; {} keeps what was done\n",
                 describe(status), journal);
      return 128 + sig;
    }
    const std::string reason =
        killed_for_hang ? fmt::format("hung: no result after {:.0f} s ({}), killed", open->limit_s, open->step)
                        : fmt::format("crashed with {} ({})", describe(status), open->step);
    j.failed(open->job, reason);
    fmt::print(stderr, "roofbench: {} {}: that row is recorded as failed; starting the worker again\n", open->job,
               reason);
    if (restarts >= 1000) {
      fmt::print(stderr, "roofbench: error: the worker failed 1000 times; giving up ({} keeps what was done)\n",
                 journal);
      return 1;
    }
  }
}

}  // namespace roofbench
