// The quality tool's core (harness/experiments/mask_quality.h) on matrices whose answers are worked out by hand
// here: the kept sums of each method, the greedy's difference, the 16-bit roundings' choices, the inputs' parsing
// and refusals.
#include "tests/catch.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "harness/experiments/mask_quality.h"

namespace {

namespace mq = sparse24::harness::mask_quality;
using sparse24::DType;

const mq::TypeStats& of(const mq::MatrixStats& m, DType t) {
  for (const mq::TypeStats& s : m.types)
    if (s.type == t) return s;
  throw std::logic_error("type not measured");
}

// A 4 x 8 matrix: two 4x4 blocks side by side.
// Block A, the magnitudes 1..16 (sum 136):       Block B (sum 80):
//   14  5 16 15                                     9 9 1 1
//    1  2  8 10                                     9 9 1 1
//    7  6  9 13                                     1 1 9 9
//    4 12  3 11                                     1 1 9 9
// A, 1-D: each row's two largest, 16+15, 10+8, 13+9, 12+11 = 94 (columns 2 and 3 three times: not transposable).
// A, exact: 14+16 (cols 0, 2), 8+10 (2, 3), 7+6 (0, 1), 12+11 (1, 3) = 84, every column twice; no pattern keeps
//   more (checked by brute force outside this test over all 90).
// A, greedy: 16, 15 (row 0 full), 14 refused, 13 (col 3 full), 12, 11 refused, 10 refused, 9 (col 2 full), then
//   only 4, 2 and 1 fit: 16+15+13+12+9+4+2+1 = 72, eight picks (no completion needed), not the exact pattern.
// B: the 9s are 2:4 both ways: 1-D = exact = greedy = 72 (1-D already transposable).
// Signs alternate, to show the methods see |w|. Integers: exact in bf16 and fp16, so every type agrees.
std::vector<float> two_blocks() {
  const float a[4][4] = {{14, 5, 16, 15}, {1, 2, 8, 10}, {7, 6, 9, 13}, {4, 12, 3, 11}};
  const float b[4][4] = {{9, 9, 1, 1}, {9, 9, 1, 1}, {1, 1, 9, 9}, {1, 1, 9, 9}};
  std::vector<float> w(32);
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 4; ++c) {
      const float sign = (r + c) % 2 ? -1.f : 1.f;
      w[8 * r + c] = sign * a[r][c], w[8 * r + 4 + c] = sign * b[r][c];
    }
  return w;
}

std::string temp_path(const char* name) {
  const char* dir = std::getenv("TMPDIR");
  return std::string(dir && *dir ? dir : "/tmp") + "/sparse24_mask_quality_test_" + name;
}

}  // namespace

TEST_CASE("mask quality: kept sums of 1-D, exact and greedy on two known blocks", "[mask_quality]") {
  const std::vector<float> w = two_blocks();
  const mq::MatrixStats m = mq::measure("known", w.data(), 4, 8, {DType::f32, DType::bf16, DType::fp16});
  REQUIRE(m.types.size() == 3);
  for (const mq::TypeStats& s : m.types) {
    INFO(sparse24::name(s.type));
    CHECK(s.blocks == 2);
    CHECK(s.sum_abs == 136 + 80);
    CHECK(s.kept_one_d == 94 + 72);
    CHECK(s.kept_exact == 84 + 72);
    CHECK(s.kept_greedy == 72 + 72);
    CHECK(s.greedy_differs == 1);
    CHECK(s.one_d_transposable == 1);
    if (s.type != DType::f32) {
      CHECK(s.exact_differs_from_f32 == 0);
      CHECK(s.f32_kept_by_exact == 84 + 72);
      // The GPU's scorings take these blocks (small integers, no inf) and agree with exact_pattern.
      for (const mq::FormCheck* c : {&s.halves, &s.int_keys, &s.slots, &s.lean_slots}) {
        CHECK(c->applied == 2);
        CHECK(c->differs == 0);
      }
    }
  }
  // The excess kurtosis of the 32 values, from its definition.
  double mean = 0, m2 = 0, m4 = 0;
  for (float x : w) mean += x / 32.0;
  for (float x : w) m2 += (x - mean) * (x - mean) / 32.0, m4 += std::pow(x - mean, 4) / 32.0;
  CHECK(m.moments.excess_kurtosis() == Approx(m4 / (m2 * m2) - 3.0).epsilon(1e-12));
  // Totals add up, and the JSON carries the sums.
  const mq::MatrixStats sum = mq::total({m, m});
  CHECK(of(sum, DType::bf16).kept_exact == 2 * (84 + 72));
  CHECK(of(sum, DType::f32).blocks == 4);
  const std::string json = mq::to_json({m}, sum);
  CHECK(json.find("\"name\": \"known\"") != std::string::npos);
  CHECK(json.find("\"kept\": {\"one_d\": 166, \"exact\": 156, \"greedy\": 144}") != std::string::npos);
}

