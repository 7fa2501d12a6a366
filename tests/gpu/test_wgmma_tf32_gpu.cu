// One-instruction tests of the tf32 Hopper forms (kernels/common/ptx_sm90.cuh): wgmma.mma_async.sp m64nNk16 (A 1:2
// sparse, from shared memory and from registers, sparsity selectors 0 and 1) and the dense wgmma m64nNk8 of the
// dense twins, N = 8, 64 and 256, and the sparse SS form at N = 16 and 32 (wgmma_sp.s11_narrow's decode tiles).
// Operands laid out on the host byte for byte in the layouts of the 8-bit test (tests/gpu/wgmma_layouts.h), a fresh
// random 1:2 pattern every trial (one pair-nibble per kept value: 0x4 keeps the pair's first element, 0xE its
// second), garbage in the lane pair of each quad that the selector leaves out, small integer values (|x| <= 3: every sum exact in f32), compared bit for bit with a CPU product. What it pins: the
// metadata layout the kernels' LaneBlocks16 reader gives tf32 (the m16n8k16 tf32 per-warp layout, docs §3), and
// that the tf32 forms read the 16-bit forms' shared-memory layouts with 4-byte values. Built for sm_90a only.
#include <cstdint>
#include <cstring>
#include <random>
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

constexpr int kThreads = 128;                      // one warpgroup
constexpr int kM = 64;                             // rows of A and of the accumulator tile
constexpr int kRowBytes = kWgmmaRowBytes;          // 128 bytes = 32 tf32 values per row in shared memory
constexpr int kRowValues = kRowBytes / 4;
constexpr int kAImageBytes = kM * kRowBytes;       // 8 KB
constexpr int kBImageBytesMax = 256 * kRowBytes;   // 32 KB for N = 256
constexpr int kStepBytes = 32;                     // A bytes one instruction reads per row (8 values)
constexpr int kTrials = 4;
constexpr uint32_t kPairNibbles[2] = {0x4, 0xE};  // keep the pair's element 0 / element 1

enum class Form { SparseSS, SparseRS, DenseSS };
const char* form_name(Form f) { return f == Form::SparseSS ? "sp SS" : f == Form::SparseRS ? "sp RS" : "dense SS"; }

template <int N, Form kForm, int kSel>
__global__ void one_wgmma_tf32(const uint8_t* a_image, const uint8_t* b_image, int b_bytes, const uint32_t* a_regs,
                               const uint32_t* e, DescFields a, DescFields b, float* d) {
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
  for (int i = 0; i < N / 2; ++i) acc[i] = 0.0f;
  uint32_t ar[4];
  for (int i = 0; i < 4; ++i) ar[i] = a_regs[4 * t + i];
  uint32_t ev = e[t];
  const uint64_t da = ptx::smem_desc(ptx::smem_addr(sa) + a.start, a.lbo, a.sbo, a.swizzle);
  const uint64_t db = ptx::smem_desc(ptx::smem_addr(sb) + b.start, b.lbo, b.sbo, b.swizzle);
  ptx::fence_registers(acc);
  ptx::fence_register(ev);
  ptx::wgmma_fence();
  if constexpr (kForm == Form::SparseSS)
    ptx::wgmma_tf32_sp_ss<N, kSel>(acc, da, db, ev, true);
  else if constexpr (kForm == Form::SparseRS)
    ptx::wgmma_tf32_sp_rs<N, kSel>(acc, ar, db, ev, true);
  else
    ptx::wgmma_tf32_ss<N>(acc, da, db, true);
  ptx::wgmma_commit_group();
  ptx::wgmma_wait_group<0>();
  ptx::fence_registers(acc);
  for (int i = 0; i < N / 2; ++i) d[t * (N / 2) + i] = acc[i];
#endif
}

