// sparse24_mask_quality: issue 18's quality table (fraction of sum |W| kept by 1-D 2:4, the exact transposable
// optimum and the greedy variant) on weight matrices given on the command line; harness/experiments/mask_quality.h
// says what each figure is. scripts/checkpoint_quality.py runs it on a real checkpoint.
#include <algorithm>
#include <cstdio>
#include <exception>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "harness/experiments/mask_quality.h"

namespace mq = sparse24::harness::mask_quality;
using sparse24::DType;

namespace {

constexpr const char* kUsage =
    "usage: sparse24_mask_quality [--types f32,bf16,fp16] [--json PATH] NAME=SOURCE...\n"
    "  SOURCE: PATH:ROWSxCOLS (raw little-endian float32, row-major), PATH.npy ('<f4', 2-D, C order),\n"
    "          normal:ROWSxCOLS:SEED (i.i.d. N(0,1), std::mt19937(SEED): a control)\n"
    "  W is out_features x in_features (M x K, as nn.Linear and our GEMM's A store it): 1-D 2:4 prunes along rows\n"
    "  (K); the transposable masks are 2:4 along rows and columns of every 4x4 block. Prints a table; --json writes\n"
    "  per-matrix and total figures (sums of |W| kept by one_d, exact and greedy, per element type).\n";

std::vector<DType> parse_types(const std::string& s) {
  std::vector<DType> out;
  size_t begin = 0;
  while (begin <= s.size()) {
    const size_t end = std::min(s.find(',', begin), s.size());
    const std::string t = s.substr(begin, end - begin);
    if (t == "f32") out.push_back(DType::f32);
    else if (t == "bf16") out.push_back(DType::bf16);
    else if (t == "fp16") out.push_back(DType::fp16);
    else throw std::invalid_argument("--types: '" + t + "' is not one of f32, bf16, fp16");
    begin = end + 1;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    std::vector<DType> types = {DType::f32, DType::bf16, DType::fp16};
    std::string json;
    std::vector<mq::MatrixSpec> specs;
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      auto value = [&]() -> std::string {
        if (i + 1 >= argc) throw std::invalid_argument(a + " needs a value");
        return argv[++i];
      };
      if (a == "--help" || a == "-h") {
        std::fputs(kUsage, stdout);
        return 0;
      } else if (a == "--types") {
        types = parse_types(value());
      } else if (a == "--json") {
        json = value();
      } else if (a.rfind("--", 0) == 0) {
        throw std::invalid_argument("unknown option '" + a + "'");
      } else {
        specs.push_back(mq::parse_spec(a));
      }
    }
    if (specs.empty()) throw std::invalid_argument("no matrix given");
    std::vector<mq::MatrixStats> stats;
    for (mq::MatrixSpec& s : specs) {
      const std::vector<float> w = mq::load(s);
      stats.push_back(mq::measure(s.name, w.data(), s.rows, s.cols, types));
    }
    const mq::MatrixStats sum = mq::total(stats);
    std::fputs(mq::to_text(stats, sum).c_str(), stdout);
    if (!json.empty()) {
      std::ofstream f(json);
      f << mq::to_json(stats, sum);
      if (!f) throw std::runtime_error(json + ": cannot write");
    }
    return 0;
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "sparse24_mask_quality: %s\n%s", e.what(), kUsage);
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sparse24_mask_quality: %s\n", e.what());
    return 1;
  }
}
