#include "benchmarks/model.h"

#include <stdexcept>

namespace roofbench {

int model_command(const ModelOptions&) { throw std::runtime_error("model: not implemented yet"); }

}  // namespace roofbench