// A random problem: A's 64 rows of kRowValues stored values (compressed when sparse: one per pair) with their
// pair-nibbles, the dense A they stand for (2 kRowValues per row), and X (N rows of kRowValues).
struct Problem {
  std::vector<int> a_val;     // [64][kRowValues]
  std::vector<uint32_t> nib;  // [64][kRowValues]: pair c covers dense columns 2c, 2c+1
  std::vector<int> a_dense;   // [64][2 kRowValues]
  std::vector<int> x;         // [n][kRowValues]
};

Problem random_problem(int n, std::mt19937& rng) {
  Problem p{std::vector<int>(kM * kRowValues), std::vector<uint32_t>(kM * kRowValues),
            std::vector<int>(kM * 2 * kRowValues, 0), std::vector<int>(n * kRowValues)};
  std::uniform_int_distribution<int> val(-3, 3), code(0, 1);
  for (int r = 0; r < kM; ++r)
    for (int c = 0; c < kRowValues; ++c) {
      const int which = code(rng), v = val(rng);
      p.nib[r * kRowValues + c] = kPairNibbles[which];
      p.a_val[r * kRowValues + c] = v;
      p.a_dense[r * 2 * kRowValues + 2 * c + which] = v;
    }
  for (int& v : p.x) v = val(rng);
  return p;
}

