// The launch-order experiment (issue 19 item 5, `auto` within 3%): does a kernel's time depend on which kernel ran
// before it? Its own executable, sparse24_launchorder, run by a device call's script (results/NOTES.md, session 22).
//
// Why: `auto` times its candidates in prepare() and the harness times each row in its own loop, both with the same
// L2 flush before every launch (kernels/common/l2_flush.h). After session 22 made the two flushes the same, most
// candidates read within 1-2% of their loop times, but wgmma_sp.s28_pairsum and s29_colpairsum read 2.2-2.3 us
// (8%) slower in prepare at fp16 8192x128x8192 (31.6 / 31.2 us against 29.30 / 28.98 in the loop), s27 and s21 did
// not (30.7 / 30.9 against 30.08 / 30.94), and `auto` took s27, 3.3% behind s29
// (results/nvidia-h200/session22_2026-12-04_a2cf48b/, band_fp16.partial.jsonl.gz, notes.auto_timings). The one
// difference left between the two: in the loop a kernel follows itself (flush, launch, flush, launch, ...); in
// prepare's interleaved rounds it follows another candidate.
//
// What it times, for the variants matching --kernels at one shape (operands as `auto` gets them, A in the pick
// layout, one warm-up launch each), every launch alone between CUDA events after the flush:
//   alone        each variant --runs launches in a row (the harness's loop), one variant after the other;
//   interleaved  --runs rounds, one launch of each per round, the order turned each round (prepare's rounds); the
//                median per variant, and per (previous variant, variant) pair;
//   alone again  as the first, after the rest (a drift of the GPU's state between the first and the last shows here).
// PREDICTION (before the first run, results/NOTES.md): if the order is what moves s28 / s29, "alone" reads their
// loop times and "interleaved" 2-3 us more, and the pair medians show which predecessor costs it; if not, the two
// modes agree within 1% and the difference lies elsewhere (the harness's many launches against prepare's few).
// MEASURED (H200, session 22 call B; results/nvidia-h200/session22_2026-12-04_9e6de27/launchorder_*.json): the order
// is the cause. Alone reads the loop's times (the two alone modes within 0.2 us); interleaved costs s27 +0.5-0.7 us,
// s21 / s22 +1.5-2.1, s28 / s29 +2.2-2.7 at 8192x128x8192, growing with the kernel's code; the predecessor's identity
// moves it by 0.1-0.7 us only.
//
//   sparse24_launchorder --dtype fp16 --shape 8192x128x8192 --kernels REGEX [--runs 30] [--json FILE]
// Exit 0; 1 on an error; 77 without a GPU.
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <regex>
#include <stdexcept>
#include <string>
#include <vector>

#include "harness/context.h"
#include "harness/device_buffer.h"
#include "harness/problem.h"
#include "harness/timing.h"
#include "kernels/common/cuda_check.h"
#include "kernels/dispatch.h"
#include "kernels/registry.h"

