// One-instruction tests of the Hopper wrappers (kernels/common/ptx_sm90.cuh): one warpgroup, one
// wgmma.mma_async.sp m64nNk32 (f32 accumulators, fp16 and bf16), operands laid out on the host byte for byte,
// random 2:4 patterns (a fresh valid nibble per chunk) and small-integer values (exact in f32), compared bit for
// bit with a CPU product; further down the same for the dense wgmma m64nNk16 of the dense twins, and TMA boxes.
// Built for sm_90a only (CMakeLists.txt); on any other GPU every case returns with a warning.
//
// What is varied, so that one run pins as many facts as possible:
//   - A from shared memory (descriptor, "SS") and A from registers ("RS"); B always from shared memory;
//   - N = 8, 64, 128; sparsity selector 0 and 1;
//   - three shared-memory layouts of the K-major tiles, each with its descriptor:
//       KFast  no swizzle, core matrices (8 rows x 16 bytes) adjacent along K:  LBO = 128, SBO = 128 * chunks
//       MFast  no swizzle, core matrices adjacent along M/N:                 SBO = 128, LBO = 128 * row groups
//       Sw128  128-byte swizzle, 8-row atoms of 1024 bytes:                   SBO = 1024, LBO unused
//       Sw64   64-byte swizzle, 8-row atoms of 512 bytes, the tile cut into blocks of 32 columns (64 bytes) one
//              after the other, as TMA boxes of 32 columns land:             SBO = 512, LBO unused
//     and the pair the TMA kernels use (wgmma_sp s02+): A in Sw64, B in Sw128;
//     Each tile holds several k-steps (A: 64 x 64 compressed values = 4 k-steps, B: N x 64 = 2 k-steps) and a
//     trial picks one by advancing the descriptor's start address, as a kernel does;
//   - scale-d: half the trials accumulate onto zeros, half overwrite accumulators that hold garbage.
// The metadata lanes that must not be read (the other lane pair of each quad) hold random garbage.
// Layout under test (docs/sparse-tensor-cores.md, "wgmma.sp, verified"): warp w supplies rows 16w..16w+15 with
// the per-warp layout of mma.sp m16n8k32; selector F -> lanes q = 2F (k 0..15) and 2F+1 (k 16..31), bits 15:0 =
// row g, bits 31:16 = row g+8. The RS A fragment: per warp, the m16n8k32 compressed A fragment (frag::a_m16k16).
// When a configuration fails, the test re-runs it with alternative readings (metadata in all four lanes,
// LBO/SBO swapped, other register orders) and prints which of them match: a failure says what the layout is.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "harness/device_buffer.h"
#include "kernels/common/cuda_check.h"
#include "kernels/common/fragments.h"
#include "kernels/common/ptx.cuh"
#include "kernels/common/ptx_sm90.cuh"
#include "kernels/common/tma.h"
#include "tests/catch.h"
#include "tests/gpu/host_io.h"

using namespace sparse24;
using namespace sparse24::gputest;
using harness::DeviceBuffer;

