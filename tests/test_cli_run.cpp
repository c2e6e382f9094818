// The roofbench binary as a user meets it, good input: `run` writes the CSV columns of
// design.md, one row per combination, flagged where noisy or above the roof.
#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "benchmarks/calib.h"
#include "kernels/core/cpu.h"
#include "kernels/registry.h"
#include "predictor/profile.h"
#include "tests/cli_test.h"

extern "C" int openblas_get_parallel(void);
extern "C" int openblas_get_num_threads(void);

namespace {

namespace fs = std::filesystem;

using namespace roofbench::testing;

}  // namespace

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
    p.bandwidth = {{roofbench::MemoryLevel::L1, 32768, 1, 1e11, "read"},
                   {roofbench::MemoryLevel::L2, 524288, 1, 5e10, "read"},
                   {roofbench::MemoryLevel::L3, 33554432, 1, 3e10, "read"},
                   {roofbench::MemoryLevel::DRAM, 0, 1, 1e10, "read"}};
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
  const Result r = run_smoke("--benchmark_filter=^gemm/opt/f32", csv);
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
  const Result r = run_smoke("--ops mv --impls opt --dtypes f32 --cache cold", csv);
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
