// The roofbench binary when things go wrong mid-run: a kernel that crashes, hangs or declines a
// shape costs that row, never the run; Ctrl-C keeps the rows measured so far.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "kernels/registry.h"
#include "tests/cli_test.h"

namespace {

namespace fs = std::filesystem;

using namespace roofbench::testing;

}  // namespace

// ---- a library that crashes, hangs or declines a shape costs that row, never the run ---------

namespace {

// The rows of a run CSV as (impl/op -> statuses), for the tests below.
std::multimap<std::string, std::string> statuses(const fs::path& csv) {
  std::ifstream in(csv);
  std::string header, line;
  std::getline(in, header);
  std::vector<std::string> columns;
  std::stringstream hs(header);
  for (std::string c; std::getline(hs, c, ',');) columns.push_back(c);
  const auto index = [&](const std::string& name) {
    return static_cast<std::size_t>(std::find(columns.begin(), columns.end(), name) - columns.begin());
  };
  std::multimap<std::string, std::string> out;
  while (std::getline(in, line)) {
    // Quoted fields (the shape has no commas; a status may) are split naively but the columns
    // before status are plain.
    std::vector<std::string> cells;
    std::string cell;
    bool quoted = false;
    for (char ch : line) {
      if (ch == '"')
        quoted = !quoted;
      else if (ch == ',' && !quoted)
        cells.push_back(cell), cell.clear();
      else
        cell += ch;
    }
    cells.push_back(cell);
    out.emplace(cells[index("op")] + "/" + cells[index("impl")], cells[index("status")]);
  }
  return out;
}

// The mv blas rows' statuses start with prefix; every other row is ok.
void expect_only_mv_blas_starts(const std::multimap<std::string, std::string>& rows, const std::string& prefix) {
  for (const auto& [what, status] : rows)
    if (what == "mv/blas")
      EXPECT_EQ(status.rfind(prefix, 0), 0u) << status;
    else
      EXPECT_EQ(status, "ok") << what;
}

}  // namespace

TEST_F(Cli, ACrashInsideAKernelCostsThatRowAndTheRunGoesOn) {
  const fs::path csv = dir_ / "out.csv";
  const Result r = run_smoke("--impls opt,blas --dtypes f32 --threads 1", csv, "ROOFBENCH_TEST_CRASH=gemm/blas/");
  EXPECT_EQ(r.status, 1) << r.err;  // a crashed row is a failed row
  EXPECT_NE(r.err.find("crashed with SIGSEGV"), std::string::npos) << r.err;
  const auto rows = statuses(csv);
  EXPECT_EQ(rows.size(), 14u) << r.err;
  int crashed = 0;
  for (const auto& [what, status] : rows) {
    if (what == "gemm/blas") {
      EXPECT_EQ(status.rfind("crashed with SIGSEGV", 0), 0u) << status;
      ++crashed;
    } else {
      EXPECT_EQ(status, "ok") << what;
    }
  }
  EXPECT_EQ(crashed, 2);
  EXPECT_FALSE(fs::exists(csv.string() + ".journal")) << "a finished run removes its journal";
}

TEST_F(Cli, AHungKernelIsKilledAfterItsLimitAndCostsThatRow) {
  const fs::path csv = dir_ / "out.csv";
  const Result r = run_smoke("--ops mv --impls opt,blas --dtypes f32 --threads 1", csv,
                             "ROOFBENCH_TEST_HANG=mv/blas/ ROOFBENCH_HANG_SECONDS=1");
  EXPECT_EQ(r.status, 1) << r.err;
  const auto rows = statuses(csv);
  EXPECT_EQ(rows.size(), 4u) << r.err;
  expect_only_mv_blas_starts(rows, "hung: no result after 1 s");
}

// A library declining a shape (KernelUnavailable, as oneDNN does where it has only reference
// loops) is a skip: the row says why, and the run still succeeds.
TEST_F(Cli, AShapeALibraryDeclinesIsASkippedRowNotAFailure) {
  const fs::path csv = dir_ / "out.csv";
  const Result r =
      run_smoke("--ops mv --impls opt,blas --dtypes f32 --threads 1", csv, "ROOFBENCH_TEST_UNAVAILABLE=mv/blas/");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("2 skipped"), std::string::npos) << r.err;
  expect_only_mv_blas_starts(statuses(csv), "skipped: ");
}

