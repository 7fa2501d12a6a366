// One-instruction tests: each PTX wrapper of kernels/common/ptx.cuh, run by a single warp on registers built on
// the host from the lane maps of kernels/common/fragments.h and the metadata layout of docs/sparse-tensor-cores.md §3, with
// random 2:4 patterns and small-integer values (exact in f32), compared bit for bit with a CPU product.
//
// A uniform pattern cannot catch a layout bug (docs/sparse-tensor-cores.md §6), so every trial draws a fresh nibble per chunk, and
// the lanes that must not supply metadata hold random garbage: if the hardware read them, results would differ.
// These tests pin the facts every kernel is built on; a kernel test failure with these passing is a kernel bug.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>
#include <random>
#include <vector>

#include "harness/device_buffer.h"
#include "kernels/common/cuda_check.h"
#include "kernels/common/fragments.h"
#include "kernels/common/ptx.cuh"
#include "tests/catch.h"
#include "tests/gpu/host_io.h"

using namespace sparse24;
using namespace sparse24::gputest;
using harness::DeviceBuffer;

namespace {

constexpr int kTrials = 20;
constexpr uint32_t kValidNibbles[6] = {0x4, 0x8, 0xC, 0x9, 0xD, 0xE};

// ---- Kernels: one warp, one instruction ------------------------------------------------------------------------
template <DType T, int F>
__global__ void one_mma_sp(const uint32_t* a, const uint32_t* b, const uint32_t* e, float* d) {
  const int lane = threadIdx.x;
  uint32_t ar[4], br[4];
  float acc[4] = {0.f, 0.f, 0.f, 0.f};
  for (int i = 0; i < 4; ++i) ar[i] = a[4 * lane + i], br[i] = b[4 * lane + i];
  ptx::mma_sp_m16n8k32<T, F>(acc, ar, br, e[lane]);
  for (int i = 0; i < 4; ++i) d[4 * lane + i] = acc[i];
}

template <DType T>
__global__ void one_mma_dense(const uint32_t* a, const uint32_t* b, float* d) {
  const int lane = threadIdx.x;
  uint32_t ar[4], br[2];
  float acc[4] = {0.f, 0.f, 0.f, 0.f};
  for (int i = 0; i < 4; ++i) ar[i] = a[4 * lane + i];
  for (int i = 0; i < 2; ++i) br[i] = b[2 * lane + i];
  ptx::mma_m16n8k16<T>(acc, ar, br);
  for (int i = 0; i < 4; ++i) d[4 * lane + i] = acc[i];
}

// A 16 x 16 tile of 16-bit words in shared memory, row stride padded (24 elements = 48 bytes), read with the
// A-fragment addresses the kernels use (frag::ldmatrix_x4_a_16x16).
__global__ void one_ldmatrix_x4(const uint16_t* tile, uint32_t* out) {
  constexpr int kStride = 24;
  __shared__ __align__(16) uint16_t s[16 * kStride];
  const int lane = threadIdx.x;
  for (int i = lane; i < 256; i += 32) s[(i / 16) * kStride + i % 16] = tile[i];
  __syncwarp();
  uint32_t r[4];
  const frag::RowCol at = frag::ldmatrix_x4_a_16x16(lane);
  ptx::ldmatrix_x4(r, ptx::smem_addr(&s[at.row * kStride + at.col]));
  for (int i = 0; i < 4; ++i) out[4 * lane + i] = r[i];
}


// cp.async, as the s03+ pipelines use it: lane l copies 16 bytes of `src` chunk l into shared chunk 31 - l, with
// src-size 16 or 0 (zero fill) from `full[l]`, as group 1; then word w of `src` into shared word (w % 32) * 4 +
// w / 32 of a second buffer with the 4-byte form (the s04 metadata transposition), as group 2; wait_group 1 then 0.
__global__ void one_cp_async(const uint32_t* src, const uint32_t* full, uint32_t* out16, uint32_t* out4) {
  __shared__ __align__(16) uint32_t s16[32 * 4];
  __shared__ __align__(16) uint32_t s4[128];
  const int lane = threadIdx.x;
  ptx::cp_async_cg_16(ptx::smem_addr(&s16[(31 - lane) * 4]), src + 4 * lane, full[lane] ? 16u : 0u);
  ptx::cp_async_commit();
  for (int w = lane; w < 128; w += 32) ptx::cp_async_ca_4(ptx::smem_addr(&s4[(w % 32) * 4 + w / 32]), src + w);
  ptx::cp_async_commit();
  ptx::cp_async_wait<1>();
  ptx::cp_async_wait<0>();
  __syncwarp();
  for (int i = lane; i < 128; i += 32) out16[i] = s16[i], out4[i] = s4[i];
}

// ---- Host helpers ---------------------------------------------------------------------------------------------
// bits_of, pack, upload, download: tests/gpu/host_io.h

// How many of the 32 x 4 accumulators (laid out by frag::acc_m16n8) differ from the exact product of the dense
// 16 x K matrix a(r, k) and the K x 8 matrix b(k, n). Small integers: f32 is exact, so any difference is a bug.
template <class A, class B>
int wrong_accumulators(const std::vector<float>& d, int K, A a, B b) {
  int wrong = 0;
  for (int lane = 0; lane < 32; ++lane)
    for (int i = 0; i < 4; ++i) {
      const frag::RowCol rc = frag::acc_m16n8(lane, i);
      float want = 0;
      for (int k = 0; k < K; ++k) want += a(rc.row, k) * b(k, rc.col);
      wrong += d[4 * lane + i] != want;
    }
  return wrong;
}

// One random m16n8k32 sparse problem: the dense A it stands for, its compressed values and nibbles, and B.
struct SparseTile {
  float dense[16][32] = {};
  float values[16][16] = {};
  uint32_t nibble[16][8] = {};  // row, chunk
  float b[32][8] = {};
};

SparseTile random_tile(std::mt19937& rng) {
  SparseTile t;
  std::uniform_int_distribution<int> val(-3, 3), code(0, 5);
  for (int r = 0; r < 16; ++r)
    for (int c = 0; c < 8; ++c) {
      const uint32_t nib = kValidNibbles[code(rng)];
      t.nibble[r][c] = nib;
      const int i0 = nib & 3, i1 = nib >> 2;
      t.values[r][2 * c] = float(val(rng));
      t.values[r][2 * c + 1] = float(val(rng));
      t.dense[r][4 * c + i0] = t.values[r][2 * c];
      t.dense[r][4 * c + i1] = t.values[r][2 * c + 1];
    }
  for (int k = 0; k < 32; ++k)
    for (int n = 0; n < 8; ++n) t.b[k][n] = float(val(rng));
  return t;
}

// The e register of `lane` for a 16-row tile read with selector F (docs/sparse-tensor-cores.md §3): lanes q = 2F (k 0..15) and
// q = 2F + 1 (k 16..31) supply it, rows g in bits 15:0 and g + 8 in bits 31:16, one nibble per 4 columns,
// LSB first. Every other lane gets garbage.
uint32_t meta_register(const SparseTile& t, int lane, int F, std::mt19937& rng) {
  const int g = lane / 4, q = lane % 4;
  if (q / 2 != F) return rng();
  const int chunk0 = 4 * (q % 2);
  uint32_t e = 0;
  for (int half = 0; half < 2; ++half)
    for (int c = 0; c < 4; ++c) e |= t.nibble[g + 8 * half][chunk0 + c] << (16 * half + 4 * c);
  return e;
}

template <DType T, int F>
void check_mma_sp(uint64_t seed) {
  std::mt19937 rng(static_cast<uint32_t>(seed));
  for (int trial = 0; trial < kTrials; ++trial) {
    const SparseTile t = random_tile(rng);
    std::vector<uint32_t> a(128), b(128), e(32);
    for (int lane = 0; lane < 32; ++lane) {
      for (int r = 0; r < 4; ++r) {
        const frag::RowCol lo = frag::a_m16k16(lane, 2 * r), hi = frag::a_m16k16(lane, 2 * r + 1);
        a[4 * lane + r] = pack(bits_of<T>(t.values[lo.row][lo.col]), bits_of<T>(t.values[hi.row][hi.col]));
        const frag::RowCol blo = frag::b_k32n8(lane, 2 * r), bhi = frag::b_k32n8(lane, 2 * r + 1);
        b[4 * lane + r] = pack(bits_of<T>(t.b[blo.row][blo.col]), bits_of<T>(t.b[bhi.row][bhi.col]));
      }
      e[lane] = meta_register(t, lane, F, rng);
    }
    DeviceBuffer da = upload(a), db = upload(b), de = upload(e), dd(128 * sizeof(float));
    one_mma_sp<T, F><<<1, 32>>>(da.as<uint32_t>(), db.as<uint32_t>(), de.as<uint32_t>(), dd.as<float>());
    check_cuda(cudaGetLastError(), "one_mma_sp launch");
    const int wrong = wrong_accumulators(download<float>(dd), 32, [&](int r, int k) { return t.dense[r][k]; },
                                         [&](int k, int n) { return t.b[k][n]; });
    INFO(name(T) << " selector " << F << " trial " << trial);
    CHECK(wrong == 0);
  }
}

template <DType T>
void check_mma_dense(uint64_t seed) {
  std::mt19937 rng(static_cast<uint32_t>(seed));
  std::uniform_int_distribution<int> val(-3, 3);
  for (int trial = 0; trial < kTrials; ++trial) {
    float A[16][16], B[16][8];
    for (auto& row : A)
      for (float& x : row) x = float(val(rng));
    for (auto& row : B)
      for (float& x : row) x = float(val(rng));
    std::vector<uint32_t> a(128), b(64);
    for (int lane = 0; lane < 32; ++lane) {
      for (int r = 0; r < 4; ++r) {
        const frag::RowCol lo = frag::a_m16k16(lane, 2 * r), hi = frag::a_m16k16(lane, 2 * r + 1);
        a[4 * lane + r] = pack(bits_of<T>(A[lo.row][lo.col]), bits_of<T>(A[hi.row][hi.col]));
      }
      for (int r = 0; r < 2; ++r) {  // m16n8k16's B is the first two registers of the k32 map
        const frag::RowCol lo = frag::b_k32n8(lane, 2 * r), hi = frag::b_k32n8(lane, 2 * r + 1);
        b[2 * lane + r] = pack(bits_of<T>(B[lo.row][lo.col]), bits_of<T>(B[hi.row][hi.col]));
      }
    }
    DeviceBuffer da = upload(a), db = upload(b), dd(128 * sizeof(float));
    one_mma_dense<T><<<1, 32>>>(da.as<uint32_t>(), db.as<uint32_t>(), dd.as<float>());
    check_cuda(cudaGetLastError(), "one_mma_dense launch");
    const int wrong = wrong_accumulators(download<float>(dd), 16, [&](int r, int k) { return A[r][k]; },
                                         [&](int k, int n) { return B[k][n]; });
    INFO(name(T) << " trial " << trial);
    CHECK(wrong == 0);
  }
}

}  // namespace

