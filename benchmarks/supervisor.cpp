#include "benchmarks/supervisor.h"

#include <fmt/format.h>
#include <sched.h>
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
#include <optional>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "benchmarks/journal.h"

namespace roofbench {
namespace {

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

// The worker's command line: this binary with the same arguments, as execv wants it.
struct WorkerArgv {
  std::vector<std::string> strings;
  std::vector<char*> argv;

  explicit WorkerArgv(const std::vector<std::string>& args) : strings{"/proc/self/exe"} {
    strings.insert(strings.end(), args.begin(), args.end());
    for (std::string& a : strings) argv.push_back(a.data());
    argv.push_back(nullptr);
  }
};

void forward_signals_to_worker() {
  struct sigaction action {};
  action.sa_sigaction = forward_signal;
  action.sa_flags = SA_SIGINFO | SA_RESTART;
  sigemptyset(&action.sa_mask);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaction(sig, &action, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
}

// The worker gets the CPUs the command was started with, not the one core libgomp pinned this
// process's thread to (OMP_PROC_BIND, commands/launch.cpp): from ROOFBENCH_AFFINITY, or every
// CPU when the user bound threads themselves (the kernel still confines the worker to its cpuset).
cpu_set_t worker_cpus() {
  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  if (const char* list = std::getenv("ROOFBENCH_AFFINITY")) {
    std::stringstream in(list);
    for (std::string c; std::getline(in, c, ',');)
      if (!c.empty()) CPU_SET(std::atoi(c.c_str()), &cpus);
  } else {
    for (int c = 0; c < CPU_SETSIZE; ++c) CPU_SET(c, &cpus);
  }
  return cpus;
}

pid_t start_worker(WorkerArgv& worker, const cpu_set_t& cpus) {
  const pid_t me = ::getpid();
  const pid_t child = ::fork();
  if (child < 0) throw std::runtime_error(fmt::format("cannot start the worker: {}", std::strerror(errno)));
  if (child == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // a supervisor killed outright takes its worker along
    if (::getppid() != me) _exit(127);
    ::sched_setaffinity(0, sizeof cpus, &cpus);
    ::execv(worker.argv[0], worker.argv.data());
    _exit(127);
  }
  return child;
}

struct WorkerEnd {
  int status = 0;
  bool killed_for_hang = false;
};

// Waits for the worker to end, killing it when a job stays open past the limit the worker wrote
// in its begin line.
WorkerEnd watch(pid_t child, const std::string& journal) {
  WorkerEnd end;
  long last_begins = -1;
  auto open_since = std::chrono::steady_clock::now();
  Tail tail;
  tail.path = journal;
  for (;;) {
    const pid_t r = ::waitpid(child, &end.status, WNOHANG);
    if (r == child) return end;
    if (r < 0 && errno != EINTR) throw std::runtime_error(fmt::format("waitpid: {}", std::strerror(errno)));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    tail.poll();
    const std::optional<Journal::Open>& open = tail.open;
    if (tail.begins != last_begins) open_since = std::chrono::steady_clock::now(), last_begins = tail.begins;
    if (open && open->limit_s > 0 &&
        std::chrono::duration<double>(std::chrono::steady_clock::now() - open_since).count() > open->limit_s &&
        !end.killed_for_hang) {
      ::kill(child, SIGKILL);
      end.killed_for_hang = true;
    }
  }
}

// What a worker's end means: the exit status to return, or nullopt to start it again (its open
// job then recorded as failed).
std::optional<int> after(const WorkerEnd& end, const std::string& journal) {
  if (WIFEXITED(end.status)) {
    // A worker that stopped on an error before doing anything leaves no journal behind.
    if (journal_is_empty(journal)) std::filesystem::remove(journal);
    return WEXITSTATUS(end.status);
  }
  const int sig = WTERMSIG(end.status);
  if (!end.killed_for_hang && (sig == SIGINT || sig == SIGTERM || sig == SIGHUP)) return 128 + sig;
  Journal j(journal);
  const std::optional<Journal::Open> open = j.open();
  if (!open) {
    fmt::print(stderr, "roofbench: error: the worker died of {} outside any kernel call; {} keeps what was done\n",
               describe(end.status), journal);
    return 128 + sig;
  }
  const std::string reason = end.killed_for_hang
                                 ? fmt::format("hung: no result after {:.0f} s ({}), killed", open->limit_s, open->step)
                                 : fmt::format("crashed with {} ({})", describe(end.status), open->step);
  j.failed(open->job, reason);
  fmt::print(stderr, "roofbench: {} {}: that row is recorded as failed; starting the worker again\n", open->job,
             reason);
  return std::nullopt;
}

}  // namespace

int supervise(const std::vector<std::string>& args, const std::string& journal) {
  start_or_resume_journal(journal, args);
  WorkerArgv worker(args);
  setenv(kJournalEnv, journal.c_str(), 1);
  forward_signals_to_worker();
  const cpu_set_t cpus = worker_cpus();
  for (int restarts = 0;; ++restarts) {
    const pid_t child = start_worker(worker, cpus);
    g_worker = child;
    const WorkerEnd end = watch(child, journal);
    g_worker = 0;
    if (const std::optional<int> status = after(end, journal)) return *status;
    if (restarts >= 1000) {
      fmt::print(stderr, "roofbench: error: the worker failed 1000 times; giving up ({} keeps what was done)\n",
                 journal);
      return 1;
    }
  }
}

}  // namespace roofbench
