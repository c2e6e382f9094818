// Model-level metrics against published figures (ResNet-18, MobileNetV2), hand-computed
// ones (BERT-base, LLaMA-7B decode, peak activation, energy) and the predictor on a
// synthetic machine.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <sstream>
#include <string>
#include <utility>
#include <variant>

#include "tests/fixtures.h"
#include "kernels/core/shape_file.h"
#include "kernels/core/cost.h"
#include "predictor/model.h"

namespace {

using namespace roofbench;

// A machine with round figures, 2 threads: L1 64 KiB, L2 1 MiB, L3 32 MiB (tests/fixtures.h).
Profile machine() { return roofbench::testing::round_figures_machine(); }

ModelMetrics metrics(const std::string& model, DType d = DType::f32, std::int64_t batch = 1,
                     const Profile& p = machine()) {
  return model_metrics(load_model(model), p, batch, d, Impl::opt, 2);
}

TEST(ModelFiles, BuiltinsResolveByNameAndUnknownNamesAreOneLine) {
  const auto names = builtin_models();
  for (const char* want : {"resnet18", "mobilenetv2", "bert-base", "llama-7b-decode"})
    EXPECT_NE(std::find(names.begin(), names.end(), want), names.end()) << want;
  EXPECT_EQ(model_display_name("resnet18"), "resnet18");
  EXPECT_EQ(model_display_name("/some/dir/net.model"), "net");
  try {
    load_model("resnet19");
    FAIL();
  } catch (const ShapeError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("resnet19"), std::string::npos) << msg;
    EXPECT_NE(msg.find("resnet18"), std::string::npos) << msg;  // lists the built-ins
    EXPECT_EQ(msg.find('\n'), std::string::npos);
  }
}

