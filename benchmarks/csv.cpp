#include "benchmarks/csv.h"

#include <fmt/format.h>

#include "benchmarks/measure.h"

namespace roofbench {

std::pair<std::optional<double>, std::optional<double>> half_medians(const std::vector<double>& seconds) {
  if (seconds.size() < 2) return {};
  const std::size_t half = seconds.size() / 2;
  return {median({seconds.begin(), seconds.begin() + static_cast<std::ptrdiff_t>(half)}),
          median({seconds.end() - static_cast<std::ptrdiff_t>(half), seconds.end()})};
}

void write_csv(const std::string& path, const std::vector<CsvRow>& rows) {
  std::string text = csv_header() + "\n";
  for (const CsvRow& r : rows) text += csv_line(r) + "\n";
  write_text_atomically(path, text);
}

}  // namespace roofbench
