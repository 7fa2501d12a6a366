// The data-pipe experiment (issue 19 item 2; docs/sparse-tensor-cores.md §5a): is the shared-memory data pipe THE
// wall of a sparse SS wgmma loop, i.e. does the tensor pipe's time grow one for one with the wavefronts other
// traffic adds to that pipe? Its own executable, sparse24_datapipe (design.md names no place for experiments; this
// one shares the ceilings' loop, harness/wgmma_loop.cuh, not the benchmark's rows), run with Nsight Compute by
// scripts/datapipe.sh.
//
// The loop is the ceilings' warpgroup loop (m64n256, two consumer warpgroups per SM, one k-tile's batch in flight,
// the kernels' shared-memory layouts) in three forms: sparse SS (576 gmma wavefronts per 512 tensor cycles per
// k-tile and SM), sparse RS (A in registers: 512 per 512) and dense SS (640 per 1024: headroom, the control). Into
// each it adds X extra wavefronts per k-tile and SM (harness/wgmma_loop.h: X / 8 per consumer warp, 128-bit loads
// of the B tile without bank conflicts, harness/experiments/datapipe.h), issued between the batch's commit and its
// wait, their results summed and stored (so they stay, and so the host can check that every load read what the
// plan says). Per row: cycles per k-tile from clock64 around the loop (each warpgroup of the grid), the launch's
// time and dense-equivalent TFLOP/s, and the prediction of the account: max(tensor cycles, gmma wavefronts + X).
//
// PREDICTION (written before any run; results/NOTES.md, "Session 10: the data-pipe experiment (prediction)"): if
// one pipe serves one wavefront per cycle per SM to both the wgmma operand reads and the loads, and is the wall, a
// k-tile takes max(T, G + X) cycles: SS 576 + X (tensor 88.9% at X = 0, 59.3% at 288), RS 512 + X (RS at X = 64 =
// SS at X = 0), dense 1024 flat (G + X <= 928). Separate ports would leave SS and RS flat; a wall elsewhere would
// leave SS flat until X fills the pipe's idle slots; loads that cost the warps rather than the pipe would slow dense.
//
//   sparse24_datapipe [--json FILE]        time every (form, X), write the rows (default: datapipe.json)
//   sparse24_datapipe --profile FILE       launch each (form, X) once, in the rows' order, for ncu; FILE gets the
//                                          order (one JSON object per line), which scripts/datapipe.py pairs with
//                                          ncu's rows
// Exit 0; 1 when a checksum is wrong (the loads did not read what the plan says) or on an error; 77 without an
// sm_90 GPU (CTest's skip code: the experiment needs wgmma).
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "harness/context.h"
#include "harness/device_buffer.h"
#include "harness/experiments/datapipe.h"
#include "harness/timing.h"
#include "harness/wgmma_loop.cuh"
#include "kernels/common/cuda_check.h"

namespace sparse24::harness::datapipe {
namespace {

using namespace wgmma_bench;

// The type of the experiment: 16-bit, the type of §5a's account (the 8-bit and tf32 forms move the same bytes per
// tensor cycle, and the ceilings' SS / RS ratio is the same in every type: results/NOTES.md, session 7).
constexpr DType kType = DType::bf16;

// The probe: cycles around the loop, and X / 8 wavefronts of loads per warp while each batch is in flight. What a
// k-tile's loads read is added up one k-tile later (held in registers until then), so that no instruction of the
// batch waits for them: ptxas hoists the loads into the batch's issue (before its last wgmma), and an add right
// after them would hold that wgmma back by the loads' latency, a cost that is not the pipe's occupancy.
template <int kX>
struct ExtraLoadProbe {
  static_assert(valid_extra(kX), "X counts wavefronts per SM: a multiple of the consumer warps, each issuing X / 8");
  static_assert(extra_loads(kX).wavefronts_per_warp() * kWarpsPerSm == kX, "the warps' loads add up to X");
  static constexpr bool kRolled = true;  // wgmma_loop.cuh's NOTE: unrolled, some X serialized the wgmma
  static constexpr int kLoads = loads_per_warp(kX);
  long long* cycles;  // one per warpgroup of the grid: the loop's clock64 cycles
  long long start = 0;
  uint32_t sum = 0;                        // what this thread's loads read, summed (mod 2^32)
  uint4 held[kLoads > 0 ? kLoads : 1] = {};  // the previous k-tile's loads (a 64/32-bit load fills x, y / x)