TEST(ModelResnet18, ParametersAndMacsMatchThePublishedFigures) {
  const ModelMetrics m = metrics("resnet18");
  EXPECT_EQ(m.layers.size(), 21u);  // 20 conv2d (incl. 3 downsample) + fc
  // torchvision's 11,689,512 less 1000 fc biases and 9,600 BN affine parameters.
  EXPECT_EQ(m.totals.counts.params, 11'678'912);
  EXPECT_NEAR(static_cast<double>(m.totals.counts.macs) / 1.81e9, 1, 0.01);
  EXPECT_EQ(m.totals.counts.macs, 1'814'073'344);
  EXPECT_EQ(m.totals.counts.ops, 2 * m.totals.counts.macs);
  // Model size = parameters x bit width.
  EXPECT_EQ(m.totals.counts.weight_bytes, 4 * m.totals.counts.params);
  EXPECT_EQ(metrics("resnet18", DType::i8).totals.counts.weight_bytes, m.totals.counts.params);
  EXPECT_EQ(metrics("resnet18", DType::i4).totals.counts.weight_bytes * 2, m.totals.counts.params);
  // Parameters do not grow with the batch; MACs do.
  const ModelMetrics b8 = metrics("resnet18", DType::f32, 8);
  EXPECT_EQ(b8.totals.counts.params, m.totals.counts.params);
  EXPECT_EQ(b8.totals.counts.macs, 8 * m.totals.counts.macs);
}

TEST(ModelResnet18, PeakActivationIsTheStemConv) {
  const ModelMetrics m = metrics("resnet18");
  // conv1: input 3x224x224, output 64x112x112, 4 bytes each at f32.
  const std::int64_t conv1 = (3 * 224 * 224 + 64 * 112 * 112) * 4;
  EXPECT_EQ(m.totals.peak_activation_bytes, conv1);
  EXPECT_EQ(m.totals.peak_layer, 0u);
  EXPECT_EQ(m.layers[0].shape.name, "resnet18:conv1");
  for (const LayerMetrics& l : m.layers) EXPECT_LE(l.peak_bytes, conv1) << l.shape.name;
  // Total activations: every layer's output x repeat.
  std::int64_t out = 0;
  for (const LayerMetrics& l : m.layers) out += output_bytes(l.run, DType::f32) * l.shape.repeat;
  EXPECT_EQ(m.totals.total_activation_bytes, out);
  // At i8 the output is int32 (accumulator), the input int8.
  EXPECT_EQ(metrics("resnet18", DType::i8).totals.peak_activation_bytes, 3 * 224 * 224 + 64 * 112 * 112 * 4);
}

TEST(ModelMobilenetV2, ParametersAndMacsMatchThePublishedFigures) {
  const ModelMetrics m = metrics("mobilenetv2");
  EXPECT_EQ(m.layers.size(), 53u);  // 52 conv2d + classifier
  int depthwise = 0;
  for (const LayerMetrics& l : m.layers)
    if (const auto* c = std::get_if<ConvShape>(&l.shape.dims); c && c->g > 1) {
      EXPECT_EQ(c->g, c->c);
      ++depthwise;
    }
  EXPECT_EQ(depthwise, 17);
  EXPECT_NEAR(static_cast<double>(m.totals.counts.params) / 3.5e6, 1, 0.03);  // weights only: 3.47 M
  EXPECT_EQ(m.totals.counts.params, 3'469'760);
  EXPECT_NEAR(static_cast<double>(m.totals.counts.macs) / 300e6, 1, 0.05);
}

TEST(ModelBert, OneLayerTimesTwelveMacsByHand) {
  constexpr std::int64_t s = 128, h = 768, ff = 3072, heads = 12, dh = 64, layers = 12;
  const std::int64_t per_layer = 4 * s * h * h + 2 * s * h * ff + heads * (s * s * dh + s * dh * s);
  const ModelMetrics m = metrics("bert-base");
  EXPECT_EQ(m.totals.counts.macs, layers * per_layer);
  EXPECT_EQ(m.totals.counts.macs, 11'173'625'856);
  // Batch 4: four sequences, m = 512 rows.
  EXPECT_EQ(metrics("bert-base", DType::f32, 4).totals.counts.macs, 4 * layers * per_layer);
  // The linear weights, plus the K^T and V operands the cost model counts as weights.
  EXPECT_EQ(m.totals.counts.params, layers * (4 * h * h + 2 * h * ff) + layers * heads * 2 * dh * s);
}

TEST(ModelLlamaDecode, WeightsAreReadOncePerToken) {
  const ModelMetrics m = metrics("llama-7b-decode", DType::i8);
  EXPECT_EQ(m.totals.counts.params, 6'607'077'376);
  EXPECT_EQ(m.totals.counts.macs, m.totals.counts.params);  // batch 1: each weight used once
  EXPECT_EQ(m.totals.counts.weight_bytes, m.totals.counts.params);
  const ModelMetrics b4 = metrics("llama-7b-decode", DType::i8, 4);
  EXPECT_EQ(b4.totals.counts.macs, 4 * m.totals.counts.macs);
  EXPECT_EQ(b4.totals.counts.weight_bytes, m.totals.counts.weight_bytes);
  for (const LayerMetrics& l : m.layers) EXPECT_NE(l.prediction.bound, "compute") << l.shape.name;
}

TEST(ModelLatency, TotalIsTheSumOfLayerPredictionsTimesRepeat) {
  for (const char* model : {"resnet18", "bert-base"}) {
    const Profile p = machine();
    const std::vector<Shape> layers = load_model(model);
    const ModelMetrics m = model_metrics(layers, p, 4, DType::f32, Impl::opt, 2);
    double sum = 0;
    for (const Shape& s : layers)
      sum += predict(p, batched(s, 4), Impl::opt, DType::f32, 2, false).seconds * static_cast<double>(s.repeat);
    EXPECT_NEAR(m.totals.latency_s, sum, 1e-12 * sum) << model;
    EXPECT_DOUBLE_EQ(m.totals.throughput, 4 / m.totals.latency_s);
    EXPECT_EQ(m.totals.classic_layers, static_cast<int>(layers.size()));
    EXPECT_EQ(m.totals.fitted_layers, 0);
  }
  // The conv1 layer of resnet18 by hand: 118,013,952 MACs at 2e11 ops/s; its 3.8 MB of
  // activations + 37.6 KB of weights sit in L3 (1e11 B/s).
  const ModelMetrics m = metrics("resnet18");
  const LayerMetrics& conv1 = m.layers[0];
  EXPECT_DOUBLE_EQ(conv1.prediction.t_compute, 2.0 * 118'013'952 / 2e11);
  EXPECT_DOUBLE_EQ(conv1.prediction.t_memory, ((3 * 224 * 224 + 64 * 112 * 112) * 4 + 9408 * 4) / 1e11);
  EXPECT_EQ(conv1.prediction.bound, "compute");
}

TEST(ModelLatency, FittedKernelsAreCounted) {
  Profile p = machine();
  p.kernels = {{Op::conv2d,
                Impl::opt,
                DType::f32,
                2,
                ShapeClass::dense,
                "v",
                1e11,
                {2e11, 1e11, 5e10, 2e10},
                1e-5,
                0,
                0,
                10,
                0.05}};
  const ModelMetrics m = metrics("resnet18", DType::f32, 1, p);
  EXPECT_EQ(m.totals.fitted_layers, 20);
  EXPECT_EQ(m.totals.classic_layers, 1);  // the fc gemm
  EXPECT_TRUE(m.layers[0].prediction.fitted);
  EXPECT_GE(m.layers[0].prediction.seconds, 1e-5);  // includes the overhead
}

TEST(ModelEnergy, DefaultTableIsHorowitz45nm) {
  const EnergyTable t = default_energy_table();
  EXPECT_DOUBLE_EQ(t.mac(DType::f32), 3.7 + 0.9);
  EXPECT_DOUBLE_EQ(t.mac(DType::f64), 2 * (3.7 + 0.9));
  EXPECT_DOUBLE_EQ(t.mac(DType::f16), 1.1 + 0.4);
  EXPECT_DOUBLE_EQ(t.mac(DType::bf16), t.mac(DType::f16));
  EXPECT_DOUBLE_EQ(t.mac(DType::i8), 0.2 + 0.1);
  EXPECT_DOUBLE_EQ(t.mac(DType::i4), t.mac(DType::i8));
  EXPECT_DOUBLE_EQ(t.dram_pj_per_byte, 160);

  // One gemm by hand: 128x768x768 f32 = 75,497,472 MACs; (128*768*2 + 768*768) * 4 bytes.
  const Shape g = parse_shape("gemm m=128 n=768 k=768");
  const LayerCounts c = layer_counts(g, DType::f32, t);
  const double macs = 128.0 * 768 * 768, bytes = (128.0 * 768 * 2 + 768.0 * 768) * 4;
  EXPECT_DOUBLE_EQ(c.energy_pj, macs * 4.6 + bytes * 160);

  // A model's energy is the sum of layers x repeat.
  const ModelMetrics m = metrics("bert-base");
  double sum = 0;
  for (const LayerMetrics& l : m.layers)
    sum += (static_cast<double>(l.once.macs) * 4.6 + static_cast<double>(l.once.bytes) * 160) *
           static_cast<double>(l.shape.repeat);
  EXPECT_NEAR(m.totals.counts.energy_pj, sum, 1e-9 * sum);
}

TEST(ModelEnergy, ProfileOverridesReplaceTableEntries) {
  Profile p = machine();
  p.energy = nlohmann::json::parse(R"({"mac_pj": {"f32": 1, "i8": 0.05}, "dram_pj_per_byte": 10.5})");
  const EnergyTable t = energy_table(p.energy, "p.json");
  EXPECT_DOUBLE_EQ(t.mac(DType::f32), 1);
  EXPECT_DOUBLE_EQ(t.mac(DType::i8), 0.05);
  EXPECT_DOUBLE_EQ(t.mac(DType::f16), 1.5);  // untouched
  EXPECT_DOUBLE_EQ(t.dram_pj_per_byte, 10.5);
  const Shape g = parse_shape("gemm m=128 n=768 k=768");
  const ModelMetrics m = model_metrics({g}, p, 1, DType::f32, Impl::opt, 2);
  EXPECT_DOUBLE_EQ(m.totals.counts.energy_pj, 128.0 * 768 * 768 * 1 + (128.0 * 768 * 2 + 768.0 * 768) * 4 * 10.5);
  EXPECT_EQ(energy_table(nlohmann::json::object(), "x").source, default_energy_table().source);
}

TEST(ModelEnergy, BadOverridesAreOneLineErrorsNamingTheKey) {
  const std::pair<const char*, const char*> cases[] = {
      {R"({"mac_pj": {"f32": -1}})", "energy.mac_pj.f32"},
      {R"({"mac_pj": {"f32": 0}})", "energy.mac_pj.f32"},
      {R"({"mac_pj": {"f32": "4.6"}})", "energy.mac_pj.f32"},
      {R"({"mac_pj": {"f128": 1}})", "energy.mac_pj.f128"},
      {R"({"mac_pj": 4.6})", "energy.mac_pj"},
      {R"({"dram_pj_per_byte": null})", "energy.dram_pj_per_byte"},
      {R"({"dram_pj_per_byte": 1e400})", "energy.dram_pj_per_byte"},
      {R"({"sram_pj": 5})", "energy.sram_pj"},
  };
  for (const auto& [text, key] : cases) {
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception&) {
      continue;  // 1e400 is not representable: the JSON parser already refuses it
    }
    try {
      energy_table(j, "p.json");
      ADD_FAILURE() << text;
    } catch (const ModelError& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find(key), std::string::npos) << msg;
      EXPECT_NE(msg.find("p.json"), std::string::npos) << msg;
      EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    }
  }
  // Through the model: the profile's table is validated before anything is predicted.
  Profile p = machine();
  p.energy = {{"dram_pj_per_byte", -3}};
  EXPECT_THROW(model_metrics(load_model("resnet18"), p, 1, DType::f32, Impl::opt, 2), ModelError);
}

TEST(ModelErrors, MissingMachineFiguresAreNamed) {
  // The synthetic machine has no f64 peak: the predictor's error surfaces unchanged.
  EXPECT_THROW(metrics("resnet18", DType::f64), ProfileError);
}

// The command as a user meets it, on the synthetic machine written as a profile file.
class ModelCommand : public roofbench::testing::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    profile_ = (dir_ / "p.json").string();
    write_profile(profile_, machine());
  }
  // Runs roofbench with args; returns the exit status, fills out_ and err_.
  int run(const std::string& args) {
    roofbench::testing::Output o = roofbench::testing::run_roofbench_output(args);
    out_ = std::move(o.out);
    err_ = std::move(o.err);
    return o.status;
  }
  std::string profile_, out_, err_;
};

