#include "benchmarks/model_measure.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/core/shape_file.h"
#include "benchmarks/csv.h"
#include "benchmarks/interrupt.h"
#include "benchmarks/measure.h"
#include "benchmarks/run.h"
#include "kernels/core/cost.h"
#include "kernels/registry.h"
#include "kernels/core/text_file.h"
#include "predictor/model.h"
#include "predictor/profile.h"

namespace roofbench {
namespace {

// Timing of one layer (shared by every layer with the same batched dimensions).
struct Measured {
  double seconds = 0;  // one execution: the least kept repetition (measure.h)
  double cv = 0;
  std::string variant;
  std::optional<std::string> failure;
};

std::string layer_name(const Shape& s, std::size_t index) {
  return s.name.empty() ? fmt::format("{}#{}", name(s.op()), index + 1) : s.name;
}

// 11678912 -> "11.68M": counts with an SI prefix, two decimals above a thousand.
std::string si(double x) {
  static const char* const prefix[] = {"", "k", "M", "G", "T", "P", "E"};
  int i = 0;
  while (x >= 1000 && i < 6) {
    x /= 1000;
    ++i;
  }
  return i == 0 ? fmt::format("{:.0f}", x) : fmt::format("{:.2f}{}", x, prefix[i]);
}

// 11678912 -> "11,678,912"
std::string grouped(std::int64_t x) {
  std::string digits = fmt::format("{}", x < 0 ? -x : x), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return x < 0 ? "-" + out : out;
}

double mb(std::int64_t bytes) { return static_cast<double>(bytes) / 1e6; }
double us(double s) { return s * 1e6; }

// Dimensions only (no name, no repeat, and mv's batch, which to_string leaves out): layers
// with the same key are timed once.
std::string dims_key(const Shape& run) {
  Shape s = run;
  s.name.clear();
  s.repeat = 1;
  const auto* mv = std::get_if<MvShape>(&run.dims);
  return mv ? fmt::format("{} b={}", to_string(s), mv->b) : to_string(s);
}

// --measure: every distinct layer timed once with the shared timing module.
std::vector<Measured> measure_layers(const ModelMetrics& m, const std::vector<std::string>& names) {
  // Everything that can refuse does so before the first timing.
  std::map<std::string, const Kernel*> kernels;
  for (const LayerMetrics& l : m.layers) {
    const Op op = l.shape.op();
    const Kernel* k = select(op, m.impl, m.dtype);
    if (!k)
      throw std::runtime_error(fmt::format("--measure: cannot time {} {} {}: {}", name(op), name(m.impl), name(m.dtype),
                                           why_not(op, m.impl, m.dtype)));
    kernels.emplace(std::string(name(op)), k);
  }
  require_openmp_openblas();
  for (std::size_t i = 0; i < m.layers.size(); ++i) {
    try {
      check_size(m.layers[i].run);
    } catch (const ShapeError& e) {
      throw std::runtime_error(fmt::format("--measure: {} at batch {}: {}", names[i], m.batch, e.what()));
    }
  }

  std::vector<std::unique_ptr<Job>> jobs;
  std::map<std::string, Job*> by_dims;
  std::vector<Job*> of_layer;
  std::set<std::string> job_names;
  for (std::size_t i = 0; i < m.layers.size(); ++i) {
    const LayerMetrics& l = m.layers[i];
    const std::string key = dims_key(l.run);
    if (auto it = by_dims.find(key); it != by_dims.end()) {
      of_layer.push_back(it->second);
      continue;
    }
    auto job = std::make_unique<Job>();
    job->kernel = kernels.at(std::string(name(l.shape.op())));
    job->run = l.run;
    job->threads = m.threads;
    std::string jn = "model/" + names[i];
    for (int n = 2; job_names.count(jn); ++n) jn = fmt::format("model/{}~{}", names[i], n);
    job_names.insert(jn);
    job->name = jn;
    by_dims.emplace(key, job.get());
    of_layer.push_back(job.get());
    jobs.push_back(std::move(job));
  }
  std::vector<Job*> ptrs;
  for (const auto& j : jobs) ptrs.push_back(j.get());
  fmt::print(stderr, "roofbench: checking and timing {} distinct layers of {} ({} {}, warm, {} threads, batch {})\n",
             ptrs.size(), m.layers.size(), name(m.impl), name(m.dtype), m.threads, m.batch);
  const std::int64_t available = available_memory_bytes();
  for (const Job* j : ptrs) check_timeable(*j, false, available);
  catch_interrupts();
  check_jobs(ptrs);
  measure_jobs(ptrs, MeasureOptions{.repetitions = 3, .min_time = 0.05, .console = false});
  // A model's latency is the sum over every layer: with some layers untimed there is none.
  throw_if_interrupted("nothing printed or written: the model's measured latency needs every layer");

  std::vector<Measured> out;
  for (const Job* j : of_layer) {
    Measured r;
    r.variant = j->kernel->variant;
    if (j->failure)
      r.failure = *j->failure;
    else if (j->skipped)
      r.failure = "skipped: " + *j->skipped;
    else if (j->seconds.empty())
      r.failure = "no timing recorded";
    else {
      const Estimate e = estimate_of(*j);
      r.seconds = e.seconds;
      r.cv = e.cv;
    }
    out.push_back(std::move(r));
  }
  return out;
}

// Per-layer CSV. Counts (params .. energy_j) and *_total_s are the layer's totals over its
// repeats, like the printed table; t_compute_s, t_memory_s, overhead_s, predicted_s and
// measured_s are one execution.
constexpr const char* kModelCsvHeader =
    "model,layer,op,shape,repeat,batch,dtype,impl,threads,params,weight_bytes,macs,ops,act_in_bytes,act_out_bytes,"
    "bytes,energy_j,t_compute_s,t_memory_s,overhead_s,level,bound,roofline,predicted_s,predicted_total_s,"
    "measured_s,measured_total_s,measured_over_predicted,cv,variant,status";

void write_model_csv(const std::string& path, const std::string& model, const ModelMetrics& m,
                     const std::vector<std::string>& names, const std::vector<Measured>& measured) {
  std::string text = fmt::format("{}\n", kModelCsvHeader);
  for (std::size_t i = 0; i < m.layers.size(); ++i) {
    const LayerMetrics& l = m.layers[i];
    const Prediction& p = l.prediction;
    const double rep = static_cast<double>(l.shape.repeat);
    std::optional<double> ms, mt, ratio, cv;
    std::string variant, status = "predicted";
    if (!measured.empty()) {
      const Measured& r = measured[i];
      variant = r.variant;
      if (r.failure) {
        status = *r.failure;
      } else {
        ms = r.seconds;
        mt = r.seconds * rep;
        ratio = r.seconds / p.seconds;
        cv = r.cv;
        status = "ok";
      }
    }
    fmt::format_to(std::back_inserter(text),
                   "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n",
                   csv_field(model), csv_field(names[i]), name(l.shape.op()), csv_field(to_string(l.shape)),
                   l.shape.repeat, m.batch, name(m.dtype), name(m.impl), m.threads, l.total.params,
                   l.total.weight_bytes, l.total.macs, l.total.ops, l.total.act_in_bytes, l.total.act_out_bytes,
                   l.total.bytes, csv_number(l.total.energy_pj * 1e-12), csv_number(p.t_compute),
                   csv_number(p.t_memory), csv_number(p.overhead), p.level, p.bound, p.fitted ? "fitted" : "classic",
                   csv_number(p.seconds), csv_number(l.latency_s), csv_number(ms), csv_number(mt), csv_number(ratio),
                   csv_number(cv), variant, csv_field(status));
  }
  write_text_atomically(path, text);
}

void print_table(const ModelMetrics& m, const std::vector<std::string>& names, const std::vector<Measured>& measured) {
  std::size_t w = 5;
  for (const std::string& n : names) w = std::max(w, n.size());
  const bool meas = !measured.empty();
  fmt::print("{:<{}}  {:<6} {:>4} {:>9} {:>9} {:>9} {:>9} {:>11} {:>11} {:>9} {:>7} {:>11}", "layer", w, "op", "rep",
             "params", "MACs", "in MB", "out MB", "T_comp us", "T_mem us", "ovh us", "bound", "pred us");
  if (meas) fmt::print(" {:>11} {:>9}", "meas us", "meas/pred");
  fmt::print("\n");
  for (std::size_t i = 0; i < m.layers.size(); ++i) {
    const LayerMetrics& l = m.layers[i];
    const double rep = static_cast<double>(l.shape.repeat);
    fmt::print("{:<{}}  {:<6} {:>4} {:>9} {:>9} {:>9.3f} {:>9.3f} {:>11.1f} {:>11.1f} {:>9.1f} {:>7} {:>11.1f}",
               names[i], w, name(l.shape.op()), l.shape.repeat, si(static_cast<double>(l.total.params)),
               si(static_cast<double>(l.total.macs)), mb(l.total.act_in_bytes), mb(l.total.act_out_bytes),
               us(l.prediction.t_compute * rep), us(l.prediction.t_memory * rep), us(l.prediction.overhead * rep),
               l.prediction.bound, us(l.latency_s));
    if (meas) {
      const Measured& r = measured[i];
      if (r.failure)
        fmt::print(" {:>11} {:>9}", "failed", "-");
      else
        fmt::print(" {:>11.1f} {:>9.2f}", us(r.seconds * rep), r.seconds / l.prediction.seconds);
    }
    fmt::print("\n");
  }
}

// Where a measured model's error comes from: the layers whose predicted - measured time (over
// their repeats) adds most to the total's error, each with its share of that error and what its
// prediction was made of, so a user sees which term of which layer to doubt.
void print_error_sources(const ModelMetrics& m, const std::vector<std::string>& names,
                         const std::vector<Measured>& measured) {
  double predicted = 0, observed = 0, absolute = 0;
  std::vector<std::pair<double, std::size_t>> miss;  // (predicted - measured) over repeats, layer
  for (std::size_t i = 0; i < m.layers.size(); ++i) {
    if (measured[i].failure) return;
    const double rep = static_cast<double>(m.layers[i].shape.repeat);
    const double d = (m.layers[i].prediction.seconds - measured[i].seconds) * rep;
    predicted += m.layers[i].prediction.seconds * rep;
    observed += measured[i].seconds * rep;
    absolute += std::abs(d);
    miss.emplace_back(d, i);
  }
  if (observed <= 0 || absolute <= 0) return;
  std::sort(miss.begin(), miss.end(),
            [](const auto& a, const auto& b) { return std::abs(a.first) > std::abs(b.first); });
  fmt::print(
      "\nwhere the error comes from: total predicted - measured = {:+.1f} us ({:+.1f}%); the sum of |layer "
      "errors| is {:.1f} us, of which\n",
      us(predicted - observed), 100 * (predicted / observed - 1), us(absolute));
  std::size_t w = 5;
  for (const std::string& n : names) w = std::max(w, n.size());
  fmt::print("  {:<{}}  {:>11} {:>7} {:>9}  {:>7} {:>7} {:>7}  {}\n", "layer", w, "pred-meas", "share", "meas/pred",
             "compute", "memory", "ovh", "bound");
  for (std::size_t j = 0; j < std::min<std::size_t>(5, miss.size()); ++j) {
    const auto [d, i] = miss[j];
    const Prediction& p = m.layers[i].prediction;
    const double parts = p.t_compute + p.t_memory + p.overhead;
    const auto share = [&](double t) { return parts > 0 ? fmt::format("{:.0f}%", 100 * t / parts) : std::string("-"); };
    fmt::print("  {:<{}}  {:>+9.1f}us {:>6.1f}% {:>9.2f}  {:>7} {:>7} {:>7}  {}\n", names[i], w, us(d),
               100 * std::abs(d) / absolute, measured[i].seconds / p.seconds, share(p.t_compute), share(p.t_memory),
               share(p.overhead), p.bound);
  }
  fmt::print(
      "  (compute, memory, ovh: each term's share of the layer's predicted terms; the blend of the first two\n"
      "   plus the overhead is the prediction)\n");
}

// How the MAC energy of the default table is composed, for the printed note.
std::string mac_composition(DType d) {
  switch (d) {
    case DType::f64: return "2 x the f32 mult + add: the table has no 64-bit float figure";
    case DType::f32: return "32-bit float mult 3.7 + add 0.9";
    case DType::bf16: return "priced like f16: 16-bit float mult 1.1 + add 0.4";
    case DType::f16: return "16-bit float mult 1.1 + add 0.4";
    case DType::i8: return "8-bit int mult 0.2 + 32-bit int add 0.1: int32 accumulation";
    case DType::i4: return "priced like i8: 8-bit int mult 0.2 + 32-bit int add 0.1";
  }
  return "";
}

void print_notes(const ModelMetrics& m, std::size_t lines, const EnergyTable& energy) {
  const DType d = m.dtype;
  fmt::print("\napproximations\n");
  fmt::print(
      "  - peak activation is the largest input + output of ONE layer execution: tensors kept alive\n"
      "    across layers (residual and skip paths, a KV cache) are ignored, so the real peak can be higher\n");
  fmt::print(
      "  - only the lines of the model file are counted: pooling, softmax, normalization, activation\n"
      "    functions, residual adds and embeddings are not; parameters are the weight operand of every\n"
      "    line (conv filters, the second gemm operand, the mv matrix), without biases\n");
  const bool default_mac = energy.mac(d) == default_energy_table().mac(d);
  fmt::print(
      "  - energy table: {}; {:g} pJ per {} MAC{};\n"
      "    {:g} pJ per byte, every compulsory byte priced as a DRAM access (an upper bound for layers\n"
      "    whose operands stay in cache)\n",
      energy.source, energy.mac(d), name(d), default_mac ? fmt::format(" ({})", mac_composition(d)) : "",
      energy.dram_pj_per_byte);
  std::set<std::string> unfitted, unrunnable;
  for (const LayerMetrics& l : m.layers) {
    const Op op = l.shape.op();
    if (!l.prediction.fitted) unfitted.insert(fmt::format("{} {} {}", name(op), name(m.impl), name(d)));
    if (!select(op, m.impl, d))
      unrunnable.insert(fmt::format("{} {} {} ({})", name(op), name(m.impl), name(d), why_not(op, m.impl, d)));
  }
  const auto fitted = static_cast<std::size_t>(m.totals.fitted_layers);
  if (fitted == lines)
    fmt::print(
        "  - latency: fitted roofline of each kernel (its achieved roofs + per-call overhead) for all {} lines\n",
        lines);
  else if (fitted == 0)
    fmt::print(
        "  - latency: classic roofline max(ops / peak, bytes / bandwidth) for all {} lines: the profile\n"
        "    has no kernel fit for {} at {} threads\n",
        lines, fmt::join(unfitted, ", "), m.threads);
  else
    fmt::print(
        "  - latency: fitted roofline for {} lines, classic roofline max(ops / peak, bytes / bandwidth)\n"
        "    for {}: the profile has no kernel fit for {} at {} threads\n",
        fitted, lines - fitted, fmt::join(unfitted, ", "), m.threads);
  fmt::print(
      "  - latency: layers back to back, each with warm caches as in a repeated benchmark: a working set\n"
      "    that fits a cache is read from it, though in a real forward pass the other layers would have\n"
      "    evicted it; no fusion, no framework overhead; throughput = batch / latency\n");
  if (!unrunnable.empty())
    fmt::print("  - no kernel this CPU can run for {}: predictions only, --measure is refused\n",
               fmt::join(unrunnable, ", "));
}

// The totals block: the model's figures summed over its layers, predicted latency included.
void print_totals(const ModelMetrics& m, const std::vector<std::string>& names, const EnergyTable& energy, DType d,
                  std::int64_t batch) {
  const bool integer = d == DType::i8 || d == DType::i4;
  const ModelTotals& t = m.totals;
  const LayerCounts& c = t.counts;
  // The two terms of energy_pj, shown apart.
  const double mac_mj = static_cast<double>(c.macs) * energy.mac(d) * 1e-9;
  const double dram_mj = static_cast<double>(c.bytes) * energy.dram_pj_per_byte * 1e-9;
  fmt::print("\ntotals\n");
  fmt::print("  parameters          {:>12}  ({} weights)\n", si(static_cast<double>(c.params)), grouped(c.params));
  fmt::print("  model size          {:>12.2f}  MB at {}-bit weights\n", mb(c.weight_bytes), bits(d).weights);
  fmt::print("  MACs                {:>12.3f}  G\n", static_cast<double>(c.macs) / 1e9);
  fmt::print("  ops (2 x MAC)       {:>12.3f}  G{}\n", static_cast<double>(c.ops) / 1e9, integer ? "OP" : "FLOP");
  fmt::print("  activations, total  {:>12.2f}  MB (every layer's output x repeat, {}-bit)\n",
             mb(t.total_activation_bytes), bits(d).output);
  fmt::print("  activations, peak   {:>12.2f}  MB (input + output of {}, one execution)\n", mb(t.peak_activation_bytes),
             names[t.peak_layer]);
  fmt::print("  predicted latency   {:>12.3f}  ms\n", t.latency_s * 1e3);
  fmt::print("  throughput          {:>12.1f}  samples/s at batch {}\n", t.throughput, batch);
  fmt::print("  energy              {:>12.3f}  mJ ({:.3f} mJ MACs at {:g} pJ + {:.3f} mJ DRAM at {:g} pJ/byte)\n",
             c.energy_pj * 1e-9, mac_mj, energy.mac(d), dram_mj, energy.dram_pj_per_byte);
}

// The measured totals beside the predicted ones; returns how many layers failed their check.
int print_measured_totals(const ModelMetrics& m, const std::vector<Shape>& layers,
                          const std::vector<std::string>& names, const std::vector<Measured>& measured,
                          std::int64_t batch) {
  int failed = 0;
  double total = 0;
  for (std::size_t i = 0; i < m.layers.size(); ++i) {
    if (measured[i].failure) {
      ++failed;
      fmt::print(stderr, "roofbench: {}: {}\n", names[i], *measured[i].failure);
    } else {
      total += measured[i].seconds * static_cast<double>(layers[i].repeat);
    }
  }
  if (failed) {
    fmt::print("  measured latency    {:>12}  ({} layers failed the check against naive: see stderr)\n", "n/a", failed);
    return failed;
  }
  fmt::print(
      "  measured latency    {:>12.3f}  ms (least kept repetition per layer x repeat; measured/predicted {:.2f})\n",
      total * 1e3, total / m.totals.latency_s);
  fmt::print("  measured throughput {:>12.1f}  samples/s at batch {}\n", static_cast<double>(batch) / total, batch);
  print_error_sources(m, names, measured);
  return 0;
}

}  // namespace

int model_command(const ModelOptions& opt) {
  if (!opt.csv.empty()) check_writable(opt.csv);  // fail before any work, not after timing
  const std::optional<DType> dtype = parse_dtype(opt.dtype);
  if (!dtype)
    throw std::runtime_error(fmt::format("--dtype: unknown value '{}' (f64, f32, bf16, f16, i8, i4)", opt.dtype));
  const std::optional<Impl> impl = parse_impl(opt.impl);
  if (!impl) throw std::runtime_error(fmt::format("--impl: unknown value '{}' (naive, opt, blas, onednn)", opt.impl));
  if (opt.batch < 1) throw std::runtime_error(fmt::format("--batch {}: must be positive", opt.batch));
  if (opt.threads < 1) throw std::runtime_error(fmt::format("--threads {}: must be positive", opt.threads));

  const Profile profile = read_profile_for_this_machine(opt.profile);
  const EnergyTable energy = energy_table(profile.energy, opt.profile);
  const std::vector<Shape> layers = load_model(opt.model);
  const std::string model = model_display_name(opt.model);
  const ModelMetrics m = model_metrics(layers, profile, opt.batch, *dtype, *impl, opt.threads, energy);
  std::vector<std::string> names;
  for (std::size_t i = 0; i < layers.size(); ++i) names.push_back(layer_name(layers[i], i));

  std::vector<Measured> measured;
  if (opt.measure) measured = measure_layers(m, names);

  std::int64_t executions = 0;
  for (const Shape& s : layers) executions += s.repeat;
  fmt::print("model {}: {} lines, {} layer executions; batch {}, {}, impl {}, {} threads; profile {}\n", model,
             layers.size(), executions, opt.batch, name(*dtype), name(*impl), opt.threads, opt.profile);
  fmt::print("per layer, every column is the total over the layer's repeats (rep); MB = 1e6 bytes\n\n");
  print_table(m, names, measured);
  print_totals(m, names, energy, *dtype, opt.batch);
  const int failed = opt.measure ? print_measured_totals(m, layers, names, measured, opt.batch) : 0;
  print_notes(m, layers.size(), energy);

  if (!opt.csv.empty()) {
    write_model_csv(opt.csv, model, m, names, measured);
    std::fflush(stdout);  // the tables first: with 2>&1 into a file, stderr would cut into a buffered line
    fmt::print(stderr, "roofbench: wrote {} rows to {}\n", m.layers.size(), opt.csv);
  }
  return failed ? 1 : 0;
}

}  // namespace roofbench
