// The roofbench binary as a user meets it: bad input ends in one line on stderr, a non-zero
// exit and no output file; good input writes the CSV columns of design.md.
#include <gtest/gtest.h>
#include <omp.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/temp_files.h"
#include "benchmarks/calib.h"
#include "kernels/core/cpu.h"
#include "kernels/registry.h"
#include "predictor/profile.h"
#include "predictor/roofline.h"
#include "tests/run_binary.h"

extern "C" int openblas_get_parallel(void);
extern "C" int openblas_get_num_threads(void);

namespace {

namespace fs = std::filesystem;

using roofbench::testing::Output;
using roofbench::testing::run_roofbench_output;

struct Result {
  int status = -1;
  std::string err;
};

// Runs roofbench with args and keeps its stderr (tests/run_binary.h).
Result run_roofbench(const std::string& args, const std::string& env = "") {
  Output o = run_roofbench_output(args, env);
  return {o.status, std::move(o.err)};
}

constexpr const char* kSubcommandNames[] = {"run", "predict", "evaluate", "model", "calibrate"};

// Starts roofbench with args (stdout and stderr to files), waits until `ready` returns true
// (polled every 50 ms, at most 60 s), sends `signal` and returns the exit status as a shell
// reports it (128 + signal when killed by it).
template <class Ready>
int interrupt_roofbench(const std::vector<std::string>& args, const fs::path& out, const fs::path& err, int signal,
                        Ready&& ready) {
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

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("roofbench_cli_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
    return dir_ / name;
  }
  fs::path dir_;
};

// The one-line error contract: exactly one line, prefixed, naming what went wrong.
void expect_one_line_error(const Result& r, const std::string& mentions) {
  EXPECT_NE(r.status, 0);
  EXPECT_EQ(r.err.rfind("roofbench: error: ", 0), 0u) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find(mentions), std::string::npos) << r.err;
}

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
  expect_one_line_error(run_roofbench("run --shapes smoke --dtypes f33 --csv x.csv"), "f33");
  expect_one_line_error(run_roofbench("run --shapes smoke --impls fast --csv x.csv"), "fast");
  expect_one_line_error(run_roofbench("run --shapes smoke --ops matmul --csv x.csv"), "matmul");
}