TEST_CASE("mma.sp m16n8k32: random 2:4 patterns, both selectors, exact", "[instructions]") {
  check_mma_sp<DType::bf16, 0>(1);
  check_mma_sp<DType::bf16, 1>(2);
  check_mma_sp<DType::fp16, 0>(3);
  check_mma_sp<DType::fp16, 1>(4);
}

TEST_CASE("mma.sync m16n8k16: random values, exact", "[instructions]") {
  check_mma_dense<DType::bf16>(5);
  check_mma_dense<DType::fp16>(6);
}

TEST_CASE("ldmatrix.x4 with the kernels' A addresses yields the a_m16k16 fragment", "[instructions]") {
  std::vector<uint16_t> tile(256);
  for (int i = 0; i < 256; ++i) tile[i] = static_cast<uint16_t>(i);  // element (r, c) holds 16 * r + c
  DeviceBuffer dt = upload(tile), dout(128 * sizeof(uint32_t));
  one_ldmatrix_x4<<<1, 32>>>(dt.as<uint16_t>(), dout.as<uint32_t>());
  check_cuda(cudaGetLastError(), "one_ldmatrix_x4 launch");
  const std::vector<uint32_t> out = download<uint32_t>(dout);
  int wrong = 0;
  for (int lane = 0; lane < 32; ++lane)
    for (int r = 0; r < 4; ++r) {
      const frag::RowCol lo = frag::a_m16k16(lane, 2 * r), hi = frag::a_m16k16(lane, 2 * r + 1);
      wrong += out[4 * lane + r] != pack(uint16_t(16 * lo.row + lo.col), uint16_t(16 * hi.row + hi.col));
    }
  CHECK(wrong == 0);
}