namespace {

constexpr int kThreads = 128;                // one warpgroup
constexpr int kM = 64, kK = 32;              // dense m64 x k32 per instruction
constexpr int kACols = 64;                   // compressed A columns held in shared memory: 4 k-steps of 16
constexpr int kBCols = 64;                   // B (X[n][k]) columns held: 2 k-steps of 32
constexpr int kASteps = kACols / (kK / 2), kBSteps = kBCols / kK;
constexpr int kAImageBytes = kM * kACols * 2;           // 8 KB
constexpr int kBImageBytesMax = 128 * kBCols * 2;       // 16 KB for N = 128
constexpr int kTrials = 8;
constexpr uint32_t kValidNibbles[6] = {0x4, 0x8, 0xC, 0x9, 0xD, 0xE};

enum class Layout { KFast, MFast, Sw128, Sw64 };
const char* layout_name(Layout l) {
  return l == Layout::KFast ? "KFast" : l == Layout::MFast ? "MFast" : l == Layout::Sw128 ? "Sw128" : "Sw64";
}

// A descriptor's layout fields; the start address is the tile's shared address plus `start`.
struct DescFields {
  uint32_t start, lbo, sbo;
  ptx::SmemSwizzle swizzle;
};

// ---- The kernel: one warpgroup, one wgmma.sp --------------------------------------------------------------------
template <DType T, int N, int kSel, bool kRegA>
__global__ void one_wgmma_sp(const uint8_t* a_image, const uint8_t* b_image, int b_bytes, const uint32_t* a_regs,
                             const uint32_t* e, DescFields a, DescFields b, int accumulate, float* d) {
#if SPARSE24_SM90A_DEVICE
  __shared__ __align__(1024) uint8_t sa[kAImageBytes];
  __shared__ __align__(1024) uint8_t sb[kBImageBytesMax];
  const int t = threadIdx.x;
  for (int i = t; i < kAImageBytes / 16; i += kThreads)
    reinterpret_cast<uint4*>(sa)[i] = reinterpret_cast<const uint4*>(a_image)[i];
  for (int i = t; i < b_bytes / 16; i += kThreads)
    reinterpret_cast<uint4*>(sb)[i] = reinterpret_cast<const uint4*>(b_image)[i];
  ptx::fence_proxy_async_shared();  // st.shared (generic proxy) -> wgmma (async proxy)
  __syncthreads();

  float acc[N / 2];
  for (int i = 0; i < N / 2; ++i) acc[i] = accumulate ? 0.0f : 1.0e6f + i;  // garbage must vanish when scale-d = 0
  uint32_t ar[4];
  for (int i = 0; i < 4; ++i) ar[i] = a_regs[4 * t + i];
  uint32_t ev = e[t];
  const uint64_t da = ptx::smem_desc(ptx::smem_addr(sa) + a.start, a.lbo, a.sbo, a.swizzle);
  const uint64_t db = ptx::smem_desc(ptx::smem_addr(sb) + b.start, b.lbo, b.sbo, b.swizzle);

  ptx::fence_registers(acc);
  ptx::fence_register(ev);
  ptx::wgmma_fence();
  if constexpr (kRegA)
    ptx::wgmma_sp_rs<T, N, kSel>(acc, ar, db, ev, accumulate != 0);
  else
    ptx::wgmma_sp_ss<T, N, kSel>(acc, da, db, ev, accumulate != 0);
  ptx::wgmma_commit_group();
  ptx::wgmma_wait_group<0>();
  ptx::fence_registers(acc);
  for (int i = 0; i < N / 2; ++i) d[t * (N / 2) + i] = acc[i];
#endif
}

// ---- Host helpers -------------------------------------------------------------------------------------------
// bits_of, pack, upload, download: tests/gpu/host_io.h

// Byte offset of element (row r, column c) of a K-major tile of `rows` x `cols` 16-bit elements in layout `l`,
// and the descriptor fields of that layout. This is the whole of the host's knowledge of the layouts.
//   KFast: core matrix (r/8, c/8) at (r/8) * SBO + (c/8) * LBO with LBO = 128, SBO = 128 * cols/8
//   MFast: the same with SBO = 128, LBO = 128 * rows/8
//   Sw128: cols * 2 == 128 bytes per row; atom r/8 at 1024 * (r/8); row r%8 at 128 * (r%8) inside it; the
//          16-byte chunk j of the row at chunk j ^ (r % 8)
//   Sw64:  column block c/32 (64 bytes per row) at rows * 64 * (c/32); inside it atom r/8 at 512 * (r/8), row r%8
//          at 64 * (r%8), the 16-byte chunk j of the row at chunk j ^ ((r % 8) / 2)
uint32_t layout_offset(Layout l, int rows, int cols, int r, int c) {
  const int byte = 2 * c;
  switch (l) {
    case Layout::KFast: return (r / 8) * 128 * (cols / 8) + (c / 8) * 128 + (r % 8) * 16 + byte % 16;
    case Layout::MFast: return (r / 8) * 128 + (c / 8) * 128 * (rows / 8) + (r % 8) * 16 + byte % 16;
    case Layout::Sw128: return (r / 8) * 1024 + (r % 8) * 128 + (((byte / 16) ^ (r % 8)) * 16) + byte % 16;
    case Layout::Sw64: {
      const int in_block = byte % 64;
      return (byte / 64) * rows * 64 + (r / 8) * 512 + (r % 8) * 64 + (((in_block / 16) ^ ((r % 8) / 2)) * 16) +
             in_block % 16;
    }
  }
  return 0;
}
// Descriptor fields for the k-step starting at column c0 (a multiple of 8).
DescFields layout_desc(Layout l, int rows, int cols, int c0) {
  switch (l) {
    case Layout::KFast: return {uint32_t(c0 / 8 * 128), 128u, uint32_t(128 * (cols / 8)), ptx::SmemSwizzle::None};
    case Layout::MFast:
      return {uint32_t(c0 / 8 * 128 * (rows / 8)), uint32_t(128 * (rows / 8)), 128u, ptx::SmemSwizzle::None};
    case Layout::Sw128: return {uint32_t(2 * c0), 16u, 1024u, ptx::SmemSwizzle::B128};
    case Layout::Sw64: return {uint32_t((c0 / 32) * rows * 64 + (2 * c0) % 64), 16u, 512u, ptx::SmemSwizzle::B64};
  }
  return {};
}

// A random problem: compressed A (64 x kACols values + nibbles), its dense form, and X (N x kBCols).
struct Problem {
  int n;
  std::vector<float> a_val;     // [64][kACols]
  std::vector<uint32_t> nib;    // [64][kACols / 2] chunks
  std::vector<float> a_dense;   // [64][2 * kACols]
  std::vector<float> x;         // [n][kBCols]
};

Problem random_problem(int n, std::mt19937& rng) {
  Problem p{n, std::vector<float>(kM * kACols), std::vector<uint32_t>(kM * kACols / 2),
            std::vector<float>(kM * 2 * kACols, 0.f), std::vector<float>(n * kBCols)};
  std::uniform_int_distribution<int> val(-3, 3), code(0, 5);
  for (int r = 0; r < kM; ++r)
    for (int c = 0; c < kACols / 2; ++c) {
      const uint32_t nib = kValidNibbles[code(rng)];
      p.nib[r * (kACols / 2) + c] = nib;
      const float v0 = float(val(rng)), v1 = float(val(rng));
      p.a_val[r * kACols + 2 * c] = v0;
      p.a_val[r * kACols + 2 * c + 1] = v1;
      p.a_dense[r * 2 * kACols + 4 * c + (nib & 3)] = v0;
      p.a_dense[r * 2 * kACols + 4 * c + (nib >> 2)] = v1;
    }
  for (float& v : p.x) v = float(val(rng));
  return p;
}

// Metadata readings: how the host fills thread t's metadata register for k-step sa and selector sel.
enum class MetaReading {
  Documented,  // warp w rows 16w..; lanes q = 2 sel + h, h = 0: k 0..15, h = 1: k 16..31; lo = row g, hi = g + 8
  AllLanes,    // the documented contents in both lane pairs (no garbage): is it the selector?
  RowPerLane,  // lanes q = 2 sel + h: h = 0 row g, h = 1 row g + 8; lo half k 0..15, hi half k 16..31
};
const char* meta_name(MetaReading m) {
  return m == MetaReading::Documented ? "documented" : m == MetaReading::AllLanes ? "all-lanes" : "row-per-lane";
}

uint32_t meta_word(const Problem& p, int t, int sa, int sel, MetaReading m, std::mt19937& rng) {
  const int w = t / 32, lane = t % 32, g = lane / 4, q = lane % 4;
  const bool supplies = m == MetaReading::AllLanes || q / 2 == sel;
  if (!supplies) return rng();
  const int h = q % 2;
  uint32_t e = 0;
  for (int half = 0; half < 2; ++half)
    for (int c = 0; c < 4; ++c) {
      int row, chunk;  // chunk within the k-step (0..7)
      if (m == MetaReading::RowPerLane) {
        row = 16 * w + g + 8 * h;
        chunk = 4 * half + c;
      } else {
        row = 16 * w + g + 8 * half;
        chunk = 4 * h + c;
      }
      e |= p.nib[row * (kACols / 2) + 8 * sa + chunk] << (16 * half + 4 * c);
    }
  return e;
}

// A-register readings for the RS form: which compressed element thread t puts in register j's halves.
enum class AReading { Documented, SwapMiddle };  // SwapMiddle: registers 1 and 2 exchanged
const char* a_name(AReading a) { return a == AReading::Documented ? "documented" : "regs-1-2-swapped"; }

template <DType T>
uint32_t a_register(const Problem& p, int t, int j, int sa, AReading ar) {
  const int w = t / 32, lane = t % 32;
  const int reg = ar == AReading::SwapMiddle && (j == 1 || j == 2) ? 3 - j : j;
  const frag::RowCol lo = frag::a_m16k16(lane, 2 * reg), hi = frag::a_m16k16(lane, 2 * reg + 1);
  const int c0 = 16 * sa;
  return pack(bits_of<T>(p.a_val[(16 * w + lo.row) * kACols + c0 + lo.col]),
              bits_of<T>(p.a_val[(16 * w + hi.row) * kACols + c0 + hi.col]));
}

struct Reading {
  MetaReading meta = MetaReading::Documented;
  AReading a = AReading::Documented;
  bool swap_lbo_sbo = false;
  int meta_sel = -1;  // build the metadata for this selector's lanes (-1: the instruction's own)
};
std::string reading_name(const Reading& r) {
  return std::string("meta ") + meta_name(r.meta) + ", A regs " + a_name(r.a) +
         (r.swap_lbo_sbo ? ", LBO/SBO swapped" : "");
}

// Runs one instruction and returns the number of wrong accumulators (printing the first few when asked).
template <DType T, int N, int kSel, bool kRegA>
int run_one(const Problem& p, Layout la, Layout lb, int sa, int sb, bool accumulate, const Reading& rd,
            std::mt19937& rng, bool print) {
  // Shared-memory images, built from the layout maps above.
  std::vector<uint16_t> a_img(kAImageBytes / 2, 0), b_img(N * kBCols, 0);
  for (int r = 0; r < kM; ++r)
    for (int c = 0; c < kACols; ++c)
      a_img[layout_offset(la, kM, kACols, r, c) / 2] = bits_of<T>(p.a_val[r * kACols + c]);
  for (int r = 0; r < N; ++r)
    for (int c = 0; c < kBCols; ++c) b_img[layout_offset(lb, N, kBCols, r, c) / 2] = bits_of<T>(p.x[r * kBCols + c]);
  DescFields da = layout_desc(la, kM, kACols, 16 * sa), db = layout_desc(lb, N, kBCols, kK * sb);
  if (rd.swap_lbo_sbo) {
    std::swap(da.lbo, da.sbo);
    std::swap(db.lbo, db.sbo);
  }
  std::vector<uint32_t> a_regs(4 * kThreads), e(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    for (int j = 0; j < 4; ++j) a_regs[4 * t + j] = a_register<T>(p, t, j, sa, rd.a);
    e[t] = meta_word(p, t, sa, rd.meta_sel < 0 ? kSel : rd.meta_sel, rd.meta, rng);
  }
  DeviceBuffer dai = upload(a_img), dbi = upload(b_img), dar = upload(a_regs), de = upload(e),
               dd(kThreads * (N / 2) * sizeof(float));
  one_wgmma_sp<T, N, kSel, kRegA><<<1, kThreads>>>(dai.as<uint8_t>(), dbi.as<uint8_t>(), int(b_img.size() * 2),
                                                   dar.as<uint32_t>(), de.as<uint32_t>(), da, db,
                                                   accumulate ? 1 : 0, dd.as<float>());
  check_cuda(cudaGetLastError(), "one_wgmma_sp launch");
  const std::vector<float> d = download<float>(dd);
  int wrong = 0;
  for (int t = 0; t < kThreads; ++t)
    for (int i = 0; i < N / 2; ++i) {
      const frag::RowCol rc = frag::acc_m64(t, i);
      float want = 0;
      for (int k = 0; k < kK; ++k)
        want += p.a_dense[rc.row * 2 * kACols + kK * sa + k] * p.x[rc.col * kBCols + kK * sb + k];
      const float got = d[t * (N / 2) + i];
      if (got != want) {
        if (print && wrong < 4)
          std::printf("      thread %3d acc %3d (row %2d, col %3d): got %g want %g\n", t, i, rc.row, rc.col, got,
                      want);
        ++wrong;
      }
    }
  return wrong;
}

template <DType T, int N, int kSel, bool kRegA>
void check_form(uint64_t seed) {
  std::mt19937 rng(static_cast<uint32_t>(seed));
  const std::pair<Layout, Layout> layouts[5] = {{Layout::KFast, Layout::KFast},
                                                {Layout::MFast, Layout::MFast},
                                                {Layout::Sw128, Layout::Sw128},
                                                {Layout::Sw64, Layout::Sw64},
                                                {Layout::Sw64, Layout::Sw128}};
  for (const auto& [la, lb] : layouts) {
    int failed_trials = 0;
    for (int trial = 0; trial < kTrials; ++trial) {
      const Problem p = random_problem(N, rng);
      const int sa = trial % kASteps, sb = (trial / 2) % kBSteps;
      const bool accumulate = trial % 2 == 0;
      const Reading documented;
      const int wrong = run_one<T, N, kSel, kRegA>(p, la, lb, sa, sb, accumulate, documented, rng, false);
      INFO(name(T) << " m64n" << N << "k32 " << (kRegA ? "RS" : "SS") << " sel " << kSel << " layouts A "
                   << layout_name(la) << " B " << layout_name(lb) << " trial " << trial << " (A k-step " << sa << ", B k-step " << sb
                   << ", scale-d " << accumulate << ")");
      CHECK(wrong == 0);
      if (wrong != 0 && failed_trials++ == 0) {
        // Diagnose once per configuration: which alternative reading gives the exact product?
        std::printf("FAIL %s m64n%dk32 %s sel %d layouts A %s B %s trial %d: %d of %d accumulators wrong\n",
                    name(T), N, kRegA ? "RS" : "SS", kSel, layout_name(la), layout_name(lb), trial, wrong, kThreads * N / 2);
        run_one<T, N, kSel, kRegA>(p, la, lb, sa, sb, accumulate, documented, rng, true);
        std::vector<Reading> alts;
        for (MetaReading m : {MetaReading::Documented, MetaReading::AllLanes, MetaReading::RowPerLane})
          for (AReading a : {AReading::Documented, AReading::SwapMiddle})
            for (bool sw : {false, true}) {
              if (!kRegA && a != AReading::Documented) continue;
              alts.push_back({m, a, sw});
            }
        for (const Reading& r : alts) {
          const int w = run_one<T, N, kSel, kRegA>(p, la, lb, sa, sb, accumulate, r, rng, false);
          std::printf("    reading [%s]: %d wrong%s\n", reading_name(r).c_str(), w, w == 0 ? "  <== MATCH" : "");
        }
        // Metadata in the other selector's lanes: if this matches, the selector picks the other lane pair.
        Reading other;
        other.meta_sel = 1 - kSel;
        const int w = run_one<T, N, kSel, kRegA>(p, la, lb, sa, sb, accumulate, other, rng, false);
        std::printf("    reading [metadata in the lanes of selector %d]: %d wrong%s\n", 1 - kSel, w,
                    w == 0 ? "  <== MATCH" : "");
      }
    }
  }
}

// On a GPU that is not sm_90, or a build without sm_90a code for these kernels, there is nothing to test.
bool hopper_or_skip() {
  int dev = 0;
  cudaDeviceProp prop{};
  check_cuda(cudaGetDevice(&dev), "cudaGetDevice");
  check_cuda(cudaGetDeviceProperties(&prop, dev), "cudaGetDeviceProperties");
  if (prop.major != 9 || prop.minor != 0) {
    WARN("wgmma.sp tests need an sm_90 GPU (sm_90a code); this is sm_" << prop.major << prop.minor << ": skipped");
    return false;
  }
  cudaFuncAttributes attr{};
  if (cudaFuncGetAttributes(&attr, one_wgmma_sp<DType::bf16, 8, 0, false>) != cudaSuccess) {
    (void)cudaGetLastError();
    WARN("this build has no sm_90a code for the wgmma tests: skipped");
    return false;
  }
  return true;
}

}  // namespace