TEST_F(ModelCommand, PrintsTotalsAndNotesAndWritesTheCsv) {
  const std::string csv = (dir_ / "r18.csv").string();
  ASSERT_EQ(run("model resnet18 --threads 2 --profile " + profile_ + " --csv " + csv), 0) << err_;
  for (const char* want :
       {"resnet18:layer4.0.downsample.0", "11.68M", "(11,678,912 weights)", "46.72  MB at 32-bit", "1.814  G",
        "3.81  MB (input + output of resnet18:conv1", "approximations", "classic roofline", "Horowitz, ISSCC 2014"})
    EXPECT_NE(out_.find(want), std::string::npos) << want << "\n" << out_;
  const std::string text = roofbench::testing::slurp(csv);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 22);  // header + 21 layers
  EXPECT_EQ(text.rfind("model,layer,op,shape,repeat,", 0), 0u);
  EXPECT_FALSE(roofbench::testing::temporary_left_beside(csv));
  // Without --measure, a combination no kernel implements is still predicted.
  if (!select(Op::mv, Impl::onednn, DType::i4)) {
    ASSERT_EQ(run("model llama-7b-decode --threads 2 --dtype i4 --impl onednn --profile " + profile_), 0) << err_;
    EXPECT_NE(out_.find("predictions only"), std::string::npos) << out_;
    EXPECT_NE(out_.find("3303.54  MB at 4-bit weights"), std::string::npos) << out_;
  }
}