  __device__ __forceinline__ void loop_begins() { start = clock64(); }
  __device__ __forceinline__ void add_held() {
#pragma unroll
    for (int j = 0; j < kLoads; ++j) sum += held[j].x + held[j].y + held[j].z + held[j].w;
  }
  __device__ __forceinline__ void batch_in_flight(const uint8_t* tile) {
    add_held();
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    const uint32_t base = ptx::smem_addr(tile);
#pragma unroll
    for (int j = 0; j < kLoads; ++j) {
      // Volatile asm loads (ptx_sm90.cuh says why): LDS.128 / .64 / .32, issued every k-tile.
      const uint32_t addr = base + load_offset(kX, warp, j, lane);
      if (load_width(kX, j) == 16) {
        held[j] = ptx::ld_shared_volatile_v4(addr);
      } else if (load_width(kX, j) == 8) {
        const uint2 v = ptx::ld_shared_volatile_v2(addr);
        held[j] = make_uint4(v.x, v.y, 0, 0);
      } else {
        held[j] = make_uint4(ptx::ld_shared_volatile_b32(addr), 0, 0, 0);
      }
    }
  }
  __device__ __forceinline__ void loop_ended() {
    const long long end = clock64();
    add_held();
    if (threadIdx.x % 128 == 0) cycles[blockIdx.x * kWarpgroups + threadIdx.x / 128] = end - start;
  }
};

template <Form kForm, int kX>
__global__ void __launch_bounds__(kThreads, 1)
    datapipe_loop(int iterations, float* sink, uint32_t* sums, long long* cycles) {
#if SPARSE24_SM90A_DEVICE
  ExtraLoadProbe<kX> probe{cycles};
  const int t = blockIdx.x * kThreads + threadIdx.x;
  sink[t] = run_loop<kType, kForm>(iterations, probe);  // used: nothing may be optimized away
  sums[t] = probe.sum;
#else
  (void)iterations, (void)sink, (void)sums, (void)cycles;  // built for sm_90a only (CMakeLists.txt)
#endif
}

// What thread `thread` of a block must have summed: `iterations` times its loads' words of the B tile.
uint32_t expected_sum(int x, int thread, int iterations) {
  const int warp = thread / 32, lane = thread % 32;
  uint32_t per_iteration = 0;
  for (int j = 0; j < loads_per_warp(x); ++j) {
    const int off = load_offset(x, warp, j, lane);
    for (int w = 0; w < load_width(x, j); w += 4) {
      uint32_t word = 0;
      for (int b = 0; b < 4; ++b) word |= uint32_t(operand_byte<kType>(off + w + b + 7)) << (8 * b);  // sb: i + 7
      per_iteration += word;
    }
  }
  return per_iteration * uint32_t(iterations);
}

struct Row {
  Form form;
  int x;
  double ms = 0, cycles_mean = 0, cycles_min = 0, cycles_max = 0;  // cycles: the whole loop, per warpgroup
  int sm_clock_mhz = -1;
  bool sums_ok = false;
};

struct Setup {
  int sms = 0;
  cudaStream_t stream = nullptr;
  DeviceBuffer sink, sums, cycles;
  EventTimer timer;
};

template <Form kForm, int kX>
Row run_row(Setup& s, bool profile) {
  Row r{kForm, kX};
  auto launch = [&] {
    datapipe_loop<kForm, kX><<<s.sms, kThreads, 0, s.stream>>>(kIterations, s.sink.as<float>(), s.sums.as<uint32_t>(),
                                                                s.cycles.as<long long>());
  };
  launch();  // profile: the one launch ncu measures; otherwise the warm-up (module load, clocks up)
  SPARSE24_CUDA_CHECK(cudaGetLastError());
  SPARSE24_CUDA_CHECK(cudaStreamSynchronize(s.stream));
  if (!profile) {
    std::vector<double> ms;
    for (int i = 0; i < kReps; ++i) ms.push_back(s.timer.time_ms(launch, s.stream));
    r.ms = median(ms);
    r.sm_clock_mhz = sm_clock_mhz(0);
  }
  // The last launch's cycles and sums.
  std::vector<long long> cycles(size_t(s.sms) * kWarpgroups);
  std::vector<uint32_t> sums(size_t(s.sms) * kThreads);
  SPARSE24_CUDA_CHECK(
      cudaMemcpy(cycles.data(), s.cycles.get(), cycles.size() * sizeof(long long), cudaMemcpyDeviceToHost));
  SPARSE24_CUDA_CHECK(cudaMemcpy(sums.data(), s.sums.get(), sums.size() * sizeof(uint32_t), cudaMemcpyDeviceToHost));
  double total = 0;
  r.cycles_min = double(cycles[0]), r.cycles_max = double(cycles[0]);
  for (long long c : cycles) {
    total += double(c);
    r.cycles_min = std::min(r.cycles_min, double(c));
    r.cycles_max = std::max(r.cycles_max, double(c));
  }
  r.cycles_mean = total / double(cycles.size());
  r.sums_ok = true;
  for (size_t t = 0; t < sums.size(); ++t)
    r.sums_ok = r.sums_ok && sums[t] == expected_sum(kX, int(t % kThreads), kIterations);
  return r;
}

template <Form kForm, size_t... I>
void run_form(Setup& s, bool profile, std::vector<Row>& rows, std::index_sequence<I...>) {
  (rows.push_back(run_row<kForm, kExtraWavefronts[I]>(s, profile)), ...);
}

// Dense-equivalent flops of one launch: per warpgroup and k-tile 2 x 64 x 256 x (the dense K of 128 bytes per row).
double launch_flops(int sms) {
  return 2.0 * kM * kN * (double(kRowBytes) / bytes_of(kType)) * kIterations * kWarpgroups * sms;
}

std::string num(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// One row as JSON (fields: scripts/datapipe.py and results/NOTES.md, session 10).
std::string row_json(const Row& r, int sms) {
  const int t = tensor_cycles_per_ktile(r.form), g = gmma_wavefronts_per_ktile(r.form);
  const int predicted = predicted_cycles_per_ktile(r.form, r.x);
  const double per_ktile = r.cycles_mean / kIterations;
  const double tflops = r.ms > 0 ? launch_flops(sms) / (r.ms * 1e-3) / 1e12 : 0;
  const ExtraLoads l = extra_loads(r.x);
  std::ostringstream o;
  o << "{\"form\": " << quoted(form_name(r.form)) << ", \"dtype\": " << quoted(name(kType)) << ", \"x\": " << r.x
    << ", \"x_per_128_tensor_cycles\": " << num(128.0 * r.x / t, 2)
    << ", \"loads_per_warp\": {\"v4\": " << l.v4 << ", \"v2\": " << l.v2 << ", \"v1\": " << l.v1 << "}"
    << ", \"tensor_cycles_per_ktile\": " << t << ", \"gmma_wavefronts_per_ktile\": " << g
    << ", \"pipe_wavefronts_per_ktile\": " << g + r.x << ", \"predicted_cycles_per_ktile\": " << predicted
    << ", \"cycles_per_ktile\": " << num(per_ktile, 2)
    << ", \"cycles_per_ktile_min\": " << num(r.cycles_min / kIterations, 2)
    << ", \"cycles_per_ktile_max\": " << num(r.cycles_max / kIterations, 2)
    << ", \"tensor_pct\": " << num(100.0 * t / per_ktile, 2)
    << ", \"predicted_tensor_pct\": " << num(100.0 * t / predicted, 2) << ", \"ms\": " << num(r.ms, 4)
    << ", \"tflops\": " << num(tflops, 1)
    // The predicted rate at the row's own clock: its TFLOP/s scaled by measured / predicted cycles.
    << ", \"predicted_tflops\": " << num(tflops * per_ktile / predicted, 1)
    << ", \"loop_clock_mhz\": " << num(r.ms > 0 ? r.cycles_mean / (r.ms * 1e3) : 0, 0)
    << ", \"sm_clock_mhz\": " << r.sm_clock_mhz << ", \"sums_ok\": " << (r.sums_ok ? "true" : "false") << "}";
  return o.str();
}

int run(int argc, char** argv) {
  std::string json = "datapipe.json", order;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if ((a == "--json" || a == "--profile") && i + 1 < argc) {
      (a == "--json" ? json : order) = argv[++i];
    } else {
      std::fprintf(stderr, "usage: sparse24_datapipe [--json FILE | --profile ORDER_FILE]\n");
      return 1;
    }
  }
  const bool profile = !order.empty();
  std::string why;
  if (cuda_device_count(&why) == 0) {
    std::fprintf(stderr, "sparse24_datapipe: no CUDA GPU available (%s): skipped\n", why.c_str());
    return 77;
  }
  SPARSE24_CUDA_CHECK(cudaSetDevice(0));
  if (compute_capability(0) != 90) {
    std::fprintf(stderr, "sparse24_datapipe: needs sm_90 (wgmma), the GPU is sm_%d: skipped\n", compute_capability(0));
    return 77;
  }
  Setup s;
  SPARSE24_CUDA_CHECK(cudaDeviceGetAttribute(&s.sms, cudaDevAttrMultiProcessorCount, 0));
  s.sink = DeviceBuffer(size_t(s.sms) * kThreads * sizeof(float));
  s.sums = DeviceBuffer(size_t(s.sms) * kThreads * sizeof(uint32_t));
  s.cycles = DeviceBuffer(size_t(s.sms) * kWarpgroups * sizeof(long long));
  std::vector<Row> rows;
  constexpr auto kXs = std::make_index_sequence<kExtraWavefronts.size()>();
  run_form<Form::SparseSS>(s, profile, rows, kXs);
  run_form<Form::SparseRS>(s, profile, rows, kXs);
  run_form<Form::DenseSS>(s, profile, rows, kXs);

  bool ok = true;
  for (const Row& r : rows) {
    if (!r.sums_ok)
      std::fprintf(stderr, "sparse24_datapipe: %s X = %d: the loads' sums are wrong\n", form_name(r.form), r.x);
    ok = ok && r.sums_ok;
  }
  if (profile) {
    std::ofstream f(order);
    for (const Row& r : rows) f << "{\"form\": " << quoted(form_name(r.form)) << ", \"x\": " << r.x << "}\n";
    return ok ? 0 : 1;
  }
  std::ofstream f(json);
  f << "{\"context\": {";
  for (const auto& [k, v] : run_context(0)) f << quoted(k) << ": " << quoted(v) << ", ";
  f << "\"experiment\": \"datapipe\", \"iterations\": " << kIterations << ", \"warpgroups_per_sm\": " << kWarpgroups
    << ", \"x_counts\": \"extra LSU wavefronts per k-tile and SM (both warpgroups; X / 8 per consumer warp)\"},\n"
    << " \"rows\": [\n";
  for (size_t i = 0; i < rows.size(); ++i)
    f << "  " << row_json(rows[i], s.sms) << (i + 1 < rows.size() ? ",\n" : "\n");
  f << "]}\n";
  std::printf("%-10s %5s %10s %10s %8s %8s %8s\n", "form", "X", "cycles/kt", "predicted", "tensor%", "pred%",
              "TFLOP/s");
  for (const Row& r : rows) {
    const double per = r.cycles_mean / kIterations;
    const int p = predicted_cycles_per_ktile(r.form, r.x), t = tensor_cycles_per_ktile(r.form);
    std::printf("%-10s %5d %10.1f %10d %8.1f %8.1f %8.1f\n", form_name(r.form), r.x, per, p, 100.0 * t / per,
                100.0 * t / p, launch_flops(s.sms) / (r.ms * 1e-3) / 1e12);
  }
  std::printf("sparse24_datapipe: %s\n", json.c_str());
  return ok ? 0 : 1;
}

}  // namespace
}  // namespace sparse24::harness::datapipe

int main(int argc, char** argv) {
  try {
    return sparse24::harness::datapipe::run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sparse24_datapipe: %s\n", e.what());
    return 1;
  }
}