TEST_CASE("wgmma.sp m64nNk32, A from shared memory (SS): random 2:4, both selectors, five layouts, exact",
          "[wgmma]") {
  if (!hopper_or_skip()) return;
  check_form<DType::bf16, 8, 0, false>(11);
  check_form<DType::bf16, 8, 1, false>(12);
  check_form<DType::bf16, 64, 0, false>(13);
  check_form<DType::bf16, 64, 1, false>(14);
  check_form<DType::bf16, 128, 0, false>(15);
  check_form<DType::bf16, 128, 1, false>(16);
  check_form<DType::fp16, 8, 0, false>(17);
  check_form<DType::fp16, 8, 1, false>(18);
  check_form<DType::fp16, 64, 0, false>(19);
  check_form<DType::fp16, 64, 1, false>(20);
  check_form<DType::fp16, 128, 0, false>(21);
  check_form<DType::fp16, 128, 1, false>(22);
}

TEST_CASE("wgmma.sp m64nNk32, A from registers (RS): random 2:4, both selectors, four B layouts, exact",
          "[wgmma]") {
  if (!hopper_or_skip()) return;
  check_form<DType::bf16, 8, 0, true>(31);
  check_form<DType::bf16, 8, 1, true>(32);
  check_form<DType::bf16, 64, 0, true>(33);
  check_form<DType::bf16, 64, 1, true>(34);
  check_form<DType::bf16, 128, 0, true>(35);
  check_form<DType::bf16, 128, 1, true>(36);
  check_form<DType::fp16, 8, 0, true>(37);
  check_form<DType::fp16, 8, 1, true>(38);
  check_form<DType::fp16, 64, 0, true>(39);
  check_form<DType::fp16, 64, 1, true>(40);
  check_form<DType::fp16, 128, 0, true>(41);
  check_form<DType::fp16, 128, 1, true>(42);
}

