// One-instruction tests of the 8-bit Hopper forms (kernels/common/ptx_sm90.cuh): wgmma.mma_async.sp m64nNk64 (A
// from shared memory and from registers) and the dense wgmma m64nNk32 of the dense twins, for e4m3 (f32
// accumulators) and int8 (s32), N = 8, 64 and 256. Operands laid out on the host byte for byte, a fresh random
// 2:4 pattern every trial (metadata in every lane: the 8-bit form has selector 0 only and reads all four lanes of
// a quad), values whose sums are exact in the accumulator (e4m3: integers |x| <= 3, so every sum of a k64 stays
// below 2^10, inside the 14 bits the fp8 wgmma keeps, docs/sparse-tensor-cores.md §9; int8: any value, s32),
// compared bit for bit with a CPU product. Built for sm_90a only (CMakeLists.txt); elsewhere every case warns
// and returns.
//
// The shared-memory layouts are the 16-bit test's (test_wgmma_instructions_gpu.cu) in bytes: K-major core
// matrices of 8 rows x 16 bytes, no swizzle (KFast: LBO = 128 along K, SBO between 8-row groups), 128-byte swizzle
// (Sw128: SBO = 1024), and 64-byte swizzle in 64-byte column blocks (Sw64: SBO = 512), the last as A in the TMA
// kernels' pairing (A Sw64, B Sw128). A tile holds 128 bytes of each row (four sparse k-steps of 32 compressed
// bytes, or four dense k-steps of 32 bytes), B 128 bytes (two sparse k-steps of 64, or four dense of 32): a trial
// picks one k-step of each by advancing the descriptor's start address, as a kernel does.
#include <cuda_fp8.h>

#include <cstdint>
#include <cstdio>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "harness/context.h"
#include "harness/device_buffer.h"
#include "kernels/common/cuda_check.h"
#include "kernels/common/fragments.h"
#include "kernels/common/ptx.cuh"
#include "kernels/common/ptx_sm90.cuh"
#include "tests/catch.h"
#include "tests/gpu/host_io.h"
#include "tests/gpu/wgmma_layouts.h"

using namespace sparse24;
using namespace sparse24::gputest;
using harness::DeviceBuffer;

