#include "kernels/core/shape_file.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "kernels/core/cost.h"
#include "kernels/core/cpu.h"
#include "kernels/core/text_file.h"

#ifndef ROOFBENCH_SHAPES_DIR
#define ROOFBENCH_SHAPES_DIR "benchmarks/shapes"
#endif

namespace roofbench {
namespace {

constexpr std::string_view kShapeExt = ".shapes";

struct KeySpec {
  std::string_view key;
  std::int64_t* field;
  bool required;
  std::int64_t min_value = 1;  // pad alone may be zero
};

std::vector<std::string_view> split_ws(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r')) ++i;
    std::size_t j = i;
    while (j < s.size() && s[j] != ' ' && s[j] != '\t' && s[j] != '\r') ++j;
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

std::int64_t parse_value(std::string_view key, std::string_view v, std::int64_t min_value = 1) {
  if (v.empty()) throw ShapeError(fmt::format("key '{}' has no value", printable(key)));
  std::int64_t x = 0;
  auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
  const bool whole = ptr == v.data() + v.size();
  if (ec == std::errc::result_out_of_range || (ec == std::errc{} && whole && x > kMaxDim))
    throw ShapeError(fmt::format("{}={} is too large (limit {})", key, printable(v), kMaxDim));
  if (ec != std::errc{} || !whole) throw ShapeError(fmt::format("{}={} is not an integer", key, printable(v)));
  if (x < min_value)
    throw ShapeError(fmt::format("{}={} must be {}", key, v, min_value == 1 ? "positive" : "zero or positive"));
  return x;
}

bool valid_label(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || std::string_view("_.:/-").find(c) != std::string_view::npos;
  });
}

}  // namespace

void check_size(const Shape& s) {
  double need = 0;
  try {
    need = static_cast<double>(footprint_bytes(s, DType::f64));
    (void)ops(s);
  } catch (const std::overflow_error&) {
    throw ShapeError("dimensions too large: their product overflows 64 bits");
  }
  // What kernels and the predictor derive from a conv2d — the padded input, the im2col matrix,
  // per-thread copies of either, in bytes — must stay in int64 too: bounded at 2^50 elements
  // (no real layer comes near; 8 bytes x 1024 threads more still fits). Doubles: the products
  // themselves may be far past int64.
  if (const auto* c = std::get_if<ConvShape>(&s.dims)) {
    const double n = static_cast<double>(c->n), ch = static_cast<double>(c->c);
    const double padded = n * ch * static_cast<double>(c->h + 2 * c->pad) * static_cast<double>(c->w + 2 * c->pad);
    const double im2col = n * ch * static_cast<double>(c->r) * static_cast<double>(c->s) * static_cast<double>(c->p()) *
                          static_cast<double>(c->q());
    if (std::max(padded, im2col) > kMaxDerivedElems)
      throw ShapeError(
          fmt::format("dimensions too large: the padded input ({:.3g} elements) or the im2col matrix "
                      "({:.3g}) exceeds 2^50 elements",
                      padded, im2col));
  }
  const double have = static_cast<double>(physical_memory_bytes());
  if (need > have)
    throw ShapeError(fmt::format("buffers need {:.1f} GiB at f64 but this machine has {:.1f} GiB", need / (1 << 30),
                                 have / (1 << 30)));
}

