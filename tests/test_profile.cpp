// The hardware profile as every later step meets it: what calibrate writes reads back
// unchanged, and every malformed file is one ProfileError line naming the key. Then the memory
// levels, detected from a synthetic sweep whose answer is known.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "tests/fixtures.h"
#include "kernels/core/cpu.h"
#include "predictor/levels.h"
#include "predictor/profile.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using roofbench::BandwidthCurve;
using roofbench::BandwidthEntry;
using roofbench::CacheCapacity;
using roofbench::CurvePoint;
using roofbench::MemoryLevel;
using roofbench::Profile;
using roofbench::ProfileError;

Profile full_profile() {
  Profile p;
  p.machine = {{"cpu", "Test CPU @ 3.0GHz"}, {"cores", 2},
               {"isa", {"avx2", "fma"}},     {"caches", {{"L1", 32768}, {"L2", 524288}, {"L3", 33554432}}},
               {"compiler", "GCC 12.2"},     {"date", "2024-01-01T00:00:00Z"},
               {"host", "testhost"}};
  p.peaks = {{"f32", 2, 2.2912345678901e11, "avx2+fma", 0.0125}, {"f64", 1, 5.7e10, "avx2+fma", 0}};
  p.bandwidth = {{MemoryLevel::L1, 65536, 2, 3.2e11, "read"},
                 {MemoryLevel::L2, 1048576, 2, 1.6e11, "read"},
                 {MemoryLevel::L3, 33554432, 2, 9.1e10, "copy"},
                 {MemoryLevel::DRAM, 0, 2, 2.5e10, "stream"}};
  p.curves = {{"read", 2, {{4096, 3.3e11, 0.01}, {8192, 3.25e11, 0.02}, {268435456, 2.4e10, 0}}}};
  p.latency = {{MemoryLevel::L1, 16384, 1, 1.1},
               {MemoryLevel::L2, 262144, 1, 3.4},
               {MemoryLevel::L3, 16777216, 1, 11.25},
               {MemoryLevel::DRAM, 134217728, 1, 97.5}};
  p.latency_curve = {{4096, 1.0}, {8192, 1.05}, {134217728, 97.5}};
  p.kernels = {{roofbench::Op::gemm,
                roofbench::Impl::opt,
                roofbench::DType::f32,
                2,
                roofbench::ShapeClass::dense,
                "gemm_f32_6x16__avx2_fma",
                1.9e11,
                {4e11, 1.5e11, 8e10, 2.4e10},
                3.5e-6,
                2.5e-7,
                0,
                24,
                0.031}};
  p.spec = {{"peak_f32", 3.84e11}, {"dram_bytes_per_s", 5.12e10}};
  p.unfitted = json::array({{{"op", "mv"},
                             {"impl", "opt"},
                             {"dtype", "f32"},
                             {"threads", 2},
                             {"class", "dense"},
                             {"reason", "no f32 peak at 2 threads"}}});
  return p;
}

class ProfileFile : public roofbench::testing::TempDirTest {};

using roofbench::testing::slurp;

// Runs f, which must throw a ProfileError of one line containing every fragment.
void expect_error(const std::function<void()>& f, const std::vector<std::string>& fragments) {
  try {
    f();
    ADD_FAILURE() << "no ProfileError, expected one mentioning " << ::testing::PrintToString(fragments);
  } catch (const ProfileError& e) {
    const std::string msg = e.what();
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    for (const std::string& frag : fragments)
      EXPECT_NE(msg.find(frag), std::string::npos) << "'" << frag << "' not in: " << msg;
  }
}

// A valid profile's JSON with one change applied, checked by profile_from_json.
void expect_json_error(const std::function<void(json&)>& change, const std::vector<std::string>& fragments) {
  json j = roofbench::to_json(full_profile());
  change(j);
  std::vector<std::string> all = fragments;
  all.push_back("mem.json: ");
  expect_error([&] { roofbench::profile_from_json(j, "mem.json"); }, all);
}

