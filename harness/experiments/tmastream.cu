// The streaming experiment (issue 19 item 4, decode at the copy rate): how fast can a TMA ring stream a weight
// from HBM, in the decode kernels' own access pattern and in the alternatives a kernel or a layout could choose?
// Its own executable, sparse24_tmastream, run by hand or by a device call's script (results/NOTES.md, session 16).
//
// Why: the wgmma_sp decode steps (s11/s16/s17, N <= 16) stream the 16-bit 28672 x 8192 weight at 88-90% of the copy
// rate and cuSPARSELt's fp16 kernel at 94.8-97.4%, while cuBLAS's dense kernel read 108.5 us for 470 MB, 103% of it
// (session 15, call C): a read-only stream can pass the copy's rate, so "% of the copy rate" does not say how far a
// decode kernel is from what the memory can give it. This experiment measures that directly, with no tensor work:
// a persistent grid (one CTA per SM, as s11/s16) whose producer thread issues one TMA box per ring stage and whose
// four consumer warps wait for the stage, fold its bytes into an XOR (so every byte is checked: the XOR over the
// grid must equal the buffer's) and free it. What varies, one thing per row:
//   - the box: 128 rows x 64 bytes (the kernels' A box at 16 bits, BK = 64, and at 8 bits, BK = 128), x 128 bytes,
//     x 256 bytes, each from a row-major matrix (row pitch = the row's bytes, as the canonical compressed values);
//   - the layout: "panels", the same bytes viewed as K / box column panels each stored contiguously (a 3-D tensor
//     map), so that one box is one contiguous run of 8 KB instead of 128 runs of 64 bytes;
//   - the L2 promotion of the tensor map (the kernels ask for 256 bytes: the L2 fetches the next k-tiles' bytes of a
//     row with this one's);
//   - the ring's depth (bytes in flight per SM);
//   - the schedule: "units", whole row blocks dealt to the CTAs in turn (s11/s16 at split 1: 224 row blocks of a
//     28672-row weight on 132 SMs, so 92 CTAs take two), or "even", the row blocks' k-tiles cut into equal runs, one
//     per CTA (a stream-K split: every CTA moves the same bytes).
// Beside them: an LDG stream (every thread 16-byte loads, grid-stride, 16 warps per SM) and the copy ceiling of the
// harness (cudaMemcpy device to device, read + write), each timed the same way.
//
// PREDICTION (written before the first run; results/NOTES.md "Session 16, call A, predictions" has the reasons):
// 28672 x 8192 bytes (the fp16 weight's values, 235 MB): rows64 at 16 stages 85-90% of the copy rate, as the
// decode kernels; panels +3-8% over rows64; rows128 between the two; promotion none below 256 by 5-15%; 24 stages
// within 1% of 16; even within 1% of units; LDG 95-103%.
//
// MEASURED (H200, session 16 calls B and C; results/NOTES.md): rows64 79.6%, panels 76.0% (contiguity is not the
// lever), promotion none 71.5%, equal runs 89.4%, rows128 84.5%, rows128 with equal runs 93.5%, LDG 97.1%.
//
//   sparse24_tmastream [--json FILE] [--quick]   every row in 3 passes (mirrored order) of 200 launches each, the
//                                                L2 flushed before each launch; --quick: 1 pass of 20 (the CTest)
// Exit 0; 1 when an XOR is wrong (some box did not bring the bytes it should have) or on an error; 77 without an
// sm_90 GPU.
#include <cuda.h>
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "harness/context.h"
#include "harness/device_buffer.h"
#include "harness/timing.h"
#include "kernels/common/cuda_check.h"
#include "kernels/common/ptx.cuh"
#include "kernels/common/ptx_sm90.cuh"
#include "kernels/common/tma.h"

