// Shape descriptors (design.md, "Shape descriptors"): parse and print round-trip, every
// built-in set loads, and every malformed descriptor is a one-line ShapeError that says what
// is wrong.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "kernels/core/shape_file.h"
#include "kernels/core/shape.h"
#include "kernels/core/text_file.h"

namespace roofbench {
namespace {

// ---- round trip -------------------------------------------------------------------------

// Each descriptor is written the way a person might write it (optional keys, defaults given
// explicitly, keys shuffled, tabs and runs of spaces); parse -> print -> parse must give the
// same Shape and printing must be a fixed point.
const char* const kRoundTrip[] = {
    "mv m=4096 k=11008",
    "mv k=11008 m=4096",
    "  mv\tm=1   k=1  ",
    "mv m=7 k=3 name=llama-7b:decode.wq repeat=32",
    "mv repeat=2 name=x k=5 m=9",
    "gemm m=197 n=768 k=3072",
    "gemm k=3072 m=197 n=768",
    "gemm\tn=1\tk=1\tm=1",
    "gemm m=1 n=1000 k=2048 name=resnet50:fc",
    "gemm name=a/b_c-d.e:f m=2 repeat=144 k=3 n=4",
    "conv2d n=1 c=64 h=56 w=56 k=64 r=3 s=3 stride=1 pad=1",
    "conv2d n=1 c=64 h=56 w=56 k=64 r=3 s=3",
    "conv2d n=1 c=64 h=56 w=56 k=64 r=3 s=3 stride=1 pad=0 g=1",
    "conv2d pad=3 stride=2 s=7 r=7 k=64 w=224 h=224 c=3 n=1",
    "conv2d n=1 c=3 h=224 w=224 k=64 r=7 s=7 stride=2 pad=3 repeat=1 name=resnet50:conv1",
    "conv2d n=2 c=32 h=112 w=112 k=32 r=3 s=3 stride=2 pad=1 g=32",
    "conv2d g=16 n=1 c=16 h=9 w=7 k=32 r=3 s=3",
    "conv2d  n=1  c=8  h=16  w=16  k=16  r=5  s=3  pad=2  g=4  repeat=3  name=t:grouped",
    "conv2d\tn=4\tc=1\th=161\tw=700\tk=32\tr=5\ts=20\tstride=2\tname=deepbench:conv_2\t",
    "conv2d n=1 c=1 h=1 w=1 k=1 r=1 s=1 pad=0",
    "conv2d n=1 c=1 h=1 w=1 k=1 r=3 s=3 pad=1",
    "conv2d n=1 c=2 h=5 w=5 k=2 r=1 s=1 stride=3 pad=2",
};

class RoundTrip : public ::testing::TestWithParam<const char*> {};

TEST_P(RoundTrip, ParsePrintParseIsIdentityAndPrintIsCanonical) {
  const Shape a = parse_shape(GetParam());
  const std::string text = to_string(a);
  const Shape b = parse_shape(text);
  EXPECT_EQ(a, b) << GetParam() << " -> " << text;
  EXPECT_EQ(to_string(b), text);
  EXPECT_EQ(text.find('\n'), std::string::npos);
  EXPECT_EQ(text.find('\t'), std::string::npos);
  EXPECT_EQ(text.find("  "), std::string::npos) << text;
}

INSTANTIATE_TEST_SUITE_P(Descriptors, RoundTrip, ::testing::ValuesIn(kRoundTrip));

TEST(Shape, ParsedFieldsAndDefaults) {
  const Shape mv = parse_shape("mv k=11008 m=4096");
  EXPECT_EQ(mv.op(), Op::mv);
  EXPECT_EQ(std::get<MvShape>(mv.dims), (MvShape{4096, 11008, 1}));
  EXPECT_EQ(mv.repeat, 1);
  EXPECT_TRUE(mv.name.empty());

  const Shape gemm = parse_shape("gemm k=3 n=2 m=1 repeat=5 name=a:b");
  EXPECT_EQ(gemm.op(), Op::gemm);
  EXPECT_EQ(std::get<GemmShape>(gemm.dims), (GemmShape{1, 2, 3}));
  EXPECT_EQ(gemm.repeat, 5);
  EXPECT_EQ(gemm.name, "a:b");

  const Shape conv = parse_shape("conv2d n=1 c=64 h=56 w=57 k=32 r=3 s=5");
  ASSERT_EQ(conv.op(), Op::conv2d);
  const auto& c = std::get<ConvShape>(conv.dims);
  EXPECT_EQ(c.stride, 1);
  EXPECT_EQ(c.pad, 0);
  EXPECT_EQ(c.g, 1);
  EXPECT_EQ(c.p(), 54);  // (56 - 3)/1 + 1
  EXPECT_EQ(c.q(), 53);  // (57 - 5)/1 + 1
}

TEST(Shape, CanonicalFormOmitsDefaultsAndOrdersKeys) {
  EXPECT_EQ(to_string(parse_shape("mv k=2 m=1")), "mv m=1 k=2");
  EXPECT_EQ(to_string(parse_shape("gemm k=3 n=2 m=1")), "gemm m=1 n=2 k=3");
  EXPECT_EQ(to_string(parse_shape("conv2d g=1 pad=0 stride=1 s=3 r=3 k=8 w=9 h=9 c=4 n=1")),
            "conv2d n=1 c=4 h=9 w=9 k=8 r=3 s=3");
  EXPECT_EQ(to_string(parse_shape("conv2d repeat=2 name=x:y g=2 pad=1 stride=2 s=3 r=3 k=8 w=9 h=9 c=4 n=1")),
            "conv2d n=1 c=4 h=9 w=9 k=8 r=3 s=3 stride=2 pad=1 g=2 name=x:y repeat=2");
  EXPECT_EQ(to_string(parse_shape("mv m=1 k=2 repeat=1")), "mv m=1 k=2");
}

TEST(Shape, LargestAllowedValueIsKMaxDim) {
  // Values that keep the buffers small: a dimension of 2^31 itself would need > 16 GiB.
  const std::string max = std::to_string(kMaxDim);
  const Shape s = parse_shape("conv2d n=1 c=1 h=1 w=1 k=1 r=1 s=1 stride=" + max + " pad=8388608 repeat=" + max);
  const auto& d = std::get<ConvShape>(s.dims);
  EXPECT_EQ(d.stride, kMaxDim);
  EXPECT_EQ(d.pad, 8388608);  // 2^23: a padded input of (2^24 + 1)^2 elements, under 2^50
  EXPECT_EQ(s.repeat, kMaxDim);
  EXPECT_EQ(d.p(), 1);  // (1 + 2^24 - 1)/2^31 + 1
  EXPECT_EQ(parse_shape(to_string(s)), s);
}

// Found by fuzzing: pads and filters whose operands are tiny but whose padded input or im2col
// matrix leaves int64 once counted in bytes (signed overflow in the predictor and kernels).
TEST(Shape, PaddedInputAndIm2colBeyond2To50ElementsAreRejected) {
  const std::string max = std::to_string(kMaxDim);
  for (const std::string line : {"conv2d n=1 c=1 h=1 w=1 k=1 r=1 s=1 stride=" + max + " pad=" + max,
                                 std::string("conv2d n=1 c=65536 h=1 w=1 k=1 r=128 s=128 pad=16500")}) {
    try {
      parse_shape(line);
      ADD_FAILURE() << line << " parsed";
    } catch (const ShapeError& e) {
      EXPECT_NE(std::string(e.what()).find("exceeds 2^50 elements"), std::string::npos) << e.what();
    }
  }
}

// ---- built-in shape sets ----------------------------------------------------------------

TEST(ShapeSets, BuiltinSetsIncludeTheDocumentedOnes) {
  const std::vector<std::string> sets = builtin_shape_sets();
  for (const char* want : {"resnet50", "mobilenetv2", "bert-base", "llama-7b", "deepbench-inference-gemm",
                           "deepbench-inference-conv", "smoke"})
    EXPECT_NE(std::find(sets.begin(), sets.end(), want), sets.end()) << "missing built-in set " << want;
}

TEST(ShapeSets, EveryBuiltinSetLoadsAndEveryShapeRoundTrips) {
  const std::vector<std::string> sets = builtin_shape_sets();
  ASSERT_FALSE(sets.empty());
  for (const std::string& set : sets) {
    SCOPED_TRACE(set);
    std::vector<Shape> shapes;
    ASSERT_NO_THROW(shapes = load_shapes(set));
    EXPECT_FALSE(shapes.empty());
    for (const Shape& s : shapes) {
      const std::string text = to_string(s);
      Shape again;
      ASSERT_NO_THROW(again = parse_shape(text)) << text;
      EXPECT_EQ(again, s) << text;
      EXPECT_EQ(to_string(again), text);
    }
  }
}

TEST(ShapeSets, SetByPathEqualsSetByName) {
  const auto by_name = load_shapes("smoke");
  const auto by_path = load_shapes(std::string(ROOFBENCH_SOURCE_DIR) + "/benchmarks/shapes/smoke.shapes");
  EXPECT_EQ(by_name, by_path);
  EXPECT_EQ(by_name.size(), 7u);
}

// ---- parser errors ----------------------------------------------------------------------

struct BadCase {
  const char* line;
  std::vector<const char*> mentions;  // substrings the message must contain
};

// The message of the ShapeError that parse_shape(line) throws (fails the test if it does not).
std::string error_of(const std::string& line) {
  try {
    const Shape s = parse_shape(line);
    ADD_FAILURE() << "'" << line << "' parsed as '" << to_string(s) << "' but should be rejected";
  } catch (const ShapeError& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "'" << line << "' threw a non-ShapeError: " << e.what();
  }
  return {};
}

const std::string k2p31 = std::to_string(std::int64_t{1} << 31);

const BadCase kBad[] = {
    // empty and unknown op
    {"", {"empty"}},
    {"   \t ", {"empty"}},
    {"matmul m=1 n=2 k=3", {"unknown op", "matmul"}},
    {"GEMM m=1 n=2 k=3", {"unknown op", "GEMM"}},
    {"m=1 n=2 k=3", {"unknown op"}},
    // unknown keys, including keys of another op
    {"gemm m=1 n=2 k=3 x=4", {"unknown key", "'x'"}},
    {"gemm m=1 n=2 k=3 stride=1", {"unknown key", "stride"}},
    {"gemm m=1 n=2 k=3 pad=0", {"unknown key", "pad"}},
    {"gemm m=1 n=2 k=3 g=1", {"unknown key", "'g'"}},
    {"mv m=1 k=2 n=3", {"unknown key", "'n'"}},
    {"mv m=1 k=2 b=3", {"unknown key", "'b'"}},
    {"conv2d n=1 c=1 h=1 w=1 k=1 r=1 s=1 m=1", {"unknown key", "'m'"}},
    {"gemm M=1 n=2 k=3", {"'M'"}},
    // duplicate keys
    {"gemm m=1 n=2 k=3 m=1", {"duplicate", "'m'"}},
    {"mv m=1 k=2 k=2", {"duplicate", "'k'"}},
    {"conv2d n=1 c=1 h=1 w=1 k=1 r=1 s=1 pad=0 pad=0", {"duplicate", "pad"}},
    {"mv m=1 k=2 name=a name=a", {"duplicate", "name"}},
    {"mv m=1 k=2 repeat=2 repeat=3", {"duplicate", "repeat"}},
    // missing keys, every required key of every op
    {"mv k=2", {"missing", "'m'"}},
    {"mv m=2", {"missing", "'k'"}},
    {"mv", {"missing"}},
    {"gemm n=2 k=3", {"missing", "'m'"}},
    {"gemm m=1 k=3", {"missing", "'n'"}},
    {"gemm m=1 n=2", {"missing", "'k'"}},
    {"conv2d c=1 h=1 w=1 k=1 r=1 s=1", {"missing", "'n'"}},
    {"conv2d n=1 h=1 w=1 k=1 r=1 s=1", {"missing", "'c'"}},
    {"conv2d n=1 c=1 w=1 k=1 r=1 s=1", {"missing", "'h'"}},
    {"conv2d n=1 c=1 h=1 k=1 r=1 s=1", {"missing", "'w'"}},
    {"conv2d n=1 c=1 h=1 w=1 r=1 s=1", {"missing", "'k'"}},
    {"conv2d n=1 c=1 h=1 w=1 k=1 s=1", {"missing", "'r'"}},
    {"conv2d n=1 c=1 h=1 w=1 k=1 r=1", {"missing", "'s'"}},
    // zero and negative
    {"gemm m=0 n=2 k=3", {"m=0", "positive"}},
    {"mv m=4 k=0", {"k=0", "positive"}},
    {"conv2d n=1 c=1 h=1 w=1 k=1 r=1 s=1 stride=0", {"stride=0", "positive"}},
    {"conv2d n=1 c=1 h=1 w=1 k=1 r=1 s=1 g=0", {"g=0", "positive"}},
    {"mv m=1 k=2 repeat=0", {"repeat=0", "positive"}},
    {"gemm m=-1 n=2 k=3", {"m=-1", "positive"}},
    {"conv2d n=1 c=1 h=4 w=4 k=1 r=1 s=1 pad=-1", {"pad=-1"}},
    {"conv2d n=1 c=1 h=4 w=4 k=1 r=1 s=1 stride=-2", {"stride=-2"}},
    // not integers
    {"gemm m=1.5 n=2 k=3", {"m=1.5", "not an integer"}},
    {"gemm m=abc n=2 k=3", {"m=abc", "not an integer"}},
    {"gemm m= n=2 k=3", {"'m'", "no value"}},
    {"gemm m=0x10 n=2 k=3", {"m=0x10", "not an integer"}},
    {"gemm m=1e3 n=2 k=3", {"m=1e3", "not an integer"}},
    {"gemm m=+5 n=2 k=3", {"m=+5"}},
    {"gemm m=5k n=2 k=3", {"m=5k", "not an integer"}},
    {"mv m=1 k=2 repeat=two", {"repeat=two", "not an integer"}},
    {"conv2d n=1 c=1 h=4 w=4 k=1 r=1 s=1 pad=x", {"pad=x", "not an integer"}},
    // too large for one key
    {"gemm m=99999999999999999999 n=2 k=3", {"m=99999999999999999999", "too large"}},
    {"gemm m=2147483649 n=2 k=3", {"m=2147483649", "too large"}},
    {"mv m=1 k=9223372036854775807", {"too large"}},
    {"mv m=1 k=2 repeat=99999999999999999999", {"repeat", "too large"}},
    // products that overflow int64, and buffers beyond physical memory
    {"conv2d n=2147483648 c=2147483648 h=2147483648 w=2147483648 k=2147483648 r=2147483648 s=2147483648", {"overflow"}},
    {"gemm m=2147483648 n=2147483648 k=2147483648", {"overflow"}},
    {"gemm m=2000000000 n=1000 k=1000", {"GiB"}},
    {"mv m=2000000000 k=1000", {"GiB"}},
    // conv2d geometry
    {"conv2d n=1 c=1 h=4 w=4 k=1 r=5 s=1", {"empty output"}},
    {"conv2d n=1 c=1 h=4 w=4 k=1 r=1 s=7 pad=1", {"empty output"}},
    {"conv2d n=1 c=1 h=4 w=4 k=1 r=7 s=7 pad=1", {"empty output"}},
    {"conv2d n=1 c=6 h=4 w=4 k=8 r=1 s=1 g=4", {"g=4", "c=6"}},
    {"conv2d n=1 c=8 h=4 w=4 k=6 r=1 s=1 g=4", {"g=4", "k=6"}},
    {"conv2d n=1 c=8 h=4 w=4 k=8 r=1 s=1 g=16", {"g=16"}},
    // labels
    {"mv m=1 k=2 name=a b", {"'b'", "key=value"}},
    {"mv m=1 k=2 name=", {"name"}},
    {"mv m=1 k=2 name=a#b", {"name"}},
    {"mv m=1 k=2 name=a,b", {"name"}},
    // tokens that are not key=value
    {"gemm m=1 n=2 k=3 foo", {"'foo'", "key=value"}},
    {"gemm m 1 n=2 k=3", {"'m'", "key=value"}},
    {"gemm =1 m=1 n=2 k=3", {"unknown key"}},
};

class BadDescriptor : public ::testing::TestWithParam<BadCase> {};

TEST_P(BadDescriptor, IsAOneLineShapeErrorNamingTheProblem) {
  const BadCase& c = GetParam();
  const std::string msg = error_of(c.line);
  if (::testing::Test::HasFailure()) return;
  EXPECT_FALSE(msg.empty());
  EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  for (const char* m : c.mentions) EXPECT_NE(msg.find(m), std::string::npos) << "'" << c.line << "': " << msg;
}

std::string bad_name(const ::testing::TestParamInfo<BadCase>& info) {
  std::string s = std::to_string(info.index) + "_";
  for (char ch : std::string(info.param.line).substr(0, 40))
    s += std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
  return s;
}

INSTANTIATE_TEST_SUITE_P(Descriptors, BadDescriptor, ::testing::ValuesIn(kBad), bad_name);

TEST(Shape, ValueJustAboveKMaxDimIsRejected) {
  const std::string msg = error_of("gemm m=" + std::to_string(kMaxDim + 1) + " n=1 k=1");
  EXPECT_NE(msg.find("too large"), std::string::npos) << msg;
}

TEST(Shape, PadZeroIsAcceptedButOtherKeysMustBePositive) {
  const Shape s = parse_shape("conv2d n=1 c=1 h=4 w=4 k=1 r=1 s=1 pad=0");
  EXPECT_EQ(std::get<ConvShape>(s.dims).pad, 0);
  const Shape t = parse_shape("conv2d n=1 c=1 h=4 w=4 k=1 r=3 s=3 pad=2");
  EXPECT_EQ(std::get<ConvShape>(t.dims).pad, 2);
  EXPECT_EQ(std::get<ConvShape>(t.dims).p(), 6);  // (4 + 4 - 3)/1 + 1
}

TEST(Shape, LeadingZerosAreTheSameInteger) {
  // Keys accept leading zeros (m=007 is 7), so pad must accept every spelling of zero too:
  // pad is documented as the one key allowed to be zero.
  EXPECT_EQ(parse_shape("gemm m=007 n=2 k=3"), parse_shape("gemm m=7 n=2 k=3"));
  EXPECT_EQ(parse_shape("conv2d n=1 c=1 h=4 w=4 k=1 r=3 s=3 pad=01"),
            parse_shape("conv2d n=1 c=1 h=4 w=4 k=1 r=3 s=3 pad=1"));
  Shape s;
  ASSERT_NO_THROW(s = parse_shape("conv2d n=1 c=1 h=4 w=4 k=1 r=1 s=1 pad=00"));
  EXPECT_EQ(std::get<ConvShape>(s.dims).pad, 0);
}

TEST(Shape, FilterAsLargeAsThePaddedInputIsOneOutputPixel) {
  const Shape s = parse_shape("conv2d n=1 c=1 h=4 w=4 k=1 r=6 s=6 pad=1");
  EXPECT_EQ(std::get<ConvShape>(s.dims).p(), 1);
  EXPECT_EQ(std::get<ConvShape>(s.dims).q(), 1);
}

TEST(Shape, GroupedAndDepthwiseAreAccepted) {
  EXPECT_NO_THROW(parse_shape("conv2d n=1 c=8 h=4 w=4 k=16 r=3 s=3 pad=1 g=2"));
  EXPECT_NO_THROW(parse_shape("conv2d n=1 c=8 h=4 w=4 k=16 r=3 s=3 pad=1 g=4"));
  EXPECT_NO_THROW(parse_shape("conv2d n=1 c=32 h=4 w=4 k=32 r=3 s=3 pad=1 g=32"));
  EXPECT_NO_THROW(parse_shape("conv2d n=1 c=16 h=4 w=4 k=32 r=3 s=3 pad=1 g=16"));
}

TEST(Shape, CheckSizeRejectsBatchesThatDoNotFit) {
  const Shape s = parse_shape("gemm m=1000 n=1000 k=1000");
  EXPECT_NO_THROW(check_size(s));
  EXPECT_NO_THROW(check_size(batched(s, 4)));
  EXPECT_THROW(check_size(batched(s, 2000000)), ShapeError);  // 2e9 x 1000 rows at f64: ~32 TB
  // k*b input elements at 64 bits leave int64: an overflow, reported as a ShapeError too.
  EXPECT_THROW(check_size(batched(parse_shape("mv m=1 k=1"), std::int64_t{1} << 62)), ShapeError);
}

// ---- files --------------------------------------------------------------------------------

TEST(ShapeFile, CommentsAndBlankLinesAreSkipped) {
  std::istringstream in(
      "# a header comment\n"
      "\n"
      "mv m=4 k=8            # trailing comment\n"
      "   \t  \n"
      "   # indented comment\n"
      "gemm m=1 n=2 k=3#no space before the comment\n"
      "conv2d n=1 c=2 h=5 w=5 k=4 r=3 s=3 pad=1 name=x:y\r\n");
  const auto shapes = parse_shapes(in, "test.shapes");
  ASSERT_EQ(shapes.size(), 3u);
  EXPECT_EQ(shapes[0], parse_shape("mv m=4 k=8"));
  EXPECT_EQ(shapes[1], parse_shape("gemm m=1 n=2 k=3"));
  EXPECT_EQ(shapes[2], parse_shape("conv2d n=1 c=2 h=5 w=5 k=4 r=3 s=3 pad=1 name=x:y"));
}

TEST(ShapeFile, ErrorNamesSourceAndLine) {
  std::istringstream in(
      "# comment\n"
      "mv m=4 k=8\n"
      "gemm m=1 n=2 k=3 x=4   # line 3 is wrong\n"
      "mv m=4 k=8\n");
  try {
    parse_shapes(in, "my.shapes");
    FAIL() << "expected a ShapeError";
  } catch (const ShapeError& e) {
    const std::string msg = e.what();
    EXPECT_EQ(msg.rfind("my.shapes:3: ", 0), 0u) << msg;
    EXPECT_NE(msg.find("unknown key 'x'"), std::string::npos) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  }
}

TEST(ShapeFile, LineNumbersCountCommentAndBlankLines) {
  std::istringstream in("\n\n# c\n\n\nmv m=0 k=1\n");
  try {
    parse_shapes(in, "src");
    FAIL() << "expected a ShapeError";
  } catch (const ShapeError& e) {
    EXPECT_EQ(std::string(e.what()).rfind("src:6: ", 0), 0u) << e.what();
  }
}

TEST(ShapeFile, OnlyCommentsIsAnError) {
  std::istringstream in("# nothing here\n\n   # still nothing\n");
  try {
    parse_shapes(in, "empty.shapes");
    FAIL() << "expected a ShapeError";
  } catch (const ShapeError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("empty.shapes"), std::string::npos) << msg;
    EXPECT_NE(msg.find("no shapes"), std::string::npos) << msg;
  }
  std::istringstream none("");
  EXPECT_THROW(parse_shapes(none, "void"), ShapeError);
}

TEST(ShapeFile, MissingPathIsAShapeErrorNamingThePath) {
  for (const std::string& path :
       {std::string("/nonexistent/dir/missing.shapes"), std::string("no-such-set"), std::string("./missing.shapes")}) {
    try {
      load_shapes(path);
      FAIL() << "expected a ShapeError for " << path;
    } catch (const ShapeError& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find(path), std::string::npos) << msg;
      EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    }
  }
}