namespace {

constexpr int kThreads = 128;                  // one warpgroup
constexpr int kM = 64;                         // rows of A and of the accumulator tile
constexpr int kRowBytes = kWgmmaRowBytes;      // bytes of each A and B row held in shared memory
constexpr int kAImageBytes = kM * kRowBytes;   // 8 KB
constexpr int kBImageBytesMax = 256 * kRowBytes;  // 32 KB for N = 256
constexpr int kStepBytes = 32;                 // A bytes one instruction reads per row (sparse: compressed)
constexpr int kTrials = 4;
constexpr uint32_t kValidNibbles[6] = {0x4, 0x8, 0xC, 0x9, 0xD, 0xE};

// ---- The kernel: one warpgroup, one 8-bit wgmma -----------------------------------------------------------------
enum class Form { SparseSS, SparseRS, DenseSS };
const char* form_name(Form f) { return f == Form::SparseSS ? "sp SS" : f == Form::SparseRS ? "sp RS" : "dense SS"; }

template <DType T, int N, Form kForm>
__global__ void one_wgmma8(const uint8_t* a_image, const uint8_t* b_image, int b_bytes, const uint32_t* a_regs,
                           const uint32_t* e, DescFields a, DescFields b, ptx::Acc8<T>* d) {
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
  ptx::Acc8<T> acc[N / 2];
  for (int i = 0; i < N / 2; ++i) acc[i] = 0;
  uint32_t ar[4];
  for (int i = 0; i < 4; ++i) ar[i] = a_regs[4 * t + i];
  uint32_t ev = e[t];
  const uint64_t da = ptx::smem_desc(ptx::smem_addr(sa) + a.start, a.lbo, a.sbo, a.swizzle);
  const uint64_t db = ptx::smem_desc(ptx::smem_addr(sb) + b.start, b.lbo, b.sbo, b.swizzle);
  ptx::fence_registers(acc);
  ptx::fence_register(ev);
  ptx::wgmma_fence();
  if constexpr (kForm == Form::SparseSS)
    ptx::wgmma8_sp_ss<T, N>(acc, da, db, ev, true);
  else if constexpr (kForm == Form::SparseRS)
    ptx::wgmma8_sp_rs<T, N>(acc, ar, db, ev, true);
  else
    ptx::wgmma8_ss<T, N>(acc, da, db, true);
  ptx::wgmma_commit_group();
  ptx::wgmma_wait_group<0>();
  ptx::fence_registers(acc);
  for (int i = 0; i < N / 2; ++i) d[t * (N / 2) + i] = acc[i];
#endif
}

// ---- Host side ------------------------------------------------------------------------------------------------
// The storage byte of value x in type T (checked representable: a conversion that rounds is a test bug).
template <DType T>
uint8_t byte_of(int x) {
  if constexpr (T == DType::int8) {
    return uint8_t(int8_t(x));
  } else {
    const __nv_fp8_storage_t s = __nv_cvt_float_to_fp8(float(x), __NV_SATFINITE, __NV_E4M3);
    if (float(__half(__nv_cvt_fp8_to_halfraw(s, __NV_E4M3))) != float(x))
      throw std::logic_error("test value not representable in e4m3");
    return s;
  }
}

// A random problem: A's 64 rows of kRowBytes stored values (compressed when sparse) with their nibbles (16 per
// 64 dense columns: one per chunk of 4), the dense A they stand for, and X (N rows of kRowBytes).
struct Problem {
  std::vector<int> a_val;      // [64][kRowBytes]
  std::vector<uint32_t> nib;   // [64][kRowBytes / 2]: chunk c covers stored values 2c, 2c+1
  std::vector<int> a_dense;    // [64][2 * kRowBytes]
  std::vector<int> x;          // [n][kRowBytes]
};

Problem random_problem(DType t, int n, std::mt19937& rng) {
  Problem p{std::vector<int>(kM * kRowBytes), std::vector<uint32_t>(kM * kRowBytes / 2),
            std::vector<int>(kM * 2 * kRowBytes, 0), std::vector<int>(n * kRowBytes)};
  std::uniform_int_distribution<int> val(t == DType::int8 ? -128 : -3, t == DType::int8 ? 127 : 3), code(0, 5);
  for (int r = 0; r < kM; ++r)
    for (int c = 0; c < kRowBytes / 2; ++c) {
      const uint32_t nib = kValidNibbles[code(rng)];
      p.nib[r * (kRowBytes / 2) + c] = nib;
      const int v0 = val(rng), v1 = val(rng);
      p.a_val[r * kRowBytes + 2 * c] = v0;
      p.a_val[r * kRowBytes + 2 * c + 1] = v1;
      p.a_dense[r * 2 * kRowBytes + 4 * c + (nib & 3)] = v0;
      p.a_dense[r * 2 * kRowBytes + 4 * c + (nib >> 2)] = v1;
    }
  for (int& v : p.x) v = val(rng);
  return p;
}

// Thread t's metadata register for sparse k-step sa (the per-warp layout of mma.sp m16n8k64): warp w serves rows
// 16w..16w+15; lane (g, q) holds row 16w + g + 8 (q % 2), the k-step's chunks 8 (q / 2) .. 8 (q / 2) + 7.
uint32_t meta_word(const Problem& p, int t, int sa) {
  const int w = t / 32, lane = t % 32, g = lane / 4, q = lane % 4;
  const int row = 16 * w + g + 8 * (q % 2), chunk0 = 16 * sa + 8 * (q / 2);
  uint32_t e = 0;
  for (int c = 0; c < 8; ++c) e |= p.nib[row * (kRowBytes / 2) + chunk0 + c] << (4 * c);
  return e;
}

// Thread t's A register j for the RS form: the m16n8k64 compressed A fragment of its warp's rows.
template <DType T>
uint32_t a_register(const Problem& p, int t, int j, int sa) {
  const int w = t / 32, lane = t % 32;
  uint32_t r = 0;
  for (int b = 0; b < 4; ++b) {
    const frag::RowCol rc = frag::a8_m16k32(lane, 4 * j + b);
    r |= uint32_t(byte_of<T>(p.a_val[(16 * w + rc.row) * kRowBytes + kStepBytes * sa + rc.col])) << (8 * b);
  }
  return r;
}

template <DType T, int N, Form kForm>
int wrong_outputs(const Problem& p, Layout la, Layout lb, int sa, int sb) {
  constexpr bool kSparse = kForm != Form::DenseSS;
  constexpr int kK = kSparse ? 64 : 32;            // dense K of one instruction
  constexpr int kBStepBytes = kK;                  // B bytes one instruction reads per row
  std::vector<uint8_t> a_img(kAImageBytes, 0), b_img(N * kRowBytes, 0);
  for (int r = 0; r < kM; ++r)
    for (int c = 0; c < kRowBytes; ++c) a_img[layout_offset(la, kM, r, c)] = byte_of<T>(p.a_val[r * kRowBytes + c]);
  for (int r = 0; r < N; ++r)
    for (int c = 0; c < kRowBytes; ++c) b_img[layout_offset(lb, N, r, c)] = byte_of<T>(p.x[r * kRowBytes + c]);
  const DescFields da = layout_desc(la, kM, kStepBytes * sa), db = layout_desc(lb, N, kBStepBytes * sb);
  std::vector<uint32_t> a_regs(4 * kThreads, 0), e(kThreads, 0);
  for (int t = 0; t < kThreads; ++t) {
    if (kForm == Form::SparseRS)
      for (int j = 0; j < 4; ++j) a_regs[4 * t + j] = a_register<T>(p, t, j, sa);
    if (kSparse) e[t] = meta_word(p, t, sa);
  }
  DeviceBuffer dai = upload(a_img), dbi = upload(b_img), dar = upload(a_regs), de = upload(e),
               dd(kThreads * (N / 2) * sizeof(ptx::Acc8<T>));
  one_wgmma8<T, N, kForm><<<1, kThreads>>>(dai.as<uint8_t>(), dbi.as<uint8_t>(), int(b_img.size()),
                                           dar.as<uint32_t>(), de.as<uint32_t>(), da, db, dd.as<ptx::Acc8<T>>());
  check_cuda(cudaGetLastError(), "one_wgmma8 launch");
  const std::vector<ptx::Acc8<T>> d = download<ptx::Acc8<T>>(dd);
  int wrong = 0;
  for (int t = 0; t < kThreads; ++t)
    for (int i = 0; i < N / 2; ++i) {
      const frag::RowCol rc = frag::acc_m64(t, i);
      long long want = 0;
      for (int k = 0; k < kK; ++k) {
        const int a = kSparse ? p.a_dense[rc.row * 2 * kRowBytes + kK * sa + k] : p.a_val[rc.row * kRowBytes + kK * sa + k];
        want += static_cast<long long>(a) * p.x[rc.col * kRowBytes + kK * sb + k];
      }
      wrong += static_cast<double>(d[t * (N / 2) + i]) != static_cast<double>(want);
    }
  return wrong;
}

template <DType T, int N, Form kForm>
void check_form(uint32_t seed) {
  std::mt19937 rng(seed);
  constexpr bool kSparse = kForm != Form::DenseSS;
  const int a_steps = kRowBytes / kStepBytes, b_steps = kRowBytes / (kSparse ? 64 : 32);
  const std::pair<Layout, Layout> pairs[3] = {
      {Layout::KFast, Layout::KFast}, {Layout::Sw128, Layout::Sw128}, {Layout::Sw64, Layout::Sw128}};
  for (const auto& [la, lb] : pairs) {
    if (kForm == Form::SparseRS && la != Layout::KFast && la != Layout::Sw64) continue;  // A unused: one B each
    for (int trial = 0; trial < kTrials; ++trial) {
      const Problem p = random_problem(T, N, rng);
      const int sa = trial % a_steps, sb = (trial / 2) % b_steps;
      INFO(name(T) << " m64n" << N << (kSparse ? "k64 " : "k32 ") << form_name(kForm) << " A " << layout_name(la)
                   << " B " << layout_name(lb) << " trial " << trial << " (A k-step " << sa << ", B k-step " << sb
                   << ")");
      CHECK(wrong_outputs<T, N, kForm>(p, la, lb, sa, sb) == 0);
    }
  }
}

bool hopper_or_skip() {
  const int sm = harness::compute_capability(0);  // harness/context.h
  if (sm != 90) {
    WARN("8-bit wgmma tests need an sm_90 GPU (sm_90a code); this is sm_" << sm << ": skipped");
    return false;
  }
  return true;
}

template <DType T>
void check_type(uint32_t seed) {
  check_form<T, 8, Form::SparseSS>(seed + 1);
  check_form<T, 64, Form::SparseSS>(seed + 2);
  check_form<T, 256, Form::SparseSS>(seed + 3);
  check_form<T, 8, Form::SparseRS>(seed + 4);
  check_form<T, 256, Form::SparseRS>(seed + 5);
  check_form<T, 8, Form::DenseSS>(seed + 6);
  check_form<T, 256, Form::DenseSS>(seed + 7);
}

}  // namespace

TEST_CASE("wgmma.sp m64nNk64 and wgmma m64nNk32, e4m3: random 2:4 patterns, layouts, SS and RS, exact",
          "[instructions][wgmma][8bit]") {
  if (!hopper_or_skip()) return;
  check_type<DType::e4m3>(100);
}

TEST_CASE("wgmma.sp m64nNk64 and wgmma m64nNk32, int8: random 2:4 patterns, layouts, SS and RS, exact in s32",
          "[instructions][wgmma][8bit]") {
  if (!hopper_or_skip()) return;
  check_type<DType::int8>(200);
}