namespace {
// ---- Dense wgmma m64nNk16 (SS): the instruction of the dense twins (wgmma_dense) -------------------------------
// The same layouts and descriptors as above, dense operands: A 64 x 64 values and B N x 64 values in shared memory
// (4 k-steps of 16 each, one 128-byte swizzle row), a trial picking one k-step of A and another of B by the start
// address. Random small integers, exact against the CPU product; scale-d on and off as above.
constexpr int kDenseK = 16, kDenseCols = 64, kDenseSteps = kDenseCols / kDenseK;
constexpr int kDenseAImageBytes = kM * kDenseCols * 2;   // 8 KB
constexpr int kDenseBImageBytesMax = 256 * kDenseCols * 2;  // 32 KB for N = 256

template <DType T, int N>
__global__ void one_wgmma_dense(const uint8_t* a_image, const uint8_t* b_image, DescFields a, DescFields b,
                                int accumulate, float* d) {
#if SPARSE24_SM90A_DEVICE
  __shared__ __align__(1024) uint8_t sa[kDenseAImageBytes];
  __shared__ __align__(1024) uint8_t sb[kDenseBImageBytesMax];
  const int t = threadIdx.x;
  for (int i = t; i < kDenseAImageBytes / 16; i += kThreads)
    reinterpret_cast<uint4*>(sa)[i] = reinterpret_cast<const uint4*>(a_image)[i];
  for (int i = t; i < N * kDenseCols * 2 / 16; i += kThreads)
    reinterpret_cast<uint4*>(sb)[i] = reinterpret_cast<const uint4*>(b_image)[i];
  ptx::fence_proxy_async_shared();
  __syncthreads();
  float acc[N / 2];
  for (int i = 0; i < N / 2; ++i) acc[i] = accumulate ? 0.0f : 1.0e6f + i;
  const uint64_t da = ptx::smem_desc(ptx::smem_addr(sa) + a.start, a.lbo, a.sbo, a.swizzle);
  const uint64_t db = ptx::smem_desc(ptx::smem_addr(sb) + b.start, b.lbo, b.sbo, b.swizzle);
  ptx::fence_registers(acc);
  ptx::wgmma_fence();
  ptx::wgmma_ss<T, N>(acc, da, db, accumulate != 0);
  ptx::wgmma_commit_group();
  ptx::wgmma_wait_group<0>();
  ptx::fence_registers(acc);
  for (int i = 0; i < N / 2; ++i) d[t * (N / 2) + i] = acc[i];
#endif
}

// Wrong accumulators of one dense instruction: A k-step sa times B k-step sb, layouts la (A) and lb (B).
template <DType T, int N>
int run_dense(const std::vector<float>& a, const std::vector<float>& x, Layout la, Layout lb, int sa, int sb,
              bool accumulate) {
  std::vector<uint16_t> a_img(kDenseAImageBytes / 2, 0), b_img(N * kDenseCols, 0);
  for (int r = 0; r < kM; ++r)
    for (int c = 0; c < kDenseCols; ++c)
      a_img[layout_offset(la, kM, kDenseCols, r, c) / 2] = bits_of<T>(a[r * kDenseCols + c]);
  for (int r = 0; r < N; ++r)
    for (int c = 0; c < kDenseCols; ++c)
      b_img[layout_offset(lb, N, kDenseCols, r, c) / 2] = bits_of<T>(x[r * kDenseCols + c]);
  const DescFields da = layout_desc(la, kM, kDenseCols, kDenseK * sa);
  const DescFields db = layout_desc(lb, N, kDenseCols, kDenseK * sb);
  DeviceBuffer dai = upload(a_img), dbi = upload(b_img), dd(kThreads * (N / 2) * sizeof(float));
  one_wgmma_dense<T, N><<<1, kThreads>>>(dai.as<uint8_t>(), dbi.as<uint8_t>(), da, db, accumulate ? 1 : 0,
                                         dd.as<float>());
  check_cuda(cudaGetLastError(), "one_wgmma_dense launch");
  const std::vector<float> d = download<float>(dd);
  int wrong = 0;
  for (int t = 0; t < kThreads; ++t)
    for (int i = 0; i < N / 2; ++i) {
      const frag::RowCol rc = frag::acc_m64(t, i);
      float want = 0;
      for (int k = 0; k < kDenseK; ++k)
        want += a[rc.row * kDenseCols + kDenseK * sa + k] * x[rc.col * kDenseCols + kDenseK * sb + k];
      wrong += d[t * (N / 2) + i] != want;
    }
  return wrong;
}

template <DType T, int N>
void check_dense_form(uint64_t seed) {
  std::mt19937 rng(static_cast<uint32_t>(seed));
  std::uniform_int_distribution<int> val(-3, 3);
  for (Layout l : {Layout::KFast, Layout::MFast, Layout::Sw128, Layout::Sw64})
    for (int trial = 0; trial < kTrials; ++trial) {
      std::vector<float> a(kM * kDenseCols), x(N * kDenseCols);
      for (float& v : a) v = float(val(rng));
      for (float& v : x) v = float(val(rng));
      const int sa = trial % kDenseSteps, sb = (trial / 2 + 1) % kDenseSteps;
      const bool accumulate = trial % 2 == 0;
      INFO(name(T) << " m64n" << N << "k16 SS layout " << layout_name(l) << " trial " << trial << " (A k-step "
                   << sa << ", B k-step " << sb << ", scale-d " << accumulate << ")");
      CHECK(run_dense<T, N>(a, x, l, l, sa, sb, accumulate) == 0);
    }
}
}  // namespace