TEST_F(ProfileFile, RoundTripsEveryField) {
  const Profile p = full_profile();
  const std::string path = (dir_ / "profile.json").string();
  roofbench::write_profile(path, p);
  EXPECT_EQ(roofbench::read_profile(path), p);
  EXPECT_FALSE(roofbench::testing::temporary_left_beside(path));
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator{}), 1);

  // The file is plain JSON with design.md's fixed keys, readable without roofbench.
  const json j = json::parse(slurp(path));
  for (const char* key : {"schema", "machine", "peaks", "bandwidth", "latency", "kernels", "spec", "curves"})
    EXPECT_TRUE(j.contains(key)) << key;
  // design.md's latency entry, with exactly its key names.
  EXPECT_EQ(j["latency"][3], json({{"level", "DRAM"}, {"bytes", 134217728}, {"threads", 1}, {"ns_per_load", 97.5}}));
  EXPECT_EQ(j["schema"], roofbench::kProfileSchema);
  EXPECT_EQ(j["peaks"][0]["dtype"], "f32");
  EXPECT_EQ(j["bandwidth"][3]["level"], "DRAM");
  EXPECT_EQ(j["curves"][0]["points"][2]["bytes"], 268435456);

  // Writing again replaces the file whole.
  Profile q = p;
  q.peaks.pop_back();
  roofbench::write_profile(path, q);
  EXPECT_EQ(roofbench::read_profile(path), q);
  EXPECT_FALSE(roofbench::testing::temporary_left_beside(path));
}

TEST(ProfileJson, RoundTripsInMemory) {
  const Profile p = full_profile();
  EXPECT_EQ(roofbench::profile_from_json(roofbench::to_json(p), "mem"), p);
  EXPECT_EQ(roofbench::profile_from_json(roofbench::to_json(Profile{}), "mem"), Profile{});
}

TEST(ProfileJson, OptionalKeysTakeTheirDefaults) {
  const json j = {
      {"schema", 1},
      {"machine", json::object()},
      {"peaks", {{{"dtype", "i8"}, {"threads", 1}, {"ops_per_s", 1e12}}}},
      {"bandwidth", {{{"level", "L2"}, {"capacity_bytes", 524288}, {"threads", 1}, {"bytes_per_s", 1e11}}}}};
  const Profile p = roofbench::profile_from_json(j, "mem");
  ASSERT_EQ(p.peaks.size(), 1u);
  EXPECT_EQ(p.peaks[0].isa, "");
  EXPECT_EQ(p.peaks[0].spread, 0);
  ASSERT_EQ(p.bandwidth.size(), 1u);
  EXPECT_EQ(p.bandwidth[0].kernel, "read");
  EXPECT_TRUE(p.curves.empty());
  EXPECT_TRUE(p.latency.empty());  // a profile calibrated before latency was measured still loads
  EXPECT_TRUE(p.latency_curve.empty());
  EXPECT_TRUE(p.kernels.empty());
  EXPECT_EQ(p.spec, json::object());

  // A fit written before group_overhead_s existed predicts without it.
  json old = j;
  old["kernels"] = {{{"op", "conv2d"},
                     {"impl", "blas"},
                     {"dtype", "f32"},
                     {"threads", 1},
                     {"class", "depthwise"},
                     {"compute_ops_per_s", 1e11},
                     {"bytes_per_s", {{"L1", 4e11}, {"L2", 2e11}, {"L3", 1e11}, {"DRAM", 2e10}}},
                     {"overhead_s", 1e-6},
                     {"blend", 0}}};
  const Profile q = roofbench::profile_from_json(old, "mem");
  ASSERT_EQ(q.kernels.size(), 1u);
  EXPECT_EQ(q.kernels[0].group_overhead_s, 0);
}

