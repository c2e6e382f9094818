#include "predictor/model.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <stdexcept>

#include "kernels/core/shape_file.h"
#include "kernels/core/cost.h"
#include "kernels/core/text_file.h"

#ifndef ROOFBENCH_MODELS_DIR
#define ROOFBENCH_MODELS_DIR "benchmarks/models"
#endif

namespace roofbench {
namespace {

constexpr std::string_view kModelExt = ".model";

std::int64_t checked_mul(std::int64_t a, std::int64_t b, std::string_view what) {
  std::int64_t out = 0;
  if (__builtin_mul_overflow(a, b, &out)) throw ModelError(fmt::format("{} overflows 64 bits", what));
  return out;
}

std::int64_t checked_add(std::int64_t a, std::int64_t b, std::string_view what) {
  std::int64_t out = 0;
  if (__builtin_add_overflow(a, b, &out)) throw ModelError(fmt::format("{} overflows 64 bits", what));
  return out;
}

LayerCounts times(const LayerCounts& c, std::int64_t n) {
  return {checked_mul(c.params, n, "parameters"),
          checked_mul(c.weight_bytes, n, "model size"),
          checked_mul(c.macs, n, "MACs"),
          checked_mul(c.ops, n, "ops"),
          checked_mul(c.act_in_bytes, n, "input activations"),
          checked_mul(c.act_out_bytes, n, "output activations"),
          checked_mul(c.bytes, n, "bytes"),
          c.energy_pj * static_cast<double>(n)};
}

void accumulate(LayerCounts& sum, const LayerCounts& c) {
  sum.params = checked_add(sum.params, c.params, "total parameters");
  sum.weight_bytes = checked_add(sum.weight_bytes, c.weight_bytes, "total model size");
  sum.macs = checked_add(sum.macs, c.macs, "total MACs");
  sum.ops = checked_add(sum.ops, c.ops, "total ops");
  sum.act_in_bytes = checked_add(sum.act_in_bytes, c.act_in_bytes, "total input activations");
  sum.act_out_bytes = checked_add(sum.act_out_bytes, c.act_out_bytes, "total output activations");
  sum.bytes = checked_add(sum.bytes, c.bytes, "total bytes");
  sum.energy_pj += c.energy_pj;
}

std::string layer_label(const Shape& s, std::size_t index) {
  return s.name.empty() ? fmt::format("line {} ({})", index + 1, to_string(s)) : s.name;
}

}  // namespace

// ---- models ----------------------------------------------------------------------------------

std::vector<std::string> builtin_models() {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(ROOFBENCH_MODELS_DIR, ec))
    if (e.path().extension() == kModelExt) names.push_back(e.path().stem().string());
  std::sort(names.begin(), names.end());
  return names;
}

// Resolved like load_shapes resolves a set: an existing file wins, else a bare name is looked
// up in the built-in directory.
std::vector<Shape> load_model(std::string_view file_or_name) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (is_input_file(file_or_name)) return load_shapes(file_or_name);
  const fs::path builtin = fs::path(ROOFBENCH_MODELS_DIR) / (std::string(file_or_name) + std::string(kModelExt));
  if (file_or_name.empty() || file_or_name.find('/') != std::string_view::npos || !fs::is_regular_file(builtin, ec))
    throw ShapeError(fmt::format("{}: no such model file or built-in model (built-in: {})", file_or_name,
                                 fmt::join(builtin_models(), ", ")));
  return load_shapes(builtin.string());
}

std::string model_display_name(std::string_view file_or_name) {
  return std::filesystem::path(file_or_name).stem().string();
}

// ---- energy ------------------------------------------------------------------------------------

// A MAC is one multiply and one add (Horowitz, ISSCC 2014, 45 nm, as the lecture quotes):
//   f32  3.7 + 0.9 = 4.6 pJ        f16, bf16  1.1 + 0.4 = 1.5 pJ (bf16 priced like f16)
//   f64  2 x f32 = 9.2 pJ (the table has no 64-bit float figure; a 64-bit FMA is taken as two
//        32-bit ones, roughly what its doubled datapath costs)
//   i8   0.2 (8-bit mult) + 0.1 (32-bit add) = 0.3 pJ: the product is accumulated into int32,
//        as every i8 kernel here does (an 8-bit accumulator would overflow after one term)
//   i4   priced like i8: its weights are unpacked to int8 and multiplied on the i8 units
// The float types use the add at their own width as the lecture does, although our f16/bf16
// kernels accumulate in f32 (1.1 + 0.9 = 2.0 pJ); override mac_pj in the profile to change it.
// DRAM: 640 pJ per 32-bit read = 160 pJ per byte.
EnergyTable default_energy_table() {
  EnergyTable t;
  auto set = [&](DType d, double pj) { t.mac_pj[static_cast<std::size_t>(d)] = pj; };
  set(DType::f64, 2 * (3.7 + 0.9));
  set(DType::f32, 3.7 + 0.9);
  set(DType::bf16, 1.1 + 0.4);
  set(DType::f16, 1.1 + 0.4);
  set(DType::i8, 0.2 + 0.1);
  set(DType::i4, 0.2 + 0.1);
  t.dram_pj_per_byte = 640.0 / 4;
  t.source = "Horowitz, ISSCC 2014 (45 nm)";
  return t;
}

