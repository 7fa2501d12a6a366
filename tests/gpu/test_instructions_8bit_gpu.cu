// One-instruction tests of the 8-bit and tf32 warp-level forms (kernels/common/ptx.cuh), and a measurement of how
// many bits of the running sum the fp8 tensor-core accumulation keeps, dense and sparse.
//
// As in test_instructions_gpu.cu: one warp, registers built on the host from the lane maps of
// kernels/common/fragments.h and the metadata layout of docs/sparse-tensor-cores.md §3, a fresh random 2:4 (tf32:
// 1:2) pattern every trial, values whose products and sums are exact in the accumulator, compared bit for bit with
// a CPU product. The fp8 forms need sm_89+: on an older GPU their cases say so and pass nothing off as checked.
#include <cuda_fp8.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "harness/context.h"
#include "harness/device_buffer.h"
#include "kernels/common/cuda_check.h"
#include "kernels/common/fragments.h"
#include "kernels/common/ptx.cuh"
#include "kernels/common/ptx_sm90.cuh"
#include "tests/catch.h"
#include "tests/gpu/host_io.h"

using namespace sparse24;
using namespace sparse24::gputest;
using harness::DeviceBuffer;

namespace {

constexpr int kTrials = 20;
constexpr uint32_t kValidNibbles[6] = {0x4, 0x8, 0xC, 0x9, 0xD, 0xE};
// tf32 (1:2): one nibble per pair of dense elements; these two are the only codes (docs/sparse-tensor-cores.md §2).
constexpr uint32_t kTf32KeepFirst = 0x4, kTf32KeepSecond = 0xE;

// The current GPU's compute capability (harness/context.h).
int device_sm() { return harness::compute_capability(0); }

// ---- Kernels: one warp, one instruction, the accumulators start from c ------------------------------------------
// Which instruction: the 8-bit sparse k64, the 8-bit dense k32, the tf32 sparse k16 (selector F) or dense k8, and
// the 16-bit dense m16n8k16 (the control of the accumulation measurement).
enum class Form { sp8, dense8, sp_tf32, dense_tf32, dense16, wgmma_dense, wgmma_sp };

template <Form kForm, DType T, int F, class Acc>
__global__ void one_instruction(const uint32_t* a, const uint32_t* b, const uint32_t* e, const Acc* c, Acc* d) {
  const int lane = threadIdx.x;
  uint32_t ar[4], br[4], br2[2];
  Acc acc[4];
  for (int i = 0; i < 4; ++i) ar[i] = a[4 * lane + i], br[i] = b[4 * lane + i], acc[i] = c[4 * lane + i];
  for (int i = 0; i < 2; ++i) br2[i] = br[i];
  if constexpr (kForm == Form::sp8) {
    if constexpr (T == DType::int8)
      ptx::mma_sp_m16n8k64_s8(acc, ar, br, e[lane]);
    else
      ptx::mma_sp_m16n8k64_f8<T>(acc, ar, br, e[lane]);
  } else if constexpr (kForm == Form::dense8) {
    if constexpr (T == DType::int8)
      ptx::mma_m16n8k32_s8(acc, ar, br2);
    else
      ptx::mma_m16n8k32_f8<T>(acc, ar, br2);
  } else if constexpr (kForm == Form::sp_tf32) {
    ptx::mma_sp_m16n8k16_tf32<F>(acc, ar, br, e[lane]);
  } else if constexpr (kForm == Form::dense_tf32) {
    ptx::mma_m16n8k8_tf32(acc, ar, br2);
  } else {
    ptx::mma_m16n8k16<T>(acc, ar, br2);
  }
  for (int i = 0; i < 4; ++i) d[4 * lane + i] = acc[i];
}

// The Hopper forms for the accumulation measurement: one warpgroup, one wgmma m64n8 (fp8 dense k32, fp8 sparse
// k64, or bf16 dense k16 as the control), operands from shared memory in the plain K-major layout without
// swizzle: core matrices of 8 rows x 16 bytes, row r of a 16-byte column block at 16 * r (8-row groups 128 bytes
// apart: SBO), column blocks kWgmmaABlock (A) or kWgmmaBBlock (B) bytes apart (LBO). Every form reads 32 bytes
// of each A row (fp8 k32, compressed fp8 k64, bf16 k16) and 32 (dense) or 64 (sparse) bytes of each B row.
constexpr int kWgmmaABlock = 64 * 16, kWgmmaBBlock = 8 * 16;
constexpr int kWgmmaABytes = 2 * kWgmmaABlock, kWgmmaBBytes = 4 * kWgmmaBBlock;

template <Form kForm, DType T>
__global__ void one_wgmma(const uint8_t* a_image, const uint8_t* b_image, float c0, float* d) {
#if SPARSE24_SM90A_DEVICE
  __shared__ __align__(1024) uint8_t sa[kWgmmaABytes];
  __shared__ __align__(1024) uint8_t sb[kWgmmaBBytes];
  const int t = threadIdx.x;
  for (int i = t; i < kWgmmaABytes; i += 128) sa[i] = a_image[i];
  for (int i = t; i < kWgmmaBBytes; i += 128) sb[i] = b_image[i];
  ptx::fence_proxy_async_shared();  // st.shared (generic proxy) -> wgmma (async proxy)
  __syncthreads();
  float acc[4] = {c0, c0, c0, c0};
  uint32_t e = 0x44444444u;  // every chunk keeps elements (0, 1): compressed columns are dense columns
  const uint64_t da = ptx::smem_desc(ptx::smem_addr(sa), kWgmmaABlock, 128, ptx::SmemSwizzle::None);
  const uint64_t db = ptx::smem_desc(ptx::smem_addr(sb), kWgmmaBBlock, 128, ptx::SmemSwizzle::None);
  ptx::fence_registers(acc);
  ptx::fence_register(e);
  ptx::wgmma_fence();
  if constexpr (kForm == Form::wgmma_sp)
    ptx::wgmma8_sp_ss<T, 8>(acc, da, db, e, true);
  else if constexpr (T == DType::bf16)
    ptx::wgmma_ss<T, 8>(acc, da, db, true);
  else
    ptx::wgmma8_ss<T, 8>(acc, da, db, true);
  ptx::wgmma_commit_group();
  ptx::wgmma_wait_group<0>();
  ptx::fence_registers(acc);
  for (int i = 0; i < 4; ++i) d[4 * t + i] = acc[i];
#endif
}

// ---- Host encodings ------------------------------------------------------------------------------------------
// The storage bits of x in type T (x exactly representable: the tests choose such values; a conversion that would
// round is a test bug, so it is checked).
template <DType T>
uint32_t bits8(float x) {
  uint32_t out = 0;
  float back = 0;
  if constexpr (T == DType::int8) {
    out = uint32_t(uint8_t(int8_t(x)));
    back = float(int8_t(out));
  } else {
    const __nv_fp8_interpretation_t kind = T == DType::e4m3 ? __NV_E4M3 : __NV_E5M2;
    const __nv_fp8_storage_t s = __nv_cvt_float_to_fp8(x, __NV_SATFINITE, kind);
    out = s;
    back = float(__half(__nv_cvt_fp8_to_halfraw(s, kind)));
  }
  if (back != x) throw std::logic_error("test value not representable in " + std::string(name(T)));
  return out;
}
uint32_t bits32(float x) {
  uint32_t u;
  std::memcpy(&u, &x, 4);
  return u;
}
// Four 8-bit elements into one register, element 0 in the lowest byte.
uint32_t pack4(uint32_t e0, uint32_t e1, uint32_t e2, uint32_t e3) { return e0 | e1 << 8 | e2 << 16 | e3 << 24; }

// ---- An 8-bit sparse tile: dense 16 x 64 (2:4 along K), its 16 x 32 compressed values and nibbles, B 64 x 8 ----
struct Tile8 {
  float dense[16][64] = {};
  float values[16][32] = {};
  uint32_t nibble[16][16] = {};  // row, chunk
  float b[64][8] = {};
};

// Small integers for the fp8 types (|x| <= 3: every product and sum of a k64 is an integer below 2^10, exact in
// any accumulator that keeps 10 bits, so this test checks layouts, not accumulation); any int8 for int8 (exact in
// s32).
Tile8 random_tile8(std::mt19937& rng, DType t) {
  Tile8 tile;
  const int lim = t == DType::int8 ? 127 : 3;
  std::uniform_int_distribution<int> val(t == DType::int8 ? -128 : -lim, lim), code(0, 5);
  for (int r = 0; r < 16; ++r)
    for (int c = 0; c < 16; ++c) {
      const uint32_t nib = kValidNibbles[code(rng)];
      tile.nibble[r][c] = nib;
      tile.values[r][2 * c] = float(val(rng));
      tile.values[r][2 * c + 1] = float(val(rng));
      tile.dense[r][4 * c + (nib & 3)] = tile.values[r][2 * c];
      tile.dense[r][4 * c + (nib >> 2)] = tile.values[r][2 * c + 1];
    }
  for (auto& row : tile.b)
    for (float& x : row) x = float(val(rng));
  return tile;
}

// The e register of `lane` for m16n8k64 (docs/sparse-tensor-cores.md §3): every lane supplies one; q = lane % 4
// picks row g (q even) or g + 8 (q odd) and dense k 0..31 (q < 2) or 32..63 (q >= 2), 8 nibbles LSB first.
uint32_t meta_register8(const Tile8& t, int lane) {
  const int g = lane / 4, q = lane % 4, row = g + 8 * (q % 2), chunk0 = 8 * (q / 2);
  uint32_t e = 0;
  for (int c = 0; c < 8; ++c) e |= t.nibble[row][chunk0 + c] << (4 * c);
  return e;
}

// Registers of the 8-bit operands: compressed A (a8_m16k32 map), B (b8_k64n8 map, all four registers).
template <DType T>
void registers8(const float (&values)[16][32], const float (&b)[64][8], std::vector<uint32_t>& a,
                std::vector<uint32_t>& br) {
  a.assign(128, 0), br.assign(128, 0);
  for (int lane = 0; lane < 32; ++lane)
    for (int r = 0; r < 4; ++r) {
      uint32_t ea[4], eb[4];
      for (int j = 0; j < 4; ++j) {
        const frag::RowCol at = frag::a8_m16k32(lane, 4 * r + j), bt = frag::b8_k64n8(lane, 4 * r + j);
        ea[j] = bits8<T>(values[at.row][at.col]);
        eb[j] = bits8<T>(b[bt.row][bt.col]);
      }
      a[4 * lane + r] = pack4(ea[0], ea[1], ea[2], ea[3]);
      br[4 * lane + r] = pack4(eb[0], eb[1], eb[2], eb[3]);
    }
}

// Runs one instruction and returns the 128 accumulators (frag::acc_m16n8 order) as doubles.
template <Form kForm, DType T, int F, class Acc>
std::vector<double> run_one(const std::vector<uint32_t>& a, const std::vector<uint32_t>& b,
                            const std::vector<uint32_t>& e, const std::vector<Acc>& c) {
  DeviceBuffer da = upload(a), db = upload(b), de = upload(e), dc = upload(c), dd(128 * sizeof(Acc));
  one_instruction<kForm, T, F, Acc>
      <<<1, 32>>>(da.as<uint32_t>(), db.as<uint32_t>(), de.as<uint32_t>(), dc.as<Acc>(), dd.as<Acc>());
  check_cuda(cudaGetLastError(), "one_instruction launch");
  const std::vector<Acc> d = download<Acc>(dd);
  return std::vector<double>(d.begin(), d.end());
}

// How many of the 128 accumulators differ from the exact product of a(r, k) (16 x K) and b(k, n) (K x 8).
template <class A, class B>
int wrong_accumulators(const std::vector<double>& d, int K, A a, B b) {
  int wrong = 0;
  for (int lane = 0; lane < 32; ++lane)
    for (int i = 0; i < 4; ++i) {
      const frag::RowCol rc = frag::acc_m16n8(lane, i);
      double want = 0;
      for (int k = 0; k < K; ++k) want += double(a(rc.row, k)) * b(k, rc.col);
      wrong += d[4 * lane + i] != want;
    }
  return wrong;
}

template <DType T>
using Acc8 = std::conditional_t<T == DType::int8, int32_t, float>;

template <DType T>
void check_mma_sp8(uint32_t seed) {
  std::mt19937 rng(seed);
  for (int trial = 0; trial < kTrials; ++trial) {
    const Tile8 t = random_tile8(rng, T);
    std::vector<uint32_t> a, b, e(32);
    registers8<T>(t.values, t.b, a, b);
    for (int lane = 0; lane < 32; ++lane) e[lane] = meta_register8(t, lane);
    const auto d = run_one<Form::sp8, T, 0>(a, b, e, std::vector<Acc8<T>>(128, Acc8<T>(0)));
    INFO(name(T) << " mma.sp m16n8k64 trial " << trial);
    CHECK(wrong_accumulators(d, 64, [&](int r, int k) { return t.dense[r][k]; },
                             [&](int k, int n) { return t.b[k][n]; }) == 0);
  }
}

template <DType T>
void check_mma_dense8(uint32_t seed) {
  std::mt19937 rng(seed);
  for (int trial = 0; trial < kTrials; ++trial) {
    // A dense 16 x 32 tile is the compressed-A fragment's shape, B the first 32 rows of the k64 map.
    const Tile8 t = random_tile8(rng, T);
    std::vector<uint32_t> a, b;
    registers8<T>(t.values, t.b, a, b);
    std::vector<uint32_t> b2(128, 0);
    for (int lane = 0; lane < 32; ++lane) b2[4 * lane] = b[4 * lane], b2[4 * lane + 1] = b[4 * lane + 1];
    const auto d = run_one<Form::dense8, T, 0>(a, b2, std::vector<uint32_t>(32, 0),
                                               std::vector<Acc8<T>>(128, Acc8<T>(0)));
    INFO(name(T) << " mma.sync m16n8k32 trial " << trial);
    CHECK(wrong_accumulators(d, 32, [&](int r, int k) { return t.values[r][k]; },
                             [&](int k, int n) { return t.b[k][n]; }) == 0);
  }
}

// tf32 1:2: dense 16 x 16, each pair of dense elements keeps one (nibble 0x4: the first, 0xE: the second).
template <int F>
void check_mma_sp_tf32(uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> val(-3, 3), pick(0, 1);
  for (int trial = 0; trial < kTrials; ++trial) {
    float dense[16][16] = {}, values[16][8] = {}, b[16][8] = {};
    uint32_t nibble[16][8] = {};
    for (int r = 0; r < 16; ++r)
      for (int p = 0; p < 8; ++p) {
        const int keep = pick(rng);
        nibble[r][p] = keep ? kTf32KeepSecond : kTf32KeepFirst;
        values[r][p] = float(val(rng));
        dense[r][2 * p + keep] = values[r][p];
      }
    for (auto& row : b)
      for (float& x : row) x = float(val(rng));
    std::vector<uint32_t> a(128), br(128), e(32);
    for (int lane = 0; lane < 32; ++lane) {
      for (int j = 0; j < 4; ++j) {
        const frag::RowCol at = frag::a32_m16k8(lane, j), bt = frag::b32_k16n8(lane, j);
        a[4 * lane + j] = bits32(values[at.row][at.col]);
        br[4 * lane + j] = bits32(b[bt.row][bt.col]);
      }
      // Lanes q = 2F (k 0..7) and 2F + 1 (k 8..15) supply the register: row g in bits 15:0, g + 8 in bits 31:16,
      // one nibble per pair, LSB first. The other lanes hold garbage the hardware must not read.
      const int g = lane / 4, q = lane % 4;
      if (q / 2 != F) {
        e[lane] = rng();
        continue;
      }
      uint32_t w = 0;
      for (int half = 0; half < 2; ++half)
        for (int p = 0; p < 4; ++p) w |= nibble[g + 8 * half][4 * (q % 2) + p] << (16 * half + 4 * p);
      e[lane] = w;
    }
    const auto d = run_one<Form::sp_tf32, DType::tf32, F>(a, br, e, std::vector<float>(128, 0.0f));
    INFO("tf32 mma.sp m16n8k16 selector " << F << " trial " << trial);
    CHECK(wrong_accumulators(d, 16, [&](int r, int k) { return dense[r][k]; }, [&](int k, int n) { return b[k][n]; }) ==
          0);
  }
}

void check_mma_dense_tf32(uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> val(-3, 3);
  for (int trial = 0; trial < kTrials; ++trial) {
    float A[16][8], B[8][8];
    for (auto& row : A)
      for (float& x : row) x = float(val(rng));
    for (auto& row : B)
      for (float& x : row) x = float(val(rng));
    std::vector<uint32_t> a(128), b(128, 0);
    for (int lane = 0; lane < 32; ++lane) {
      for (int j = 0; j < 4; ++j) {
        const frag::RowCol at = frag::a32_m16k8(lane, j);
        a[4 * lane + j] = bits32(A[at.row][at.col]);
      }
      for (int j = 0; j < 2; ++j) {
        const frag::RowCol bt = frag::b32_k16n8(lane, j);
        b[4 * lane + j] = bits32(B[bt.row][bt.col]);
      }
    }
    const auto d = run_one<Form::dense_tf32, DType::tf32, 0>(a, b, std::vector<uint32_t>(32, 0),
                                                            std::vector<float>(128, 0.0f));
    INFO("tf32 mma.sync m16n8k8 trial " << trial);
    CHECK(wrong_accumulators(d, 8, [&](int r, int k) { return A[r][k]; }, [&](int k, int n) { return B[k][n]; }) == 0);
  }
}

// ---- The accumulation measurement ------------------------------------------------------------------------------
// Two probes per form, each over every gap G = 0..23 (f32 holds 24 significant bits, so a loss past that would be
// f32's, not the tensor core's), every output of the instruction:
//   "accumulator": C = 2^G on input, one product of 1 (a = b = 1 in element 0 of each row and column): exact
//                  answer 2^G + 1. A tensor core that aligns the products to the accumulator and keeps fewer bits
//                  drops the 1 once G reaches that width.
//   "products":    C = 0, two products in one instruction, 2^P and 2^(P - G) (elements 0 and 1 of each row and
//                  column, P chosen so that all four factors are normal numbers of the type): exact answer
//                  2^P + 2^(P - G), the width of the sum inside one instruction.
// The result per probe is the largest G for which every output was exact, every G above it being inexact (a
// hole would mean the probe measures something else: checked). Bits kept = G + 1; 24 means "as wide as f32".
constexpr int kMaxGap = 23;

struct Probe {
  int largest_exact_gap = -1;
  bool monotone = true;
};

// Values of element 0 and 1 of a row of A and a column of B whose products are x0 = 2^p0 and x1 = 2^p1: each
// exponent split between a and b so that both stay inside the type's normal range (fp8: e4m3 2^-6..2^8, e5m2
// 2^-14..2^15; bf16 wide). Returns false if the type cannot represent the split.
bool split_pow2(DType t, int p, float* a, float* b) {
  const int lo = t == DType::e4m3 ? -6 : t == DType::e5m2 ? -14 : -100;
  const int hi = t == DType::e4m3 ? 8 : t == DType::e5m2 ? 15 : 100;
  const int pa = p >= 0 ? (p + 1) / 2 : -((-p) / 2), pb = p - pa;
  if (pa < lo || pa > hi || pb < lo || pb > hi) return false;
  *a = std::ldexp(1.0f, pa), *b = std::ldexp(1.0f, pb);
  return true;
}

// One instruction of form kForm with rows/columns whose elements 0 and 1 are (a0, a1) and (b0, b1), the rest zero,
// accumulators starting from c0; returns how many of the 128 outputs differ from `want`.
// The bytes of element x in type T (bf16: two bytes, little-endian, as the control's operands).
template <DType T>
std::vector<uint8_t> element_bytes(float x) {
  if constexpr (T == DType::bf16) {
    const uint16_t u = bits_of<T>(x);
    return {uint8_t(u & 0xFF), uint8_t(u >> 8)};
  } else {
    return {uint8_t(bits8<T>(x))};
  }
}

template <Form kForm, DType T>
int inexact_outputs(float a0, float a1, float b0, float b1, float c0, double want) {
  if constexpr (kForm == Form::wgmma_dense || kForm == Form::wgmma_sp) {
    // Elements 0 and 1 of every A row and B row (n = 0..7) in the first 16-byte column block; the rest zero.
    std::vector<uint8_t> a(kWgmmaABytes, 0), b(kWgmmaBBytes, 0);
    const std::vector<uint8_t> ea0 = element_bytes<T>(a0), ea1 = element_bytes<T>(a1);
    const std::vector<uint8_t> eb0 = element_bytes<T>(b0), eb1 = element_bytes<T>(b1);
    const size_t w = ea0.size();
    for (int r = 0; r < 64; ++r)
      for (size_t i = 0; i < w; ++i) a[16 * r + i] = ea0[i], a[16 * r + w + i] = ea1[i];
    for (int n = 0; n < 8; ++n)
      for (size_t i = 0; i < w; ++i) b[16 * n + i] = eb0[i], b[16 * n + w + i] = eb1[i];
    DeviceBuffer da = upload(a), db = upload(b), dd(512 * sizeof(float));
    one_wgmma<kForm, T><<<1, 128>>>(da.as<uint8_t>(), db.as<uint8_t>(), c0, dd.as<float>());
    check_cuda(cudaGetLastError(), "one_wgmma launch");
    int bad = 0;
    for (float x : download<float>(dd)) bad += double(x) != want;
    return bad;
  } else {
    std::vector<uint32_t> a(128, 0), b(128, 0), e(32, 0);
    if constexpr (kForm == Form::dense16) {
      // 16-bit m16n8k16: elements 0 and 1 of a row sit in register 0 of lanes q = 0 (a_m16k16 j = 0, 1), likewise
      // for rows g + 8 in register 1; B elements k = 0, 1 in register 0 of lanes q = 0.
      for (int lane = 0; lane < 32; ++lane)
        if (lane % 4 == 0) {
          a[4 * lane] = pack(bits_of<T>(a0), bits_of<T>(a1));
          a[4 * lane + 1] = pack(bits_of<T>(a0), bits_of<T>(a1));
          b[4 * lane] = pack(bits_of<T>(b0), bits_of<T>(b1));
        }
    } else {
      float values[16][32] = {}, bm[64][8] = {};
      for (int r = 0; r < 16; ++r) values[r][0] = a0, values[r][1] = a1;
      for (int n = 0; n < 8; ++n) bm[0][n] = b0, bm[1][n] = b1;
      registers8<T>(values, bm, a, b);
      // Sparse: every chunk keeps elements (0, 1), so compressed columns 0, 1 are dense columns 0, 1.
      for (auto& w : e) w = 0x44444444u;
    }
    const auto d = run_one<kForm, T, 0>(a, b, e, std::vector<float>(128, c0));
    int bad = 0;
    for (double x : d) bad += x != want;
    return bad;
  }
}

template <Form kForm, DType T>
Probe probe(bool accumulator) {
  Probe pr;
  bool lost = false;
  for (int gap = 0; gap <= kMaxGap; ++gap) {
    float a0, b0, a1 = 0, b1 = 0, c0 = 0;
    double want;
    if (accumulator) {
      a0 = b0 = 1.0f;
      c0 = std::ldexp(1.0f, gap);
      want = double(c0) + 1.0;
    } else {
      // The small product no lower than 2^-12 (e4m3's smallest normal is 2^-6), the large one no higher than 2^11.
      const int P = gap > 12 ? gap - 12 : 0;
      if (!split_pow2(T, P, &a0, &b0) || !split_pow2(T, P - gap, &a1, &b1))
        throw std::logic_error("probe factors outside the type's normal range");
      want = std::ldexp(1.0, P) + std::ldexp(1.0, P - gap);
    }
    const bool exact = inexact_outputs<kForm, T>(a0, a1, b0, b1, c0, want) == 0;
    if (exact && !lost) pr.largest_exact_gap = gap;
    if (exact && lost) pr.monotone = false;
    if (!exact) lost = true;
  }
  return pr;
}

template <Form kForm, DType T>
void report_probe(const char* form) {
  const Probe acc = probe<kForm, T>(true), prod = probe<kForm, T>(false);
  std::printf("accumulation %-28s %-5s: accumulator + product exact up to a gap of %2d bits (%2d bits kept); "
              "two products in one instruction exact up to %2d bits (%2d kept)%s\n",
              form, name(T), acc.largest_exact_gap, acc.largest_exact_gap + 1, prod.largest_exact_gap,
              prod.largest_exact_gap + 1, acc.monotone && prod.monotone ? "" : "  [NOT MONOTONE]");
  INFO(form << " " << name(T));
  // The probes measure; these checks only say the measurement means something: the sum of two equal powers of two
  // (gap 0) is exact in any adder, and a loss, once it starts, does not stop.
  CHECK(acc.largest_exact_gap >= 0);
  CHECK(prod.largest_exact_gap >= 0);
  CHECK(acc.monotone);
  CHECK(prod.monotone);
}

}  // namespace

