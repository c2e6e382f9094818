#include "predictor/evaluate.h"

#include <stdexcept>

namespace roofbench {

int evaluate_command(const EvaluateOptions&) { throw std::runtime_error("evaluate: not implemented yet"); }

}  // namespace roofbench
