// libFuzzer target: the hardware profile loader (predictor/profile.h) and what uses a loaded
// profile. Two paths per input:
//   - profile_from_json(json::parse(input)): json::parse_error (and json::out_of_range, which
//     json::parse throws for a number that overflows a double) and ProfileError expected;
//     a profile that loads must survive to_json -> dump -> parse -> profile_from_json
//     unchanged (what write_profile writes, read_profile reads back), and is used:
//     predict() for a few shapes, impls, dtypes and thread counts, energy_table(p.energy):
//     ProfileError and ModelError expected;
//   - read_profile(file holding the input): ProfileError only, whatever the input.
// Every ProfileError and ModelError message must be one line.
// Anything else escaping, or a sanitizer report, is a finding.
// Built with -DROOFBENCH_FUZZ=ON; run with scripts/fuzz.sh.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "kernels/core/shape_file.h"
#include "kernels/core/shape.h"
#include "predictor/model.h"
#include "predictor/profile.h"
#include "predictor/roofline.h"

namespace {

using namespace roofbench;
using nlohmann::json;

void fail(const char* what) {
  std::fprintf(stderr, "profile: %s\n", what);
  __builtin_trap();
}

// Every refusal is one line, naming the source and the key.
void one_line(const std::exception& e) {
  if (std::string_view(e.what()).find_first_of("\n\r") != std::string_view::npos) {
    std::fprintf(stderr, "error message is not one line: %s\n", e.what());
    __builtin_trap();
  }
}

const std::vector<Shape>& shapes() {
  static const std::vector<Shape> s = {
      parse_shape("mv m=64 k=64"),
      parse_shape("mv m=4096 k=4096"),
      parse_shape("gemm m=197 n=768 k=3072"),
      parse_shape("gemm m=1 n=1 k=1"),
      parse_shape("conv2d n=1 c=64 h=56 w=56 k=64 r=3 s=3 pad=1"),
      parse_shape("conv2d n=1 c=64 h=56 w=56 k=256 r=1 s=1"),
      parse_shape("conv2d n=1 c=32 h=112 w=112 k=32 r=3 s=3 pad=1 g=32"),
      parse_shape("conv2d n=1 c=64 h=28 w=28 k=64 r=3 s=3 stride=2 pad=1 g=4"),
  };
  return s;
}

void use(const Profile& p) {
  std::vector<int> threads = {1, 2};
  if (!p.peaks.empty()) threads.push_back(p.peaks.front().threads);
  if (!p.kernels.empty()) threads.push_back(p.kernels.front().threads);
  for (const Shape& s : shapes())
    for (const Impl impl : {Impl::naive, Impl::opt, Impl::blas})
      for (const DType d : {DType::f64, DType::f32, DType::i8, DType::i4})
        for (const int t : threads)
          for (const bool cold : {false, true}) {
            try {
              (void)predict(p, s, impl, d, t, cold);
            } catch (const ProfileError& e) {
              one_line(e);
            }
          }
  try {
    (void)energy_table(p.energy, "fuzz");
  } catch (const ModelError& e) {
    one_line(e);
  }
}

// A file that read_profile reads the input from: one per process, rewritten per input.
const std::string& scratch_file() {
  static const std::string path = [] {
    const char* dir = std::getenv("TMPDIR");
    std::string templ = std::string(dir && *dir ? dir : "/tmp") + "/roofbench-fuzz-profile-XXXXXX";
    const int fd = mkstemp(templ.data());
    if (fd < 0) fail("cannot create a scratch file");
    close(fd);
    std::atexit([] { unlink(scratch_file().c_str()); });
    return templ;
  }();
  return path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);

  // read_profile: every malformed file is one ProfileError.
  {
    std::ofstream(scratch_file(), std::ios::binary | std::ios::trunc) << text;
    try {
      (void)read_profile(scratch_file());
    } catch (const ProfileError& e) {
      one_line(e);
    }
  }

  json j;
  try {
    j = json::parse(text);
  } catch (const json::parse_error&) {
    return 0;
  } catch (const json::out_of_range&) {
    return 0;
  }
  Profile p;
  try {
    p = profile_from_json(j, "fuzz");
  } catch (const ProfileError& e) {
    one_line(e);
    return 0;
  }
  // What write_profile would write, read back.
  try {
    const std::string written = to_json(p).dump(2, ' ', false, json::error_handler_t::replace);
    if (!(profile_from_json(json::parse(written), "written") == p))
      fail("a loaded profile changes when written and read back");
  } catch (const ProfileError& e) {
    std::fprintf(stderr, "%s\n", e.what());
    fail("a loaded profile is rejected when written and read back");
  }
  use(p);
  return 0;
}