TEST_F(Cli, BadNumbers) {
  expect_one_line_error(run_roofbench("run --shapes smoke --threads 0 --csv x.csv"), "--threads");
  expect_one_line_error(run_roofbench("run --shapes smoke --batch -2 --csv x.csv"), "--batch");
  expect_one_line_error(run_roofbench("run --shapes smoke --batch two --csv x.csv"), "--batch");
  expect_one_line_error(run_roofbench("run --shapes smoke --max-repetitions 0 --csv x.csv"), "--max-repetitions");
  expect_one_line_error(run_roofbench("run --shapes smoke --repetitions 0 --csv x.csv"), "--repetitions");
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

TEST_F(Cli, RunWritesContractColumnsAndOneRowPerCombination) {
  const fs::path shapes = write("two.shapes", "mv m=33 k=17\ngemm m=7 n=9 k=5 name=t:g repeat=2\n");
  const fs::path csv = dir_ / "out.csv";
  const Result r = run_roofbench("run --shapes " + shapes.string() +
                                 " --impls naive,opt,blas --dtypes f32,f64 --threads 1,2 --batch 1,3 --repetitions 2 "
                                 "--min-time 0.001 --csv " +
                                 csv.string());
  ASSERT_EQ(r.status, 0) << r.err;
  std::ifstream in(csv);
  std::string header, line;
  std::getline(in, header);
  EXPECT_EQ(header.rfind("op,impl,dtype,threads,batch,shape,ops,bytes,measured_s,predicted_s,bound", 0), 0u);
  int rows = 0, gemm_b3 = 0;
  while (std::getline(in, line)) {
    ++rows;
    EXPECT_NE(line.find(",ok"), std::string::npos) << line;
    // gemm at batch 3: m = 21, so ops = 2*21*9*5 = 1890.
    if (line.rfind("gemm,", 0) == 0 && line.find(",3,gemm m=7 n=9 k=5 name=t:g repeat=2,1890,") != std::string::npos)
      ++gemm_b3;
  }
  EXPECT_EQ(rows, 2 /*shapes*/ * 3 /*impls*/ * 2 /*dtypes*/ * 2 /*threads*/ * 2 /*batches*/);
  EXPECT_EQ(gemm_b3, 3 * 2 * 2);
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

// Forcing the fallback: with the ISA of each selected opt variant disabled, the run takes the
// next variant this CPU can still run (checked against naive before timing, so a broken
// fallback fails the row) or skips the combination naming the missing ISA.
TEST_F(Cli, DisablingTheSelectedIsaRunsTheFallbackOrSkipsWithTheReason) {
  using namespace roofbench;
  const fs::path shapes =
      write("f.shapes", "mv m=37 k=70\ngemm m=13 n=35 k=19\nconv2d n=1 c=6 h=9 w=9 k=10 r=3 s=3 pad=1\n");
  std::map<Isa, std::vector<const Kernel*>> by_isa;
  for (const Kernel& k : registry())
    if (k.impl == Impl::opt && select(k.op, k.impl, k.dtype) == &k && k.isa != Isa::none) by_isa[k.isa].push_back(&k);
  ASSERT_FALSE(by_isa.empty());
  for (const auto& [isa, kernels] : by_isa) {
    const fs::path csv = dir_ / "fallback.csv";
    const Result r = run_roofbench("run --shapes " + shapes.string() +
                                       " --impls opt --dtypes f64,f32,bf16,f16,i8,i4 --threads 2 --repetitions 1 "
                                       "--min-time 0.001 --csv " +
                                       csv.string(),
                                   std::string("ROOFBENCH_DISABLE_ISA=") + std::string(name(isa)));
    ASSERT_EQ(r.status == 0 || r.err.find("nothing to run") != std::string::npos, true) << r.err;
    std::vector<std::string> rows;
    if (r.status == 0) {
      std::ifstream in(csv);
      for (std::string line; std::getline(in, line);) rows.push_back(line);
    }
    for (const Kernel* k : kernels) {
      SCOPED_TRACE(std::string(k->variant) + " without " + std::string(name(isa)));
      const std::string prefix = std::string(name(k->op)) + ",opt," + std::string(name(k->dtype)) + ",";
      bool ran = false;
      for (const std::string& line : rows)
        if (line.rfind(prefix, 0) == 0) {
          ran = true;
          EXPECT_EQ(line.find("," + std::string(k->variant) + ","), std::string::npos) << line;  // not the disabled one
          EXPECT_NE(line.find(",ok,"), std::string::npos) << line;  // the fallback agreed with naive
        }
      const bool skipped = r.err.find("skipping " + std::string(name(k->op)) + " opt " + std::string(name(k->dtype)) +
                                      ":") != std::string::npos;
      EXPECT_TRUE(ran != skipped) << r.err;
      if (skipped) {
        EXPECT_NE(r.err.find("needs " + std::string(name(isa))), std::string::npos) << r.err;
      }
    }
  }
}

// Noise: each row keeps its CV, and rows above --noise-threshold say so in the last column.
TEST_F(Cli, RowsAboveTheNoiseThresholdAreFlagged) {
  const fs::path csv = dir_ / "noise.csv";
  for (const auto& [threshold, expect_flag] : {std::pair{"0", true}, std::pair{"10", false}}) {
    const Result r = run_roofbench(
        "run --shapes smoke --ops mv --impls opt --dtypes f32 --threads 1 --repetitions 3 "
        "--min-time 0.001 --noise-threshold " +
        std::string(threshold) + " --csv " + csv.string());
    ASSERT_EQ(r.status, 0) << r.err;
    std::ifstream in(csv);
    std::string header, line;
    std::getline(in, header);
    // smoke's shapes hold no comma, so fields split on commas; noisy is found by name (columns
    // added later follow it).
    const auto fields = [](const std::string& text) {
      std::vector<std::string> f;
      std::stringstream ss(text + ",");
      for (std::string c; std::getline(ss, c, ',');) f.push_back(c);
      return f;
    };
    const std::vector<std::string> columns = fields(header);
    const auto noisy = std::find(columns.begin(), columns.end(), "noisy") - columns.begin();
    ASSERT_LT(noisy, static_cast<std::ptrdiff_t>(columns.size())) << header;
    int rows = 0;
    while (std::getline(in, line)) {
      ++rows;
      const std::vector<std::string> cells = fields(line);
      ASSERT_EQ(cells.size(), columns.size()) << line;
      EXPECT_EQ(cells[noisy] == "yes", expect_flag) << line;
    }
    EXPECT_GT(rows, 0);
    EXPECT_EQ(r.err.find("vary by more than") != std::string::npos, expect_flag) << r.err;
  }
  expect_one_line_error(run_roofbench("run --shapes smoke --noise-threshold -1 --csv " + csv.string()),
                        "--noise-threshold");
}

TEST_F(Cli, RunRefusesAMissingOrCorruptProfileBeforeTiming) {
  const std::string common = "run --shapes smoke --ops mv --impls opt --dtypes f32 --csv " + (dir_ / "o.csv").string();
  expect_one_line_error(run_roofbench(common + " --profile " + (dir_ / "nope.json").string()), "nope.json");
  const fs::path bad = write("bad.json", "{\"schema\": 1, \"machine\": {}, \"peaks\": [");
  expect_one_line_error(run_roofbench(common + " --profile " + bad.string()), "not valid JSON");
  EXPECT_FALSE(fs::exists(dir_ / "o.csv"));
}

// The acceptance of the predictor issue: the same shape and profile give the same predicted_s
// in run and in predict (one function computes both).
TEST_F(Cli, RunAndPredictAgreeExactlyOnPredictedSeconds) {
  const fs::path profile = dir_ / "p.json";
  ASSERT_EQ(run_roofbench("calibrate --quick --no-fit --threads 1 --out " + profile.string()).status, 0);
  const std::string common =
      " --shapes smoke --impls opt --dtypes f32 --threads 1 --batch 1,2 --profile " + profile.string();
  ASSERT_EQ(
      run_roofbench("run" + common + " --repetitions 1 --min-time 0.001 --csv " + (dir_ / "r.csv").string()).status, 0);
  ASSERT_EQ(run_roofbench("predict" + common + " --csv " + (dir_ / "p.csv").string()).status, 0);
  const auto predicted = [](const fs::path& csv) {
    std::ifstream in(csv);
    std::string line;
    std::getline(in, line);
    std::vector<std::string> cells;
    while (std::getline(in, line)) {
      // op..shape (the shape has no comma in the smoke set), then ops, bytes, measured_s, predicted_s
      std::vector<std::string> f;
      std::stringstream ss(line);
      for (std::string c; std::getline(ss, c, ',');) f.push_back(c);
      cells.push_back(f.at(0) + f.at(4) + f.at(5) + "=" + f.at(9));
    }
    std::sort(cells.begin(), cells.end());
    return cells;
  };
  const auto from_run = predicted(dir_ / "r.csv"), from_predict = predicted(dir_ / "p.csv");
  EXPECT_EQ(from_run.size(), 2u * 7u);
  EXPECT_EQ(from_run, from_predict);
  for (const std::string& c : from_run) EXPECT_NE(c.back(), '=') << c;  // predicted_s present
}

// Every run row is held to its dtype's calibrated peak (machine_peak at its thread count): a row
// beating it by more than 10% means the calibration is wrong, and says so. A profile with an
// absurdly low f32 peak flags every row; a sane one none; no profile leaves the cells empty.
TEST_F(Cli, RowsThatBeatTheirDtypesCalibratedPeakAreFlagged) {
  const std::string common =
      "run --shapes smoke --ops mv,gemm --impls opt --dtypes f32 --threads 1 --repetitions 1 "
      "--min-time 0.001 --csv " +
      (dir_ / "out.csv").string();
  // The above_roof and roof_ratio cells of every data row, found by the header (no cell here
  // has a comma in it).
  const auto roof_cells = [&] {
    const auto split = [](const std::string& line) {
      std::vector<std::string> out(1);
      for (char ch : line) {
        if (ch == ',')
          out.emplace_back();
        else
          out.back().push_back(ch);
      }
      return out;
    };
    std::ifstream in(dir_ / "out.csv");
    std::string line;
    std::getline(in, line);
    const std::vector<std::string> header = split(line);
    const auto at = [&](const char* name) {
      return static_cast<std::size_t>(std::find(header.begin(), header.end(), name) - header.begin());
    };
    const std::size_t above = at("above_roof"), ratio = at("roof_ratio");
    EXPECT_LT(ratio, header.size()) << line;
    std::vector<std::pair<std::string, std::string>> cells;
    while (std::getline(in, line)) {
      const std::vector<std::string> f = split(line);
      if (f.size() == header.size()) cells.emplace_back(f[above], f[ratio]);
    }
    return cells;
  };
  for (const auto& [peak, flagged] : {std::pair{1e3, true}, std::pair{1e15, false}}) {
    SCOPED_TRACE(peak);
    roofbench::Profile p;
    p.peaks = {{"f32", 1, peak, "test", 0}};
    p.bandwidth = {{"L1", 32768, 1, 1e11, "read"},
                   {"L2", 524288, 1, 5e10, "read"},
                   {"L3", 33554432, 1, 3e10, "read"},
                   {"DRAM", 0, 1, 1e10, "read"}};
    const fs::path profile = dir_ / "p.json";
    roofbench::write_profile(profile.string(), p);
    const Result r = run_roofbench(common + " --profile " + profile.string());
    ASSERT_EQ(r.status, 0) << r.err;
    const auto cells = roof_cells();
    ASSERT_EQ(cells.size(), 4u);  // smoke: 2 mv and 2 gemm shapes
    for (const auto& [above, ratio] : cells) {
      EXPECT_EQ(above, flagged ? "yes" : "no");
      ASSERT_FALSE(ratio.empty());
      EXPECT_EQ(std::stod(ratio) > 1.1, flagged) << ratio;
    }
    EXPECT_EQ(r.err.find("4 of 4 rows beat their dtype's calibrated peak by more than 10%") != std::string::npos,
              flagged)
        << r.err;
    EXPECT_EQ(r.err.find("a calibration bug") != std::string::npos, flagged) << r.err;
    if (flagged) {
      EXPECT_NE(r.err.find("worst: "), std::string::npos) << r.err;
      // evaluate counts them per impl and dtype
      const fs::path eval_out = dir_ / "eval.txt";
      ASSERT_EQ(std::system((std::string(ROOFBENCH_BINARY) + " evaluate " + (dir_ / "out.csv").string() + " >" +
                             eval_out.string() + " 2>/dev/null")
                                .c_str()),
                0);
      const std::string printed = slurp(eval_out);
      EXPECT_NE(printed.find("above_roof): 4 of 4"), std::string::npos) << printed;
      EXPECT_NE(printed.find("opt      f32       4 of     4 rows"), std::string::npos) << printed;
    }
  }
  ASSERT_EQ(run_roofbench(common).status, 0);
  for (const auto& [above, ratio] : roof_cells()) {
    EXPECT_EQ(above, "");
    EXPECT_EQ(ratio, "");
  }
}

TEST_F(Cli, CalibrateRefusesBadOptionsBeforeMeasuring) {
  expect_one_line_error(run_roofbench("calibrate --quick"), "--out");
  expect_one_line_error(run_roofbench("calibrate --quick --threads 0 --out x.json"), "--threads");
  expect_one_line_error(run_roofbench("calibrate --quick --out /nonexistent-dir/p.json"), "/nonexistent-dir/p.json");
}

TEST_F(Cli, QuickCalibrationWritesAProfileThatReadsBack) {
  const fs::path out = dir_ / "profile.json";
  const Result r = run_roofbench("calibrate --quick --threads 1 --out " + out.string());
  ASSERT_EQ(r.status, 0) << r.err;
  const roofbench::Profile p = roofbench::read_profile(out.string());
  ASSERT_FALSE(p.peaks.empty());
  for (const auto& peak : p.peaks) EXPECT_GT(peak.ops_per_s, 1e9) << peak.dtype;  // any AVX2 core does > 1 GFLOP/s
  bool dram = false;
  for (const auto& b : p.bandwidth) dram = dram || (b.level == "DRAM" && b.kernel == "read");
  EXPECT_TRUE(dram) << "the sweep must reach 4x the last-level cache";
  EXPECT_FALSE(roofbench::testing::temporary_left_beside(out));
  // What the machine was like while calibrating: doctor's probes, summarised with a verdict.
  ASSERT_TRUE(p.machine.contains("doctor")) << p.machine.dump();
  const auto& doctor = p.machine["doctor"];
  EXPECT_GE(doctor["rounds"].get<int>(), 4);  // 3 s in rounds of 0.5 s
  ASSERT_FALSE(doctor["verdict"].empty());
  EXPECT_NE(doctor["verdict"][0].get<std::string>().find("repeat to about"), std::string::npos);
  EXPECT_NE(r.err.find("calibrate: doctor: "), std::string::npos) << r.err;
  // The machine measured twice (calibrate.h keep_faster), with what moved between the passes.
  EXPECT_EQ(p.machine.value("passes", 0), 2);
  ASSERT_TRUE(p.machine.contains("second_pass") && p.machine["second_pass"].is_array()) << p.machine.dump();
  for (const auto& d : p.machine["second_pass"]) EXPECT_GT(d["first"].get<double>(), 0) << d.dump();
  EXPECT_NE(r.err.find("calibrate: second pass: "), std::string::npos) << r.err;

  // Latency: at least L1 and DRAM, one thread, L1 faster than DRAM; and the sweep for the plot.
  std::map<std::string, double> latency;
  for (const auto& l : p.latency) {
    EXPECT_EQ(l.threads, 1) << l.level;
    EXPECT_GT(l.bytes, 0) << l.level;
    latency[l.level] = l.ns_per_load;
  }
  ASSERT_TRUE(latency.count("L1") && latency.count("DRAM")) << p.latency.size();
  EXPECT_LT(latency["L1"], latency["DRAM"]);
  EXPECT_LT(latency["L1"], 20.0);  // a few cycles on any core
  EXPECT_GT(p.latency_curve.size(), 10u);

  // The training sweep fitted every opt and blas kernel, each class of conv2d separately.
  ASSERT_FALSE(p.training.empty());
  const auto has = [&](const std::string& op, const std::string& impl, const std::string& cls) {
    return std::any_of(p.kernels.begin(), p.kernels.end(), [&](const roofbench::KernelFit& k) {
      return name(k.op) == op && name(k.impl) == impl && name(k.dtype) == "f32" && k.threads == 1 &&
             name(k.shape_class) == cls;
    });
  };
  for (const char* impl : {"opt", "blas"}) {
    EXPECT_TRUE(has("mv", impl, "dense")) << impl;
    EXPECT_TRUE(has("gemm", impl, "dense")) << impl;
    for (const char* cls : {"dense", "pointwise", "grouped", "depthwise"}) EXPECT_TRUE(has("conv2d", impl, cls)) << cls;
  }
  for (const auto& k : p.kernels) {
    EXPECT_GT(k.compute_ops_per_s, 1e8) << name(k.op) << " " << name(k.impl);
    EXPECT_LT(k.train_mape, 1.0) << name(k.op) << " " << name(k.impl) << " " << name(k.shape_class);
  }

  // --refit measures nothing and fits the same kernels from the stored timings.
  const fs::path refit = dir_ / "refit.json";
  ASSERT_EQ(run_roofbench("calibrate --refit " + out.string() + " --out " + refit.string()).status, 0);
  EXPECT_EQ(roofbench::read_profile(refit.string()).kernels.size(), p.kernels.size());
  std::string text;
  {
    std::ifstream in(out);
    std::stringstream ss;
    ss << in.rdbuf();
    text = ss.str();
  }
  // The first training timing's seconds (the canary's come earlier in the file).
  const auto at = text.find("\"seconds\": ", text.find("\"training\""));
  ASSERT_NE(at, std::string::npos);
  text.replace(at, 11, "\"seconds\": -");
  const fs::path bad = write("bad_training.json", text);
  expect_one_line_error(run_roofbench("calibrate --refit " + bad.string() + " --out " + (dir_ / "x.json").string()),
                        "training timing");
}

TEST_F(Cli, NaiveIsLeftOutOfLargeProblemsUnlessNamed) {
  const fs::path shapes = write("big.shapes", "gemm m=600 n=600 k=600\n");  // 4.3e8 ops > kNaiveMaxOps
  const fs::path csv = dir_ / "out.csv";
  const Result r = run_roofbench("run --shapes " + shapes.string() +
                                 " --dtypes f32 --threads 1 --repetitions 1 --min-time 0.001 --csv " + csv.string());
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("skipping naive on 1 problems"), std::string::npos) << r.err;
  std::ifstream in(csv);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text.find(",naive,"), std::string::npos);
  EXPECT_NE(text.find(",opt,"), std::string::npos);
}

