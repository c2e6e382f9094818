// What several test files share, kept in one place: temporary directories and files, reading a
// file back, running the roofbench binary as a user would, and the synthetic machine profile.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>

#include "predictor/profile.h"

namespace roofbench::testing {

// ---- files ---------------------------------------------------------------------------------

// Everything in the file at p ("" when it cannot be read).
inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A path in the temporary directory that no other process running the tests uses:
// TMP/roofbench_NAME_PID.
inline std::filesystem::path temp_path(const std::string& name) {
  return std::filesystem::temp_directory_path() / ("roofbench_" + name + "_" + std::to_string(::getpid()));
}

// What a failed or finished write may not leave behind: write_text_atomically's temporary
// files are named path.PID.TAG.tmp beside path.
inline bool temporary_left_beside(const std::filesystem::path& path) {
  std::error_code ec;
  const std::filesystem::path dir = path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path();
  const std::string prefix = path.filename().string() + ".";
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with(prefix) && name.ends_with(".tmp")) return true;
  }
  return false;
}

// A fixture with a fresh directory for each test, TMP/roofbench_SUITE_TEST_PID, removed with
// everything in it after the test.
class TempDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const ::testing::TestInfo* test = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = temp_path(std::string(test->test_suite_name()) + "_" + test->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  // Writes text to the file name in the directory and returns its path.
  std::filesystem::path write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name, std::ios::binary) << text;
    return dir_ / name;
  }
  std::filesystem::path dir_;
};

// ---- the binary ----------------------------------------------------------------------------

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
    *text = slurp(*path);
    fs::remove(*path);
  }
  return r;
}

// ---- a synthetic machine -------------------------------------------------------------------

// A machine with round figures, 2 threads: f32 and i8 peaks; L1 64 KiB, L2 1 MiB, L3 32 MiB and
// DRAM read bandwidth (no stream figure: add one where a test needs it).
inline Profile round_figures_machine() {
  Profile p;
  p.peaks = {{"f32", 2, 2e11, "avx2+fma", 0}, {"i8", 2, 8e11, "avx2", 0}};
  p.bandwidth = {{MemoryLevel::L1, 65536, 2, 4e11, "read"},
                 {MemoryLevel::L2, 1 << 20, 2, 2e11, "read"},
                 {MemoryLevel::L3, 32 << 20, 2, 1e11, "read"},
                 {MemoryLevel::DRAM, 0, 2, 2.5e10, "read"}};
  return p;
}

}  // namespace roofbench::testing
