// The roofbench binary as a user meets it, bad input: one line on stderr, a non-zero exit and
// no output file; and the front door's usage and help.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "kernels/core/cpu.h"
#include "predictor/profile.h"
#include "tests/cli_test.h"

namespace {

namespace fs = std::filesystem;

using namespace roofbench::testing;

constexpr const char* kSubcommandNames[] = {"run", "predict", "evaluate", "model", "calibrate"};

}  // namespace

TEST_F(Cli, MalformedShapeFileNamesFileAndLineAndWritesNothing) {
  const fs::path shapes = write("bad.shapes", "# fine\ngemm m=4 n=4 k=4\nconv2d n=1 c=3 h=8 w=8 k=4 r=3 s=3 g=2\n");
  const fs::path csv = dir_ / "out.csv";
  const Result r = run_roofbench("run --shapes " + shapes.string() + " --csv " + csv.string());
  expect_one_line_error(r, shapes.string() + ":3:");
  EXPECT_FALSE(fs::exists(csv));
  EXPECT_FALSE(roofbench::testing::temporary_left_beside(csv));
}

TEST_F(Cli, MissingShapeFile) {
  expect_one_line_error(run_roofbench("run --shapes " + (dir_ / "nope.shapes").string() + " --csv x.csv"),
                        "nope.shapes");
}

TEST_F(Cli, UnknownFilterValues) {
  expect_run_errors({{"--dtypes f33", "f33"}, {"--impls fast", "fast"}, {"--ops matmul", "matmul"}});
}

TEST_F(Cli, BadNumbers) {
  expect_run_errors({{"--threads 0", "--threads"},
                     {"--batch -2", "--batch"},
                     {"--batch two", "--batch"},
                     {"--max-repetitions 0", "--max-repetitions"},
                     {"--repetitions 0", "--repetitions"}});
}

TEST_F(Cli, MissingRequiredOptionsAndSubcommand) {
  expect_one_line_error(run_roofbench("run --shapes smoke"), "--csv");
  expect_one_line_error(run_roofbench("frobnicate"), "frobnicate");
}

// The front door's usage: every subcommand with its line, how to get a subcommand's options, and
// that run takes Google Benchmark's flags, with where to see them.
void expect_usage(const std::string& text) {
  EXPECT_NE(text.find("usage: roofbench SUBCOMMAND"), std::string::npos) << text;
  for (const char* sub : kSubcommandNames)
    EXPECT_NE(text.find(std::string("\n  ").append(sub).append(" ")), std::string::npos) << sub << " missing from:\n"
                                                                                         << text;
  EXPECT_NE(text.find("roofbench SUBCOMMAND --help for its options"), std::string::npos) << text;
  EXPECT_NE(text.find("--benchmark_*"), std::string::npos) << text;
  EXPECT_NE(text.find("roofbench help gbench"), std::string::npos) << text;
  // Google Benchmark's own flag list is not what --help shows (it used to be all it showed).
  EXPECT_EQ(text.find("--benchmark_list_tests"), std::string::npos) << text;
}

TEST(FrontDoor, HelpInEveryFormPrintsTheUsageAndExitsZero) {
  for (const char* form : {"--help", "-h", "help"}) {
    SCOPED_TRACE(form);
    const Output r = run_roofbench_output(form);
    EXPECT_EQ(r.status, 0) << r.err;
    expect_usage(r.out);
    EXPECT_EQ(r.err, "");
  }
}

TEST(FrontDoor, BareRoofbenchPrintsTheUsageOnStderrAndExitsTwo) {
  const Output r = run_roofbench_output("");
  EXPECT_EQ(r.status, 2);
  expect_usage(r.err);
  EXPECT_EQ(r.out, "");
}

TEST(FrontDoor, GoogleBenchmarksFlagsAreStillListed) {
  for (const char* form : {"help gbench", "--help-gbench"}) {
    SCOPED_TRACE(form);
    const Output r = run_roofbench_output(form);
    EXPECT_EQ(r.status, 0) << r.err;
    for (const char* flag :
         {"--benchmark_filter", "--benchmark_repetitions", "--benchmark_min_time", "--benchmark_out"})
      EXPECT_NE(r.out.find(flag), std::string::npos) << flag << " not in:\n" << r.out;
  }
}