TEST_F(Cli, BenchmarkFilterSelectsRowsAndABadOneIsAnError) {
  const fs::path csv = dir_ / "out.csv";
  const Result r = run_roofbench(
      "run --shapes smoke --benchmark_filter=^gemm/opt/f32 --repetitions 1 "
      "--min-time 0.001 --csv " +
      csv.string());
  ASSERT_EQ(r.status, 0) << r.err;
  std::ifstream in(csv);
  std::string line;
  std::getline(in, line);
  int rows = 0;
  while (std::getline(in, line)) {
    ++rows;
    EXPECT_EQ(line.rfind("gemm,opt,f32,", 0), 0u) << line;
  }
  EXPECT_GT(rows, 0);
  expect_one_line_error(run_roofbench("run --shapes smoke '--benchmark_filter=(' --csv x.csv"), "--benchmark_filter");
}

TEST_F(Cli, ColdCacheRunsAndIsRecorded) {
  const fs::path csv = dir_ / "out.csv";
  const Result r = run_roofbench(
      "run --shapes smoke --ops mv --impls opt --dtypes f32 --cache cold --repetitions 1 "
      "--min-time 0.001 --csv " +
      csv.string());
  ASSERT_EQ(r.status, 0) << r.err;
  std::ifstream in(csv);
  std::string header, line;
  std::getline(in, header);
  EXPECT_NE(header.find(",cache"), std::string::npos);
  ASSERT_TRUE(std::getline(in, line));
  EXPECT_NE(line.find(",ok,cold,"), std::string::npos) << line;  // status, then cache
  expect_one_line_error(run_roofbench("run --shapes smoke --cache hot --csv x.csv"), "--cache");
}