TEST(ShapeFile, LoadsARealFileAndNamesItInErrors) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("roofbench_test_shape_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path good = dir / "good.shapes", bad = dir / "bad.shapes";
  {
    std::ofstream(good) << "mv m=4 k=8\n# c\ngemm m=1 n=2 k=3\n";
    std::ofstream(bad) << "mv m=4 k=8\nmv m=4\n";
  }
  EXPECT_EQ(load_shapes(good.string()).size(), 2u);
  try {
    load_shapes(bad.string());
    ADD_FAILURE() << "expected a ShapeError";
  } catch (const ShapeError& e) {
    EXPECT_EQ(std::string(e.what()).rfind(bad.string() + ":2: ", 0), 0u) << e.what();
  }
  fs::remove_all(dir);
}

// ---- batch ----------------------------------------------------------------------------------

TEST(Batched, ScalesTheSampleDimensionOfEachOp) {
  const Shape conv = parse_shape("conv2d n=2 c=3 h=8 w=8 k=4 r=3 s=3 pad=1 name=x repeat=2");
  Shape want = conv;
  std::get<ConvShape>(want.dims).n = 8;
  EXPECT_EQ(batched(conv, 4), want);

  const Shape gemm = parse_shape("gemm m=197 n=768 k=3072");
  EXPECT_EQ(std::get<GemmShape>(batched(gemm, 8).dims), (GemmShape{197 * 8, 768, 3072}));

  const Shape mv = parse_shape("mv m=4096 k=11008");
  EXPECT_EQ(std::get<MvShape>(batched(mv, 8).dims), (MvShape{4096, 11008, 8}));
  // mv's batch is never printed: it is a knob, not part of the descriptor.
  EXPECT_EQ(to_string(batched(mv, 8)), "mv m=4096 k=11008");
}

