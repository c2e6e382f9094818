// libFuzzer target: the shape-file parser (kernels/core/shape.h). Every malformed input must end
// in a ShapeError with a one-line message, and every shape that parses must print and parse
// back to itself.
// Built with -DROOFBENCH_FUZZ=ON; run with scripts/fuzz.sh.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <sstream>
#include <string>
#include <string_view>

#include "kernels/core/shape_file.h"
#include "kernels/core/shape.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace roofbench;
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  std::vector<Shape> shapes;
  try {
    shapes = parse_shapes(in, "fuzz");
  } catch (const ShapeError& e) {
    if (std::string_view(e.what()).find_first_of("\n\r") != std::string_view::npos) {
      std::fprintf(stderr, "error message is not one line: %s\n", e.what());
      __builtin_trap();
    }
    return 0;
  }
  for (const Shape& s : shapes) {
    const std::string text = to_string(s);
    Shape back;
    try {
      back = parse_shape(text);
    } catch (const ShapeError& e) {
      std::fprintf(stderr, "round trip: '%s' does not parse back: %s\n", text.c_str(), e.what());
      __builtin_trap();
    }
    if (!(back == s)) {
      std::fprintf(stderr, "round trip: '%s' parses back as '%s'\n", text.c_str(), to_string(back).c_str());
      __builtin_trap();
    }
  }
  return 0;
}
