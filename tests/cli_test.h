// What the command-line tests (tests/test_cli_*.cpp) share: running roofbench and keeping its
// stderr, interrupting it, the one-line error contract and a fixture with a fresh directory.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "tests/fixtures.h"

namespace roofbench::testing {

struct Result {
  int status = -1;
  std::string err;
};

// Runs roofbench with args and keeps its stderr (run_roofbench_output in tests/fixtures.h).
inline Result run_roofbench(const std::string& args, const std::string& env = "") {
  Output o = run_roofbench_output(args, env);
  return {o.status, std::move(o.err)};
}

// Starts roofbench with args (stdout and stderr to files), waits until `ready` returns true
// (polled every 50 ms, at most 60 s), sends `signal` and returns the exit status as a shell
// reports it (128 + signal when killed by it).
template <class Ready>
int interrupt_roofbench(const std::vector<std::string>& args, const std::filesystem::path& out,
                        const std::filesystem::path& err, int signal, Ready&& ready) {
  std::vector<std::string> argv_s{ROOFBENCH_BINARY};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t files;
  posix_spawn_file_actions_init(&files);
  posix_spawn_file_actions_addopen(&files, STDOUT_FILENO, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&files, STDERR_FILENO, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = 0;
  const int spawned = posix_spawn(&pid, ROOFBENCH_BINARY, &files, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&files);
  if (spawned != 0) return -1;
  const auto start = std::chrono::steady_clock::now();
  while (!ready() && std::chrono::steady_clock::now() - start < std::chrono::seconds(60))
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  kill(pid, signal);
  int raw = 0;
  waitpid(pid, &raw, 0);
  return WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw);
}

// A quick run of the smoke set: `roofbench run --shapes smoke OPTIONS --repetitions 1
// --min-time 0.001 --csv CSV`, with env's VAR=value assignments.
inline Result run_smoke(const std::string& options, const std::filesystem::path& csv, const std::string& env = "") {
  return run_roofbench("run --shapes smoke " + options + " --repetitions 1 --min-time 0.001 --csv " + csv.string(),
                       env);
}

// The one-line error contract: exactly one line, prefixed, naming what went wrong.
inline void expect_one_line_error(const Result& r, const std::string& mentions) {
  EXPECT_NE(r.status, 0);
  EXPECT_EQ(r.err.rfind("roofbench: error: ", 0), 0u) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find(mentions), std::string::npos) << r.err;
}

// Each `roofbench run --shapes smoke OPTION --csv x.csv` is refused with one line mentioning
// its word: {OPTION, word} pairs.
inline void expect_run_errors(const std::vector<std::pair<std::string, std::string>>& cases) {
  for (const auto& [option, mentions] : cases)
    expect_one_line_error(run_roofbench("run --shapes smoke " + option + " --csv x.csv"), mentions);
}

// The command-line tests' fixture: a fresh directory for each test (tests/fixtures.h).
class Cli : public TempDirTest {};

}  // namespace roofbench::testing