TEST_CASE("mma.sp m16n8k64 int8: random 2:4 patterns, any int8 values, exact in s32", "[instructions][8bit]") {
  check_mma_sp8<DType::int8>(11);
}

TEST_CASE("mma.sync m16n8k32 int8: any int8 values, exact in s32", "[instructions][8bit]") {
  check_mma_dense8<DType::int8>(12);
}

TEST_CASE("mma.sp m16n8k64 e4m3/e5m2: random 2:4 patterns, small integers, exact", "[instructions][8bit]") {
  if (device_sm() < 89) {
    WARN("fp8 mma needs sm_89+: not checked on this GPU");
    return;
  }
  check_mma_sp8<DType::e4m3>(13);
  check_mma_sp8<DType::e5m2>(14);
}

TEST_CASE("mma.sync m16n8k32 e4m3/e5m2: small integers, exact", "[instructions][8bit]") {
  if (device_sm() < 89) {
    WARN("fp8 mma needs sm_89+: not checked on this GPU");
    return;
  }
  check_mma_dense8<DType::e4m3>(15);
  check_mma_dense8<DType::e5m2>(16);
}

TEST_CASE("mma.sp m16n8k16 tf32: random 1:2 patterns, both selectors, exact", "[instructions][tf32]") {
  check_mma_sp_tf32<0>(17);
  check_mma_sp_tf32<1>(18);
}