TEST_F(ModelCommand, ErrorsAreOneLineAndComeBeforeAnyWork) {
  std::vector<std::pair<std::string, std::string>> cases = {
      {"model resnet18 --dtype f8 --profile " + profile_, "--dtype: unknown value 'f8'"},
      {"model resnet18 --impl fast --profile " + profile_, "--impl: unknown value 'fast'"},
      {"model resnet19 --profile " + profile_, "resnet19: no such model"},
      {"model resnet18 --threads 2 --profile " + profile_ + " --csv " + (dir_ / "no/x.csv").string(), "does not exist"},
  };
  // Predictions need no kernel; --measure refuses a combination no kernel implements.
  if (!select(Op::conv2d, Impl::onednn, DType::i4))
    cases.emplace_back("model resnet18 --threads 2 --dtype i4 --impl onednn --measure --profile " + profile_,
                       "--measure: cannot time conv2d onednn i4");
  for (const auto& [args, want] : cases) {
    EXPECT_EQ(run(args), 1) << args;
    EXPECT_NE(err_.find(want), std::string::npos) << args << ": " << err_;
    EXPECT_EQ(std::count(err_.begin(), err_.end(), '\n'), 1) << err_;
    EXPECT_TRUE(out_.empty()) << out_;
  }
}

}  // namespace
