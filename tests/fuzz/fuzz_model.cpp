// libFuzzer target: model files (predictor/model.h). A model is a shape file with repeat=;
// the input is parsed as `roofbench model` loads it (load_model -> parse_shapes) and then
// every figure that command prints is computed: per-layer counts and predictions, totals,
// peak activation, energy, on a small synthetic profile, at batch 1 (and 32, the largest
// batch run.sh uses). ShapeError, ModelError and ProfileError are the expected refusals;
// any other exception, or a sanitizer report, is a finding.
// Built with -DROOFBENCH_FUZZ=ON; run with scripts/fuzz.sh.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "kernels/core/shape_file.h"
#include "kernels/core/shape.h"
#include "predictor/model.h"
#include "predictor/profile.h"
#include "predictor/roofline.h"

namespace {

using namespace roofbench;

// A machine with round figures at 2 threads (as tests/test_predictor.cpp builds it): L1 64 KiB,
// L2 1 MiB, L3 32 MiB, a read curve, and fits for some kernels so both rooflines are used.
Profile machine() {
  Profile p;
  p.peaks = {{"f64", 2, 1e11, "avx2+fma", 0}, {"f32", 2, 2e11, "avx2+fma", 0}, {"i8", 2, 8e11, "avx2", 0}};
  p.bandwidth = {{MemoryLevel::L1, 65536, 2, 4e11, "read"},
                 {MemoryLevel::L2, 1 << 20, 2, 2e11, "read"},
                 {MemoryLevel::L3, 32 << 20, 2, 1e11, "read"},
                 {MemoryLevel::DRAM, 0, 2, 2.5e10, "read"},
                 {MemoryLevel::DRAM, 0, 2, 4e10, "stream"}};
  p.curves = {{"read", 2, {{4 << 20, 1e11, 0}, {64 << 20, 2.5e10, 0}}}};
  const KernelFit fit{
      Op::gemm, Impl::opt, DType::f32, 2, ShapeClass::dense, "v", 1.5e11, {3e11, 1.2e11, 6e10, 2e10}, 5e-6, 0, 2, 0, 0};
  for (const Op op : {Op::mv, Op::gemm, Op::conv2d})
    for (const ShapeClass cls :
         {ShapeClass::dense, ShapeClass::pointwise, ShapeClass::grouped, ShapeClass::depthwise}) {
      KernelFit k = fit;
      k.op = op;
      k.shape_class = cls;
      p.kernels.push_back(k);
      k.impl = Impl::blas;
      k.blend = 0;
      p.kernels.push_back(k);
    }
  p.energy = {{"mac_pj", {{"i8", 0.25}}}, {"dram_pj_per_byte", 100}};
  return p;
}

const Profile& profile() {
  static const Profile p = machine();
  return p;
}

// Every refusal is one line ("file:line: ..."), as the CLI prints it.
void one_line(const std::exception& e) {
  if (std::string_view(e.what()).find_first_of("\n\r") != std::string_view::npos) {
    std::fprintf(stderr, "error message is not one line: %s\n", e.what());
    __builtin_trap();
  }
}

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "model metrics: %s\n", what);
    __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  std::vector<Shape> layers;
  try {
    layers = parse_shapes(in, "fuzz.model");
  } catch (const ShapeError& e) {
    one_line(e);
    return 0;
  }
  const Profile& p = profile();
  const EnergyTable energy = energy_table(p.energy, "fuzz");
  for (const std::int64_t batch : {1, 32})
    for (const DType d : {DType::f32, DType::i8, DType::i4})
      for (const Impl impl : {Impl::opt, Impl::blas}) {
        try {
          const ModelMetrics m = model_metrics(layers, p, batch, d, impl, 2, energy);
          // What `roofbench model` prints and writes, from these figures.
          check(m.layers.size() == layers.size(), "one row per line");
          check(m.totals.peak_layer < m.layers.size(), "peak layer is a layer");
          check(m.totals.fitted_layers + m.totals.classic_layers == static_cast<int>(layers.size()),
                "every layer predicted once");
          std::int64_t executions = 0;
          for (const LayerMetrics& l : m.layers) {
            executions += l.shape.repeat;
            check(l.total.macs >= l.once.macs && l.once.macs > 0, "MACs positive and summed over repeats");
            check(std::isfinite(l.latency_s) && l.latency_s > 0, "latency positive and finite");
            check(l.peak_bytes <= m.totals.peak_activation_bytes, "peak is the maximum");
            (void)to_string(l.shape);
          }
          check(executions >= static_cast<std::int64_t>(layers.size()), "repeats positive");
          check(std::isfinite(m.totals.counts.energy_pj) && m.totals.counts.energy_pj > 0, "energy finite");
          check(m.totals.throughput > 0, "throughput positive");
        } catch (const ModelError& e) {
          one_line(e);
        } catch (const ProfileError& e) {
          one_line(e);
        }
      }
  return 0;
}
