// The CSV of `run` and `predict` (design.md, "Command line"); its columns, CsvRow and
// csv_line are in predictor/csv_schema.h, shared with the reader. Written to a temporary file
// and renamed, so a reader never sees half a file.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "kernels/core/text_file.h"  // check_writable: callers check the CSV path before timing
#include "predictor/csv_schema.h"    // CsvRow, csv_line
#include "predictor/roofline.h"      // kAboveRoofTolerance

namespace roofbench {

// The two halves of a row's repetitions (CsvRow::measured_first_s, measured_second_s).
std::pair<std::optional<double>, std::optional<double>> half_medians(const std::vector<double>& seconds);

void write_csv(const std::string& path, const std::vector<CsvRow>& rows);  // throws on I/O error

}  // namespace roofbench