TEST(Batched, BatchOneIsIdentity) {
  for (const char* line : kRoundTrip) {
    const Shape s = parse_shape(line);
    EXPECT_EQ(batched(s, 1), s) << line;
  }
}

TEST(Batched, KeepsLabels) {
  const Shape s = batched(parse_shape("gemm m=1 n=2 k=3 name=a:b repeat=7"), 3);
  EXPECT_EQ(s.name, "a:b");
  EXPECT_EQ(s.repeat, 7);
}

}  // namespace
}  // namespace roofbench

namespace roofbench {

// Two writers of one output (two roofbench runs given the same --csv) each use a temporary
// file of their own: the result is always one writer's text, whole, and nothing is left over.
TEST(AtomicWrite, ConcurrentWritersNeverMixTheirTexts) {
  const auto dir = std::filesystem::temp_directory_path() / fmt::format("roofbench-atomic-{}", ::getpid());
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "out.csv").string();
  const std::string a(1 << 20, 'a'), b(1 << 20, 'b');
  for (int round = 0; round < 20; ++round) {
    std::thread ta([&] { write_text_atomically(path, a); });
    std::thread tb([&] { write_text_atomically(path, b); });
    ta.join();
    tb.join();
    std::ifstream in(path, std::ios::binary);
    const std::string got((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    ASSERT_TRUE(got == a || got == b) << "round " << round << ": " << got.size() << " bytes, mixed";
  }
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir), std::filesystem::directory_iterator()), 1);
  std::filesystem::remove_all(dir);
}

