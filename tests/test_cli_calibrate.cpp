// The roofbench binary calibrating: a quick calibration writes a profile that reads back and
// lists every unit; an interrupted one writes none, a killed one picks up where it stopped.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "benchmarks/calib.h"
#include "kernels/core/cpu.h"
#include "predictor/profile.h"
#include "predictor/roofline.h"
#include "tests/cli_test.h"

namespace {

namespace fs = std::filesystem;

using namespace roofbench::testing;

}  // namespace

TEST_F(Cli, QuickCalibrationWritesAProfileThatReadsBack) {
  const fs::path out = dir_ / "profile.json";
  const Result r = run_roofbench("calibrate --quick --threads 1 --out " + out.string());
  ASSERT_EQ(r.status, 0) << r.err;
  const roofbench::Profile p = roofbench::read_profile(out.string());
  ASSERT_FALSE(p.peaks.empty());
  for (const auto& peak : p.peaks) EXPECT_GT(peak.ops_per_s, 1e9) << peak.dtype;  // any AVX2 core does > 1 GFLOP/s
  bool dram = false;
  for (const auto& b : p.bandwidth) dram = dram || (b.level == roofbench::MemoryLevel::DRAM && b.kernel == "read");
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
    EXPECT_EQ(l.threads, 1) << roofbench::name(l.level);
    EXPECT_GT(l.bytes, 0) << roofbench::name(l.level);
    latency[std::string(roofbench::name(l.level))] = l.ns_per_load;
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