TEST_CASE("mask quality: bf16 rounding can change the exact choice, fp16 keeps it", "[mask_quality]") {
  // Row 3 = 2, 1, 1.001, 0, the other rows zero: the optimum keeps 2 and 1.001 (columns 0 and 2). In bf16 (8
  // significand bits) 1.001 rounds to 1.0, a tie with column 1 that goes to the lowest mask, whose top nibble is
  // row 3's: row 3 keeps columns 0 and 1 (0x3 < 0x5) and the f32 weights lose 0.001. fp16 (11 bits) rounds it to
  // 1 + 2^-10, still above 1: the f32 choice.
  std::vector<float> w(16, 0.f);
  w[12] = 2.f, w[13] = 1.f, w[14] = 1.001f;
  const mq::MatrixStats m = mq::measure("tie", w.data(), 4, 4, {DType::f32, DType::bf16, DType::fp16});
  const double f32_best = 2.0 + double(1.001f);
  CHECK(of(m, DType::f32).kept_exact == f32_best);
  CHECK(of(m, DType::bf16).exact_differs_from_f32 == 1);
  CHECK(of(m, DType::bf16).kept_exact == 3.0);
  CHECK(of(m, DType::bf16).f32_kept_by_exact == 3.0);
  CHECK(of(m, DType::fp16).exact_differs_from_f32 == 0);
  CHECK(of(m, DType::fp16).f32_kept_by_exact == f32_best);
  CHECK(of(m, DType::fp16).kept_exact == 3.0 + 0x1p-10);
}

TEST_CASE("mask quality: inputs are parsed and bad ones refused", "[mask_quality]") {
  const mq::MatrixSpec raw = mq::parse_spec("layer.0.q=/some/dir:x/w.f32:384x1536");
  CHECK(raw.kind == mq::MatrixSpec::Kind::raw);
  CHECK(raw.path == "/some/dir:x/w.f32");   // the last colon starts the shape
  CHECK(raw.rows == 384);
  CHECK(raw.cols == 1536);
  const mq::MatrixSpec normal = mq::parse_spec("control=normal:8x12:2026");
  CHECK(normal.kind == mq::MatrixSpec::Kind::normal);
  CHECK(normal.seed == 2026);
  CHECK(mq::parse_spec("w=a.npy").kind == mq::MatrixSpec::Kind::npy);
  CHECK_THROWS_AS(mq::parse_spec("no_name"), std::invalid_argument);
  CHECK_THROWS_AS(mq::parse_spec("bad name=x:4x4"), std::invalid_argument);
  CHECK_THROWS_AS(mq::parse_spec("w=x:6x4"), std::invalid_argument);    // not 4 x 4 blocks
  CHECK_THROWS_AS(mq::parse_spec("w=x:4by4"), std::invalid_argument);
  CHECK_THROWS_AS(mq::parse_spec("w=normal:4x4"), std::invalid_argument);

  // A raw file of the wrong size is refused; of the right size it reads back.
  const std::vector<float> w = two_blocks();
  const std::string path = temp_path("raw.f32");
  {
    std::ofstream f(path, std::ios::binary);
    f.write(reinterpret_cast<const char*>(w.data()), std::streamsize(w.size() * sizeof(float)));
  }
  mq::MatrixSpec ok = mq::parse_spec("w=" + path + ":4x8"), wrong = mq::parse_spec("w=" + path + ":8x8");
  CHECK(mq::load(ok) == w);
  CHECK_THROWS_AS(mq::load(wrong), std::runtime_error);

  // A .npy written byte by byte (version 1.0, header padded to 64 bytes with spaces and a newline).
  const std::string npy = temp_path("w.npy");
  {
    std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (4, 8), }";
    header.resize(128 - 10 - 1, ' ');
    header += '\n';
    std::ofstream f(npy, std::ios::binary);
    const unsigned char preamble[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, static_cast<unsigned char>(header.size()),
                                        0};
    f.write(reinterpret_cast<const char*>(preamble), 10);
    f << header;
    f.write(reinterpret_cast<const char*>(w.data()), std::streamsize(w.size() * sizeof(float)));
  }
  mq::MatrixSpec n = mq::parse_spec("w=" + npy);
  CHECK(mq::load(n) == w);
  CHECK(n.rows == 4);
  CHECK(n.cols == 8);
  std::remove(path.c_str());
  std::remove(npy.c_str());

  // A NaN is refused with its position; so is a shape that is not made of 4 x 4 blocks.
  std::vector<float> bad(16, 1.f);
  bad[6] = NAN;
  CHECK_THROWS_WITH(mq::measure("nan", bad.data(), 4, 4, {DType::f32}), test::contains("row 1, column 2"));
  CHECK_THROWS_AS(mq::measure("odd", bad.data(), 2, 8, {DType::f32}), std::invalid_argument);
  std::vector<float> ones(16, 1.f);
  CHECK_THROWS_AS(mq::measure("int8", ones.data(), 4, 4, {DType::int8}), std::invalid_argument);   // no such rounding
}

TEST_CASE("mask quality: the normal control is the seeded generator's", "[mask_quality]") {
  mq::MatrixSpec a = mq::parse_spec("a=normal:8x8:7"), b = mq::parse_spec("b=normal:8x8:7");
  mq::MatrixSpec c = mq::parse_spec("c=normal:8x8:8");
  const std::vector<float> x = mq::load(a);
  CHECK(x == mq::load(b));
  CHECK(x != mq::load(c));
  // On normal weights the order of the methods holds block by block: 1-D >= exact >= greedy.
  mq::MatrixSpec big = mq::parse_spec("n=normal:64x64:2026");
  const std::vector<float> w = mq::load(big);
  const mq::TypeStats s = mq::measure("n", w.data(), 64, 64, {DType::f32}).types[0];
  CHECK(s.kept_one_d >= s.kept_exact);
  CHECK(s.kept_exact >= s.kept_greedy);
  CHECK(s.kept_exact / s.sum_abs > 0.5);
}
