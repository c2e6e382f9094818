// Model-level metrics (the lecture's): parameters, model size at a bit width, MACs, ops,
// activations, peak activation, energy, and predicted latency, per layer and in total.
//
// A model is a shape file (kernels/core/shape.h) whose lines are the model's layers in execution
// order, each with repeat= (how often it runs per forward pass). Every count comes from the
// cost model (kernels/core/cost.h) on the batched shape; nothing here times anything.
//
// Conventions:
//   - per layer, every figure is its total over the layer's repeats (one execution x repeat);
//     the model total is the sum over layers;
//   - total activations = sum over layers of output activation bytes x repeat (every tensor a
//     layer writes, counted once per write);
//   - peak activation = max over layers of input + output activation bytes of ONE execution:
//     an approximation that ignores tensors kept alive across layers (residual and skip
//     paths, the KV cache) and the ops the file does not list (pooling, norms, activations);
//   - energy = MACs x energy per MAC (dtype) + compulsory bytes (kernels/core/cost.h bytes()) x
//     DRAM energy per byte: every compulsory byte priced as a DRAM access, an upper bound for
//     layers whose operands stay in cache.
#pragma once

#include <array>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kernels/core/dtype.h"
#include "kernels/registry.h"
#include "kernels/core/shape.h"
#include "predictor/profile.h"
#include "predictor/roofline.h"

namespace roofbench {

// Every model-level error (a bad energy override, a count that overflows): one line.
struct ModelError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// ---- models: shape files in benchmarks/models/ ------------------------------------------------

// A model is a path to a file, or the name of a file in benchmarks/models/ ("resnet18" for
// resnet18.model). Returns its layers; errors name the file and line (ShapeError).
std::vector<Shape> load_model(std::string_view file_or_name);
std::vector<std::string> builtin_models();
// The name shown for a model: the built-in name, or the file's stem.
std::string model_display_name(std::string_view file_or_name);

// ---- energy ------------------------------------------------------------------------------------

// Energy per MAC and per DRAM byte, in picojoules.
struct EnergyTable {
  std::array<double, kAllDTypes.size()> mac_pj{};  // indexed by DType
  double dram_pj_per_byte = 0;
  std::string source;  // where the figures come from (printed with the results)
  double mac(DType d) const { return mac_pj[static_cast<std::size_t>(d)]; }
};

// The 45 nm figures of Horowitz, "Computing's energy problem" (ISSCC 2014), as the
// efficient-deep-learning lecture quotes them; see model.cpp for how a MAC is composed.
EnergyTable default_energy_table();

// The default table with the profile's "energy" overrides applied:
//   { "mac_pj": { "f32": 4.6, "i8": 0.3, ... }, "dram_pj_per_byte": 160, "source": "..." }
// Every key optional; unknown keys, unknown dtypes and anything but a positive finite number
// are a ModelError naming the key ("<source>: energy.mac_pj.f32 must be ...").
EnergyTable energy_table(const nlohmann::json& overrides, std::string_view source);

// ---- metrics -------------------------------------------------------------------------------------

// Counts of one layer: of one execution, or summed over executions.
struct LayerCounts {
  std::int64_t params = 0;        // weight elements
  std::int64_t weight_bytes = 0;  // model size at the dtype's weight bit width
  std::int64_t macs = 0;
  std::int64_t ops = 0;            // 2 * macs
  std::int64_t act_in_bytes = 0;   // input activations read
  std::int64_t act_out_bytes = 0;  // output activations written
  std::int64_t bytes = 0;          // compulsory traffic: inputs + weights + outputs
  double energy_pj = 0;
};

struct LayerMetrics {
  Shape shape;                  // as in the file
  Shape run;                    // batch applied
  LayerCounts once;             // one execution
  LayerCounts total;            // once x repeat
  Prediction prediction;        // one execution (predictor/roofline.h)
  double latency_s = 0;         // prediction.seconds x repeat
  std::int64_t peak_bytes = 0;  // act_in_bytes + act_out_bytes of one execution
};

struct ModelTotals {
  LayerCounts counts;                       // sums of the layers' totals
  std::int64_t total_activation_bytes = 0;  // sum of output activations x repeat
  std::int64_t peak_activation_bytes = 0;   // max over layers of one execution's in + out
  std::size_t peak_layer = 0;               // index of the layer that sets the peak (first one)
  double latency_s = 0;                     // sum of the layers' latency_s
  double throughput = 0;                    // batch / latency_s, samples per second
  int fitted_layers = 0;                    // layers predicted with the kernel's fitted roofline
  int classic_layers = 0;                   // layers without a fit: classic roofline
};

struct ModelMetrics {
  std::vector<LayerMetrics> layers;
  ModelTotals totals;
  std::int64_t batch = 1;
  DType dtype = DType::f32;
  Impl impl = Impl::opt;
  int threads = 1;
  EnergyTable energy;
};

// Counts of one (batched) layer execution at dtype d.
LayerCounts layer_counts(const Shape& run, DType d, const EnergyTable& energy);

// Everything above for a model at a batch size, dtype, impl and thread count. Predictions use
// warm caches (cold=false). Throws ProfileError when the profile lacks a figure the predictor
// needs, ModelError when a count overflows.
ModelMetrics model_metrics(const std::vector<Shape>& layers, const Profile& profile, std::int64_t batch, DType d,
                           Impl impl, int threads, const EnergyTable& energy);
// The same with the profile's energy table (energy_table(profile.energy, source)).
ModelMetrics model_metrics(const std::vector<Shape>& layers, const Profile& profile, std::int64_t batch, DType d,
                           Impl impl, int threads);

}  // namespace roofbench