TEST_F(ProfileFile, UnreadableFilesAreOneLineErrors) {
  const std::string missing = (dir_ / "missing.json").string();
  expect_error([&] { roofbench::read_profile(missing); }, {missing + ": cannot open"});
  expect_error([&] { roofbench::read_profile(dir_.string()); }, {dir_.string() + ": cannot open"});

  const std::string empty = write("empty.json", "");
  expect_error([&] { roofbench::read_profile(empty); }, {empty + ": not valid JSON", "empty"});

  const std::string brace = write("brace.json", "{");
  expect_error([&] { roofbench::read_profile(brace); }, {brace + ": not valid JSON", "line 1"});

  const std::string text = roofbench::to_json(full_profile()).dump(2);
  const std::string cut = write("cut.json", text.substr(0, text.size() / 2));
  expect_error([&] { roofbench::read_profile(cut); }, {cut + ": not valid JSON"});

  const std::string array = write("array.json", "[1, 2]");
  expect_error([&] { roofbench::read_profile(array); }, {array + ": ", "object", "array"});

  const std::string schema2 = write("schema2.json", R"({"schema": 2, "machine": {}, "peaks": [], "bandwidth": []})");
  expect_error([&] { roofbench::read_profile(schema2); }, {schema2 + ": ", "schema 2", "schema 1", "(at /schema)"});
}