namespace sparse24::harness::tmastream {
namespace {

constexpr int kBoxRows = 128;  // the decode tiles' BM
constexpr int kConsumers = 4;  // consumer warps: each XORs a quarter of every stage (4 LDS.128 per lane at 8 KB)
constexpr int kThreads = 32 * (1 + kConsumers);  // warp 0: the producer (one thread); warps 1-4: the consumers
constexpr int kMaxSmem = 200 * 1024;

// The k-tiles CTA `cta` streams, in order, as (row block, k-tile) pairs of the linear index w = rb * ktiles + kt:
// units: row blocks cta, cta + ctas, ...; even: w in [cta W / ctas, (cta + 1) W / ctas). The loops advance a
// Cursor by additions only: a 64-bit division per k-tile costs the producer thread ~100 instructions, which at
// ~0.25 us per stage of this stream is not negligible (the first version of this file divided, and its rows64
// stream ran at half the decode kernels' rate: results/NOTES.md, session 16, call A).
struct Walk {
  int rbs, ktiles, ctas;
  bool even;
  __host__ __device__ long long total() const { return (long long)rbs * ktiles; }
  __host__ __device__ long long count(int cta) const {
    if (even) return (cta + 1) * total() / ctas - cta * total() / ctas;
    return rbs > cta ? (long long)((rbs - 1 - cta) / ctas + 1) * ktiles : 0;
  }
};

struct Cursor {
  int rb, kt;
  __device__ Cursor(const Walk& w, int cta) {
    const long long first = w.even ? cta * w.total() / w.ctas : (long long)cta * w.ktiles;
    rb = int(first / w.ktiles), kt = int(first % w.ktiles);
  }
  __device__ void next(const Walk& w) {
    if (++kt == w.ktiles) kt = 0, rb += w.even ? 1 : w.ctas;
  }
};

__global__ void __launch_bounds__(kThreads, 1)
    tma_stream(const __grid_constant__ CUtensorMap map, bool panels, int box_bytes, int stages, Walk walk,
               uint4* xors) {
#if SPARSE24_SM90A_DEVICE
  extern __shared__ __align__(1024) uint8_t smem[];
  const int stage_bytes = box_bytes * kBoxRows;
  uint64_t* full = reinterpret_cast<uint64_t*>(smem + size_t(stages) * stage_bytes);
  uint64_t* empty = full + stages;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  if (threadIdx.x == 0) {
    for (int s = 0; s < stages; ++s) {
      ptx::mbarrier_init(ptx::smem_addr(&full[s]), 1);
      ptx::mbarrier_init(ptx::smem_addr(&empty[s]), kConsumers);
    }
    ptx::fence_mbarrier_init();
  }
  __syncthreads();
  const long long n = walk.count(blockIdx.x);
  if (warp == 0) {
    if (lane == 0) {
      ptx::tma_prefetch_descriptor(&map);
      Cursor c(walk, blockIdx.x);
      int s = 0;
      uint32_t round = 0;
      for (long long i = 0; i < n; ++i, c.next(walk)) {
        if (round > 0) ptx::mbarrier_wait(ptx::smem_addr(&empty[s]), (round - 1) & 1);
        const uint32_t bar = ptx::smem_addr(&full[s]), dst = ptx::smem_addr(smem + size_t(s) * stage_bytes);
        ptx::mbarrier_arrive_expect_tx(bar, uint32_t(stage_bytes));
        if (panels)
          ptx::tma_load_3d(dst, &map, bar, 0, c.rb * kBoxRows, c.kt);
        else
          ptx::tma_load_2d(dst, &map, bar, c.kt * box_bytes, c.rb * kBoxRows);
        if (++s == stages) s = 0, ++round;
      }
    }
  } else {
    uint4 x = make_uint4(0, 0, 0, 0);
    int s = 0;
    uint32_t round = 0;
    for (long long i = 0; i < n; ++i) {
      ptx::mbarrier_wait(ptx::smem_addr(&full[s]), round & 1);
      const uint4* p = reinterpret_cast<const uint4*>(smem + size_t(s) * stage_bytes);
      for (int j = threadIdx.x - 32; j < stage_bytes / 16; j += 32 * kConsumers) {
        const uint4 v = p[j];
        x.x ^= v.x, x.y ^= v.y, x.z ^= v.z, x.w ^= v.w;
      }
      __syncwarp();
      if (lane == 0) ptx::mbarrier_arrive(ptx::smem_addr(&empty[s]));
      if (++s == stages) s = 0, ++round;
    }
    xors[size_t(blockIdx.x) * 32 * kConsumers + threadIdx.x - 32] = x;
  }
#else
  (void)map, (void)panels, (void)box_bytes, (void)stages, (void)walk, (void)xors;  // sm_90a only (CMakeLists.txt)
#endif
}

// Read-only stream through the LSU: four independent 16-byte loads per thread and iteration.
__global__ void __launch_bounds__(512) ldg_stream(const uint4* __restrict__ p, size_t n, uint4* xors) {
  uint4 x = make_uint4(0, 0, 0, 0);
  const size_t stride = size_t(gridDim.x) * blockDim.x;
  size_t i = size_t(blockIdx.x) * blockDim.x + threadIdx.x;
  for (; i + 3 * stride < n; i += 4 * stride) {
    uint4 v[4];
#pragma unroll
    for (int j = 0; j < 4; ++j) v[j] = __ldg(p + i + j * stride);
#pragma unroll
    for (int j = 0; j < 4; ++j) x.x ^= v[j].x, x.y ^= v[j].y, x.z ^= v[j].z, x.w ^= v[j].w;
  }
  for (; i < n; i += stride) {
    const uint4 v = __ldg(p + i);
    x.x ^= v.x, x.y ^= v.y, x.z ^= v.z, x.w ^= v.w;
  }
  xors[size_t(blockIdx.x) * blockDim.x + threadIdx.x] = x;
}

__global__ void fill(uint32_t* p, size_t words) {
  for (size_t i = size_t(blockIdx.x) * blockDim.x + threadIdx.x; i < words; i += size_t(gridDim.x) * blockDim.x) {
    uint32_t h = uint32_t(i) * 2654435761u ^ uint32_t(i >> 32);
    h ^= h >> 15, h *= 0x2C1B3C6Du, h ^= h >> 12;
    p[i] = h;
  }
}

struct Matrix {
  const char* what;
  int64_t rows, row_bytes;
};

// The two weights of the question: the 16-bit 28672 x 8192 weight's values (the one where cuSPARSELt fp16 leads),
// and the int8 8192 x 8192 weight's values (a small weight: 1.4x cuBLASLt is missed there).
// Session 16 call C added the 16-bit 8192 x 28672 weight (64 row blocks, the split steps' case) and the int8
// 4096 x 14336 weight (32 row blocks).
constexpr Matrix kMatrices[] = {{"fp16 28672x8192 values", 28672, 8192},
                                {"int8 8192x8192 values", 8192, 4096},
                                {"fp16 8192x28672 values", 8192, 28672},
                                {"int8 4096x14336 values", 4096, 7168}};

struct Case {
  std::string kind;  // "tma", "ldg", "copy"
  bool panels = false;
  int box_bytes = 64, stages = 16;
  tma::L2Promotion promotion = tma::L2Promotion::B256;
  bool even = false;
};

std::string promotion_name(tma::L2Promotion p) {
  switch (p) {
    case tma::L2Promotion::B256: return "256";
    case tma::L2Promotion::B128: return "128";
    case tma::L2Promotion::B64: return "64";
    default: return "none";
  }
}

std::string case_name(const Case& c) {
  if (c.kind != "tma") return c.kind;
  return std::string(c.panels ? "panels" : "rows") + std::to_string(c.box_bytes) + ".s" + std::to_string(c.stages) +
         ".l2_" + promotion_name(c.promotion) + (c.even ? ".even" : ".units");
}

std::vector<Case> cases() {
  using P = tma::L2Promotion;
  std::vector<Case> v;
  auto tma_case = [&](bool panels, int box, int stages, P p, bool even) {
    Case c;
    c.kind = "tma", c.panels = panels, c.box_bytes = box, c.stages = stages, c.promotion = p, c.even = even;
    v.push_back(c);
  };
  tma_case(false, 64, 16, P::B256, false);  // the decode kernels' A stream (s11/s16 at BN = 16)
  tma_case(false, 64, 24, P::B256, false);  // deeper ring
  tma_case(false, 64, 16, P::None, false);  // no promotion
  tma_case(false, 64, 16, P::B128, false);
  tma_case(false, 64, 16, P::B256, true);   // stream-K schedule
  tma_case(false, 128, 8, P::B256, false);  // wider boxes, the same bytes in flight
  tma_case(false, 128, 12, P::B256, false);
  tma_case(false, 256, 4, P::B256, false);
  tma_case(false, 256, 6, P::B256, false);
  tma_case(false, 128, 8, P::B256, true);   // both levers of session 16 call B: wide boxes, equal runs
  tma_case(false, 256, 4, P::B256, true);
  tma_case(true, 64, 16, P::B256, false);   // contiguous 8 KB boxes
  tma_case(true, 64, 24, P::B256, false);
  tma_case(true, 64, 16, P::B256, true);
  v.push_back(Case{"ldg"});
  v.push_back(Case{"copy"});
  return v;
}

struct Row {
  std::string matrix, name;
  int64_t bytes = 0;
  std::vector<double> pass_us;  // each pass's median
  bool xor_ok = true;
  double median_us() const { return median(pass_us); }
};

uint4 host_xor(const std::vector<uint4>& v) {
  uint4 x = make_uint4(0, 0, 0, 0);
  for (const uint4& w : v) x.x ^= w.x, x.y ^= w.y, x.z ^= w.z, x.w ^= w.w;
  return x;
}

bool same(uint4 a, uint4 b) { return a.x == b.x && a.y == b.y && a.z == b.z && a.w == b.w; }

std::string num(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

int run(int argc, char** argv) {
  std::string json = "tmastream.json";
  bool quick = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--json" && i + 1 < argc) {
      json = argv[++i];
    } else if (a == "--quick") {
      quick = true;
    } else {
      std::fprintf(stderr, "usage: sparse24_tmastream [--json FILE] [--quick]\n");
      return 1;
    }
  }
  std::string why;
  if (cuda_device_count(&why) == 0) {
    std::fprintf(stderr, "sparse24_tmastream: no CUDA GPU available (%s): skipped\n", why.c_str());
    return 77;
  }
  SPARSE24_CUDA_CHECK(cudaSetDevice(0));
  if (compute_capability(0) != 90) {
    std::fprintf(stderr, "sparse24_tmastream: needs sm_90 (TMA), the GPU is sm_%d: skipped\n", compute_capability(0));
    return 77;
  }
  const int passes = quick ? 1 : 3, reps = quick ? 20 : 200;
  int sms = 0;
  SPARSE24_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 0));
  SPARSE24_CUDA_CHECK(cudaFuncSetAttribute(tma_stream, cudaFuncAttributeMaxDynamicSharedMemorySize, kMaxSmem));
  cudaStream_t stream = nullptr;
  SPARSE24_CUDA_CHECK(cudaStreamCreate(&stream));
  L2Flusher flusher(0);
  EventTimer timer;
  const int ldg_blocks = sms * 4;
  DeviceBuffer xors(size_t(std::max(sms * 32 * kConsumers, ldg_blocks * 512)) * sizeof(uint4));
  std::vector<Row> rows;
  const std::vector<Case> cs = cases();
  bool ok = true;
  for (const Matrix& m : kMatrices) {
    const int64_t bytes = m.rows * m.row_bytes;
    DeviceBuffer src{size_t(bytes)}, dst{size_t(bytes)};
    fill<<<sms * 8, 256, 0, stream>>>(src.as<uint32_t>(), size_t(bytes) / 4);
    SPARSE24_CUDA_CHECK(cudaGetLastError());
    std::vector<uint4> host(size_t(bytes) / 16);
    SPARSE24_CUDA_CHECK(cudaMemcpy(host.data(), src.get(), size_t(bytes), cudaMemcpyDeviceToHost));
    const uint4 expected = host_xor(host);
    host.clear(), host.shrink_to_fit();

    std::vector<CUtensorMap> maps(cs.size());
    std::vector<std::function<void()>> launches(cs.size());
    std::vector<int> outputs(cs.size(), 0);  // uint4 XORs each launch writes (0: nothing to check)
    for (size_t i = 0; i < cs.size(); ++i) {
      const Case& c = cs[i];
      Row r;
      r.matrix = m.what, r.name = case_name(c), r.bytes = bytes;
      rows.push_back(r);
      if (c.kind == "copy") {
        launches[i] = [&, bytes] {
          SPARSE24_CUDA_CHECK(cudaMemcpyAsync(dst.get(), src.get(), size_t(bytes), cudaMemcpyDeviceToDevice, stream));
        };
      } else if (c.kind == "ldg") {
        outputs[i] = ldg_blocks * 512;
        launches[i] = [&, bytes] {
          ldg_stream<<<ldg_blocks, 512, 0, stream>>>(src.as<const uint4>(), size_t(bytes) / 16, xors.as<uint4>());
        };
      } else {
        const uint32_t box = uint32_t(c.box_bytes);
        if (c.panels) {
          const uint64_t dims[3] = {box, uint64_t(m.rows), uint64_t(m.row_bytes / c.box_bytes)};
          const uint64_t strides[2] = {box, uint64_t(m.rows) * box};
          const uint32_t boxes[3] = {box, kBoxRows, 1};
          maps[i] = tma::encode_tiled(src.get(), 1, 3, dims, strides, boxes, tma::Swizzle::None, c.promotion);
        } else {
          maps[i] = tma::encode_2d(src.get(), 1, uint64_t(m.rows), uint64_t(m.row_bytes), uint64_t(m.row_bytes),
                                   kBoxRows, box, tma::Swizzle::None, c.promotion);
        }
        const Walk walk{int(m.rows / kBoxRows), int(m.row_bytes / c.box_bytes), sms, c.even};
        const size_t smem = size_t(c.stages) * c.box_bytes * kBoxRows + 2 * sizeof(uint64_t) * c.stages;
        outputs[i] = sms * 32 * kConsumers;
        const CUtensorMap* map = &maps[i];
        launches[i] = [&, map, walk, smem, c] {
          tma_stream<<<sms, kThreads, smem, stream>>>(*map, c.panels, c.box_bytes, c.stages, walk, xors.as<uint4>());
        };
      }
    }
    Row* first = &rows[rows.size() - cs.size()];
    // Checks first: each launch's XOR over the grid is the buffer's.
    for (size_t i = 0; i < cs.size(); ++i) {
      launches[i]();
      SPARSE24_CUDA_CHECK(cudaGetLastError());
      SPARSE24_CUDA_CHECK(cudaStreamSynchronize(stream));
      if (outputs[i] == 0) continue;
      std::vector<uint4> out(static_cast<size_t>(outputs[i]));
      SPARSE24_CUDA_CHECK(cudaMemcpy(out.data(), xors.get(), out.size() * sizeof(uint4), cudaMemcpyDeviceToHost));
      first[i].xor_ok = same(host_xor(out), expected);
      if (!first[i].xor_ok)
        std::fprintf(stderr, "sparse24_tmastream: %s %s: the XOR over the grid is not the buffer's\n", m.what,
                     first[i].name.c_str());
      ok = ok && first[i].xor_ok;
    }
    // Passes: even passes in reverse order, so that a drift of the GPU's state falls on every row alike.
    for (int pass = 0; pass < passes; ++pass)
      for (size_t j = 0; j < cs.size(); ++j) {
        const size_t i = pass % 2 ? cs.size() - 1 - j : j;
        std::vector<double> ms;
        for (int r = 0; r < reps; ++r) {
          flusher.flush(stream);
          ms.push_back(timer.time_ms(launches[i], stream));
        }
        first[i].pass_us.push_back(median(ms) * 1e3);
      }
  }
  SPARSE24_CUDA_CHECK(cudaStreamDestroy(stream));

  // The copy rate as the harness states it (read + written bytes), from the large matrix's copy row.
  double copy_gbps = 0;
  for (const Row& r : rows)
    if (r.name == "copy" && r.matrix == std::string(kMatrices[0].what)) copy_gbps = 2.0 * r.bytes / r.median_us() / 1e3;
  std::ofstream f(json);
  f << "{\"context\": {";
  for (const auto& [k, v] : run_context(0)) f << "\"" << k << "\": \"" << v << "\", ";
  f << "\"experiment\": \"tmastream\", \"passes\": " << passes << ", \"launches_per_pass\": " << reps
    << ", \"copy_gbps\": " << num(copy_gbps, 1) << "},\n \"rows\": [\n";
  std::printf("%-24s %-28s %10s %10s %8s  passes (us)\n", "matrix", "row", "us", "GB/s", "%copy");
  for (size_t i = 0; i < rows.size(); ++i) {
    const Row& r = rows[i];
    // A copy moves its bytes twice; every other row reads them once.
    const double moved = r.name == "copy" ? 2.0 * r.bytes : double(r.bytes);
    const double gbps = moved / r.median_us() / 1e3;
    std::string list;
    for (double p : r.pass_us) list += (list.empty() ? "" : ", ") + num(p, 2);
    f << "  {\"matrix\": \"" << r.matrix << "\", \"row\": \"" << r.name << "\", \"bytes\": " << r.bytes
      << ", \"median_us\": " << num(r.median_us(), 3) << ", \"gbps\": " << num(gbps, 1)
      << ", \"pct_of_copy\": " << num(100.0 * gbps / copy_gbps, 1) << ", \"pass_medians_us\": [" << list
      << "], \"xor_ok\": " << (r.xor_ok ? "true" : "false") << "}" << (i + 1 < rows.size() ? ",\n" : "\n");
    std::printf("%-24s %-28s %10.2f %10.1f %8.1f  %s%s\n", r.matrix.c_str(), r.name.c_str(), r.median_us(), gbps,
                100.0 * gbps / copy_gbps, list.c_str(), r.xor_ok ? "" : "  XOR WRONG");
  }
  f << "]}\n";
  std::printf("sparse24_tmastream: %s\n", json.c_str());
  return ok ? 0 : 1;
}

}  // namespace
}  // namespace sparse24::harness::tmastream

int main(int argc, char** argv) {
  try {
    return sparse24::harness::tmastream::run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sparse24_tmastream: %s\n", e.what());
    return 1;
  }
}