// Each subcommand's --help is its own (CLI11), not Google Benchmark's, which used to take over
// any --help; `roofbench help X` prints the same.
TEST(FrontDoor, EverySubcommandHelpIsItsOwnAndHelpSubcommandIsTheSame) {
  for (const char* sub : kSubcommandNames) {
    SCOPED_TRACE(sub);
    const Output r = run_roofbench_output(std::string(sub) + " --help");
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find(std::string(" ").append(sub).append(" [OPTIONS]")), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("--benchmark_list_tests"), std::string::npos) << r.out;
    const Output h = run_roofbench_output(std::string("help ") + sub);
    EXPECT_EQ(h.status, 0) << h.err;
    EXPECT_EQ(h.out, r.out);
    EXPECT_EQ(run_roofbench_output(std::string(sub) + " -h").out, r.out);
  }
  // --help after other options still reaches CLI11, and run's help points at Google Benchmark's flags.
  const Output r = run_roofbench_output("run --shapes smoke --help");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("--shapes"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("roofbench help gbench"), std::string::npos) << r.out;
}

TEST(FrontDoor, HelpForAnUnknownCommandIsAOneLineError) {
  const Result r = run_roofbench("help frobnicate");
  expect_one_line_error(r, "unknown command 'frobnicate'");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("calibrate"), std::string::npos) << r.err;
}

TEST_F(Cli, BatchThatDoesNotFitInMemoryIsRefusedBeforeRunning) {
  const fs::path shapes = write("big.shapes", "gemm m=40000 n=20000 k=20000\n");
  expect_one_line_error(
      run_roofbench("run --shapes " + shapes.string() + " --batch 64 --csv " + (dir_ / "o.csv").string()), "GiB");
}

TEST_F(Cli, UnwritableCsvIsAnError) {
  const Result r = run_roofbench(
      "run --shapes smoke --ops mv --impls opt --dtypes f32 --threads 1 --repetitions 1 --min-time 0.001 "
      "--csv /nonexistent-dir/out.csv");
  expect_one_line_error(r, "/nonexistent-dir/out.csv");
  // The repetitions' CSV is checked before anything is timed too, and the run's own CSV is not
  // started.
  const fs::path csv = dir_ / "run.csv";
  expect_one_line_error(
      run_roofbench("run --shapes smoke --ops mv --impls opt --dtypes f32 --threads 1 --repetitions 1 "
                    "--min-time 0.001 --csv " +
                    csv.string() + " --repetitions-csv /nonexistent-dir/reps.csv"),
      "/nonexistent-dir/reps.csv");
  EXPECT_FALSE(fs::exists(csv));
}

TEST(DisabledIsas, ParsesNamesInEitherSpellingAndRefusesUnknownOnes) {
  using roofbench::Isa;
  const auto bit = [](Isa i) { return 1u << static_cast<unsigned>(i); };
  EXPECT_EQ(roofbench::disabled_isas(nullptr), 0u);
  EXPECT_EQ(roofbench::disabled_isas("avx512f,f16c"), bit(Isa::avx512f) | bit(Isa::f16c));
  EXPECT_EQ(roofbench::disabled_isas("avx2+fma,"), roofbench::disabled_isas("avx2_fma"));
  EXPECT_THROW(roofbench::disabled_isas("avx2,sse9"), std::invalid_argument);
  EXPECT_THROW(roofbench::disabled_isas("none"), std::invalid_argument);  // nothing can run without it
}

TEST_F(Cli, AnUnknownDisabledIsaIsOneLineBeforeAnythingRuns) {
  const fs::path csv = dir_ / "never.csv";
  expect_one_line_error(run_roofbench("run --shapes smoke --csv " + csv.string(), "ROOFBENCH_DISABLE_ISA=avx9000"),
                        "unknown ISA 'avx9000'");
  EXPECT_FALSE(fs::exists(csv));
}

TEST_F(Cli, RunRefusesAMissingOrCorruptProfileBeforeTiming) {
  const std::string common = "run --shapes smoke --ops mv --impls opt --dtypes f32 --csv " + (dir_ / "o.csv").string();
  expect_one_line_error(run_roofbench(common + " --profile " + (dir_ / "nope.json").string()), "nope.json");
  const fs::path bad = write("bad.json", "{\"schema\": 1, \"machine\": {}, \"peaks\": [");
  expect_one_line_error(run_roofbench(common + " --profile " + bad.string()), "not valid JSON");
  EXPECT_FALSE(fs::exists(dir_ / "o.csv"));
}