namespace sparse24::harness::launchorder {
namespace {

std::string num(double x, int digits) {
  char b[64];
  std::snprintf(b, sizeof b, "%.*f", digits, x);
  return b;
}

int run(int argc, char** argv) {
  std::string dtype = "fp16", shape = "8192x128x8192", kernels, json = "launchorder.json";
  int runs = 30;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error(a + " needs a value");
      return argv[++i];
    };
    if (a == "--dtype") dtype = value();
    else if (a == "--shape") shape = value();
    else if (a == "--kernels") kernels = value();
    else if (a == "--runs") runs = std::stoi(value());
    else if (a == "--json") json = value();
    else throw std::runtime_error("unknown option " + a + " (--dtype, --shape, --kernels, --runs, --json)");
  }
  DType t{};
  if (!parse_dtype(dtype, &t)) throw std::runtime_error("unknown dtype " + dtype);
  int M = 0, N = 0, K = 0;
  if (std::sscanf(shape.c_str(), "%dx%dx%d", &M, &N, &K) != 3) throw std::runtime_error("--shape MxNxK");
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
    std::fprintf(stderr, "sparse24_launchorder: no GPU: skipped\n");
    return 77;
  }
  SPARSE24_CUDA_CHECK(cudaSetDevice(0));
  const Gpu gpu = gpu_of(0);
  const std::regex re(kernels);
  std::vector<const Variant*> vs;
  for (const Variant& v : registry())
    if (std::regex_search(v.name, re) && pickable(v, t, M, N, K, gpu.sm)) vs.push_back(&v);
  if (vs.size() < 2) throw std::runtime_error("--kernels must match at least two variants pick() may return here");

  cudaStream_t stream = nullptr;
  SPARSE24_CUDA_CHECK(cudaStreamCreate(&stream));
  auto p = Problem::make(t, M, N, K, Fill::Normal, 11, stream);
  DeviceBuffer d(p->d_bytes());
  AutoArgs a;
  a.M = M, a.N = N, a.K = K;
  a.a_values = p->a_values.get();
  a.a_meta_canonical = p->meta(format::MetaLayout::Canonical);
  a.a_meta_layout = p->meta(pick_layout(t));
  a.b = p->b.get();
  a.d = d.get();
  std::vector<std::unique_ptr<AutoPlan>> plans;
  for (const Variant* v : vs) {
    plans.push_back(prepare_auto(*v, t, a, gpu, stream));
    plans.back()->run(stream);  // warm-up
  }
  SPARSE24_CUDA_CHECK(cudaStreamSynchronize(stream));
  L2Flusher flusher(0);
  EventTimer timer;
  auto timed_us = [&](size_t i) {
    flusher.flush(stream);
    return 1e3 * timer.time_ms([&] { plans[i]->run(stream); }, stream);
  };
  const size_t n = vs.size();
  std::vector<std::vector<double>> alone(n), interleaved(n), alone_again(n);
  std::map<std::pair<size_t, size_t>, std::vector<double>> after;  // (previous, this) -> us
  for (size_t i = 0; i < n; ++i)
    for (int r = 0; r < runs; ++r) alone[i].push_back(timed_us(i));
  size_t previous = n;
  for (int r = 0; r < runs; ++r)
    for (size_t j = 0; j < n; ++j) {
      const size_t i = (j + size_t(r)) % n;
      const double us = timed_us(i);
      interleaved[i].push_back(us);
      if (previous < n) after[{previous, i}].push_back(us);
      previous = i;
    }
  for (size_t i = 0; i < n; ++i)
    for (int r = 0; r < runs; ++r) alone_again[i].push_back(timed_us(i));
  SPARSE24_CUDA_CHECK(cudaStreamDestroy(stream));

  std::ofstream f(json);
  f << "{\"context\": {";
  for (const auto& [k, v] : run_context(0)) f << "\"" << k << "\": \"" << v << "\", ";
  f << "\"experiment\": \"launchorder\", \"dtype\": \"" << dtype << "\", \"shape\": \"" << shape
    << "\", \"runs\": " << runs << "},\n \"rows\": [\n";
  std::printf("%s %s, %d launches per mode (us, medians)\n%-72s %9s %11s %11s\n", dtype.c_str(), shape.c_str(), runs,
              "variant", "alone", "interleaved", "alone again");
  for (size_t i = 0; i < n; ++i) {
    f << "  {\"variant\": \"" << vs[i]->name << "\", \"alone_us\": " << num(median(alone[i]), 3)
      << ", \"interleaved_us\": " << num(median(interleaved[i]), 3) << ", \"alone_again_us\": "
      << num(median(alone_again[i]), 3) << ", \"after_us\": {";
    std::printf("%-72s %9.2f %11.2f %11.2f\n", vs[i]->name.c_str(), median(alone[i]), median(interleaved[i]),
                median(alone_again[i]));
    bool first = true;
    for (size_t j = 0; j < n; ++j) {
      const auto it = after.find({j, i});
      if (it == after.end()) continue;
      f << (first ? "" : ", ") << "\"" << vs[j]->name << "\": " << num(median(it->second), 3);
      std::printf("    after %-62s %9.2f (%zu)\n", vs[j]->name.c_str(), median(it->second), it->second.size());
      first = false;
    }
    f << "}}" << (i + 1 < n ? ",\n" : "\n");
  }
  f << "]}\n";
  std::printf("sparse24_launchorder: %s\n", json.c_str());
  return 0;
}

}  // namespace
}  // namespace sparse24::harness::launchorder

int main(int argc, char** argv) {
  try {
    return sparse24::harness::launchorder::run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sparse24_launchorder: %s\n", e.what());
    return 1;
  }
}