uint32_t bits_of(int x) {
  const float f = float(x);
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

// Thread t's metadata register for sparse k-step sa with selector sel (the m16n8k16 tf32 per-warp layout): warp w
// serves rows 16w..16w+15; the supplying lanes are q = 2 sel and 2 sel + 1: q even holds dense k 0..7 of the step
// (pairs 0..3), q odd k 8..15 (pairs 4..7), rows g in bits 15:0 and g + 8 in bits 31:16. The other lane pair gets
// random bits, which the instruction must ignore.
uint32_t meta_word(const Problem& p, int t, int sa, int sel, std::mt19937& rng) {
  const int w = t / 32, lane = t % 32, g = lane / 4, q = lane % 4;
  if (q / 2 != sel) return uint32_t(rng());
  const int pair0 = 8 * sa + 4 * (q % 2);
  uint32_t e = 0;
  for (int h = 0; h < 2; ++h)
    for (int c = 0; c < 4; ++c) e |= p.nib[(16 * w + g + 8 * h) * kRowValues + pair0 + c] << (16 * h + 4 * c);
  return e;
}

template <int N, Form kForm, int kSel>
int wrong_outputs(const Problem& p, Layout la, Layout lb, int sa, int sb, std::mt19937& rng) {
  constexpr bool kSparse = kForm != Form::DenseSS;
  constexpr int kK = kSparse ? 16 : 8;  // dense K of one instruction
  std::vector<uint8_t> a_img(kAImageBytes, 0), b_img(N * kRowBytes, 0);
  auto put = [](std::vector<uint8_t>& img, Layout l, int rows, int r, int c, int x) {
    const uint32_t u = bits_of(x);
    for (int b = 0; b < 4; ++b) img[layout_offset(l, rows, r, 4 * c + b)] = uint8_t(u >> (8 * b));
  };
  for (int r = 0; r < kM; ++r)
    for (int c = 0; c < kRowValues; ++c) put(a_img, la, kM, r, c, p.a_val[r * kRowValues + c]);
  for (int r = 0; r < N; ++r)
    for (int c = 0; c < kRowValues; ++c) put(b_img, lb, N, r, c, p.x[r * kRowValues + c]);
  const DescFields da = layout_desc(la, kM, kStepBytes * sa), db = layout_desc(lb, N, 4 * kK * sb);
  std::vector<uint32_t> a_regs(4 * kThreads, 0), e(kThreads, 0);
  for (int t = 0; t < kThreads; ++t) {
    const int w = t / 32, lane = t % 32;
    if (kForm == Form::SparseRS)
      for (int j = 0; j < 4; ++j) {
        const frag::RowCol rc = frag::a32_m16k8(lane, j);
        a_regs[4 * t + j] = bits_of(p.a_val[(16 * w + rc.row) * kRowValues + 8 * sa + rc.col]);
      }
    if (kSparse) e[t] = meta_word(p, t, sa, kSel, rng);
  }
  DeviceBuffer dai = upload(a_img), dbi = upload(b_img), dar = upload(a_regs), de = upload(e),
               dd(kThreads * (N / 2) * sizeof(float));
  one_wgmma_tf32<N, kForm, kSel><<<1, kThreads>>>(dai.as<uint8_t>(), dbi.as<uint8_t>(), int(b_img.size()),
                                                  dar.as<uint32_t>(), de.as<uint32_t>(), da, db, dd.as<float>());
  check_cuda(cudaGetLastError(), "one_wgmma_tf32 launch");
  const std::vector<float> d = download<float>(dd);
  int wrong = 0;
  for (int t = 0; t < kThreads; ++t)
    for (int i = 0; i < N / 2; ++i) {
      const frag::RowCol rc = frag::acc_m64(t, i);
      long long want = 0;
      for (int k = 0; k < kK; ++k) {
        const int a = kSparse ? p.a_dense[rc.row * 2 * kRowValues + kK * sa + k]
                              : p.a_val[rc.row * kRowValues + kK * sa + k];
        want += static_cast<long long>(a) * p.x[rc.col * kRowValues + kK * sb + k];
      }
      wrong += static_cast<double>(d[t * (N / 2) + i]) != static_cast<double>(want);
    }
  return wrong;
}

template <int N, Form kForm, int kSel = 0>
void check_form(uint32_t seed) {
  std::mt19937 rng(seed);
  constexpr bool kSparse = kForm != Form::DenseSS;
  const int a_steps = kRowBytes / kStepBytes, b_steps = kRowBytes / (kSparse ? 64 : 32);
  const std::pair<Layout, Layout> pairs[3] = {
      {Layout::KFast, Layout::KFast}, {Layout::Sw128, Layout::Sw128}, {Layout::Sw64, Layout::Sw128}};
  for (const auto& [la, lb] : pairs) {
    if (kForm == Form::SparseRS && la != Layout::KFast && la != Layout::Sw64) continue;  // A unused: one B each
    for (int trial = 0; trial < kTrials; ++trial) {
      const Problem p = random_problem(N, rng);
      const int sa = trial % a_steps, sb = (trial / 2) % b_steps;
      INFO("tf32 m64n" << N << (kSparse ? "k16 " : "k8 ") << form_name(kForm) << " sel " << kSel << " A "
                       << layout_name(la) << " B " << layout_name(lb) << " trial " << trial << " (A k-step " << sa
                       << ", B k-step " << sb << ")");
      CHECK(wrong_outputs<N, kForm, kSel>(p, la, lb, sa, sb, rng) == 0);
    }
  }
}

bool hopper_or_skip() {
  const int sm = harness::compute_capability(0);  // harness/context.h
  if (sm != 90) {
    WARN("tf32 wgmma tests need an sm_90 GPU (sm_90a code); this is sm_" << sm << ": skipped");
    return false;
  }
  return true;
}

}  // namespace

TEST_CASE("wgmma.sp m64nNk16 tf32: random 1:2 patterns, both selectors, layouts, SS and RS, exact",
          "[instructions][wgmma][tf32]") {
  if (!hopper_or_skip()) return;
  check_form<8, Form::SparseSS, 0>(301);
  check_form<8, Form::SparseSS, 1>(302);
  check_form<16, Form::SparseSS, 0>(308);
  check_form<32, Form::SparseSS, 1>(309);
  check_form<64, Form::SparseSS, 0>(303);
  check_form<256, Form::SparseSS, 0>(304);
  check_form<256, Form::SparseSS, 1>(305);
  check_form<8, Form::SparseRS, 0>(306);
  check_form<256, Form::SparseRS, 1>(307);
}

TEST_CASE("wgmma m64nNk8 tf32 (the dense twins' form): layouts, exact", "[instructions][wgmma][tf32]") {
  if (!hopper_or_skip()) return;
  check_form<8, Form::DenseSS>(401);
  check_form<256, Form::DenseSS>(402);
}