TEST(ProfileJson, MalformedProfilesNameTheKey) {
  expect_json_error([](json& j) { j = json::array(); }, {"top level must be a JSON object", "array"});
  expect_json_error([](json& j) { j.erase("schema"); }, {"missing key \"schema\"", "(at /schema)"});
  expect_json_error([](json& j) { j["schema"] = 2; }, {"schema 2 is not supported", "reads schema 1", "(at /schema)"});
  expect_json_error([](json& j) { j["schema"] = "1"; }, {"must be an integer", "(at /schema)"});
  expect_json_error([](json& j) { j["machine"] = "x"; }, {"\"machine\" must be an object", "(at /machine)"});
  expect_json_error([](json& j) { j.erase("peaks"); }, {"missing key \"peaks\"", "(at /peaks)"});
  expect_json_error([](json& j) { j["peaks"] = json::object(); }, {"\"peaks\" must be an array", "(at /peaks)"});
  expect_json_error([](json& j) { j.erase("bandwidth"); }, {"missing key \"bandwidth\"", "(at /bandwidth)"});
  expect_json_error([](json& j) { j["curves"] = 3; }, {"\"curves\" must be an array", "(at /curves)"});
  expect_json_error([](json& j) { j["kernels"] = json::object(); }, {"\"kernels\" must be an array", "(at /kernels)"});
  expect_json_error([](json& j) { j["kernels"][0]["op"] = "matmul"; }, {"unknown op \"matmul\"", "(at /kernels/0/op)"});
  expect_json_error([](json& j) { j["kernels"][0]["bytes_per_s"].erase("L2"); },
                    {"missing key \"L2\"", "(at /kernels/0/bytes_per_s/L2)"});
  expect_json_error([](json& j) { j["kernels"][0]["compute_ops_per_s"] = 0; },
                    {"must be > 0", "(at /kernels/0/compute_ops_per_s)"});
  expect_json_error([](json& j) { j["kernels"][0]["overhead_s"] = -1e-6; },
                    {"must be >= 0", "(at /kernels/0/overhead_s)"});
  expect_json_error([](json& j) { j["kernels"][0]["group_overhead_s"] = -1e-7; },
                    {"must be >= 0", "(at /kernels/0/group_overhead_s)"});
  expect_json_error([](json& j) { j["spec"] = json::array(); }, {"\"spec\" must be an object", "(at /spec)"});

  expect_json_error([](json& j) { j["peaks"][1] = 5; }, {"a peak must be an object", "(at /peaks/1)"});
  expect_json_error([](json& j) { j["peaks"][1]["ops_per_s"] = 0; },
                    {"\"ops_per_s\" must be > 0", "(at /peaks/1/ops_per_s)"});
  expect_json_error([](json& j) { j["peaks"][1]["ops_per_s"] = -1e9; }, {"must be > 0", "(at /peaks/1/ops_per_s)"});
  expect_json_error([](json& j) { j["peaks"][1]["ops_per_s"] = "1e9"; },
                    {"must be a number", "string", "(at /peaks/1/ops_per_s)"});
  expect_json_error([](json& j) { j["peaks"][0]["ops_per_s"] = std::numeric_limits<double>::quiet_NaN(); },
                    {"must be a finite number", "nan", "(at /peaks/0/ops_per_s)"});
  expect_json_error([](json& j) { j["peaks"][0]["ops_per_s"] = std::numeric_limits<double>::infinity(); },
                    {"must be a finite number", "(at /peaks/0/ops_per_s)"});
  expect_json_error([](json& j) { j["peaks"][0].erase("ops_per_s"); },
                    {"missing key \"ops_per_s\"", "(at /peaks/0/ops_per_s)"});
  expect_json_error([](json& j) { j["peaks"][0]["dtype"] = "f33"; },
                    {"unknown dtype \"f33\"", "f64, f32", "(at /peaks/0/dtype)"});
  expect_json_error([](json& j) { j["peaks"][0]["dtype"] = 32; },
                    {"\"dtype\" must be a string", "(at /peaks/0/dtype)"});
  expect_json_error([](json& j) { j["peaks"][0]["threads"] = 0; },
                    {"\"threads\" must be >= 1", "(at /peaks/0/threads)"});
  expect_json_error([](json& j) { j["peaks"][0]["threads"] = "2"; },
                    {"\"threads\" must be an integer", "(at /peaks/0/threads)"});
  expect_json_error([](json& j) { j["peaks"][0]["threads"] = 2.5; },
                    {"\"threads\" must be an integer", "(at /peaks/0/threads)"});
  expect_json_error([](json& j) { j["peaks"][0]["threads"] = 1ull << 40; },
                    {"\"threads\" must be <=", "(at /peaks/0/threads)"});
  expect_json_error([](json& j) { j["peaks"][0]["isa"] = 1; }, {"\"isa\" must be a string", "(at /peaks/0/isa)"});
  expect_json_error([](json& j) { j["peaks"][0]["spread"] = -0.1; },
                    {"\"spread\" must be >= 0", "(at /peaks/0/spread)"});

  expect_json_error([](json& j) { j["bandwidth"][2]["level"] = "L4"; },
                    {"unknown level \"L4\"", "(at /bandwidth/2/level)"});
  expect_json_error([](json& j) { j["bandwidth"][2].erase("bytes_per_s"); },
                    {"missing key \"bytes_per_s\"", "(at /bandwidth/2/bytes_per_s)"});
  expect_json_error([](json& j) { j["bandwidth"][2]["capacity_bytes"] = -1; },
                    {"\"capacity_bytes\" must be >= 0", "(at /bandwidth/2/capacity_bytes)"});
  expect_json_error([](json& j) { j["bandwidth"][0]["threads"] = 0; }, {"must be >= 1", "(at /bandwidth/0/threads)"});
  expect_json_error([](json& j) { j["bandwidth"][0]["kernel"] = ""; },
                    {"must not be empty", "(at /bandwidth/0/kernel)"});

  expect_json_error([](json& j) { j["curves"][0].erase("kernel"); },
                    {"missing key \"kernel\"", "(at /curves/0/kernel)"});
  expect_json_error([](json& j) { j["curves"][0]["points"] = 1; },
                    {"\"points\" must be an array", "(at /curves/0/points)"});
  expect_json_error([](json& j) { j["curves"][0]["points"][1]["bytes"] = 0; },
                    {"\"bytes\" must be >= 1", "(at /curves/0/points/1/bytes)"});
  expect_json_error([](json& j) { j["curves"][0]["points"][1]["bytes"] = 1024; },
                    {"ascending", "(at /curves/0/points/1/bytes)"});
  expect_json_error([](json& j) { j["curves"][0]["points"][2]["bytes_per_s"] = 0.0; },
                    {"must be > 0", "(at /curves/0/points/2/bytes_per_s)"});
  expect_json_error([](json& j) { j["curves"][0]["points"][2]["spread"] = "x"; },
                    {"must be a number", "(at /curves/0/points/2/spread)"});
}

