// `roofbench evaluate`: the scores on hand-computed rows, the CSV reader on the quoting a run CSV
// can contain, and every error a user can meet as one line naming the file (and line).
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/fixtures.h"
#include "benchmarks/commands/evaluate.h"
#include "predictor/evaluate.h"

namespace {

using namespace roofbench;
namespace fs = std::filesystem;

const std::string kHeader =
    "op,impl,dtype,threads,batch,shape,measured_s,predicted_s,classic_s,status,model,cv,level,bound\n";

// Four rows measured at 1 s, predicted +5 %, -20 %, +30 %, -2 %; the classic roofline says 0.5 s
// (-50 %) for each. |errors| 2, 5, 20, 30 %: MAPE 14.25, median 12.5, within 10 % 2 of 4,
// within 25 % 3 of 4, bias (5 - 20 + 30 - 2) / 4 = 3.25.
const std::string kFourRows = kHeader +
                              "gemm,opt,f32,2,1,gemm m=8 n=8 k=8,1,1.05,0.5,ok,fitted,0.01,L1,compute\n"
                              "gemm,opt,f32,2,1,gemm m=16 n=16 k=16,1,0.80,0.5,ok,fitted,0.01,L1,compute\n"
                              "gemm,opt,f32,2,1,gemm m=32 n=32 k=32,1,1.30,0.5,ok,fitted,0.01,L1,compute\n"
                              "gemm,opt,f32,2,1,gemm m=64 n=64 k=64,1,0.98,0.5,ok,fitted,0.01,L1,compute\n";

void expect_score(const Score& s, std::size_t rows, double mape, double median, double w10, double w25, double bias) {
  EXPECT_EQ(s.rows, rows);
  EXPECT_NEAR(s.mape_pct, mape, 1e-9);
  EXPECT_NEAR(s.median_ape_pct, median, 1e-9);
  EXPECT_NEAR(s.within_10_pct, w10, 1e-9);
  EXPECT_NEAR(s.within_25_pct, w25, 1e-9);
  EXPECT_NEAR(s.bias_pct, bias, 1e-9);
}

// The message of the runtime_error f throws ("" when it throws nothing).
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

class EvaluateFiles : public roofbench::testing::TempDirTest {
 protected:
  // evaluate_command's error message, with its table output swallowed.
  std::string command_error(const EvaluateOptions& opt) {
    ::testing::internal::CaptureStdout();
    const std::string err = error_of([&] { evaluate_command(opt); });
    ::testing::internal::GetCapturedStdout();
    return err;
  }
};

TEST(Evaluate, ScoresMatchHandComputedFixture) {
  const EvaluationInput in = read_evaluation(kFourRows, "four.csv");
  ASSERT_EQ(in.rows.size(), 4u);
  EXPECT_EQ(in.skipped(), 0);
  const std::vector<GroupScore> groups = group_scores(in.rows);
  ASSERT_EQ(groups.size(), 2u);  // "all" and gemm opt f32; one thread count, so no per-thread groups
  expect_score(groups[0].fitted, 4, 14.25, 12.5, 50, 75, 3.25);
  expect_score(groups[0].classic, 4, 50, 50, 0, 0, -50);
  EXPECT_TRUE(groups[0].op.empty());
  expect_score(groups[1].fitted, 4, 14.25, 12.5, 50, 75, 3.25);
}

TEST(Evaluate, ScoreEdgeCases) {
  // Exactly 10 % and 25 % off count as within (2.2 / 2 - 1 is 0.10000000000000009 in doubles).
  const std::vector<double> edges{2.2 / 2 - 1, 1.25 / 1 - 1, -0.5};
  expect_score(score_errors(edges), 3, 100.0 * (0.1 + 0.25 + 0.5) / 3, 25, 100.0 / 3, 200.0 / 3,
               100.0 * (0.1 + 0.25 - 0.5) / 3);
  expect_score(score_errors(std::vector<double>{-0.3}), 1, 30, 30, 0, 0, -30);
  EXPECT_EQ(score_errors({}).rows, 0u);
}

TEST(Evaluate, GroupsByKernelAndByThreadsWhenSeveralThreadCounts) {
  const std::string csv = kHeader +
                          "mv,opt,f32,1,1,mv m=8 k=8,1,1.1,,ok,fitted,,L1,memory\n"
                          "gemm,blas,f32,2,1,gemm m=8 n=8 k=8,2,3,1,ok,fitted,,L1,compute\n"
                          "mv,opt,f32,2,1,mv m=8 k=8,1,0.7,0.5,ok,fitted,,L1,memory\n";
  const std::vector<GroupScore> g = group_scores(read_evaluation(csv, "g.csv").rows);
  std::vector<std::string> keys;
  for (const GroupScore& s : g) keys.push_back(s.op + "/" + s.impl + "/" + s.dtype + "/" + std::to_string(s.threads));
  EXPECT_EQ(keys, (std::vector<std::string>{"///0", "gemm/blas/f32/0", "mv/opt/f32/0", "gemm/blas/f32/2",
                                            "mv/opt/f32/1", "mv/opt/f32/2"}));
  expect_score(g[2].fitted, 2, 20, 20, 50, 50, -10);  // mv opt f32: +10 %, -30 %
  // The 1-thread mv row has no classic_s: it counts for the fitted scores only.
  expect_score(g[2].classic, 1, 50, 50, 0, 0, -50);
  EXPECT_EQ(g[4].classic.rows, 0u);
  expect_score(g[1].fitted, 1, 50, 50, 0, 0, 50);
}

TEST(Evaluate, CsvReaderHandlesQuotingCrlfAndBlankLines) {
  const std::string text = "a,b,c\r\n\"x, \"\"y\"\"\",\"multi\nline\",\r\n\r\n,,\"\"\nlast,row,end";
  const std::vector<CsvRecord> r = parse_csv(text, "q.csv");
  ASSERT_EQ(r.size(), 4u);
  EXPECT_EQ(r[1].fields, (std::vector<std::string>{"x, \"y\"", "multi\nline", ""}));
  EXPECT_EQ(r[1].line, 2);
  EXPECT_EQ(r[2].fields, (std::vector<std::string>{"", "", ""}));
  EXPECT_EQ(r[2].line, 5);  // the quoted newline and the blank line both count
  EXPECT_EQ(r[3].fields, (std::vector<std::string>{"last", "row", "end"}));  // no trailing newline
  EXPECT_EQ(r[3].line, 6);

  EXPECT_EQ(error_of([] { parse_csv("a,b\n1,\"open\n", "u.csv"); }), "u.csv:2: unterminated quoted field");
  EXPECT_EQ(error_of([] { parse_csv("a,b\n\"x\"y,2\n", "t.csv"); }), "t.csv:2: text after a closing quote");
  EXPECT_EQ(error_of([] { parse_csv("a,b\nx\"y,2\n", "s.csv"); }), "s.csv:2: quote inside an unquoted field");
}

TEST(Evaluate, QuotedShapeWithCommasAndColumnsFoundByName) {
  // Columns in another order with an extra one, and a shape label holding a comma and quotes.
  const std::string csv =
      "extra,status,predicted_s,classic_s,measured_s,shape,batch,threads,dtype,impl,op\r\n"
      "z,ok,0.5,0.25,1,\"gemm m=8 n=8 k=8 name=bert:\"\"ffn, up\"\"\",4,2,f32,opt,gemm\r\n";
  const EvaluationInput in = read_evaluation(csv, "order.csv");
  ASSERT_EQ(in.rows.size(), 1u);
  const ScoredRow& r = in.rows[0];
  EXPECT_EQ(r.shape, "gemm m=8 n=8 k=8 name=bert:\"ffn, up\"");
  EXPECT_EQ(r.op, "gemm");
  EXPECT_EQ(r.batch, 4);
  EXPECT_EQ(r.threads, 2);
  EXPECT_EQ(r.line, 2);
  EXPECT_DOUBLE_EQ(r.fitted_error(), -0.5);
  EXPECT_DOUBLE_EQ(*r.classic_error(), -0.75);
  EXPECT_FALSE(r.cv);  // optional columns may be absent
  EXPECT_TRUE(r.model.empty());
}

TEST(Evaluate, SkippedRowsAreCountedByReason) {
  const std::string csv = kFourRows +
                          "gemm,opt,f32,2,1,gemm m=8 n=8 k=8,,,,mismatch against naive,,,,\n"
                          "gemm,opt,f32,2,1,\"gemm m=8, n=8\",1,,,ok,,,,\n"
                          "gemm,opt,f32,2,1,gemm m=8 n=8 k=8,,1,1,ok,fitted,,,\n"
                          "gemm,opt,f32,2,1,gemm m=8 n=8 k=8,1,0,1,ok,fitted,,,\n";
  const EvaluationInput in = read_evaluation(csv, "skip.csv");
  EXPECT_EQ(in.rows.size(), 4u);
  EXPECT_EQ(in.skipped_failed, 1);
  EXPECT_EQ(in.skipped_no_measured, 1);
  EXPECT_EQ(in.skipped_no_prediction, 2);  // empty, and zero
  EXPECT_EQ(in.skipped(), 4);
}

TEST(Evaluate, MalformedInputNamesFileLineAndColumn) {
  struct Case {
    std::string text, file, error;
  };
  const Case cases[] = {
      {"", "e.csv", "e.csv: file is empty"},
      {"\n\n", "e.csv", "e.csv: file is empty"},
      {kHeader, "h.csv", "h.csv: has a header but no data rows"},
      {"op,impl,dtype,threads,batch,shape,measured_s,status\n", "c.csv",
       "c.csv: missing columns predicted_s, classic_s (expected a CSV from `roofbench run --profile`)"},
      {"op,impl,dtype,threads,batch,shape,measured_s,predicted_s,status\nx", "c.csv",
       "c.csv: missing column classic_s (expected a CSV from `roofbench run --profile`)"},
      {kHeader + "gemm,opt,f32,2,1,s,1,1,1,ok,,,,\ngemm,opt,f32,2,1,s,1,abc,1,ok,,,,\n", "n.csv",
       "n.csv:3: predicted_s: 'abc' is not a number"},
      {kHeader + "gemm,opt,f32,2,1,s,1,1,1,ok,,1.2.3,,\n", "n.csv", "n.csv:2: cv: '1.2.3' is not a number"},
      {kHeader + "gemm,opt,f32,2,1,s,nan,1,1,ok,,,,\n", "n.csv", "n.csv:2: measured_s: 'nan' is not a number"},
      {kHeader + "gemm,opt,f32,2,1,s,-1e-6,1,1,ok,,,,\n", "n.csv", "n.csv:2: measured_s: -1e-6 is negative"},
      // a terminal escape is shown, not sent
      {kHeader + "gemm,opt,f32,2,1,s,1,1,1,ok,,\x1b[2J,,\n", "n.csv", "n.csv:2: cv: '\\x1b[2J' is not a number"},
      {kHeader + "gemm,opt,f32,two,1,s,1,1,1,ok,,,,\n", "n.csv", "n.csv:2: threads: 'two' is not a positive integer"},
      {kHeader + "gemm,opt,f32,2,1,s,1,1\n", "f.csv", "f.csv:2: 8 fields, the header has 14"},
      {kHeader + "gemm,opt,f32,2,1,s,1,,,ok,,,,\n", "p.csv",
       "p.csv: no row has both measured_s and predicted_s: run with --profile"},
  };
  for (const Case& c : cases) EXPECT_EQ(error_of([&] { read_evaluation(c.text, c.file); }), c.error) << c.text;
}

TEST_F(EvaluateFiles, MissingFileDirectoryAndOutputDirectoryAreOneLineErrors) {
  const std::string missing = (dir_ / "nope.csv").string();
  EXPECT_EQ(command_error({missing, 5, ""}), missing + ": no such file");
  EXPECT_EQ(command_error({dir_.string(), 5, ""}), dir_.string() + ": is a directory, not a CSV file");
  EXPECT_EQ(command_error({write("empty.csv", ""), 5, ""}), (dir_ / "empty.csv").string() + ": file is empty");
  // The output directory is checked before the input is even read.
  const std::string out = (dir_ / "no_dir" / "scores.csv").string();
  const std::string err = command_error({missing, 5, out});
  EXPECT_EQ(err.rfind(out + ": directory ", 0), 0u) << err;
  EXPECT_NE(err.find("does not exist"), std::string::npos) << err;
}

// evaluate --profile: a profile that is missing or not JSON is one line naming it, and nothing
// is scored from the CSV's own predictions instead.
TEST_F(EvaluateFiles, ABadProfileToPredictAgainIsAOneLineError) {
  const std::string run = write("measured.csv",
                                "op,impl,dtype,threads,batch,shape,measured_s,status\n"
                                "gemm,opt,f32,2,1,gemm m=8 n=8 k=8,0.001,ok\n");
  const std::string missing = (dir_ / "nope.json").string();
  const std::string err = command_error({run, 5, "", "", missing});
  EXPECT_EQ(err.rfind(missing + ": cannot open", 0), 0u) << err;
  EXPECT_EQ(err.find('\n'), std::string::npos) << err;
  const std::string corrupt = write("corrupt.json", "{\"schema\": 1, \"peaks\": [");
  const std::string bad = command_error({run, 5, "", "", corrupt});
  EXPECT_EQ(bad.rfind(corrupt + ": not valid JSON", 0), 0u) << bad;
  EXPECT_EQ(bad.find('\n'), std::string::npos) << bad;
  // Without --profile the same measured-only CSV has nothing to score.
  EXPECT_NE(command_error({run, 5, ""}).find("missing columns predicted_s, classic_s"), std::string::npos);
}

TEST_F(EvaluateFiles, CommandPrintsTablesAndWritesScoresCsv) {
  const std::string run = write("run.csv", kFourRows + "gemm,opt,f32,2,1,x,,,,error,,,,\n");
  const std::string out = (dir_ / "scores.csv").string();
  ::testing::internal::CaptureStdout();
  EXPECT_EQ(evaluate_command({run, 2, out}), 0);
  const std::string printed = ::testing::internal::GetCapturedStdout();
  EXPECT_NE(printed.find("scored 4 rows, skipped 1 (1 with status other than ok)"), std::string::npos) << printed;
  EXPECT_NE(printed.find("worst 2 rows by |fitted error|"), std::string::npos) << printed;
  EXPECT_NE(printed.find("+30.0%"), std::string::npos) << printed;  // the worst row: 1.30 s for 1 s
  EXPECT_NE(printed.find("1.300 s"), std::string::npos) << printed;
  EXPECT_EQ(printed.find("-2.0%"), std::string::npos) << printed;  // the best row is not among the worst 2

  EXPECT_FALSE(roofbench::testing::temporary_left_beside(out));
  std::ifstream in(out);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  ASSERT_EQ(lines.size(), 5u);  // header, then (all, gemm opt f32) x (fitted, classic)
  EXPECT_EQ(lines[0], "op,impl,dtype,threads,model,rows,mape_pct,median_ape_pct,within_10_pct,within_25_pct,bias_pct");
  EXPECT_EQ(lines[1], "all,all,all,all,fitted,4,14.25,12.5,50,75,3.25");
  EXPECT_EQ(lines[2], "all,all,all,all,classic,4,50,50,0,0,-50");
  EXPECT_EQ(lines[3], "gemm,opt,f32,all,fitted,4,14.25,12.5,50,75,3.25");
}

// Rows that beat their dtype's calibrated peak (run's above_roof, roof_ratio): counted per (impl,
// dtype) over ok rows, with the highest ratio; an old CSV without the columns has no counts.
const std::string kRoofHeader =
    "op,impl,dtype,threads,batch,shape,measured_s,predicted_s,classic_s,status,above_roof,roof_ratio\n";
const std::string kRoofRows = kRoofHeader +
                              "gemm,opt,f32,2,1,gemm m=8 n=8 k=8,1,1,1,ok,yes,1.5\n"
                              "gemm,opt,f32,2,1,gemm m=9 n=9 k=9,1,1,1,ok,no,0.8\n"
                              "gemm,opt,f32,2,1,gemm m=7 n=7 k=7,1,1,1,ok,,\n"  // no peak: not held
                              "gemm,opt,i8,2,1,gemm m=8 n=8 k=8,1,1,1,ok,yes,2\n"
                              "mv,blas,f32,1,1,mv m=8 k=8,1,,,ok,no,0.5\n"             // no prediction: still held
                              "gemm,opt,i8,2,1,gemm m=9 n=9 k=9,,,,mismatch,yes,3\n";  // failed: not counted

TEST(Evaluate, CountsRowsAboveTheRoofPerImplAndDtype) {
  const EvaluationInput in = read_evaluation(kRoofRows, "run.csv");
  using Key = std::pair<std::string, std::string>;
  const std::map<Key, RoofCount> want = {
      {{"opt", "f32"}, {2, 1, 1.5}}, {{"opt", "i8"}, {1, 1, 2.0}}, {{"blas", "f32"}, {1, 0, 0.5}}};
  EXPECT_EQ(in.roofs, want);
  // Without roof_ratio the counts stand alone; without either column (an old CSV) there are none.
  std::string no_ratio;
  for (std::string line :
       {std::string("op,impl,dtype,threads,batch,shape,measured_s,predicted_s,classic_s,status,above_roof\n"),
        std::string("gemm,opt,f32,2,1,g,1,1,1,ok,yes\n")})
    no_ratio += line;
  const EvaluationInput bare = read_evaluation(no_ratio, "run.csv");
  EXPECT_EQ(bare.roofs, (std::map<Key, RoofCount>{{{"opt", "f32"}, {1, 1, std::nullopt}}}));
  EXPECT_TRUE(read_evaluation(kFourRows, "old.csv").roofs.empty());

  EXPECT_EQ(error_of([] { read_evaluation(kRoofHeader + "gemm,opt,f32,2,1,g,1,1,1,ok,maybe,1\n", "r.csv"); }),
            "r.csv:2: above_roof: 'maybe' is not yes, no or empty");
  EXPECT_EQ(error_of([] { read_evaluation(kRoofHeader + "gemm,opt,f32,2,1,g,1,1,1,ok,yes,-2\n", "r.csv"); }),
            "r.csv:2: roof_ratio: -2 is negative");
}

TEST_F(EvaluateFiles, CommandCountsRowsAboveTheRoof) {
  const std::string run = write("run.csv", kRoofRows);
  ::testing::internal::CaptureStdout();
  EXPECT_EQ(evaluate_command({run, 0, ""}), 0);
  const std::string printed = ::testing::internal::GetCapturedStdout();
  EXPECT_NE(printed.find("calibrated peak, column above_roof): 2 of 4: a calibration bug"), std::string::npos)
      << printed;
  EXPECT_NE(printed.find("opt      i8        1 of     1 rows   highest achieved/peak 2.00"), std::string::npos)
      << printed;
  EXPECT_NE(printed.find("blas     f32       0 of     1 rows"), std::string::npos) << printed;

  // An old CSV says nothing about roofs.
  ::testing::internal::CaptureStdout();
  EXPECT_EQ(evaluate_command({write("old.csv", kFourRows), 0, ""}), 0);
  EXPECT_EQ(::testing::internal::GetCapturedStdout().find("above the roof"), std::string::npos);
}

TEST_F(EvaluateFiles, BinaryReportsABadCellAsOneLine) {
  const std::string run = write("bad.csv", kHeader +
                                               "gemm,opt,f32,2,1,\"a, b\",1,1,1,ok,,,,\n"
                                               "gemm,opt,f32,2,1,s,fast,1,1,ok,,,,\n");
  const fs::path err = dir_ / "stderr.txt";
  const std::string out = (dir_ / "scores.csv").string();
  const int raw = std::system(
      (std::string(ROOFBENCH_BINARY) + " evaluate " + run + " --csv " + out + " >/dev/null 2>" + err.string()).c_str());
  ASSERT_TRUE(WIFEXITED(raw));
  EXPECT_EQ(WEXITSTATUS(raw), 1);
  std::stringstream ss;
  ss << std::ifstream(err).rdbuf();
  const std::string msg = ss.str();
  EXPECT_EQ(msg, "roofbench: error: " + run + ":3: measured_s: 'fast' is not a number\n");
  EXPECT_EQ(std::count(msg.begin(), msg.end(), '\n'), 1);
  EXPECT_FALSE(fs::exists(out));
  EXPECT_FALSE(roofbench::testing::temporary_left_beside(out));
}

// ---- the noise floor: the measurement scored against itself ----

// Four rows with the halves of their repetitions: the second half off by +2 %, -4 %, +15 % and
// -30 % from the first (within 10 %: 2 of 4, median |difference| 9.5 %). Predictions as kFourRows.
const std::string kHalvesHeader =
    "op,impl,dtype,threads,batch,shape,measured_s,predicted_s,classic_s,status,measured_first_s,measured_second_s\n";
const std::string kHalvesRows = kHalvesHeader +
                                "gemm,opt,f32,2,1,gemm m=8 n=8 k=8,1,1.05,0.5,ok,1,1.02\n"
                                "gemm,opt,f32,2,1,gemm m=16 n=16 k=16,1,0.80,0.5,ok,1,0.96\n"
                                "gemm,opt,f32,2,1,gemm m=32 n=32 k=32,1,1.30,0.5,ok,2,2.3\n"
                                "gemm,opt,f32,2,1,gemm m=64 n=64 k=64,1,0.98,0.5,ok,1,0.7\n";
// A second run of three of those rows (one failed, one absent, one of a row never scored).
const std::string kRepeatRows = kHeader +
                                "gemm,opt,f32,2,1,gemm m=8 n=8 k=8,1.05,,,ok,,,,\n"
                                "gemm,opt,f32,2,1,gemm m=16 n=16 k=16,0.5,,,ok,,,,\n"
                                "gemm,opt,f32,2,1,gemm m=32 n=32 k=32,,,,mismatch,,,,\n"
                                "gemm,opt,f32,1,1,gemm m=64 n=64 k=64,1,,,ok,,,,\n";

TEST(Evaluate, NoiseFloorScoresTheHalvesAndASecondRunLikePredictions) {
  EvaluationInput in = read_evaluation(kHalvesRows, "run.csv");
  std::vector<GroupScore> g = group_scores(in.rows);
  expect_score(g.front().halves, 4, (2 + 4 + 15 + 30) / 4.0, 9.5, 50, 75, (2 - 4 + 15 - 30) / 4.0);
  EXPECT_EQ(g.front().repeat.rows, 0u);
  EXPECT_EQ(noise_floor(g.front()), &g.front().halves);

  EXPECT_EQ(attach_repeat(in, kRepeatRows, "again.csv"), 2u);  // threads differ on the last: no match
  g = group_scores(in.rows);
  expect_score(g.front().repeat, 2, (5 + 50) / 2.0, 27.5, 50, 50, (5 - 50) / 2.0);
  EXPECT_EQ(noise_floor(g.front()), &g.front().repeat);  // a second run outranks the halves
  EXPECT_EQ(error_of([&] { attach_repeat(in, "op,impl\n", "bad.csv"); }),
            "bad.csv: missing column dtype (expected a CSV from `roofbench run`)");
  EXPECT_EQ(error_of([&] { attach_repeat(in, kHeader + "gemm,opt,f32,0,1,x,1,,,ok,,,,\n", "bad.csv"); }),
            "bad.csv:2: threads: '0' is not a positive integer");
}

TEST_F(EvaluateFiles, CommandSaysWhenTheMachineIsTooNoisyToJudgeAScore) {
  const std::string run = write("run.csv", kHalvesRows);
  const std::string out = (dir_ / "scores.csv").string();
  ::testing::internal::CaptureStdout();
  EXPECT_EQ(evaluate_command({run, 0, out}), 0);
  std::string printed = ::testing::internal::GetCapturedStdout();
  EXPECT_NE(
      printed.find("verdict: the machine repeats itself within 10% on only 50.0% of rows (two halves of one run), "
                   "below 90%: too noisy"),
      std::string::npos)
      << printed;
  EXPECT_NE(printed.find("fitted reaches 50.0% (1.00 of the floor)"), std::string::npos) << printed;
  std::ifstream in(out);
  const std::string scores((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(scores.find("all,all,all,all,halves,4,12.75,9.5,50,75,-4.25\n"), std::string::npos) << scores;
  EXPECT_EQ(scores.find(",repeat,"), std::string::npos) << scores;  // no second run given

  // A quiet machine: both halves agree on every row; the verdict lets the score stand.
  std::string quiet = kHalvesHeader;
  for (int m : {8, 16, 32, 64})
    quiet += fmt::format("gemm,opt,f32,2,1,gemm m={0} n={0} k={0},1,1.05,0.5,ok,1,1.01\n", m);
  ::testing::internal::CaptureStdout();
  EXPECT_EQ(evaluate_command({write("quiet.csv", quiet), 0, ""}), 0);
  printed = ::testing::internal::GetCapturedStdout();
  EXPECT_NE(printed.find("repeats itself within 10% on 100.0% of rows (two halves of one run): the prediction scores "
                         "above can be judged"),
            std::string::npos)
      << printed;

  // A CSV without halves and no --repeat: said, not guessed.
  ::testing::internal::CaptureStdout();
  EXPECT_EQ(evaluate_command({write("old.csv", kFourRows), 0, ""}), 0);
  printed = ::testing::internal::GetCapturedStdout();
  EXPECT_NE(printed.find("noise floor: not measured"), std::string::npos) << printed;

  // --repeat with no matching row is an error, not an empty floor.
  EXPECT_EQ(command_error({run, 0, "", write("other.csv", kHeader + "mv,opt,f32,2,1,mv m=1 k=1,1,,,ok,,,,\n")}),
            (dir_ / "other.csv").string() + ": no row matches a scored row of " + run +
                " (same op, impl, dtype, threads, batch and shape): not a second run of the same rows");
}

}  // namespace