TEST(OpenBlas, TheLinkedLibraryIsTheOpenMPBuild) {
  // 2 = OpenMP (0 sequential, 1 pthreads): OpenBLAS and our kernels share one thread pool.
  EXPECT_EQ(openblas_get_parallel(), 2);
}

TEST(OpenBlas, FollowsTheCallersThreadCountLikeOpenMP) {
  for (int t : {1, 2, 1}) {
    roofbench::set_library_threads(t);
    EXPECT_EQ(openblas_get_num_threads(), t);
    EXPECT_EQ(omp_get_max_threads(), t);
  }
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

// Every compute unit this CPU has is measured and listed, with its ops per cycle against the
// measured clock; every unit it lacks is skipped with a reason; each dtype's roof is marked
// once in the printed table, and is the fastest entry that counts.
TEST_F(Cli, QuickCalibrationListsEveryUnitThisCpuHas) {
  const fs::path out = dir_ / "u.json", table = dir_ / "stdout.txt", err = dir_ / "stderr.txt";
  const std::string cmd = std::string(ROOFBENCH_BINARY) + " calibrate --quick --no-fit --threads 1 --out " +
                          out.string() + " >" + table.string() + " 2>" + err.string();
  ASSERT_EQ(std::system(cmd.c_str()), 0) << slurp(err);
  const std::string printed = slurp(table), log = slurp(err);
  const roofbench::Profile p = roofbench::read_profile(out.string());
  ASSERT_TRUE(p.machine.contains("measured_hz"));
  const double hz = p.machine["measured_hz"].get<double>();
  EXPECT_GT(hz, 5e8);  // any x86 server core of the last decade clocks 0.5-10 GHz
  EXPECT_LT(hz, 1e10);
  for (const roofbench::PeakLoop& loop : roofbench::peak_loops()) {
    const std::string how(loop.how);
    const auto n = std::count_if(p.peaks.begin(), p.peaks.end(), [&](const roofbench::PeakEntry& e) {
      return e.dtype == loop.dtype && e.isa == how && e.threads == 1;
    });
    if (!roofbench::cpu().has(loop.isa)) {
      EXPECT_EQ(n, 0) << how;
      EXPECT_NE(log.find(std::string(loop.dtype) + " " + how + ": skipped: "), std::string::npos) << how << "\n" << log;
      continue;
    }
    ASSERT_EQ(n, 1) << loop.dtype << " " << how;
    const auto e = std::find_if(p.peaks.begin(), p.peaks.end(),
                                [&](const roofbench::PeakEntry& x) { return x.dtype == loop.dtype && x.isa == how; });
    EXPECT_EQ(e->roof, loop.roof) << how;
    EXPECT_GT(e->ops_per_cycle, 0) << how;
    EXPECT_NEAR(e->ops_per_cycle, e->ops_per_s / hz, 1e-9 * e->ops_per_cycle) << how;
    EXPECT_NE(printed.find(how), std::string::npos) << how << " missing from the summary:\n" << printed;
  }
  // One "yes" per dtype in the roof column, on the line of machine_roof's entry.
  for (const char* dtype : {"f64", "f32", "bf16", "f16", "i8"}) {
    const roofbench::PeakEntry* roof = roofbench::machine_roof(p, *roofbench::parse_dtype(dtype), 1);
    ASSERT_NE(roof, nullptr) << dtype;
    int yes = 0;
    std::istringstream lines(printed);
    for (std::string line; std::getline(lines, line);)
      if (line.starts_with(std::string(dtype) + " ") && line.find(" yes ") != std::string::npos) {
        ++yes;
        EXPECT_NE(line.find(roof->isa), std::string::npos) << line;
      }
    EXPECT_EQ(yes, 1) << dtype << "\n" << printed;
  }
  // A bf16 GEMM that converts while packing runs at the f32 FMA rate: the bf16 roof is not a
  // loop that converts in its inner loop (a quarter of it on Zen 3).
  EXPECT_GT(roofbench::machine_peak(p, roofbench::DType::bf16, 1),
            0.7 * roofbench::machine_peak(p, roofbench::DType::f32, 1));
}

// SIGTERM during calibration: a partial profile would mislead every prediction, so none is
// written, and the exit status is 128 + SIGTERM.
TEST_F(Cli, InterruptedCalibrationWritesNoProfile) {
  const fs::path profile = dir_ / "profile.json", out = dir_ / "stdout.txt", err = dir_ / "stderr.txt";
  const int status =
      interrupt_roofbench({"calibrate", "--quick", "--threads", "1", "--out", profile.string()}, out, err, SIGTERM,
                          [&] { return slurp(err).find("calibrate: peak") != std::string::npos; });
  const std::string log = slurp(err);
  EXPECT_EQ(status, 128 + SIGTERM) << log;
  EXPECT_NE(log.find("interrupted by SIGTERM: no profile written"), std::string::npos) << log;
  EXPECT_FALSE(fs::exists(profile));
  EXPECT_FALSE(roofbench::testing::temporary_left_beside(profile));
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
  p.bandwidth = {{"DRAM", 0, 1, 1e10, "read"}};
  const fs::path out = dir_ / "refit.json";
  for (const auto& [timing, mentions] : std::vector<std::pair<nlohmann::json, std::string>>{
           {{{"op", "gemm"}, {"dtype", "f32"}, {"threads", 1}, {"shape", "gemm m=4 n=4 k=4"}, {"seconds", 1e-6}},
            "\"impl\" is missing (at /training/0/impl)"},
           {{{"op", "gemm"},
             {"impl", "opt"},
             {"dtype", "f32"},
             {"threads", 0},
             {"shape", "gemm m=4 n=4 k=4"},
             {"seconds", 1e-6}},
            "\"threads\" must be an integer from 1 to 1024"},
           {{{"op", "gemm"},
             {"impl", "opt"},
             {"dtype", "f32"},
             {"threads", 1},
             {"shape", "gemm m=4 n=4"},
             {"seconds", 1e-6}},
            "missing key 'k' (at /training/0/shape)"},
           {{{"op", "gemm"},
             {"impl", "opt"},
             {"dtype", "f32"},
             {"threads", 1},
             {"shape", "gemm m=4 n=4 k=4"},
             {"seconds", -1}},
            "\"seconds\" must be a positive finite number"},
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

// `roofbench run ... | head` closes stdout early: the run still finishes and writes its CSV
// (SIGPIPE would otherwise kill it at the table's next line).
TEST_F(Cli, ClosedStdoutDoesNotLoseTheRun) {
  const fs::path csv = dir_ / "out.csv";
  const std::string cmd = std::string(ROOFBENCH_BINARY) +
                          " run --shapes smoke --ops mv --impls opt --dtypes f32 "
                          "--repetitions 2 --min-time 0.01 --csv " +
                          csv.string() + " 2>/dev/null | head -c 1 >/dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  std::ifstream in(csv);
  std::string line;
  int lines = 0;
  while (std::getline(in, line)) ++lines;
  EXPECT_EQ(lines, 3);  // header and smoke's two mv shapes
}

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

}  // namespace

TEST_F(Cli, ACrashInsideAKernelCostsThatRowAndTheRunGoesOn) {
  const fs::path csv = dir_ / "out.csv";
  const Result r = run_roofbench(
      "run --shapes smoke --impls opt,blas --dtypes f32 --threads 1 --repetitions 1 "
      "--min-time 0.001 --csv " +
          csv.string(),
      "ROOFBENCH_TEST_CRASH=gemm/blas/");
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
  const Result r = run_roofbench(
      "run --shapes smoke --ops mv --impls opt,blas --dtypes f32 --threads 1 "
      "--repetitions 1 --min-time 0.001 --csv " +
          csv.string(),
      "ROOFBENCH_TEST_HANG=mv/blas/ ROOFBENCH_HANG_SECONDS=1");
  EXPECT_EQ(r.status, 1) << r.err;
  const auto rows = statuses(csv);
  EXPECT_EQ(rows.size(), 4u) << r.err;
  for (const auto& [what, status] : rows)
    if (what == "mv/blas")
      EXPECT_EQ(status.rfind("hung: no result after 1 s", 0), 0u) << status;
    else
      EXPECT_EQ(status, "ok") << what;
}

// A library declining a shape (KernelUnavailable, as oneDNN does where it has only reference
// loops) is a skip: the row says why, and the run still succeeds.
TEST_F(Cli, AShapeALibraryDeclinesIsASkippedRowNotAFailure) {
  const fs::path csv = dir_ / "out.csv";
  const Result r = run_roofbench(
      "run --shapes smoke --ops mv --impls opt,blas --dtypes f32 --threads 1 "
      "--repetitions 1 --min-time 0.001 --csv " +
          csv.string(),
      "ROOFBENCH_TEST_UNAVAILABLE=mv/blas/");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("2 skipped"), std::string::npos) << r.err;
  for (const auto& [what, status] : statuses(csv))
    if (what == "mv/blas")
      EXPECT_EQ(status.rfind("skipped: ", 0), 0u) << status;
    else
      EXPECT_EQ(status, "ok") << what;
}

// SIGKILL during the training sweep: the journal beside the output keeps the machine figures
// and every repetition taken, and the same command run again measures only what is missing.
TEST_F(Cli, KilledCalibrationPicksUpWhereItStopped) {
  const fs::path profile = dir_ / "profile.json", journal = dir_ / "profile.json.journal", out = dir_ / "stdout.txt",
                 err = dir_ / "stderr.txt";
  const std::vector<std::string> args{"calibrate", "--quick", "--threads", "1", "--out", profile.string()};
  const auto training_reps = [&] {
    const std::string j = slurp(journal);
    std::size_t n = 0;
    for (std::size_t at = j.find("\"rep\":\"train/"); at != std::string::npos; at = j.find("\"rep\":\"train/", at + 1))
      ++n;
    return n;
  };
  const int status = interrupt_roofbench(args, out, err, SIGKILL, [&] { return training_reps() >= 40; });
  EXPECT_EQ(status, 128 + SIGKILL);
  ASSERT_TRUE(fs::exists(journal)) << slurp(err);
  EXPECT_FALSE(fs::exists(profile));
  const std::size_t kept = training_reps();
  EXPECT_GE(kept, 40u);
  // The worker dies with its supervisor (PR_SET_PDEATHSIG): nothing writes the journal now.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const auto size = fs::file_size(journal);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(fs::file_size(journal), size) << "a worker outlived its supervisor";
  // The first training timing, as the journal has it.
  const std::string j = slurp(journal);
  // A journal line is a JSON object with sorted keys: the repetition's own keys ("c", the
  // canary) may come before "rep".
  const std::size_t at = j.find("\"rep\":\"train/");
  ASSERT_NE(at, std::string::npos);
  const std::size_t first = j.rfind('\n', at) + 1;  // npos + 1 == 0: the first line
  const nlohmann::json first_rep = nlohmann::json::parse(j.substr(first, j.find('\n', first) - first));

  // Poison the kept training timings, as a shared machine or a corrupt journal would, all but
  // the first job's (checked below): a job in four slowed 3x, one in four 3x fast, and one in
  // eight "timed" at 1e-300 s. The resumed calibration must still write a valid profile, its
  // last step leaving only the kernels with impossible timings to the classic roofline.
  {
    std::istringstream in(j);
    std::ofstream poisoned(journal, std::ios::trunc);
    std::map<std::string, int> job_index;
    for (std::string line; std::getline(in, line);) {
      if (line.find("\"rep\":\"train/") != std::string::npos) {
        nlohmann::json rep = nlohmann::json::parse(line);
        const std::string job = rep["rep"].get<std::string>();
        const int index = job_index.emplace(job, static_cast<int>(job_index.size())).first->second;
        if (index % 8 == 2)
          rep["s"] = 1e-300;
        else if (index % 4 == 1)
          rep["s"] = 3 * rep["s"].get<double>();
        else if (index % 4 == 3)
          rep["s"] = rep["s"].get<double>() / 3;
        line = rep.dump();
      }
      poisoned << line << "\n";
    }
  }

  std::string cmd;
  for (const std::string& a : args) cmd += " " + a;
  const Result r = run_roofbench(cmd);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("falls back to the classic roofline: a training time of 1e-300 s"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("resuming from " + journal.string()), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("peaks and bandwidths kept from"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(journal)) << "a finished calibration removes its journal";
  const roofbench::Profile p = roofbench::read_profile(profile.string());
  EXPECT_FALSE(p.peaks.empty());
  EXPECT_FALSE(p.kernels.empty());
  EXPECT_FALSE(p.unfitted.empty());
  for (const auto& u : p.unfitted)
    EXPECT_NE(u["reason"].get<std::string>().find("1e-300 s"), std::string::npos) << u.dump();
  // Only what the journal lacked was timed: fewer repetitions than the first worker planned.
  const auto planned = [](const std::string& log) {
    const std::size_t at = log.find(" repetitions, ");
    const std::size_t slash = log.rfind('/', at);
    return at == std::string::npos || slash == std::string::npos ? 0
                                                                 : std::stoul(log.substr(slash + 1, at - slash - 1));
  };
  const std::size_t first_plan = planned(slurp(err)), second_plan = planned(r.err);
  EXPECT_GT(first_plan, 0u);
  EXPECT_LT(second_plan, first_plan) << "the resumed sweep timed everything again";
  // The job of the first kept repetition keeps that timing (or a lower re-timing of a noisy
  // point, which calibrate prefers): it was not measured afresh.
  const std::string name = first_rep["rep"].get<std::string>();
  std::vector<double> reps;
  for (std::size_t at = j.find("\"rep\":\"" + name + "\""); at != std::string::npos;
       at = j.find("\"rep\":\"" + name + "\"", at + 1)) {
    const std::size_t line = j.rfind('\n', at) + 1;
    reps.push_back(nlohmann::json::parse(j.substr(line, j.find('\n', line) - line))["s"].get<double>());
  }
  ASSERT_EQ(reps.size(), 2u) << name;
  // The median of the two, or the one kept when the canary rejected the other.
  const double kept_median = std::max(reps[0], reps[1]);
  bool found = false;
  for (const auto& t : p.training) {
    const std::string n = "train/" + t["op"].get<std::string>() + "/" + t["impl"].get<std::string>() + "/" +
                          t["dtype"].get<std::string>() + "/threads:" + std::to_string(t["threads"].get<int>()) + "/" +
                          t["shape"].get<std::string>();
    if (n != name) continue;
    found = true;
    EXPECT_LE(t["seconds"].get<double>(), kept_median * (1 + 1e-12)) << name;
  }
  EXPECT_TRUE(found) << name;
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
