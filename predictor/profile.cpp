#include "predictor/profile.h"

#include <fmt/format.h>

#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>

#include "kernels/core/cpu.h"
#include "kernels/core/dtype.h"
#include "kernels/registry.h"
#include "kernels/core/text_file.h"

namespace roofbench {

namespace {
constexpr const char* kShapeClasses[] = {"dense", "depthwise", "grouped", "pointwise"};  // ShapeClass order

template <class E, std::size_t N>
std::optional<E> parse_name(const char* const (&names)[N], std::string_view s) {
  for (std::size_t i = 0; i < N; ++i)
    if (s == names[i]) return static_cast<E>(i);
  return std::nullopt;
}
}  // namespace

std::string_view name(MemoryLevel l) { return kMemoryLevels[static_cast<std::size_t>(l)]; }
std::optional<MemoryLevel> parse_memory_level(std::string_view s) { return parse_name<MemoryLevel>(kMemoryLevels, s); }
std::string_view name(ShapeClass c) { return kShapeClasses[static_cast<std::size_t>(c)]; }
std::optional<ShapeClass> parse_shape_class(std::string_view s) { return parse_name<ShapeClass>(kShapeClasses, s); }

namespace {

using nlohmann::json;

// Strings from the machine (the CPU model, a hostname) are not guaranteed UTF-8; replacing
// bad bytes keeps dump() from throwing halfway through a profile or an error message.
std::string dump(const json& v, int indent = -1) { return v.dump(indent, ' ', false, json::error_handler_t::replace); }

// A string from the document, quoted and escaped as JSON: a key or value holding a newline
// must not break the one-line message ("f\n32" prints as "f\n32", "f33" as "f33").
std::string json_quoted(const std::string& s) { return dump(json(s)); }

// What a bad value was, short enough for a one-line message. dump() escapes control
// characters, so the result never contains a newline.
std::string found(const json& v) {
  if (v.is_null()) return "null";
  std::string text;
  // dump() would print NaN and infinity as "null", which hides the actual problem.
  if (v.is_number_float() && !std::isfinite(v.get<double>()))
    text = fmt::format("{}", v.get<double>());
  else
    text = dump(v);
  if (text.size() > 40) text = text.substr(0, 37) + "...";
  return fmt::format("{} {}", v.type_name(), text);
}

// Validates one document. Every check names the key and its JSON pointer (RFC 6901; the keys
// are fixed identifiers, so no ~0/~1 escaping is needed).
class Reader {
 public:
  explicit Reader(std::string_view source) : source_(source) {}

  [[noreturn]] void fail(const std::string& ptr, std::string_view what) const {
    if (ptr.empty()) throw ProfileError(fmt::format("{}: {}", source_, what));
    throw ProfileError(fmt::format("{}: {} (at {})", source_, what, ptr));
  }

  const json& require(const json& obj, const char* key, const std::string& ptr) const {
    const auto it = obj.find(key);
    if (it == obj.end()) fail(ptr + "/" + key, fmt::format("missing key \"{}\"", key));
    return *it;
  }

  const json* optional(const json& obj, const char* key) const {
    const auto it = obj.find(key);
    return it == obj.end() ? nullptr : &*it;
  }

  void expect_object(const json& v, const char* what, const std::string& ptr) const {
    if (!v.is_object()) fail(ptr, fmt::format("{} must be an object, found {}", what, found(v)));
  }

  void expect_array(const json& v, const char* what, const std::string& ptr) const {
    if (!v.is_array()) fail(ptr, fmt::format("{} must be an array, found {}", what, found(v)));
  }

  std::string string(const json& v, const char* key, const std::string& ptr) const {
    if (!v.is_string()) fail(ptr, fmt::format("\"{}\" must be a string, found {}", key, found(v)));
    return v.get<std::string>();
  }

  // Integers only: 2.0 is rejected like "2", because a float where a count belongs means the
  // writer computed it, and the value may not be what it meant.
  std::int64_t integer(const json& v, const char* key, const std::string& ptr, std::int64_t min,
                       std::int64_t max = INT64_MAX) const {
    if (!v.is_number_integer()) fail(ptr, fmt::format("\"{}\" must be an integer, found {}", key, found(v)));
    const bool too_big = v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(max);
    const std::int64_t x = too_big ? max : v.get<std::int64_t>();
    if (too_big || x > max) fail(ptr, fmt::format("\"{}\" must be <= {}, found {}", key, max, dump(v)));
    if (x < min) fail(ptr, fmt::format("\"{}\" must be >= {}, found {}", key, min, x));
    return x;
  }