TEST(ProfileJson, MalformedLatencyNamesTheKey) {
  expect_json_error([](json& j) { j["latency"] = json::object(); }, {"\"latency\" must be an array", "(at /latency)"});
  expect_json_error([](json& j) { j["latency"][0] = "L1"; }, {"a latency entry must be an object", "(at /latency/0)"});
  for (const char* key : {"level", "bytes", "threads", "ns_per_load"})
    expect_json_error([&](json& j) { j["latency"][1].erase(key); },
                      {fmt::format("missing key \"{}\"", key), fmt::format("(at /latency/1/{})", key)});
  expect_json_error([](json& j) { j["latency"][0]["level"] = "L4"; },
                    {"unknown level \"L4\"", "(at /latency/0/level)"});
  expect_json_error([](json& j) { j["latency"][0]["level"] = 1; },
                    {"\"level\" must be a string", "(at /latency/0/level)"});
  expect_json_error([](json& j) { j["latency"][0]["ns_per_load"] = 0; },
                    {"must be > 0", "(at /latency/0/ns_per_load)"});
  expect_json_error([](json& j) { j["latency"][0]["ns_per_load"] = -1.5; },
                    {"must be > 0", "(at /latency/0/ns_per_load)"});
  expect_json_error([](json& j) { j["latency"][0]["ns_per_load"] = "1.1"; },
                    {"must be a number", "string", "(at /latency/0/ns_per_load)"});
  expect_json_error([](json& j) { j["latency"][0]["ns_per_load"] = std::numeric_limits<double>::infinity(); },
                    {"must be a finite number", "(at /latency/0/ns_per_load)"});
  expect_json_error([](json& j) { j["latency"][2]["bytes"] = 0; }, {"\"bytes\" must be >= 1", "(at /latency/2/bytes)"});
  expect_json_error([](json& j) { j["latency"][2]["bytes"] = 1.5; }, {"must be an integer", "(at /latency/2/bytes)"});
  expect_json_error([](json& j) { j["latency"][2]["threads"] = 0; }, {"must be >= 1", "(at /latency/2/threads)"});

  expect_json_error([](json& j) { j["latency_curve"] = 2; },
                    {"\"latency_curve\" must be an array", "(at /latency_curve)"});
  expect_json_error([](json& j) { j["latency_curve"][1]["bytes"] = 1024; },
                    {"ascending", "(at /latency_curve/1/bytes)"});
  expect_json_error([](json& j) { j["latency_curve"][2]["ns_per_load"] = 0.0; },
                    {"must be > 0", "(at /latency_curve/2/ns_per_load)"});
  expect_json_error([](json& j) { j["latency_curve"][0].erase("ns_per_load"); },
                    {"missing key \"ns_per_load\"", "(at /latency_curve/0/ns_per_load)"});
}

TEST(ProfileJson, MalformedUnfittedNamesTheKey) {
  expect_json_error([](json& j) { j["unfitted"] = json::object(); },
                    {"\"unfitted\" must be an array", "(at /unfitted)"});
  expect_json_error([](json& j) { j["unfitted"][0] = "mv"; },
                    {"an unfitted kernel must be an object", "(at /unfitted/0)"});
  for (const char* key : {"op", "impl", "dtype", "class", "reason", "threads"})
    expect_json_error([&](json& j) { j["unfitted"][0].erase(key); },
                      {fmt::format("missing key \"{}\"", key), fmt::format("(at /unfitted/0/{})", key)});
  expect_json_error([](json& j) { j["unfitted"][0]["reason"] = 1; },
                    {"\"reason\" must be a string", "(at /unfitted/0/reason)"});
  expect_json_error([](json& j) { j["unfitted"][0]["threads"] = 0; }, {"must be >= 1", "(at /unfitted/0/threads)"});
}

TEST(ProfileJson, LongBadValuesAreShortened) {
  json j = roofbench::to_json(full_profile());
  j["peaks"][0]["ops_per_s"] = std::string(1000, 'x') + "\nnext line";
  try {
    roofbench::profile_from_json(j, "mem");
    FAIL();
  } catch (const ProfileError& e) {
    EXPECT_LT(std::string(e.what()).size(), 200u) << e.what();
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos);
  }
}

