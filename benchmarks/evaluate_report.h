// The text `roofbench evaluate` prints and writes: score tables, the noise floor, rows above the
// roof and the worst rows, from what predictor/evaluate.h computed.
#pragma once

#include <map>
#include <span>
#include <string>
#include <utility>

#include "predictor/evaluate.h"

namespace roofbench {

// A file's bytes; a missing file, a directory or a read error throws std::runtime_error.
std::string read_text(const std::string& path);

void write_scores_csv(const std::string& path, std::span<const GroupScore> groups);
void print_scores(std::span<const GroupScore> groups);
// The measurement's agreement with itself per group, beside the fitted score, and the verdict.
void print_floor(std::span<const GroupScore> groups);
void print_roofs(const std::map<std::pair<std::string, std::string>, RoofCount>& roofs);
void print_worst(std::span<const ScoredRow> rows, int worst);

}  // namespace roofbench