  double number(const json& v, const char* key, const std::string& ptr, bool positive) const {
    if (!v.is_number()) fail(ptr, fmt::format("\"{}\" must be a number, found {}", key, found(v)));
    const double x = v.get<double>();
    if (!std::isfinite(x)) fail(ptr, fmt::format("\"{}\" must be a finite number, found {}", key, x));
    if (positive && !(x > 0)) fail(ptr, fmt::format("\"{}\" must be > 0, found {}", key, dump(v)));
    if (!positive && x < 0) fail(ptr, fmt::format("\"{}\" must be >= 0, found {}", key, dump(v)));
    return x;
  }

  PeakEntry peak(const json& v, const std::string& ptr) const {
    expect_object(v, "a peak", ptr);
    PeakEntry e;
    e.dtype = string(require(v, "dtype", ptr), "dtype", ptr + "/dtype");
    if (!parse_dtype(e.dtype)) {
      std::vector<std::string_view> names;
      for (DType d : kAllDTypes) names.push_back(name(d));
      fail(ptr + "/dtype",
           fmt::format("unknown dtype {} (expected one of {})", json_quoted(e.dtype), fmt::join(names, ", ")));
    }
    e.threads = static_cast<int>(integer(require(v, "threads", ptr), "threads", ptr + "/threads", 1, INT_MAX));
    e.ops_per_s = number(require(v, "ops_per_s", ptr), "ops_per_s", ptr + "/ops_per_s", true);
    if (const json* isa = optional(v, "isa")) e.isa = string(*isa, "isa", ptr + "/isa");
    if (const json* s = optional(v, "spread")) e.spread = number(*s, "spread", ptr + "/spread", false);
    // Both optional: profiles written before every unit was measured have neither.
    if (const json* c = optional(v, "ops_per_cycle"))
      e.ops_per_cycle = number(*c, "ops_per_cycle", ptr + "/ops_per_cycle", false);
    if (const json* r = optional(v, "roof")) {
      if (!r->is_boolean()) fail(ptr + "/roof", fmt::format("\"roof\" must be true or false, found {}", found(*r)));
      e.roof = r->get<bool>();
    }
    return e;
  }

  BandwidthEntry bandwidth(const json& v, const std::string& ptr) const {
    expect_object(v, "a bandwidth entry", ptr);
    BandwidthEntry e;
    e.level = level(require(v, "level", ptr), ptr + "/level");
    e.capacity_bytes = integer(require(v, "capacity_bytes", ptr), "capacity_bytes", ptr + "/capacity_bytes", 0);
    e.threads = static_cast<int>(integer(require(v, "threads", ptr), "threads", ptr + "/threads", 1, INT_MAX));
    e.bytes_per_s = number(require(v, "bytes_per_s", ptr), "bytes_per_s", ptr + "/bytes_per_s", true);
    if (const json* k = optional(v, "kernel")) e.kernel = kernel(*k, ptr + "/kernel");
    return e;
  }

