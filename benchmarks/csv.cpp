#include "benchmarks/csv.h"

#include <fmt/format.h>
#include <fmt/os.h>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <stdexcept>

namespace roofbench {

const char* const kCsvHeader =
    "op,impl,dtype,threads,batch,shape,ops,bytes,measured_s,predicted_s,bound,"
    "variant,repetitions,cv,achieved_ops_per_s,achieved_bytes_per_s,intensity,status,cache,"
    "classic_s,classic_bound,t_compute_s,t_memory_s,overhead_s,level,model,measured_over_predicted,"
    "predicted_throughput_per_s,measured_throughput_per_s,predicted_ops_per_s";

namespace {

std::string field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c == '\n' ? ' ' : c);
  return q + "\"";
}

std::string number(const std::optional<double>& v) { return v ? fmt::format("{:.6g}", *v) : std::string{}; }

}  // namespace

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
  return fmt::format("{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{:.4g},{},{},{},{},{},{},{},{},{},{},{},{},{}", r.op,
                     r.impl, r.dtype, r.threads, r.batch, field(r.shape), r.ops, r.bytes, number(r.measured_s),
                     number(r.predicted_s), r.bound, r.variant, r.repetitions, number(r.cv), number(ops_rate),
                     number(bytes_rate), r.bytes ? static_cast<double>(r.ops) / static_cast<double>(r.bytes) : 0.0,
                     field(r.status), r.cache, number(r.classic_s), r.classic_bound, number(r.t_compute_s),
                     number(r.t_memory_s), number(r.overhead_s), r.level, r.model, number(ratio),
                     number(per_second(r.predicted_s)), number(per_second(r.measured_s)),
                     number(r.predicted_s && *r.predicted_s > 0 ? std::optional<double>(r.ops / *r.predicted_s)
                                                                : std::nullopt));
}

void check_writable(const std::string& path) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::absolute(path).parent_path();
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw std::runtime_error(fmt::format("{}: directory {} does not exist", path, dir.string()));
  if (::access(dir.c_str(), W_OK) != 0) throw std::runtime_error(fmt::format("{}: directory is not writable", path));
  if (fs::is_directory(path, ec)) throw std::runtime_error(fmt::format("{}: is a directory", path));
}

void write_csv(const std::string& path, const std::vector<CsvRow>& rows) {
  const std::string tmp = path + ".tmp";
  {
    std::FILE* f = std::fopen(tmp.c_str(), "w");
    if (!f) throw std::runtime_error(fmt::format("{}: cannot write", tmp));
    fmt::print(f, "{}\n", kCsvHeader);
    for (const CsvRow& r : rows) fmt::print(f, "{}\n", csv_line(r));
    const bool ok = std::fflush(f) == 0 && !std::ferror(f);
    if (std::fclose(f) != 0 || !ok) {
      std::remove(tmp.c_str());
      throw std::runtime_error(fmt::format("{}: write failed", tmp));
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) throw std::runtime_error(fmt::format("{}: cannot rename into place: {}", path, ec.message()));
}

}  // namespace roofbench