TEST_CASE("cp.async: 16-byte copies with zero fill, 4-byte scatter, commit and wait groups", "[instructions]") {
  std::mt19937 rng(7);
  for (int trial = 0; trial < kTrials; ++trial) {
    std::vector<uint32_t> src(128), full(32);
    for (auto& w : src) w = rng() | 1u;  // never zero, so a zero read back can only be the fill
    for (auto& f : full) f = rng() % 2;
    DeviceBuffer ds = upload(src), df = upload(full), d16(128 * sizeof(uint32_t)), d4(128 * sizeof(uint32_t));
    one_cp_async<<<1, 32>>>(ds.as<uint32_t>(), df.as<uint32_t>(), d16.as<uint32_t>(), d4.as<uint32_t>());
    check_cuda(cudaGetLastError(), "one_cp_async launch");
    const std::vector<uint32_t> o16 = download<uint32_t>(d16), o4 = download<uint32_t>(d4);
    int wrong = 0;
    for (int lane = 0; lane < 32; ++lane)
      for (int j = 0; j < 4; ++j) wrong += o16[(31 - lane) * 4 + j] != (full[lane] ? src[4 * lane + j] : 0u);
    for (int w = 0; w < 128; ++w) wrong += o4[(w % 32) * 4 + w / 32] != src[w];
    CHECK(wrong == 0);
  }
}