  KernelFit kernel_fit(const json& v, const std::string& ptr) const {
    expect_object(v, "a kernel fit", ptr);
    KernelFit k;
    k.op = key(v, "op", ptr, parse_op, "mv, gemm or conv2d");
    k.impl = key(v, "impl", ptr, parse_impl, "naive, opt, blas or onednn");
    k.dtype = key(v, "dtype", ptr, parse_dtype, "");
    k.threads = static_cast<int>(integer(require(v, "threads", ptr), "threads", ptr + "/threads", 1, INT_MAX));
    if (const json* var = optional(v, "variant")) k.variant = string(*var, "variant", ptr + "/variant");
    if (optional(v, "class"))
      k.shape_class = key(v, "class", ptr, parse_shape_class, "dense, pointwise, grouped or depthwise");
    k.compute_ops_per_s =
        number(require(v, "compute_ops_per_s", ptr), "compute_ops_per_s", ptr + "/compute_ops_per_s", true);
    const json& bw = require(v, "bytes_per_s", ptr);
    expect_object(bw, "\"bytes_per_s\"", ptr + "/bytes_per_s");
    for (const char* level : kMemoryLevels)
      k.bytes_per_s.push_back(
          number(require(bw, level, ptr + "/bytes_per_s"), level, ptr + "/bytes_per_s/" + level, true));
    k.overhead_s = number(require(v, "overhead_s", ptr), "overhead_s", ptr + "/overhead_s", false);
    // Optional: profiles written before it existed predict without it.
    if (const json* g = optional(v, "group_overhead_s"))
      k.group_overhead_s = number(*g, "group_overhead_s", ptr + "/group_overhead_s", false);
    k.blend = number(require(v, "blend", ptr), "blend", ptr + "/blend", false);
    if (const json* n = optional(v, "points"))
      k.points = static_cast<int>(integer(*n, "points", ptr + "/points", 0, INT_MAX));
    if (const json* e = optional(v, "train_mape")) k.train_mape = number(*e, "train_mape", ptr + "/train_mape", false);
    // Optional: profiles fitted before these terms existed predict without them.
    if (const json* b = optional(v, "blocking")) {
      if (!b->is_boolean()) fail(ptr + "/blocking", "must be true or false");
      k.blocking = b->get<bool>();
    }
    if (const json* r = optional(v, "region_overhead_s"))
      k.region_overhead_s = number(*r, "region_overhead_s", ptr + "/region_overhead_s", false);
    if (const json* pk = optional(v, "pack_elems_per_s"))
      k.pack_elems_per_s = number(*pk, "pack_elems_per_s", ptr + "/pack_elems_per_s", false);
    if (const json* h = optional(v, "half_mnk")) {
      if (!h->is_array() || h->size() != 3) fail(ptr + "/half_mnk", "must be an array of 3 numbers");
      for (std::size_t i = 0; i < 3; ++i)
        k.half_mnk[i] = number((*h)[i], "half_mnk", fmt::format("{}/half_mnk/{}", ptr, i), false);
    }
    if (const json* e = optional(v, "cv_mape")) {
      if (!e->is_number()) fail(ptr + "/cv_mape", "must be a number");
      k.cv_mape = e->get<double>();
    }
    return k;
  }

  LatencyEntry latency(const json& v, const std::string& ptr) const {
    expect_object(v, "a latency entry", ptr);
    LatencyEntry e;
    e.level = level(require(v, "level", ptr), ptr + "/level");
    e.bytes = integer(require(v, "bytes", ptr), "bytes", ptr + "/bytes", 1);
    e.threads = static_cast<int>(integer(require(v, "threads", ptr), "threads", ptr + "/threads", 1, INT_MAX));
    e.ns_per_load = number(require(v, "ns_per_load", ptr), "ns_per_load", ptr + "/ns_per_load", true);
    return e;
  }

  LatencyPoint latency_point(const json& v, const std::string& ptr, const LatencyPoint* previous) const {
    expect_object(v, "a latency curve point", ptr);
    LatencyPoint p;
    p.bytes = integer(require(v, "bytes", ptr), "bytes", ptr + "/bytes", 1);
    if (previous && p.bytes < previous->bytes)
      fail(ptr + "/bytes",
           fmt::format("points must be in ascending bytes, found {} after {}", p.bytes, previous->bytes));
    p.ns_per_load = number(require(v, "ns_per_load", ptr), "ns_per_load", ptr + "/ns_per_load", true);
    return p;
  }

  BandwidthCurve curve(const json& v, const std::string& ptr) const {
    expect_object(v, "a curve", ptr);
    BandwidthCurve c;
    c.kernel = kernel(require(v, "kernel", ptr), ptr + "/kernel");
    c.threads = static_cast<int>(integer(require(v, "threads", ptr), "threads", ptr + "/threads", 1, INT_MAX));
    const json& points = require(v, "points", ptr);
    expect_array(points, "\"points\"", ptr + "/points");
    for (std::size_t i = 0; i < points.size(); ++i) {
      const std::string at = fmt::format("{}/points/{}", ptr, i);
      const json& p = points[i];
      expect_object(p, "a curve point", at);
      CurvePoint cp;
      cp.bytes = integer(require(p, "bytes", at), "bytes", at + "/bytes", 1);
      // detect_levels does not care, but everything that plots or interpolates a sweep does.
      if (!c.points.empty() && cp.bytes < c.points.back().bytes)
        fail(at + "/bytes",
             fmt::format("points must be in ascending bytes, found {} after {}", cp.bytes, c.points.back().bytes));
      cp.bytes_per_s = number(require(p, "bytes_per_s", at), "bytes_per_s", at + "/bytes_per_s", true);
      if (const json* s = optional(p, "spread")) cp.spread = number(*s, "spread", at + "/spread", false);
      c.points.push_back(cp);
    }
    return c;
  }