TEST_F(Cli, CalibrateRefusesBadOptionsBeforeMeasuring) {
  expect_one_line_error(run_roofbench("calibrate --quick"), "--out");
  expect_one_line_error(run_roofbench("calibrate --quick --threads 0 --out x.json"), "--threads");
  expect_one_line_error(run_roofbench("calibrate --quick --out /nonexistent-dir/p.json"), "/nonexistent-dir/p.json");
}

// A problem that passes the shape check (its operands fit in physical memory) but whose run
// needs more than is available: refused before anything is allocated, needed vs available.
TEST_F(Cli, ProblemLargerThanAvailableMemoryIsRefusedBeforeAllocating) {
  const double physical = static_cast<double>(sysconf(_SC_PHYS_PAGES)) * static_cast<double>(sysconf(_SC_PAGE_SIZE));
  // f64 operands of m^3 GEMM: 24 m^2 bytes = 0.62 x physical; the run adds the reference
  // output and a copy of the weights (16 m^2): over physical memory, so over what is available.
  const auto m = static_cast<long long>(std::sqrt(0.62 * physical / 24));
  const fs::path shapes =
      write("big.shapes", "gemm m=" + std::to_string(m) + " n=" + std::to_string(m) + " k=" + std::to_string(m) + "\n");
  const fs::path csv = dir_ / "out.csv";
  const Result r =
      run_roofbench("run --shapes " + shapes.string() + " --impls opt --dtypes f64 --threads 1 --csv " + csv.string());
  expect_one_line_error(r, "of memory is available");
  EXPECT_NE(r.err.find("needs "), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(csv));
}

// --refit reads the training timings of a profile copied from elsewhere: a malformed one is
// named by key and position, and nothing is written.
TEST_F(Cli, RefitWithAMalformedTrainingTimingNamesItAndWritesNothing) {
  roofbench::Profile p;
  p.machine = {{"cpu", "test"}};
  p.peaks = {{"f32", 1, 1e11, "avx2+fma", 0}};
  p.bandwidth = {{roofbench::MemoryLevel::DRAM, 0, 1, 1e10, "read"}};
  const fs::path out = dir_ / "refit.json";
  // A gemm opt f32 training timing with the given threads, shape and seconds.
  const auto gemm = [](int threads, const char* shape, double seconds) {
    return nlohmann::json{{"op", "gemm"},       {"impl", "opt"},  {"dtype", "f32"},
                          {"threads", threads}, {"shape", shape}, {"seconds", seconds}};
  };
  nlohmann::json no_impl = gemm(1, "gemm m=4 n=4 k=4", 1e-6);
  no_impl.erase("impl");
  for (const auto& [timing, mentions] : std::vector<std::pair<nlohmann::json, std::string>>{
           {no_impl, "\"impl\" is missing (at /training/0/impl)"},
           {gemm(0, "gemm m=4 n=4 k=4", 1e-6), "\"threads\" must be an integer from 1 to 1024"},
           {gemm(1, "gemm m=4 n=4", 1e-6), "missing key 'k' (at /training/0/shape)"},
           {gemm(1, "gemm m=4 n=4 k=4", -1), "\"seconds\" must be a positive finite number"},
           {nlohmann::json::array({1, 2}), "\"op\" is missing"}}) {
    p.training = nlohmann::json::array({timing});
    const fs::path in = dir_ / "in.json";
    roofbench::write_profile(in.string(), p);
    expect_one_line_error(run_roofbench("calibrate --refit " + in.string() + " --out " + out.string()), mentions);
    EXPECT_FALSE(fs::exists(out));
  }
}

// Google Benchmark's own flags are checked before it sees them: it would print a line of its
// own and leave the flag for a second error.
TEST_F(Cli, BadValuesOfGoogleBenchmarkFlagsAreOneLineErrors) {
  for (const char* flag : {"--benchmark_repetitions=abc", "--benchmark_repetitions=0", "--benchmark_repetitions=2.5",
                           "--benchmark_min_time=-1", "--benchmark_min_time=soon"}) {
    const fs::path csv = dir_ / "out.csv";
    const Result r = run_roofbench(std::string("run --shapes smoke --csv ") + csv.string() + " " + flag);
    expect_one_line_error(r, flag);
    EXPECT_EQ(r.status, 2) << flag;
    EXPECT_FALSE(fs::exists(csv)) << flag;
  }
}