TEST(Printable, EscapesControlAndNonUtf8BytesKeepsUtf8AndCuts) {
  EXPECT_EQ(printable("gemm m=4"), "gemm m=4");
  EXPECT_EQ(printable("caf\xc3\xa9"), "caf\xc3\xa9");        // valid UTF-8 stays
  EXPECT_EQ(printable("a\nb\x1b[2Jc"), "a\\x0ab\\x1b[2Jc");  // no new line, no terminal escape
  EXPECT_EQ(printable("\xff\xc3"), "\\xff\\xc3");            // a stray and a truncated sequence
  EXPECT_EQ(printable(std::string(100, 'x'), 10), std::string(10, 'x') + "...");
}

// A binary file is refused with one line: no byte of it can end the line or reach the
// terminal raw, and the quoted token is cut short.
TEST(ShapeFile, BinaryGarbageIsOnePrintableLine) {
  std::string garbage;
  for (int i = 0; i < 3000; ++i)
    garbage += static_cast<char>((i * 7919 + 13) % 256 == '\n' ? 'x' : (i * 7919 + 13) % 256);
  std::istringstream in(garbage);
  try {
    parse_shapes(in, "garbage.bin");
    FAIL() << "garbage parsed";
  } catch (const ShapeError& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.rfind("garbage.bin:1: ", 0), 0u) << what;
    EXPECT_LT(what.size(), 250u) << what;
    for (char c : what) EXPECT_TRUE(static_cast<unsigned char>(c) >= 0x20 && c != 0x7f) << what;
  }
}

}  // namespace roofbench

namespace roofbench {

// `--shapes <(generate-shapes)` hands roofbench a pipe, not a regular file: read like a file.
TEST(ShapeFile, APipeIsReadLikeAFile) {
  const std::string fifo =
      (std::filesystem::temp_directory_path() / ("roofbench_fifo_" + std::to_string(::getpid()))).string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::thread writer([&] { std::ofstream(fifo) << "gemm m=4 n=5 k=6\n"; });
  const std::vector<Shape> shapes = load_shapes(fifo);
  writer.join();
  std::filesystem::remove(fifo);
  ASSERT_EQ(shapes.size(), 1u);
  EXPECT_EQ(to_string(shapes[0]), "gemm m=4 n=5 k=6");
}

}  // namespace roofbench
