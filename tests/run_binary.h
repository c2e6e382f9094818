// Runs the roofbench binary under test as a user would, for the command-line tests.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>

namespace roofbench::testing {

struct Output {
  int status = -1;       // exit status, or 128 + the signal that ended it
  std::string out, err;  // everything it wrote to stdout and stderr
};

// Runs `roofbench ARGS` (ROOFBENCH_BINARY) with env's VAR=value assignments, e.g.
// "ROOFBENCH_DISABLE_ISA=f16c", and keeps both streams.
inline Output run_roofbench_output(const std::string& args, const std::string& env = "") {
  namespace fs = std::filesystem;
  const std::string tag = std::to_string(::getpid());
  const fs::path out = fs::temp_directory_path() / ("roofbench_out_" + tag + ".txt");
  const fs::path err = fs::temp_directory_path() / ("roofbench_err_" + tag + ".txt");
  const std::string cmd =
      env + " " + std::string(ROOFBENCH_BINARY) + " " + args + " >" + out.string() + " 2>" + err.string();
  const int raw = std::system(cmd.c_str());
  Output r;
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw);
  for (auto [path, text] : {std::pair{&out, &r.out}, std::pair{&err, &r.err}}) {
    std::ifstream in(*path);
    std::stringstream ss;
    ss << in.rdbuf();
    *text = ss.str();
    fs::remove(*path);
  }
  return r;
}

}  // namespace roofbench::testing
