#include "predictor/csv_schema.h"

#include <fmt/format.h>

#include <array>

#include "kernels/core/text_file.h"
#include "predictor/roofline.h"

namespace roofbench {

bool above_roof(const CsvRow& r) { return r.roof_ratio && *r.roof_ratio > 1 + kAboveRoofTolerance; }

namespace {

std::string text(const std::string& s) { return s; }
std::string integer(long long v) { return fmt::format("{}", v); }
std::optional<double> per_measured(const CsvRow& r, long long v) {
  return r.measured_s && *r.measured_s > 0 ? std::optional<double>(v / *r.measured_s) : std::nullopt;
}
// Throughput in samples per second at the row's batch: batch / latency (design.md: it is not
// 1 / latency once batches exist).
std::optional<double> per_second(const CsvRow& r, const std::optional<double>& t) {
  return t && *t > 0 ? std::optional<double>(static_cast<double>(r.batch) / *t) : std::nullopt;
}
std::optional<double> measured_over_predicted(const CsvRow& r) {
  return r.measured_s && r.predicted_s && *r.predicted_s > 0 ? std::optional<double>(*r.measured_s / *r.predicted_s)
                                                             : std::nullopt;
}
std::string yes_no(bool v) { return v ? "yes" : "no"; }

using C = CsvCol;
constexpr std::array kColumns = {
    CsvColumn{C::op, "op", "mv, gemm or conv2d", [](const CsvRow& r) { return text(r.op); }},
    CsvColumn{C::impl, "impl", "naive, opt, blas or onednn", [](const CsvRow& r) { return text(r.impl); }},
    CsvColumn{C::dtype, "dtype", "f64, f32, bf16, f16, i8 or i4", [](const CsvRow& r) { return text(r.dtype); }},
    CsvColumn{C::threads, "threads", "OpenMP threads", [](const CsvRow& r) { return integer(r.threads); }},
    CsvColumn{C::batch, "batch", "samples per call", [](const CsvRow& r) { return integer(r.batch); }},
    CsvColumn{C::shape, "shape", "the descriptor as in the shape file, batch not applied",
              [](const CsvRow& r) { return csv_field(r.shape); }},
    CsvColumn{C::ops, "ops", "FLOP (or integer OP) as 2 x MAC", [](const CsvRow& r) { return integer(r.ops); }},
    CsvColumn{C::bytes, "bytes", "compulsory traffic, bytes", [](const CsvRow& r) { return integer(r.bytes); }},
    CsvColumn{C::measured_s, "measured_s", "s: the protocol's estimate, least kept repetition; empty for predict",
              [](const CsvRow& r) { return csv_number(r.measured_s); }},
    CsvColumn{C::predicted_s, "predicted_s", "s, from the profile; empty without one",
              [](const CsvRow& r) { return csv_number(r.predicted_s); }},
    CsvColumn{C::bound, "bound", "compute, or the memory level", [](const CsvRow& r) { return text(r.bound); }},
    CsvColumn{C::variant, "variant", "the registry variant that ran", [](const CsvRow& r) { return text(r.variant); }},
    CsvColumn{C::repetitions, "repetitions", "timed repetitions behind measured_s",
              [](const CsvRow& r) { return integer(r.repetitions); }},
    CsvColumn{C::cv, "cv", "stddev / mean of the repetitions", [](const CsvRow& r) { return csv_number(r.cv); }},
    CsvColumn{C::achieved_ops_per_s, "achieved_ops_per_s", "ops / measured_s, op/s",
              [](const CsvRow& r) { return csv_number(per_measured(r, r.ops)); }},
    CsvColumn{C::achieved_bytes_per_s, "achieved_bytes_per_s", "bytes / measured_s, bytes/s",
              [](const CsvRow& r) { return csv_number(per_measured(r, r.bytes)); }},
    CsvColumn{C::intensity, "intensity", "ops / bytes, op/byte (0 without bytes)",
              [](const CsvRow& r) {
                return fmt::format("{:.4g}", r.bytes ? static_cast<double>(r.ops) / static_cast<double>(r.bytes) : 0.0);
              }},
    CsvColumn{C::status, "status", "ok, or why there is no time", [](const CsvRow& r) { return csv_field(r.status); }},
    CsvColumn{C::cache, "cache", "warm or cold operands", [](const CsvRow& r) { return text(r.cache); }},
    CsvColumn{C::classic_s, "classic_s", "s: max(ops / peak, bytes / bandwidth)",
              [](const CsvRow& r) { return csv_number(r.classic_s); }},
    CsvColumn{C::classic_bound, "classic_bound", "the classic roofline's bound",
              [](const CsvRow& r) { return text(r.classic_bound); }},
    CsvColumn{C::t_compute_s, "t_compute_s", "s: the compute term of predicted_s",
              [](const CsvRow& r) { return csv_number(r.t_compute_s); }},
    CsvColumn{C::t_memory_s, "t_memory_s", "s: the memory term of predicted_s",
              [](const CsvRow& r) { return csv_number(r.t_memory_s); }},
    CsvColumn{C::overhead_s, "overhead_s", "s: the fixed cost per call in predicted_s",
              [](const CsvRow& r) { return csv_number(r.overhead_s); }},
    CsvColumn{C::level, "level", "memory level holding the working set", [](const CsvRow& r) { return text(r.level); }},
    CsvColumn{C::model, "model", "fitted, or classic when the profile has no fit",
              [](const CsvRow& r) { return text(r.model); }},
    CsvColumn{C::measured_over_predicted, "measured_over_predicted", "measured_s / predicted_s",
              [](const CsvRow& r) { return csv_number(measured_over_predicted(r)); }},
    CsvColumn{C::predicted_throughput_per_s, "predicted_throughput_per_s", "batch / predicted_s, samples/s",
              [](const CsvRow& r) { return csv_number(per_second(r, r.predicted_s)); }},
    CsvColumn{C::measured_throughput_per_s, "measured_throughput_per_s", "batch / measured_s, samples/s",
              [](const CsvRow& r) { return csv_number(per_second(r, r.measured_s)); }},
    CsvColumn{C::predicted_ops_per_s, "predicted_ops_per_s", "ops / predicted_s, op/s",
              [](const CsvRow& r) {
                return csv_number(r.predicted_s && *r.predicted_s > 0 ? std::optional<double>(r.ops / *r.predicted_s)
                                                                      : std::nullopt);
              }},
    CsvColumn{C::noisy, "noisy", "yes when cv is above --noise-threshold, else empty",
              [](const CsvRow& r) { return std::string(r.noisy ? "yes" : ""); }},
    CsvColumn{C::above_roof, "above_roof", "yes/no: roof_ratio beyond the tolerance; empty without a peak",
              [](const CsvRow& r) { return r.roof_ratio ? yes_no(above_roof(r)) : std::string(); }},
    CsvColumn{C::roof_ratio, "roof_ratio", "achieved op/s over the dtype's calibrated peak",
              [](const CsvRow& r) { return csv_number(r.roof_ratio); }},
    CsvColumn{C::measured_first_s, "measured_first_s", "s: median of the first half of the repetitions",
              [](const CsvRow& r) { return csv_number(r.measured_first_s); }},
    CsvColumn{C::measured_second_s, "measured_second_s", "s: median of the second half of the repetitions",
              [](const CsvRow& r) { return csv_number(r.measured_second_s); }},
    CsvColumn{C::measured_lo_s, "measured_lo_s", "s: least kept repetition",
              [](const CsvRow& r) { return csv_number(r.measured_lo_s); }},
    CsvColumn{C::measured_hi_s, "measured_hi_s", "s: third-least kept repetition",
              [](const CsvRow& r) { return csv_number(r.measured_hi_s); }},
    CsvColumn{C::repetitions_rejected, "repetitions_rejected", "repetitions not kept; empty without the protocol",
              [](const CsvRow& r) { return r.lived_s ? integer(r.repetitions_rejected) : std::string(); }},
    CsvColumn{C::converged, "converged", "yes/no: the floor met three times within 2%; empty without the protocol",
              [](const CsvRow& r) { return r.lived_s ? yes_no(r.converged) : std::string(); }},
    CsvColumn{C::lived_s, "lived_s", "s: median of every repetition",
              [](const CsvRow& r) { return csv_number(r.lived_s); }},
    CsvColumn{C::slowdown, "slowdown", "lived_s / measured_s", [](const CsvRow& r) { return csv_number(r.slowdown); }},
};

// The enum indexes the table: a column added to one and not the other, or out of order, fails here.
constexpr bool in_order() {
  for (std::size_t i = 0; i < kColumns.size(); ++i)
    if (static_cast<std::size_t>(kColumns[i].id) != i) return false;
  return static_cast<std::size_t>(CsvCol::slowdown) + 1 == kColumns.size();
}
static_assert(in_order(), "kColumns must list every CsvCol, in enum order");

}  // namespace

std::span<const CsvColumn> csv_columns() { return kColumns; }

std::string_view csv_name(CsvCol c) { return kColumns[static_cast<std::size_t>(c)].name; }

const std::string& csv_header() {
  static const std::string header = [] {
    std::string h;
    for (const CsvColumn& c : kColumns) {
      if (!h.empty()) h += ',';
      h += c.name;
    }
    return h;
  }();
  return header;
}

std::string csv_line(const CsvRow& r) {
  std::string line;
  for (const CsvColumn& c : kColumns) {
    if (c.id != CsvCol::op) line += ',';
    line += c.cell(r);
  }
  return line;
}

}  // namespace roofbench
