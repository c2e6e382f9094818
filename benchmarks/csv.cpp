#include "benchmarks/csv.h"

#include <fmt/format.h>

#include "benchmarks/measure.h"

namespace roofbench {

const char* const kCsvHeader =
    "op,impl,dtype,threads,batch,shape,ops,bytes,measured_s,predicted_s,bound,"
    "variant,repetitions,cv,achieved_ops_per_s,achieved_bytes_per_s,intensity,status,cache,"
    "classic_s,classic_bound,t_compute_s,t_memory_s,overhead_s,level,model,measured_over_predicted,"
    "predicted_throughput_per_s,measured_throughput_per_s,predicted_ops_per_s,noisy,above_roof,roof_ratio,measured_"
    "first_s,measured_second_s,"
    "measured_lo_s,measured_hi_s,repetitions_rejected,converged,lived_s,slowdown";

bool above_roof(const CsvRow& r) {
  return r.roof_ratio && *r.roof_ratio > 1 + kAboveRoofTolerance;
}

std::string csv_line(const CsvRow& r) {
  std::optional<double> ops_rate, bytes_rate;
  if (r.measured_s && *r.measured_s > 0) {
    ops_rate = r.ops / *r.measured_s;
    bytes_rate = r.bytes / *r.measured_s;
  }
  // Throughput in samples per second at the row's batch: batch / latency (design.md: it is not
  // 1 / latency once batches exist).
  const auto per_second = [&](const std::optional<double>& t) {
    return t && *t > 0 ? std::optional<double>(static_cast<double>(r.batch) / *t) : std::nullopt;
  };
  std::optional<double> ratio;
  if (r.measured_s && r.predicted_s && *r.predicted_s > 0) ratio = *r.measured_s / *r.predicted_s;
  return fmt::format(
      "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{:.4g},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},"
      "{},{},{},{},{}",
      r.op, r.impl, r.dtype, r.threads, r.batch, csv_field(r.shape), r.ops, r.bytes, csv_number(r.measured_s),
      csv_number(r.predicted_s), r.bound, r.variant, r.repetitions, csv_number(r.cv), csv_number(ops_rate),
      csv_number(bytes_rate), r.bytes ? static_cast<double>(r.ops) / static_cast<double>(r.bytes) : 0.0,
      csv_field(r.status), r.cache, csv_number(r.classic_s), r.classic_bound, csv_number(r.t_compute_s),
      csv_number(r.t_memory_s), csv_number(r.overhead_s), r.level, r.model, csv_number(ratio),
      csv_number(per_second(r.predicted_s)), csv_number(per_second(r.measured_s)),
      csv_number(r.predicted_s && *r.predicted_s > 0 ? std::optional<double>(r.ops / *r.predicted_s) : std::nullopt),
      r.noisy ? "yes" : "", r.roof_ratio ? (above_roof(r) ? "yes" : "no") : "", csv_number(r.roof_ratio),
      csv_number(r.measured_first_s), csv_number(r.measured_second_s), csv_number(r.measured_lo_s),
      csv_number(r.measured_hi_s), r.lived_s ? fmt::format("{}", r.repetitions_rejected) : "",
      r.lived_s ? (r.converged ? "yes" : "no") : "", csv_number(r.lived_s), csv_number(r.slowdown));
}

std::pair<std::optional<double>, std::optional<double>> half_medians(const std::vector<double>& seconds) {
  if (seconds.size() < 2) return {};
  const std::size_t half = seconds.size() / 2;
  return {median({seconds.begin(), seconds.begin() + static_cast<std::ptrdiff_t>(half)}),
          median({seconds.end() - static_cast<std::ptrdiff_t>(half), seconds.end()})};
}

void write_csv(const std::string& path, const std::vector<CsvRow>& rows) {
  std::string text = fmt::format("{}\n", kCsvHeader);
  for (const CsvRow& r : rows) text += csv_line(r) + "\n";
  write_text_atomically(path, text);
}

}  // namespace roofbench