TEST_F(ProfileFile, FailedWritesLeaveNothingBehind) {
  const std::string nowhere = (dir_ / "no" / "such" / "dir" / "profile.json").string();
  expect_error([&] { roofbench::write_profile(nowhere, full_profile()); }, {nowhere + ": cannot write"});
  EXPECT_FALSE(roofbench::testing::temporary_left_beside(nowhere));

  // The rename fails (a directory is in the way) after the temporary file was written.
  const fs::path taken = dir_ / "taken";
  fs::create_directories(taken / "inside");
  expect_error([&] { roofbench::write_profile(taken.string(), full_profile()); }, {taken.string() + ": cannot write"});
  EXPECT_FALSE(roofbench::testing::temporary_left_beside(taken));
  EXPECT_TRUE(fs::is_directory(taken / "inside"));

  // A profile that could not be read back is never written.
  Profile bad = full_profile();
  bad.bandwidth[1].bytes_per_s = std::nan("");
  const std::string path = (dir_ / "bad.json").string();
  expect_error([&] { roofbench::write_profile(path, bad); }, {path + ": ", "(at /bandwidth/1/bytes_per_s)"});
  EXPECT_FALSE(fs::exists(path));
  EXPECT_FALSE(roofbench::testing::temporary_left_beside(path));
}

// ---- memory levels ----------------------------------------------------------------------------

constexpr std::int64_t KiB = 1024, MiB = 1024 * KiB;
const std::vector<CacheCapacity> kCaches = {
    {MemoryLevel::L1, 32 * KiB}, {MemoryLevel::L2, 512 * KiB}, {MemoryLevel::L3, 32 * MiB}};

// The bandwidth of a working set: flat inside a level, the geometric mean of the two levels
// within a factor 2 of a capacity (where a real sweep bends), +-3% of deterministic noise.
double synthetic_bandwidth(std::int64_t bytes, int i) {
  const std::int64_t caps[] = {32 * KiB, 512 * KiB, 32 * MiB};
  const double bw[] = {200e9, 100e9, 70e9, 25e9};
  double v = bw[3];
  for (int l = 2; l >= 0; --l) {
    if (2 * bytes <= caps[l])
      v = bw[l];
    else if (bytes <= 2 * caps[l])
      v = std::sqrt(bw[l] * bw[l + 1]);
  }
  return v * (1 + 0.03 * ((i % 3) - 1));
}

BandwidthCurve sweep(std::int64_t last) {
  BandwidthCurve c{"copy", 3, {}};
  for (int k = 0;; ++k) {
    const auto bytes = static_cast<std::int64_t>(std::llround(4 * KiB * std::pow(std::sqrt(2.0), k)));
    if (bytes > last) break;
    c.points.push_back({bytes, synthetic_bandwidth(bytes, k), 0});
  }
  return c;
}

std::vector<std::string> names(const std::vector<BandwidthEntry>& v) {
  std::vector<std::string> out;
  for (const BandwidthEntry& e : v) out.emplace_back(roofbench::name(e.level));
  return out;
}

TEST(Levels, DetectsEveryLevelOfAFullSweep) {
  const BandwidthCurve c = sweep(256 * MiB);
  ASSERT_EQ(c.points.back().bytes, 256 * MiB);
  const auto levels = roofbench::detect_levels(c, kCaches);
  ASSERT_EQ(names(levels), (std::vector<std::string>{"L1", "L2", "L3", "DRAM"}));
  const double want[] = {200e9, 100e9, 70e9, 25e9};
  const std::int64_t capacity[] = {32 * KiB, 512 * KiB, 32 * MiB, 0};
  for (int i = 0; i < 4; ++i) {
    EXPECT_NEAR(levels[i].bytes_per_s, want[i], 0.05 * want[i]) << roofbench::name(levels[i].level);
    EXPECT_EQ(levels[i].capacity_bytes, capacity[i]) << roofbench::name(levels[i].level);
    EXPECT_EQ(levels[i].threads, 3);
    EXPECT_EQ(levels[i].kernel, "copy");
  }
}

TEST(Levels, ShortSweepsDetectOnlyTheLevelsTheyReach) {
  // Up to 8 MiB: the L3 plateau is (1 MiB, 16 MiB], so 1.41..8 MiB are on it; DRAM needs
  // 128 MiB.
  EXPECT_EQ(names(roofbench::detect_levels(sweep(8 * MiB), kCaches)), (std::vector<std::string>{"L1", "L2", "L3"}));
  // Up to 1 MiB: nothing beyond the L2 plateau (64 KiB, 256 KiB].
  EXPECT_EQ(names(roofbench::detect_levels(sweep(1 * MiB), kCaches)), (std::vector<std::string>{"L1", "L2"}));
  EXPECT_TRUE(roofbench::detect_levels(BandwidthCurve{"read", 1, {}}, kCaches).empty());
  EXPECT_TRUE(roofbench::detect_levels(sweep(256 * MiB), {}).empty());
}