TEST_CASE("mma.sync m16n8k8 tf32: small integers, exact", "[instructions][tf32]") { check_mma_dense_tf32(19); }

TEST_CASE("fp8 accumulation: bits of the running sum kept, dense and sparse (printed)", "[instructions][8bit]") {
  if (device_sm() < 89) {
    WARN("fp8 mma needs sm_89+: not measured on this GPU");
    return;
  }
  // Warp-level: on Hopper the fp8 forms compile to conversions and 16-bit HMMA (SASS), so they measure that path.
  report_probe<Form::dense16, DType::bf16>("mma.sync m16n8k16 (control)");
  report_probe<Form::dense8, DType::e4m3>("mma.sync m16n8k32");
  report_probe<Form::sp8, DType::e4m3>("mma.sp m16n8k64");
  report_probe<Form::dense8, DType::e5m2>("mma.sync m16n8k32");
  report_probe<Form::sp8, DType::e5m2>("mma.sp m16n8k64");
  if (device_sm() != 90) {
    WARN("wgmma needs sm_90a: the Hopper forms are not measured on this GPU");
    return;
  }
  report_probe<Form::wgmma_dense, DType::bf16>("wgmma m64n8k16 (control)");
  report_probe<Form::wgmma_dense, DType::e4m3>("wgmma m64n8k32");
  report_probe<Form::wgmma_sp, DType::e4m3>("wgmma.sp m64n8k64");
  report_probe<Form::wgmma_dense, DType::e5m2>("wgmma m64n8k32");
  report_probe<Form::wgmma_sp, DType::e5m2>("wgmma.sp m64n8k64");
}