Shape parse_shape(std::string_view line) {
  const auto tokens = split_ws(line);
  if (tokens.empty()) throw ShapeError("empty shape descriptor");
  Shape shape;
  std::vector<KeySpec> keys;
  const std::string_view op = tokens[0];
  if (op == "mv") {
    auto& d = shape.dims.emplace<MvShape>();
    keys = {{"m", &d.m, true}, {"k", &d.k, true}};
  } else if (op == "gemm") {
    auto& d = shape.dims.emplace<GemmShape>();
    keys = {{"m", &d.m, true}, {"n", &d.n, true}, {"k", &d.k, true}};
  } else if (op == "conv2d") {
    auto& d = shape.dims.emplace<ConvShape>();
    keys = {{"n", &d.n, true},         {"c", &d.c, true}, {"h", &d.h, true}, {"w", &d.w, true},
            {"k", &d.k, true},         {"r", &d.r, true}, {"s", &d.s, true}, {"stride", &d.stride, false},
            {"pad", &d.pad, false, 0}, {"g", &d.g, false}};
  } else {
    throw ShapeError(fmt::format("unknown op '{}' (expected mv, gemm or conv2d)", printable(op)));
  }

  std::map<std::string_view, bool> seen;
  for (std::size_t i = 1; i < tokens.size(); ++i) {
    const std::string_view tok = tokens[i];
    const auto eq = tok.find('=');
    if (eq == std::string_view::npos) throw ShapeError(fmt::format("'{}' is not key=value", printable(tok)));
    const std::string_view key = tok.substr(0, eq), value = tok.substr(eq + 1);
    if (seen[key]) throw ShapeError(fmt::format("duplicate key '{}'", printable(key)));
    seen[key] = true;
    if (key == "name") {
      if (!valid_label(value))
        throw ShapeError(
            fmt::format("name='{}' must be non-empty and use only letters, digits and _.:/-", printable(value)));
      shape.name = std::string(value);
      continue;
    }
    if (key == "repeat") {
      shape.repeat = parse_value(key, value);
      continue;
    }
    auto it = std::find_if(keys.begin(), keys.end(), [&](const KeySpec& k) { return k.key == key; });
    if (it == keys.end()) throw ShapeError(fmt::format("unknown key '{}' for {}", printable(key), op));
    *it->field = parse_value(key, value, it->min_value);
  }
  for (const KeySpec& k : keys)
    if (k.required && !seen[k.key]) throw ShapeError(fmt::format("{} is missing key '{}'", op, k.key));

  if (const auto* c = std::get_if<ConvShape>(&shape.dims)) {
    if (c->c % c->g != 0 || c->k % c->g != 0)
      throw ShapeError(fmt::format("g={} must divide c={} and k={}", c->g, c->c, c->k));
    if (c->h + 2 * c->pad < c->r || c->w + 2 * c->pad < c->s)
      throw ShapeError(fmt::format("filter {}x{} is larger than the padded input {}x{}: empty output", c->r, c->s,
                                   c->h + 2 * c->pad, c->w + 2 * c->pad));
  }
  check_size(shape);
  return shape;
}

std::vector<Shape> parse_shapes(std::istream& in, std::string_view source) {
  std::vector<Shape> shapes;
  std::string line;
  for (int lineno = 1; std::getline(in, line); ++lineno) {
    std::string_view body = line;
    if (const auto hash = body.find('#'); hash != std::string_view::npos) body = body.substr(0, hash);
    if (split_ws(body).empty()) continue;
    try {
      shapes.push_back(parse_shape(body));
    } catch (const ShapeError& e) {
      throw ShapeError(fmt::format("{}:{}: {}", source, lineno, e.what()));
    }
  }
  if (in.bad()) throw ShapeError(fmt::format("{}: read error", source));
  if (shapes.empty()) throw ShapeError(fmt::format("{}: no shapes in file", source));
  return shapes;
}

std::vector<std::string> builtin_shape_sets() {
  std::vector<std::string> sets;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(ROOFBENCH_SHAPES_DIR, ec))
    if (e.path().extension() == kShapeExt) sets.push_back(e.path().stem().string());
  std::sort(sets.begin(), sets.end());
  return sets;
}

std::vector<Shape> load_shapes(std::string_view file_or_set) {
  namespace fs = std::filesystem;
  fs::path path{file_or_set};
  std::error_code ec;
  if (!is_input_file(file_or_set)) {
    const fs::path builtin = fs::path(ROOFBENCH_SHAPES_DIR) / (std::string(file_or_set) + std::string(kShapeExt));
    if (file_or_set.find('/') != std::string_view::npos || !fs::is_regular_file(builtin, ec)) {
      if (fs::is_directory(path, ec))
        throw ShapeError(fmt::format("{}: is a directory, not a shape file", file_or_set));
      throw ShapeError(fmt::format("{}: no such shape file or built-in set (sets: {})", file_or_set,
                                   fmt::join(builtin_shape_sets(), ", ")));
    }
    path = builtin;
  }
  std::ifstream in(path);
  if (!in) throw ShapeError(fmt::format("{}: cannot open", path.string()));
  return parse_shapes(in, path.string());
}

}  // namespace roofbench