 private:
  // A name the file spells as a string and memory holds typed; "expected" lists the names
  // for the message, empty when the message has never listed them.
  template <class Parse>
  auto key(const json& v, const char* k, const std::string& ptr, Parse parse, std::string_view expected) const ->
      typename std::invoke_result_t<Parse, std::string_view>::value_type {
    const std::string s = string(require(v, k, ptr), k, ptr + "/" + k);
    const auto parsed = parse(s);
    if (!parsed)
      fail(ptr + "/" + k, expected.empty() ? fmt::format("unknown {} {}", k, json_quoted(s))
                                           : fmt::format("unknown {} {} (expected {})", k, json_quoted(s), expected));
    return *parsed;
  }

  MemoryLevel level(const json& v, const std::string& ptr) const {
    const std::string s = string(v, "level", ptr);
    const std::optional<MemoryLevel> l = parse_memory_level(s);
    if (!l)
      fail(ptr, fmt::format("unknown level {} (expected one of {})", json_quoted(s), fmt::join(kMemoryLevels, ", ")));
    return *l;
  }

  std::string kernel(const json& v, const std::string& ptr) const {
    std::string k = string(v, "kernel", ptr);
    if (k.empty()) fail(ptr, "\"kernel\" must not be empty");
    return k;
  }

  std::string_view source_;
};

// nlohmann::json copies, compares and prints recursively (parsing and destroying do not), so
// a document nested thousands of levels deep would overflow the stack here or in found(); a
// profile is 4 levels deep. Walked with an explicit stack, before anything else looks at j.
constexpr int kMaxDepth = 64;
void check_depth(const json& j, const Reader& r) {
  std::vector<std::pair<const json*, int>> todo{{&j, 1}};
  while (!todo.empty()) {
    const auto [v, depth] = todo.back();
    todo.pop_back();
    if (!v->is_structured()) continue;
    if (depth > kMaxDepth) r.fail("", fmt::format("the JSON is nested deeper than {} levels", kMaxDepth));
    for (const json& child : *v) todo.emplace_back(&child, depth + 1);
  }
}

}  // namespace

std::optional<std::string> other_machine_warning(const Profile& p, std::string_view source) {
  const auto cpu_it = p.machine.find("cpu");
  const auto cpus_it = p.machine.find("logical_cpus");
  const std::string their_cpu = cpu_it != p.machine.end() && cpu_it->is_string() ? cpu_it->get<std::string>() : "";
  const int their_cpus = cpus_it != p.machine.end() && cpus_it->is_number_integer() ? cpus_it->get<int>() : 0;
  if ((their_cpu.empty() || their_cpu == cpu().model) && (their_cpus == 0 || their_cpus == cpu().logical_cpus))
    return std::nullopt;
  return fmt::format(
      "{} was calibrated on '{}' with {} logical CPUs, this is '{}' with {}: its predictions describe "
      "that machine (roofbench calibrate measures this one)",
      source, printable(their_cpu), their_cpus, printable(cpu().model), cpu().logical_cpus);
}

nlohmann::json to_json(const Profile& p) {
  json peaks = json::array();
  for (const PeakEntry& e : p.peaks)
    peaks.push_back({{"dtype", e.dtype},
                     {"threads", e.threads},
                     {"ops_per_s", e.ops_per_s},
                     {"isa", e.isa},
                     {"spread", e.spread},
                     {"ops_per_cycle", e.ops_per_cycle},
                     {"roof", e.roof}});
  json bandwidth = json::array();
  for (const BandwidthEntry& e : p.bandwidth)
    bandwidth.push_back({{"level", name(e.level)},
                         {"capacity_bytes", e.capacity_bytes},
                         {"threads", e.threads},
                         {"bytes_per_s", e.bytes_per_s},
                         {"kernel", e.kernel}});
  json curves = json::array();
  for (const BandwidthCurve& c : p.curves) {
    json points = json::array();
    for (const CurvePoint& pt : c.points)
      points.push_back({{"bytes", pt.bytes}, {"bytes_per_s", pt.bytes_per_s}, {"spread", pt.spread}});
    curves.push_back({{"kernel", c.kernel}, {"threads", c.threads}, {"points", std::move(points)}});
  }
  json latency = json::array();
  for (const LatencyEntry& e : p.latency)
    latency.push_back(
        {{"level", name(e.level)}, {"bytes", e.bytes}, {"threads", e.threads}, {"ns_per_load", e.ns_per_load}});
  json latency_curve = json::array();
  for (const LatencyPoint& pt : p.latency_curve)
    latency_curve.push_back({{"bytes", pt.bytes}, {"ns_per_load", pt.ns_per_load}});
  json kernels = json::array();
  for (const KernelFit& k : p.kernels) kernels.push_back(to_json(k));
  json canary = json::array();
  for (const CanaryEntry& c : p.canary) canary.push_back({{"threads", c.threads}, {"seconds", c.seconds}});
  return {{"schema", p.schema},
          {"machine", p.machine},
          {"peaks", std::move(peaks)},
          {"bandwidth", std::move(bandwidth)},
          {"latency", std::move(latency)},
          {"latency_curve", std::move(latency_curve)},
          {"curves", std::move(curves)},
          {"kernels", std::move(kernels)},
          {"spec", p.spec},
          {"training", p.training},
          {"energy", p.energy},
          {"unfitted", p.unfitted},
          {"canary", std::move(canary)}};
}

nlohmann::json to_json(const KernelFit& k) {
  json bw = json::object();
  for (std::size_t i = 0; i < k.bytes_per_s.size() && i < std::size(kMemoryLevels); ++i)
    bw[kMemoryLevels[i]] = k.bytes_per_s[i];
  return {{"op", name(k.op)},
          {"impl", name(k.impl)},
          {"dtype", name(k.dtype)},
          {"threads", k.threads},
          {"class", name(k.shape_class)},
          {"variant", k.variant},
          {"compute_ops_per_s", k.compute_ops_per_s},
          {"bytes_per_s", bw},
          {"overhead_s", k.overhead_s},
          {"group_overhead_s", k.group_overhead_s},
          {"blend", k.blend},
          {"points", k.points},
          {"train_mape", k.train_mape},
          {"cv_mape", k.cv_mape},
          {"blocking", k.blocking},
          {"region_overhead_s", k.region_overhead_s},
          {"half_mnk", k.half_mnk},
          {"pack_elems_per_s", k.pack_elems_per_s}};
}

void check_kernel_fit(const KernelFit& k, std::string_view source) { Reader(source).kernel_fit(to_json(k), ""); }

namespace {

// The sections after the kernels, each optional: spec, training, energy, unfitted, canary.
void read_added_sections(const json& j, const Reader& r, Profile& p) {
  if (const json* spec = r.optional(j, "spec")) {
    r.expect_object(*spec, "\"spec\"", "/spec");
    p.spec = *spec;
  }
  if (const json* training = r.optional(j, "training")) {
    r.expect_array(*training, "\"training\"", "/training");
    p.training = *training;
  }
  if (const json* energy = r.optional(j, "energy")) {
    r.expect_object(*energy, "\"energy\"", "/energy");
    p.energy = *energy;
  }
  if (const json* unfitted = r.optional(j, "unfitted")) {
    r.expect_array(*unfitted, "\"unfitted\"", "/unfitted");
    for (std::size_t i = 0; i < unfitted->size(); ++i) {
      const std::string ptr = fmt::format("/unfitted/{}", i);
      const json& u = (*unfitted)[i];
      r.expect_object(u, "an unfitted kernel", ptr);
      for (const char* key : {"op", "impl", "dtype", "class", "reason"})
        r.string(r.require(u, key, ptr), key, ptr + "/" + key);
      r.integer(r.require(u, "threads", ptr), "threads", ptr + "/threads", 1, INT_MAX);
    }
    p.unfitted = *unfitted;
  }
  if (const json* canary = r.optional(j, "canary")) {
    r.expect_array(*canary, "\"canary\"", "/canary");
    for (std::size_t i = 0; i < canary->size(); ++i) {
      const std::string ptr = fmt::format("/canary/{}", i);
      const json& c = (*canary)[i];
      r.expect_object(c, "a canary entry", ptr);
      p.canary.push_back({.threads = static_cast<int>(
                              r.integer(r.require(c, "threads", ptr), "threads", ptr + "/threads", 1, INT_MAX)),
                          .seconds = r.number(r.require(c, "seconds", ptr), "seconds", ptr + "/seconds", true)});
    }
  }
}

}  // namespace

Profile profile_from_json(const nlohmann::json& j, std::string_view source) {
  const Reader r(source);
  check_depth(j, r);
  if (!j.is_object()) r.fail("", fmt::format("the top level must be a JSON object, found {}", found(j)));

  // The schema first: a profile of another schema may legitimately lack every other key.
  Profile p;
  const json& schema = r.require(j, "schema", "");
  if (!schema.is_number_integer())
    r.fail("/schema", fmt::format("\"schema\" must be an integer, found {}", found(schema)));
  if (schema != kProfileSchema)
    r.fail("/schema",
           fmt::format("schema {} is not supported, this roofbench reads schema {}", dump(schema), kProfileSchema));
  p.schema = kProfileSchema;

  p.machine = r.require(j, "machine", "");
  r.expect_object(p.machine, "\"machine\"", "/machine");
  // The clock the peaks' ops_per_cycle were divided by; optional (older profiles lack it).
  if (const json* hz = r.optional(p.machine, "measured_hz")) r.number(*hz, "measured_hz", "/machine/measured_hz", true);

  const json& peaks = r.require(j, "peaks", "");
  r.expect_array(peaks, "\"peaks\"", "/peaks");
  for (std::size_t i = 0; i < peaks.size(); ++i) p.peaks.push_back(r.peak(peaks[i], fmt::format("/peaks/{}", i)));

  const json& bandwidth = r.require(j, "bandwidth", "");
  r.expect_array(bandwidth, "\"bandwidth\"", "/bandwidth");
  for (std::size_t i = 0; i < bandwidth.size(); ++i)
    p.bandwidth.push_back(r.bandwidth(bandwidth[i], fmt::format("/bandwidth/{}", i)));

  // Optional: profiles calibrated before latency was measured still load (and predict: nothing
  // reads latency yet but the report).
  if (const json* latency = r.optional(j, "latency")) {
    r.expect_array(*latency, "\"latency\"", "/latency");
    for (std::size_t i = 0; i < latency->size(); ++i)
      p.latency.push_back(r.latency((*latency)[i], fmt::format("/latency/{}", i)));
  }
  if (const json* curve = r.optional(j, "latency_curve")) {
    r.expect_array(*curve, "\"latency_curve\"", "/latency_curve");
    for (std::size_t i = 0; i < curve->size(); ++i)
      p.latency_curve.push_back(r.latency_point((*curve)[i], fmt::format("/latency_curve/{}", i),
                                                p.latency_curve.empty() ? nullptr : &p.latency_curve.back()));
  }
  if (const json* curves = r.optional(j, "curves")) {
    r.expect_array(*curves, "\"curves\"", "/curves");
    for (std::size_t i = 0; i < curves->size(); ++i)
      p.curves.push_back(r.curve((*curves)[i], fmt::format("/curves/{}", i)));
  }
  if (const json* kernels = r.optional(j, "kernels")) {
    r.expect_array(*kernels, "\"kernels\"", "/kernels");
    for (std::size_t i = 0; i < kernels->size(); ++i)
      p.kernels.push_back(r.kernel_fit((*kernels)[i], fmt::format("/kernels/{}", i)));
  }
  read_added_sections(j, r, p);
  return p;
}

void write_profile(const std::string& path, const Profile& p) {
  const json j = to_json(p);
  // Never write what read_profile would reject: a NaN measurement would otherwise reach the
  // file as null and only fail later, far from the calibration that produced it.
  profile_from_json(j, fmt::format("{}: refusing to write an invalid profile", path));

  try {
    write_text_atomically(path, dump(j, 2) + "\n");
  } catch (const std::runtime_error& e) {
    throw ProfileError(e.what());
  }
}

Profile read_profile(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw ProfileError(fmt::format("{}: cannot open: is a directory", path));
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int err = errno;
    throw ProfileError(
        fmt::format("{}: cannot open: {}", path, err != 0 ? std::generic_category().message(err) : "open failed"));
  }
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw ProfileError(fmt::format("{}: cannot read: {}", path, std::generic_category().message(errno)));
  if (text.find_first_not_of(" \t\r\n") == std::string::npos)
    throw ProfileError(fmt::format("{}: not valid JSON: the file is empty", path));

  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {  // parse_error, or out_of_range for a number like 1e400
    // what() is "[json.exception.parse_error.101] parse error at line 1, column 2: ..."; the
    // bracketed id means nothing to a user. It has no newline, but the guard costs nothing.
    std::string reason = e.what();
    if (const auto end = reason.find("] "); reason.starts_with("[json.exception") && end != std::string::npos)
      reason.erase(0, end + 2);
    for (char& c : reason)
      if (c == '\n' || c == '\r') c = ' ';
    throw ProfileError(fmt::format("{}: not valid JSON: {}", path, reason));
  }
  return profile_from_json(j, path);
}

}  // namespace roofbench