TEST_CASE("wgmma m64nNk16 (dense), A and B from shared memory: four layouts, N up to 256, exact", "[wgmma]") {
  if (!hopper_or_skip()) return;
  check_dense_form<DType::bf16, 8>(51);
  check_dense_form<DType::bf16, 64>(52);
  check_dense_form<DType::bf16, 128>(53);
  check_dense_form<DType::bf16, 256>(54);
  check_dense_form<DType::fp16, 8>(55);
  check_dense_form<DType::fp16, 64>(56);
  check_dense_form<DType::fp16, 128>(57);
  check_dense_form<DType::fp16, 256>(58);
}

namespace {
// ---- TMA: where a box lands in shared memory ----------------------------------------------------------------------
// One thread copies one box with cp.async.bulk.tensor (tensor map from kernels/common/tma.h), waits on an mbarrier,
// and the block writes the raw shared-memory image back out: the host compares it byte for byte with the layout
// maps above (Sw64 / Sw128), which the wgmma tests pin to what the instruction reads. Together they show that
// what TMA writes is what wgmma expects, for the boxes the TMA kernels use.
constexpr int kTmaImageBytes = 16 * 1024;

__global__ void one_tma_box(const __grid_constant__ CUtensorMap map, int c0, int c1, int bytes, uint8_t* out) {
#if SPARSE24_SM90A_DEVICE
  __shared__ __align__(1024) uint8_t box[kTmaImageBytes];
  __shared__ __align__(8) uint64_t bar;
  const uint32_t b = ptx::smem_addr(&bar);
  for (int i = threadIdx.x; i < kTmaImageBytes; i += blockDim.x) box[i] = 0xEE;  // poison
  if (threadIdx.x == 0) {
    ptx::mbarrier_init(b, 1);
    ptx::fence_mbarrier_init();
  }
  ptx::fence_proxy_async_shared();  // the poison (generic proxy) before the TMA's writes (async proxy)
  __syncthreads();
  if (threadIdx.x == 0) {
    ptx::mbarrier_arrive_expect_tx(b, bytes);
    ptx::tma_load_2d(ptx::smem_addr(box), &map, b, c0, c1);
  }
  ptx::mbarrier_wait(b, 0);
  for (int i = threadIdx.x; i < bytes; i += blockDim.x) out[i] = box[i];
#endif
}

// A rows x cols tensor of distinct 16-bit values; a box_rows x box_cols box at (row0, col0) in `swizzle`, checked
// against layout_offset(lay) of a box_rows x box_cols tile. Rows past the tensor must arrive as zeros.
int check_tma_box(int rows, int cols, int box_rows, int box_cols, int row0, int col0, tma::Swizzle swizzle,
                  Layout lay) {
  std::vector<uint16_t> g(size_t(rows) * cols);
  for (size_t i = 0; i < g.size(); ++i) g[i] = uint16_t(i * 2654435761u >> 7) | 1;  // never 0
  DeviceBuffer dg = upload(g), dout(kTmaImageBytes);
  const CUtensorMap map =
      tma::encode_2d(dg.as<uint16_t>(), 2, rows, cols, uint64_t(cols) * 2, box_rows, box_cols, swizzle);
  const int bytes = box_rows * box_cols * 2;
  one_tma_box<<<1, 128>>>(map, col0, row0, bytes, dout.as<uint8_t>());
  check_cuda(cudaGetLastError(), "one_tma_box launch");
  const std::vector<uint16_t> img = download<uint16_t>(dout);
  int wrong = 0;
  for (int r = 0; r < box_rows; ++r)
    for (int c = 0; c < box_cols; ++c) {
      const int gr = row0 + r, gc = col0 + c;
      const uint16_t want = gr < rows ? g[size_t(gr) * cols + gc] : 0;
      if (img[layout_offset(lay, box_rows, box_cols, r, c) / 2] != want) ++wrong;
    }
  return wrong;
}
}  // namespace