// Ctrl-C in the middle of timing: the CSV holds every row measured so far, whole, each saying
// whether it has all its repetitions, and the exit status is 128 + SIGINT.
TEST_F(Cli, InterruptedRunKeepsTheRowsMeasuredAndSaysSo) {
  const fs::path csv = dir_ / "out.csv", out = dir_ / "stdout.txt", err = dir_ / "stderr.txt";
  // Google Benchmark prints the context on stdout when timing starts (after the checks against
  // naive); a moment later every job has some repetitions done and none has all 1000.
  auto timing_for_a_while = [&, seen = std::optional<std::chrono::steady_clock::time_point>{}]() mutable {
    if (!seen && fs::exists(out) && fs::file_size(out) > 0) seen = std::chrono::steady_clock::now();
    return seen && std::chrono::steady_clock::now() - *seen > std::chrono::seconds(2);
  };
  const int status =
      interrupt_roofbench({"run", "--shapes", "smoke", "--ops", "mv", "--impls", "opt,blas", "--dtypes", "f32",
                           "--threads", "1", "--repetitions", "1000", "--min-time", "0.01", "--csv", csv.string()},
                          out, err, SIGINT, timing_for_a_while);
  const std::string log = slurp(err);
  EXPECT_EQ(status, 128 + SIGINT) << log;
  EXPECT_NE(log.find("interrupted by SIGINT"), std::string::npos) << log;
  EXPECT_FALSE(roofbench::testing::temporary_left_beside(csv));
  std::ifstream in(csv);
  std::string header, line;
  ASSERT_TRUE(std::getline(in, header)) << log;
  EXPECT_EQ(header.rfind("op,impl,dtype,", 0), 0u);
  int rows = 0;
  while (std::getline(in, line)) {
    ++rows;
    EXPECT_NE(line.find(",interrupted after "), std::string::npos) << line;
    EXPECT_NE(line.find(" of 1000 repetitions,"), std::string::npos) << line;
  }
  EXPECT_GT(rows, 0) << log;
}

// oneDNN forced below VNNI (its ONEDNN_MAX_CPU_ISA) walks its int8 implementations past AMX and
// VNNI to inexact and reference ones: on a VNNI or AMX CPU the conv2d i8 rows then go through
// the iteration and come out skipped with oneDNN's offers, and the run succeeds; the int8
// matmul keeps an exact implementation on every CPU and runs.
TEST_F(Cli, OnednnForcedBelowVnniSkipsInt8ConvolutionsAndStillRunsMatmul) {
  if (!roofbench::select(roofbench::Op::gemm, roofbench::Impl::onednn, roofbench::DType::i8))
    GTEST_SKIP() << "built without oneDNN";
  const fs::path shapes = write("i8.shapes", "gemm m=17 n=97 k=257\nconv2d n=1 c=8 h=10 w=10 k=16 r=3 s=3 pad=1 g=2\n");
  const fs::path csv = dir_ / "out.csv";
  const Result r = run_roofbench("run --shapes " + shapes.string() +
                                     " --impls onednn --dtypes i8 --threads 1 --repetitions 1 --min-time 0.001 --csv " +
                                     csv.string(),
                                 "ONEDNN_MAX_CPU_ISA=AVX2");
  ASSERT_EQ(r.status, 0) << r.err;
  const auto rows = statuses(csv);
  ASSERT_EQ(rows.count("gemm/onednn"), 1u) << r.err;
  EXPECT_EQ(rows.find("gemm/onednn")->second, "ok");
  if (roofbench::cpu().has(roofbench::Isa::avx512_vnni)) {
    ASSERT_EQ(rows.count("conv2d/onednn"), 1u) << r.err;
    const std::string status = rows.find("conv2d/onednn")->second;
    EXPECT_EQ(status.rfind("skipped: ", 0), 0u) << status;
    EXPECT_NE(status.find("ref_int8"), std::string::npos) << status;
  } else {
    EXPECT_EQ(rows.count("conv2d/onednn"), 0u) << "conv2d i8 onednn needs avx512_vnni: skipped by the registry";
  }
}