EnergyTable energy_table(const nlohmann::json& overrides, std::string_view source) {
  EnergyTable t = default_energy_table();
  if (overrides.is_null() || (overrides.is_object() && overrides.empty())) return t;
  auto fail = [&](std::string_view key, std::string_view what) {
    return ModelError(fmt::format("{}: {} {}", source, key, what));
  };
  if (!overrides.is_object()) throw fail("energy", "must be a JSON object");
  auto positive = [&](const nlohmann::json& v, std::string_view key) {
    if (!v.is_number()) throw fail(key, "must be a positive finite number (pJ)");
    const double x = v.get<double>();
    if (!std::isfinite(x) || x <= 0) throw fail(key, fmt::format("must be a positive finite number (pJ), not {}", x));
    return x;
  };
  bool changed = false;
  for (const auto& [key, value] : overrides.items()) {
    if (key == "mac_pj") {
      if (!value.is_object()) throw fail("energy.mac_pj", "must be an object of dtype: pJ per MAC");
      for (const auto& [dtype, pj] : value.items()) {
        const std::string where = fmt::format("energy.mac_pj.{}", printable(dtype));
        const auto d = parse_dtype(dtype);
        if (!d) throw fail(where, "is not a dtype (f64, f32, bf16, f16, i8, i4)");
        t.mac_pj[static_cast<std::size_t>(*d)] = positive(pj, where);
        changed = true;
      }
    } else if (key == "dram_pj_per_byte") {
      t.dram_pj_per_byte = positive(value, "energy.dram_pj_per_byte");
      changed = true;
    } else if (key == "source") {
      if (!value.is_string()) throw fail("energy.source", "must be a string");
      t.source = value.get<std::string>();
    } else {
      throw fail(fmt::format("energy.{}", printable(key)), "is not a known key (mac_pj, dram_pj_per_byte, source)");
    }
  }
  if (changed && !overrides.contains("source")) t.source += ", with the profile's overrides";
  return t;
}

// ---- metrics -------------------------------------------------------------------------------------

LayerCounts layer_counts(const Shape& run, DType d, const EnergyTable& energy) {
  LayerCounts c;
  c.params = params(run);
  c.weight_bytes = weight_bytes(run, d);
  c.macs = macs(run);
  c.ops = ops(run);
  c.act_in_bytes = input_bytes(run, d);
  c.act_out_bytes = output_bytes(run, d);
  c.bytes = bytes(run, d);
  c.energy_pj = static_cast<double>(c.macs) * energy.mac(d) + static_cast<double>(c.bytes) * energy.dram_pj_per_byte;
  return c;
}

ModelMetrics model_metrics(const std::vector<Shape>& layers, const Profile& profile, std::int64_t batch, DType d,
                           Impl impl, int threads, const EnergyTable& energy) {
  if (layers.empty()) throw ModelError("the model has no layers");
  if (batch < 1) throw ModelError(fmt::format("batch {} must be positive", batch));
  ModelMetrics m;
  m.batch = batch;
  m.dtype = d;
  m.impl = impl;
  m.threads = threads;
  m.energy = energy;
  ModelTotals& tot = m.totals;
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const Shape& s = layers[i];
    LayerMetrics l;
    l.shape = s;
    l.run = batched(s, batch);
    try {
      l.once = layer_counts(l.run, d, energy);
      l.total = times(l.once, s.repeat);
      l.peak_bytes = checked_add(l.once.act_in_bytes, l.once.act_out_bytes, "activations");
      accumulate(tot.counts, l.total);
    } catch (const std::overflow_error& e) {
      throw ModelError(fmt::format("{} at batch {}: {}", layer_label(s, i), batch, e.what()));
    } catch (const ModelError& e) {
      throw ModelError(fmt::format("{} at batch {}: {}", layer_label(s, i), batch, e.what()));
    }
    l.prediction = predict(profile, l.run, impl, d, threads, /*cold=*/false);
    l.latency_s = l.prediction.seconds * static_cast<double>(s.repeat);
    tot.latency_s += l.latency_s;
    (l.prediction.fitted ? tot.fitted_layers : tot.classic_layers) += 1;
    if (l.peak_bytes > tot.peak_activation_bytes) {
      tot.peak_activation_bytes = l.peak_bytes;
      tot.peak_layer = i;
    }
    m.layers.push_back(std::move(l));
  }
  tot.total_activation_bytes = tot.counts.act_out_bytes;
  tot.throughput = tot.latency_s > 0 ? static_cast<double>(batch) / tot.latency_s : 0;
  return m;
}

ModelMetrics model_metrics(const std::vector<Shape>& layers, const Profile& profile, std::int64_t batch, DType d,
                           Impl impl, int threads) {
  return model_metrics(layers, profile, batch, d, impl, threads, energy_table(profile.energy, "profile"));
}

}  // namespace roofbench