TEST(Levels, PlateauBoundsAndMedian) {
  // L1 plateau: bytes <= 16 KiB; L2 plateau: (64 KiB, 256 KiB]; DRAM: >= 128 MiB.
  const BandwidthCurve c{"read",
                         1,
                         {{4 * KiB, 1, 0},
                          {8 * KiB, 2, 0},
                          {12 * KiB, 3, 0},
                          {16 * KiB, 10, 0},  // median 2.5
                          {16 * KiB + 1, 99, 0},
                          {64 * KiB, 99, 0},  // transition
                          {64 * KiB + 1, 5, 0},
                          {256 * KiB, 7, 0},
                          {256 * KiB + 1, 99, 0},  // median 6
                          {128 * MiB - 1, 99, 0},
                          {128 * MiB, 4, 0}}};
  const auto levels = roofbench::detect_levels(c, kCaches);
  ASSERT_EQ(names(levels), (std::vector<std::string>{"L1", "L2", "DRAM"}));
  EXPECT_EQ(levels[0].bytes_per_s, 2.5);
  EXPECT_EQ(levels[1].bytes_per_s, 6);
  EXPECT_EQ(levels[2].bytes_per_s, 4);
  EXPECT_EQ(levels[2].capacity_bytes, 0);
}

TEST(Levels, CacheCapacitiesFollowSharing) {
  const roofbench::CpuInfo& info = roofbench::cpu();
  const auto one = roofbench::cache_capacities(1);
  const auto two = roofbench::cache_capacities(2);
  std::vector<std::pair<MemoryLevel, const roofbench::CacheLevel*>> present;
  for (const auto& [level, c] :
       {std::pair{MemoryLevel::L1, &info.l1d}, {MemoryLevel::L2, &info.l2}, {MemoryLevel::L3, &info.l3}})
    if (c->bytes > 0) present.emplace_back(level, c);
  ASSERT_EQ(one.size(), present.size());
  ASSERT_EQ(two.size(), present.size());
  for (std::size_t i = 0; i < present.size(); ++i) {
    const auto& [level, c] = present[i];
    const std::string_view name = roofbench::name(level);
    EXPECT_EQ(one[i].level, level) << name;
    EXPECT_EQ(two[i].level, level) << name;
    EXPECT_EQ(one[i].bytes, c->bytes) << name;  // one thread uses one instance
    if (c->shared_by == 1 && info.logical_cpus >= 2)
      EXPECT_EQ(two[i].bytes, 2 * one[i].bytes) << name << ": private, so two threads have two";
    else
      EXPECT_EQ(two[i].bytes, one[i].bytes) << name << ": shared by " << c->shared_by;
  }
  // Ascending, as detect_levels expects.
  for (std::size_t i = 1; i < one.size(); ++i) EXPECT_LT(one[i - 1].bytes, one[i].bytes);
}

}  // namespace

namespace roofbench {

// A profile from another machine loads (it is valid), but run, predict and model say whose
// figures they are.
TEST(Profile, AProfileFromAnotherMachineIsNamedInAWarning) {
  Profile p;
  p.machine = {{"cpu", cpu().model}, {"logical_cpus", cpu().logical_cpus}};
  EXPECT_FALSE(other_machine_warning(p, "mine.json"));
  p.machine = nlohmann::json::object();  // nothing recorded: nothing to compare
  EXPECT_FALSE(other_machine_warning(p, "mine.json"));
  p.machine = {{"cpu", "Other CPU 9000"}, {"logical_cpus", cpu().logical_cpus}};
  const auto w = other_machine_warning(p, "theirs.json");
  ASSERT_TRUE(w);
  EXPECT_NE(w->find("theirs.json was calibrated on 'Other CPU 9000'"), std::string::npos) << *w;
  p.machine = {{"cpu", cpu().model}, {"logical_cpus", cpu().logical_cpus + 1}};
  EXPECT_TRUE(other_machine_warning(p, "theirs.json"));
}

}  // namespace roofbench