TEST_CASE("TMA boxes land in the Sw64 and Sw128 layouts the wgmma tests verify, rows past the end as zeros",
          "[wgmma]") {
  if (!hopper_or_skip()) return;
  // wgmma_sp s02+: compressed A boxes of 128 rows x 32 values (64-byte swizzle), B boxes of 256 x 64 (128-byte).
  CHECK(check_tma_box(512, 256, 128, 32, 128, 96, tma::Swizzle::B64, Layout::Sw64) == 0);
  CHECK(check_tma_box(512, 256, 64, 64, 64, 128, tma::Swizzle::B128, Layout::Sw128) == 0);
  // The last box reaches past the tensor's rows: 40 real rows, 24 zero-filled.
  CHECK(check_tma_box(104, 128, 64, 32, 64, 32, tma::Swizzle::B64, Layout::Sw64) == 0);
  CHECK(check_tma_box(104, 128, 64, 64, 64, 64, tma::Swizzle::B128, Layout::Sw128) == 0);
}

namespace {
// ---- TMA store: a box from shared memory to global (the epilogue of the s06 steps) -----------------------------
// The block copies a host-built shared-memory image (laid out by layout_offset, Sw128) into shared memory, fences it
// to the async proxy, and one thread stores it with cp.async.bulk.tensor and waits for the bulk group. The host
// checks every element of the poisoned global tensor: the box's elements where the tensor has them, poison
// everywhere else (rows and columns past the tensor's end must be clipped, nothing outside the box touched).
__global__ void one_tma_store_box(const __grid_constant__ CUtensorMap map, int c0, int c1, const uint8_t* image,
                                  int bytes) {
#if SPARSE24_SM90A_DEVICE
  __shared__ __align__(1024) uint8_t box[kTmaImageBytes];
  for (int i = threadIdx.x; i < bytes; i += blockDim.x) box[i] = image[i];
  ptx::fence_proxy_async_shared();
  __syncthreads();
  if (threadIdx.x == 0) {
    ptx::tma_store_2d(&map, ptx::smem_addr(box), c0, c1);
    ptx::bulk_commit_group();
    ptx::bulk_wait_group<0>();
  }
#endif
}

int check_tma_store_box(int rows, int cols, int box_rows, int box_cols, int row0, int col0) {
  constexpr uint16_t kPoison = 0xEEEE;
  std::vector<uint16_t> g(size_t(rows) * cols, kPoison), img(size_t(box_rows) * box_cols);
  for (int r = 0; r < box_rows; ++r)
    for (int c = 0; c < box_cols; ++c)
      img[layout_offset(Layout::Sw128, box_rows, box_cols, r, c) / 2] = uint16_t((r * 131 + c * 7) % 30000 + 1);
  DeviceBuffer dg = upload(g), dimg = upload(img);
  const CUtensorMap map = tma::encode_2d(dg.as<uint16_t>(), 2, rows, cols, uint64_t(cols) * 2, box_rows, box_cols,
                                         tma::Swizzle::B128);
  one_tma_store_box<<<1, 128>>>(map, col0, row0, dimg.as<uint8_t>(), int(img.size() * 2));
  check_cuda(cudaGetLastError(), "one_tma_store_box launch");
  const std::vector<uint16_t> out = download<uint16_t>(dg);
  int wrong = 0;
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) {
      const int br = r - row0, bc = c - col0;
      const bool in_box = br >= 0 && br < box_rows && bc >= 0 && bc < box_cols;
      const uint16_t want = in_box ? uint16_t((br * 131 + bc * 7) % 30000 + 1) : kPoison;
      if (out[size_t(r) * cols + c] != want) ++wrong;
    }
  return wrong;
}
}  // namespace

TEST_CASE("TMA store: a 64 x 64 box in 128-byte swizzle lands where it belongs, clipped at the tensor's end",
          "[wgmma]") {
  if (!hopper_or_skip()) return;
  CHECK(check_tma_store_box(256, 192, 64, 64, 64, 128) == 0);  // inside
  CHECK(check_tma_store_box(100, 152, 64, 64, 64, 128) == 0);  // 28 rows and 40 columns past the end: clipped
}

TEST_CASE("smem_desc packs the PTX matrix-descriptor fields", "[wgmma]") {
  // Host-only arithmetic: start 0x400 -> 0x40, LBO 128 -> 8 at bit 16, SBO 1024 -> 64 at bit 32, 128B swizzle = 1
  // at bit 62 (PTX ISA 9.7.15.5.1.2.2).
  const uint64_t d = ptx::smem_desc(0x400, 128, 1024, ptx::SmemSwizzle::B128);
  CHECK((d & 0x3FFF) == 0x40);
  CHECK(((d >> 16) & 0x3FFF) == 8);
  CHECK(((d >> 32) & 0x3FFF) == 64);
  CHECK((d >> 62) == 1);
}
