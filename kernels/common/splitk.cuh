// Split-K support shared by every kernel that cuts K into slices computed by different blocks: the deterministic
// reduction of the f32 partials, as a second kernel (reduce) or inside the GEMM's own launch by the block of a row
// block that arrives last (arrive_last + reduce_rows); the host side (workspace layouts, the choice of the split
// factor) is in splitk.h. SplitKTiled (below) is the split-K step over a warp-tiled ladder step (mma_sp and
// dense s06_splitk).
//
// Every block of every slice writes all of its rows' N columns to partials[z] (splitk.h), zeros included, so the
// reduction never reads an unwritten element.
//
// Determinism: element (m, n) is summed by one thread, slices in the fixed order z = 0, 1, ..., split-1, starting
// from 0.0f, then scaled once by store_sum: D = alpha * sum + beta * C (the same expression, in the same order, as
// store_acc_m16n8 applies to a single accumulator). Both reductions use that order and store_sum, so they give the
// same bits for the same partials. The result depends on the split factor but never on timing: two runs give the
// same bits.
//
// The reduction kernel has no tensor-core instruction, so it lives here (namespace sparse24::splitk) rather than in
// a family namespace: scripts/check_sass.py matches family namespaces in kernel names and demands HMMAs there.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>
#include <type_traits>

#include "kernels/common/cuda_check.h"
#include "kernels/common/elem.cuh"
#include "kernels/common/epilogue.cuh"
#include "kernels/common/launch.cuh"
#include "kernels/common/ptx_sm90.cuh"
#include "kernels/common/raster.h"
#include "kernels/common/splitk.h"
#include "kernels/gemm_args.h"
#include "kernels/registry.h"

namespace sparse24::splitk {

// Threads per block of the reduction: one output element per thread.
inline constexpr int kReduceThreads = 256;

// D[m][n] = alpha * sum + beta * C[m][n] for packed element i = m * N + n. The rounding steps are spelled out
// (__fmul_rn, __fmaf_rn: what the compiler made of `v = alpha * sum; v += beta * c` in the reduce kernel, one FMUL
// and one FFMA) so that the two reductions cannot be contracted differently in their two kernels.
template <DType T>
__device__ __forceinline__ void store_sum(const GemmArgs& args, int64_t m, int64_t n, float sum) {
  using E = Elem<T>;
  float v = __fmul_rn(args.alpha, sum);
  if (args.beta != 0.0f)
    v = __fmaf_rn(args.beta, E::to_float(static_cast<const typename E::type*>(args.c)[m * args.ldc + n]), v);
  static_cast<typename E::type*>(args.d)[m * args.ldd + n] = E::from_float(v);
}

// int8's exact path (an int32 D, operands.h): the int32 partials' sum, plus C when beta = 1, as the int32
// store_acc_m16n8 writes it (epilogue.cuh; the registry refuses any other alpha or beta for an int32 D). No sum can
// wrap: |D| < 2^31 for K < 2^17 (dtype.h), and the partial sums are sums of fewer products.
__device__ __forceinline__ void store_sum_int32(const GemmArgs& args, int64_t m, int64_t n, int32_t sum) {
  if (args.beta != 0.0f) sum += static_cast<const int32_t*>(args.c)[m * args.ldc + n];
  static_cast<int32_t*>(args.d)[m * args.ldd + n] = sum;
}

// D[m][n] = alpha * sum_z partials[z][m][n] + beta * C[m][n], z in increasing order. T is D's type; the partials
// are f32, or int32 for an int32 D (int8 accumulates in s32).
template <DType T>
__global__ void __launch_bounds__(kReduceThreads) reduce(GemmArgs args, int split) {
  const int64_t total = static_cast<int64_t>(args.M) * args.N;
  const int64_t i = static_cast<int64_t>(blockIdx.x) * kReduceThreads + threadIdx.x;
  if (i >= total) return;
  const int64_t m = i / args.N, n = i % args.N;
  if constexpr (T == DType::int32) {
    const int32_t* ws = static_cast<const int32_t*>(args.workspace);
    int32_t sum = 0;
    for (int z = 0; z < split; ++z) sum += ws[z * total + i];
    store_sum_int32(args, m, n, sum);
  } else {
    const float* ws = static_cast<const float*>(args.workspace);
    float sum = 0.0f;
    for (int z = 0; z < split; ++z) sum += ws[z * total + i];
    store_sum<T>(args, m, n, sum);
  }
}

template <DType T>
inline void launch_reduce(const GemmArgs& args, int split, cudaStream_t stream) {
  const int64_t total = static_cast<int64_t>(args.M) * args.N;
  const unsigned blocks = static_cast<unsigned>((total + kReduceThreads - 1) / kReduceThreads);
  reduce<T><<<blocks, kReduceThreads, 0, stream>>>(args, split);
}

// The reduction of a scaled product (wgmma::ScaledTo<D>: int8 or fp8 inputs, a floating-point D): the slices' sum
// in slice order (V: int32 partials, summed exactly; or f32), then EpilogueScales' factor of the element,
// ((alpha sa sb) r[m]) c[n] in gemm_args.h's order, plus beta * C, rounded once to D. This is
// store_acc_m16n8_prescaled's expression element by element (an int32 sum converted RN first, as the accumulator
// is there), so an int8 product split into slices gives the unsplit kernel's bits.
//
// store_sum_scaled (reduce_scaled_pdl's store, below) writes one element with reduce_scaled's expression, `row_factor`
// being scales.row_factor(m, M). Its rounding steps are spelled out as store_sum's are, as the compiler made them of
// reduce_scaled's `v = (r * c) * sum; v += beta * C` (its SASS, session 13: FMUL r, c; FMUL by the sum; FFMA C,
// beta, v), so that the PDL form cannot be contracted differently (`r * c * sum + beta * C` could also become an
// FFMA of the first product). reduce_scaled itself keeps its text: written with this helper, its loads were
// scheduled in another order (scripts/compare_sass.py against main), and its SASS stays byte-identical.
template <DType TD, class V>
__device__ __forceinline__ void store_sum_scaled(const GemmArgs& args, const EpilogueScales& scales, float row_factor,
                                                 int64_t m, int64_t n, V sum) {
  static_assert(TD == DType::fp16 || TD == DType::bf16 || TD == DType::f32, "a scaled D is a floating-point type");
  using E = Elem<TD>;
  const float col_factor = scales.col_scale ? __ldg(scales.col_scale + n) : 1.0f;
  float v = __fmul_rn(__fmul_rn(row_factor, col_factor), static_cast<float>(sum));
  if (args.beta != 0.0f)
    v = __fmaf_rn(args.beta, E::to_float(static_cast<const typename E::type*>(args.c)[m * args.ldc + n]), v);
  static_cast<typename E::type*>(args.d)[m * args.ldd + n] = E::from_float(v);
}

// The store of the reduction that sums partials of type V into a D of type TD, for a caller that holds the slices'
// sum of an element itself (wgmma_sp s17_clustersum's cluster sum, which must give the bits of s11's / s16's
// reductions at the same split):
//   V = float, unscaled          store_sum<TD>          (reduce<TD> / reduce_pdl<TD>: 16-bit, fp8's bf16, tf32's f32)
//   V = int32_t, unscaled        store_sum_int32        (reduce<int32> / reduce_pdl<int32>: int8's exact int32 D)
//   kScaled (int32 or f32 sums)  store_sum_scaled<TD>   (reduce_scaled<TD, V> / reduce_scaled_pdl<TD, V>)
// One object per thread: the scaled form loads EpilogueScales once (reduce_scaled_pdl: once per thread), and
// row_factor(m) is the factor of a row, to be taken once per row and passed to each of its elements' stores.
template <DType TD, class V, bool kScaled>
struct SumStore {
  static_assert(std::is_same_v<V, float> || std::is_same_v<V, int32_t>, "f32 or int32 partials");
  static_assert(std::is_same_v<V, int32_t> == (TD == DType::int32),
                "unscaled: int32 partials go to an int32 D, f32 partials to a floating-point D");
  __device__ __forceinline__ explicit SumStore(const GemmArgs&) {}
  __device__ __forceinline__ float row_factor(const GemmArgs&, int64_t) const { return 1.0f; }  // no scales
  __device__ __forceinline__ void operator()(const GemmArgs& args, float, int64_t m, int64_t n, V sum) const {
    if constexpr (std::is_same_v<V, int32_t>)
      store_sum_int32(args, m, n, sum);
    else
      store_sum<TD>(args, m, n, sum);
  }
};
template <DType TD, class V>
struct SumStore<TD, V, true> {
  static_assert(std::is_same_v<V, float> || std::is_same_v<V, int32_t>, "f32 or int32 partials");
  EpilogueScales scales;
  __device__ __forceinline__ explicit SumStore(const GemmArgs& args) : scales(EpilogueScales::load(args)) {}
  __device__ __forceinline__ float row_factor(const GemmArgs& args, int64_t m) const {
    return scales.row_factor(static_cast<int>(m), args.M);
  }
  __device__ __forceinline__ void operator()(const GemmArgs& args, float row_factor, int64_t m, int64_t n,
                                             V sum) const {
    store_sum_scaled<TD>(args, scales, row_factor, m, n, sum);
  }
};

template <DType TD, class V>
__global__ void __launch_bounds__(kReduceThreads) reduce_scaled(GemmArgs args, int split) {
  static_assert(TD == DType::fp16 || TD == DType::bf16 || TD == DType::f32, "a scaled D is a floating-point type");
  using E = Elem<TD>;
  const int64_t total = static_cast<int64_t>(args.M) * args.N;
  const int64_t i = static_cast<int64_t>(blockIdx.x) * kReduceThreads + threadIdx.x;
  if (i >= total) return;
  const int64_t m = i / args.N, n = i % args.N;
  const V* ws = static_cast<const V*>(args.workspace);
  V sum = 0;
  for (int z = 0; z < split; ++z) sum += ws[z * total + i];
  const EpilogueScales scales = EpilogueScales::load(args);
  const float col_factor = scales.col_scale ? __ldg(scales.col_scale + n) : 1.0f;
  float v = (scales.row_factor(static_cast<int>(m), args.M) * col_factor) * static_cast<float>(sum);
  if (args.beta != 0.0f)
    v += args.beta * E::to_float(static_cast<const typename E::type*>(args.c)[m * args.ldc + n]);
  static_cast<typename E::type*>(args.d)[m * args.ldd + n] = E::from_float(v);
}

template <DType TD, class V>
inline void launch_reduce_scaled(const GemmArgs& args, int split, cudaStream_t stream) {
  const int64_t total = static_cast<int64_t>(args.M) * args.N;
  const unsigned blocks = static_cast<unsigned>((total + kReduceThreads - 1) / kReduceThreads);
  reduce_scaled<TD, V><<<blocks, kReduceThreads, 0, stream>>>(args, split);
}

// ---- The reduction inside the GEMM's launch ---------------------------------------------------------------------
//
// The `split` blocks of one row block (grid y = slice) each write their partial tile, then arrive at the row
// block's counter (splitk.h: after the partials). The one that arrives last, whichever slice it computed, sums the
// row block's partials in slice order and writes D; the others are done. No block waits for another, so any
// number of blocks per row block may be resident or not (no deadlock whatever the grid).
//
//   block (x, z):  partials -> __threadfence -> __syncthreads -> thread 0: atomicInc(counter[x], split - 1)
//                  old == split - 1 ?  no: exit.  yes: __threadfence -> __syncthreads -> reduce_rows -> D
//
// Self-cleaning: atomicInc(p, split - 1) stores (old >= split - 1 ? 0 : old + 1), so the arrival of the last
// block, and only it, puts the counter back to 0 in the same atomic operation: after every complete launch each
// counter is 0 again and the next run() needs no memset. Counters must be 0 before the first launch: registry.cu's
// prepare() zeroes every workspace once when it allocates it. A plan's runs must not overlap (two launches of one
// plan on two streams would share counters and partials), the same rule as for the partials of the two-launch
// layout.
//
// Memory order: each writer's __threadfence orders its partial stores before the barrier and so before thread 0's
// atomic; the last block's thread 0 fences again after the atomic that saw every other arrival, and the barrier
// passes that to the block's readers, which load through L2 (__ldcg: no L1 line of this SM can hold an older copy).

// Block-wide: true in every thread of the block that arrives last of `split` at `counter`, false in the others.
// Every thread of the block must call it (it has barriers).
__device__ __forceinline__ bool arrive_last(unsigned* counter, int split) {
  __threadfence();
  __syncthreads();
  int last = 0;
  if (threadIdx.x == 0) {
    last = atomicInc(counter, static_cast<unsigned>(split - 1)) == static_cast<unsigned>(split - 1);
    if (last) __threadfence();
  }
  return __syncthreads_or(last) != 0;
}

namespace detail {

__device__ __forceinline__ void add(float& s, float p) { s += p; }
__device__ __forceinline__ void add(float4& s, const float4& p) { s.x += p.x, s.y += p.y, s.z += p.z, s.w += p.w; }
__device__ __forceinline__ float lane(float s, int) { return s; }
__device__ __forceinline__ float lane(const float4& s, int c) {
  return c == 0 ? s.x : c == 1 ? s.y : c == 2 ? s.z : s.w;
}

// reduce_rows with one shape of work per thread: kBatch loads of V (float or float4), kThreads apart, for kSlices
// slices at a time, all issued before any is added: kBatch * kSlices independent loads in flight per thread.
template <DType T, class V, int kThreads, int kBatch, int kSlices>
__device__ __forceinline__ void reduce_run(const GemmArgs& args, int split, int row0, int rows) {
  constexpr int kVec = sizeof(V) / sizeof(float);
  const int N = args.N;
  const int64_t slice = static_cast<int64_t>(args.M) * N / kVec;  // Vs per slice
  const V* first = static_cast<const V*>(args.workspace) + static_cast<int64_t>(row0) * N / kVec;
  const int count = rows * N / kVec;  // Vs of the rows in one slice (at most 128 x 128)
  for (int base = static_cast<int>(threadIdx.x); base < count; base += kThreads * kBatch) {
    V sum[kBatch] = {};
#pragma unroll 1
    for (int z0 = 0; z0 < split; z0 += kSlices) {
      V p[kSlices][kBatch];
#pragma unroll
      for (int b = 0; b < kBatch; ++b) {
        const int v = base + b * kThreads;
        const V* at = first + z0 * slice + v;  // walked down the slices: one pointer, not one address per load
#pragma unroll
        for (int s = 0; s < kSlices; ++s, at += slice)
          if (z0 + s < split && v < count) p[s][b] = __ldcg(at);
      }
      // Added in slice order, and only what was loaded (adding a zero would turn a -0.0f sum into +0.0f).
#pragma unroll
      for (int s = 0; s < kSlices; ++s)
#pragma unroll
        for (int b = 0; b < kBatch; ++b)
          if (z0 + s < split && base + b * kThreads < count) add(sum[b], p[s][b]);
    }
#pragma unroll
    for (int b = 0; b < kBatch; ++b) {
      const int v = base + b * kThreads;
      if (v >= count) break;
#pragma unroll
      for (int c = 0; c < kVec; ++c) {
        const int e = kVec * v + c;  // element of the rows, row-major: row row0 + e / N, column e % N
        store_sum<T>(args, row0 + e / N, e % N, lane(sum[b], c));
      }
    }
  }
}

}  // namespace detail

// D for rows [row0, row0 + rows) from the partials, by the kThreads threads of one block: slice order, store_sum.
// The rows' partials are one contiguous run of rows * N floats per slice; rows is a multiple of 32 (M is, and so is
// every row block), so the run is whole float4s, 16-byte aligned (the workspace from cudaMalloc is). This runs on
// the last row block's path, so what counts is rounds of L2 latency, ceil(split / slices in flight) per thread, and
// the loads in flight cost registers. Three shapes of work, each 16 floats of loads per thread:
//   rows * N <= kThreads (N = 1 at 128 rows, N <= 2 at 64): one float per thread, 16 slices at a time;
//   rows * N <= 4 kThreads (N <= 4, or 8 at 64 rows): one float4 per thread, 8 slices at a time;
//   more: two float4s per thread (and more, in turn), 4 slices at a time.
// NOTE: ptxas (sm_90a) on skinny.s02 with other shapes: one float x 32 slices, bn 8 at 128 registers (the edge of 4
// blocks per SM; 118 now); four float4s x 4 slices, bn 8 at 156 (3 blocks per SM); four float4s with the slice loop
// left to the compiler (it unrolled it), bn 64 at 192 (188 now); one address per load instead of the pointer walk,
// 254 at every tile.
template <DType T, int kThreads>
__device__ __forceinline__ void reduce_rows(const GemmArgs& args, int split, int row0, int rows) {
  const int elems = rows * args.N;
  if (elems <= kThreads) detail::reduce_run<T, float, kThreads, 1, 16>(args, split, row0, rows);
  else if (elems <= 4 * kThreads) detail::reduce_run<T, float4, kThreads, 1, 8>(args, split, row0, rows);
  else detail::reduce_run<T, float4, kThreads, 2, 4>(args, split, row0, rows);
}

// ---- The reduction as a programmatic dependent launch (wgmma_sp/s16_pdl.cuh) ------------------------------------
//
// reduce's and reduce_scaled's sums, 16 bytes of partials per thread, launched so that they are scheduled while the
// GEMM drains. Why (ncu, H200, session 11): reduce's one f32 per thread keeps too few bytes in flight (8.4 MB read
// at 33% of DRAM peak at 8192x64, split 4: 5.3 us), and it starts only after the GEMM's grid has completed and the
// launch gap has passed (measured: s16 saved 1.5-2 us a problem at 16 bits, the gap alone; results/NOTES.md).
//
// Thread t takes the four packed elements 4t..4t+3 of every slice (float4, or int4 for int8's int32 partials:
// partials[z] is M x N packed, 4 bytes an element either way, splitk.h) and keeps up to kPdlSlicesInFlight slices'
// loads in flight before it adds them, in slice order z = 0, 1, ... from zero, then writes each element with the
// store of the reduction it stands in for:
//   reduce_pdl<T>            f32 partials, store_sum<T> (16-bit D; fp8's bf16 D; tf32's f32 D): reduce<T>'s
//   reduce_pdl<int32>        int32 partials summed exactly, store_sum_int32 (+ C when beta = 1): reduce<int32>'s
//   reduce_scaled_pdl<TD, V> V = int32 or f32 partials, store_sum_scaled<TD, V> (ScaledTo<TD>): reduce_scaled's
// so the same bits as the two-launch reduction for the same split (the s16 variants' twin test,
// tests/gpu/test_kernels_gpu.cu, compares them with s11's / s13's). The four elements need not share a row
// (N % 4 != 0): each finds its own (m, n), so only M N % 4 == 0 is needed (a slice then starts 16-byte aligned
// too), which every wgmma split-K variant's shape rule gives (M % 32 at 16 bits and tf32, M % 16 at 8 bits);
// otherwise launch_reduce_pdl / launch_reduce_scaled_pdl fall back to the one-element-per-thread reduce /
// reduce_scaled in an ordinary launch (no overlap; the same bits).
//
// Programmatic dependent launch (CUDA C++ Programming Guide, "Programmatic Dependent Launch and Synchronization"):
// launched with cudaLaunchAttributeProgrammaticStreamSerialization = 1, the kernel may be scheduled once every CTA
// of the GEMM (the primary) has issued griddepcontrol.launch_dependents or exited, i.e. before the GEMM completes.
// griddepcontrol.wait then blocks each thread until the primary grid has completed and all of its memory
// operations are performed and visible to this grid: that, not the GEMM's trigger, is what orders the partials'
// stores before these loads, so the wait comes before the first read (and so before every store of D, which
// depends on the reads; the scales and C are not the GEMM's output, but they are read after it too: one rule, no
// read before the wait). On a GPU or pass without griddepcontrol (ptx_sm90.cuh compiles it for sm_90a only) the
// wait is empty: only sm_90a families may launch these kernels (s16 is one).
inline constexpr int kPdlSlicesInFlight = 8;

namespace detail {

__device__ __forceinline__ void add(int4& s, const int4& p) { s.x += p.x, s.y += p.y, s.z += p.z, s.w += p.w; }
__device__ __forceinline__ int32_t lane(const int4& s, int c) {
  return c == 0 ? s.x : c == 1 ? s.y : c == 2 ? s.z : s.w;
}

// The four partials' sums of quad q (packed elements 4q..4q+3), slices in order from zero: Quad is float4 (f32
// partials) or int4 (int32 partials, exact). Up to kPdlSlicesInFlight slices' loads are issued before any is added.
template <class Quad>
__device__ __forceinline__ Quad sum_quad_pdl(const GemmArgs& args, int split, int64_t q, int64_t quads) {
  static_assert(sizeof(Quad) == 4 * sizeof(float), "four 4-byte partials (f32 or int32) per load");
  const Quad* at = static_cast<const Quad*>(args.workspace) + q;
  Quad sum{};  // +0.0f or 0 in every lane
#pragma unroll 1
  for (int z0 = 0; z0 < split; z0 += kPdlSlicesInFlight) {
    Quad p[kPdlSlicesInFlight];
#pragma unroll
    for (int s = 0; s < kPdlSlicesInFlight; ++s)
      if (z0 + s < split) p[s] = __ldcg(at + (z0 + s) * quads);
    // Added in slice order, and only what was loaded (as detail::reduce_run).
#pragma unroll
    for (int s = 0; s < kPdlSlicesInFlight; ++s)
      if (z0 + s < split) add(sum, p[s]);
  }
  return sum;
}

// store(m, n, c) for the four packed elements of quad q (element 4q + c: row e / N, column e % N).
template <class Store>
__device__ __forceinline__ void store_quad(int N, int64_t q, Store store) {
  const int64_t e0 = 4 * q;
  if (N % 4 == 0) {
    // The four share a row: one division, not four.
    const int64_t m = e0 / N, n = e0 % N;
#pragma unroll
    for (int c = 0; c < 4; ++c) store(m, n + c, c);
  } else {
#pragma unroll
    for (int c = 0; c < 4; ++c) store((e0 + c) / N, (e0 + c) % N, c);
  }
}

}  // namespace detail

// T is D's type: int32 (int8's exact path: int32 partials) or a floating-point type (f32 partials).
template <DType T>
__global__ void __launch_bounds__(kReduceThreads) reduce_pdl(GemmArgs args, int split) {
  const int N = args.N;
  const int64_t quads = static_cast<int64_t>(args.M) * N / 4;  // quads per slice (M N % 4 == 0: above)
  const int64_t q = static_cast<int64_t>(blockIdx.x) * kReduceThreads + threadIdx.x;
  ptx::griddepcontrol_wait();  // the GEMM's partials are complete and visible from here on
  if (q >= quads) return;
  if constexpr (T == DType::int32) {
    const int4 sum = detail::sum_quad_pdl<int4>(args, split, q, quads);
    detail::store_quad(N, q, [&](int64_t m, int64_t n, int c) { store_sum_int32(args, m, n, detail::lane(sum, c)); });
  } else {
    // NOTE: session 11's reduce_pdl as it was, not through sum_quad_pdl and store_quad: with them the compiler
    // initialised and indexed in another order (the same operations), and the 16-bit D's SASS stays byte-identical
    // (scripts/compare_sass.py against main, session 13).
    const float4* at = static_cast<const float4*>(args.workspace) + q;
    float4 sum = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
#pragma unroll 1
    for (int z0 = 0; z0 < split; z0 += kPdlSlicesInFlight) {
      float4 p[kPdlSlicesInFlight];
#pragma unroll
      for (int s = 0; s < kPdlSlicesInFlight; ++s)
        if (z0 + s < split) p[s] = __ldcg(at + (z0 + s) * quads);
      // Added in slice order, and only what was loaded (as detail::reduce_run).
#pragma unroll
      for (int s = 0; s < kPdlSlicesInFlight; ++s)
        if (z0 + s < split) detail::add(sum, p[s]);
    }
    const int64_t e0 = 4 * q;  // the first of the four packed elements: row e / N, column e % N
    if (N % 4 == 0) {
      // The four share a row: one division, not four.
      const int64_t m = e0 / N, n = e0 % N;
#pragma unroll
      for (int c = 0; c < 4; ++c) store_sum<T>(args, m, n + c, detail::lane(sum, c));
    } else {
#pragma unroll
      for (int c = 0; c < 4; ++c) store_sum<T>(args, (e0 + c) / N, (e0 + c) % N, detail::lane(sum, c));
    }
  }
}

// TD: the scaled product's floating-point D; V: the partials' type (int32 for int8, f32 for fp8).
template <DType TD, class V>
__global__ void __launch_bounds__(kReduceThreads) reduce_scaled_pdl(GemmArgs args, int split) {
  static_assert(std::is_same_v<V, float> || std::is_same_v<V, int32_t>, "f32 or int32 partials");
  using Quad = std::conditional_t<std::is_same_v<V, float>, float4, int4>;
  const int64_t quads = static_cast<int64_t>(args.M) * args.N / 4;
  const int64_t q = static_cast<int64_t>(blockIdx.x) * kReduceThreads + threadIdx.x;
  ptx::griddepcontrol_wait();  // the GEMM's partials are complete and visible from here on
  if (q >= quads) return;
  const Quad sum = detail::sum_quad_pdl<Quad>(args, split, q, quads);
  const EpilogueScales scales = EpilogueScales::load(args);
  detail::store_quad(args.N, q, [&](int64_t m, int64_t n, int c) {
    const V s = detail::lane(sum, c);
    store_sum_scaled<TD>(args, scales, scales.row_factor(static_cast<int>(m), args.M), m, n, s);
  });
}

namespace detail {

// `kernel` (one of the above) over the quads of the partials, after the GEMM on its stream, as a programmatic
// dependent launch (the GEMM issues griddepcontrol.launch_dependents). Errors: cudaGetLastError, as every launch.
inline void launch_pdl(void (*kernel)(GemmArgs, int), const GemmArgs& args, int split, cudaStream_t stream) {
  const int64_t total = static_cast<int64_t>(args.M) * args.N;
  cudaLaunchConfig_t config{};
  config.gridDim = dim3(static_cast<unsigned>((total / 4 + kReduceThreads - 1) / kReduceThreads));
  config.blockDim = dim3(kReduceThreads);
  config.dynamicSmemBytes = 0;
  config.stream = stream;
  cudaLaunchAttribute attr{};
  attr.id = cudaLaunchAttributeProgrammaticStreamSerialization;
  attr.val.programmaticStreamSerializationAllowed = 1;
  config.attrs = &attr;
  config.numAttrs = 1;
  (void)cudaLaunchKernelEx(&config, kernel, args, split);
}

// Whether the partials are whole quads, 16-byte aligned (the vector loads' condition): true for every wgmma
// split-K variant (M % 16 == 0, the workspace from cudaMalloc).
inline bool partials_in_quads(const GemmArgs& args) {
  const int64_t total = static_cast<int64_t>(args.M) * args.N;
  return total % 4 == 0 && reinterpret_cast<uintptr_t>(args.workspace) % alignof(float4) == 0;
}

}  // namespace detail

// reduce_pdl<T> as a programmatic dependent launch; reduce<T> in an ordinary launch when the partials are not
// whole quads (detail::partials_in_quads).
template <DType T>
inline void launch_reduce_pdl(const GemmArgs& args, int split, cudaStream_t stream) {
  if (detail::partials_in_quads(args)) detail::launch_pdl(reduce_pdl<T>, args, split, stream);
  else launch_reduce<T>(args, split, stream);
}

// reduce_scaled_pdl<TD, V> as a programmatic dependent launch; reduce_scaled<TD, V> when the partials are not whole
// quads.
template <DType TD, class V>
inline void launch_reduce_scaled_pdl(const GemmArgs& args, int split, cudaStream_t stream) {
  if (detail::partials_in_quads(args)) detail::launch_pdl(reduce_scaled_pdl<TD, V>, args, split, stream);
  else launch_reduce_scaled<TD, V>(args, split, stream);
}

// ---- Split-K over a warp-tiled ladder step (mma_sp and dense s06_splitk) -------------------------------------

// A warp's kMTiles x kNTiles grid of m16n8 accumulator tiles whose top-left element is (m0, n0) of D, unscaled,
// into slice z of the partials: the element mask of store_warp_tile (rows >= M and columns >= N are not written;
// no block of any slice owns them and the reduction never reads them). A lane's two columns are adjacent: one
// 8-byte store when N is even (every pair then starts 8-byte aligned: even column, even row length), else two
// 4-byte stores. The branch is uniform across the grid. Acc: f32 accumulators into f32 partials, or int8's int32
// (s32 accumulation) into int32 partials of the same layout and size (splitk.h: 4 bytes an element either way),
// which reduce<DType::int32> sums exactly.
template <class Acc>
struct PartialPair;
template <>
struct PartialPair<float> {
  static __device__ __forceinline__ float2 make(float a, float b) { return make_float2(a, b); }
};
template <>
struct PartialPair<int32_t> {
  static __device__ __forceinline__ int2 make(int32_t a, int32_t b) { return make_int2(a, b); }
};
template <int kMTiles, int kNTiles, class Acc>
__device__ __forceinline__ void store_warp_partials(const Acc (&acc)[kMTiles][kNTiles][4], int m0, int n0,
                                                    const GemmArgs& args, int z) {
  static_assert(sizeof(Acc) == sizeof(float), "partials take the f32 workspace layout (splitk.h)");
  const int lane = threadIdx.x % 32;
  const int M = args.M, N = args.N;
  Acc* ws = static_cast<Acc*>(args.workspace) + int64_t(z) * M * N;
#pragma unroll
  for (int mt = 0; mt < kMTiles; ++mt)
#pragma unroll
    for (int nt = 0; nt < kNTiles; ++nt)
#pragma unroll
      for (int half = 0; half < 2; ++half) {
        const frag::RowCol rc = frag::acc_m16n8(lane, 2 * half);
        const int row = m0 + mt * 16 + rc.row, col = n0 + nt * 8 + rc.col;
        if (row >= M || col >= N) continue;
        Acc* p = ws + int64_t(row) * N + col;
        const Acc v0 = acc[mt][nt][2 * half], v1 = acc[mt][nt][2 * half + 1];
        if (N % 2 == 0) {
          auto pair = PartialPair<Acc>::make(v0, v1);  // float2 or int2: one 8-byte store
          *reinterpret_cast<decltype(pair)*>(p) = pair;
        } else {
          p[0] = v0;
          if (col + 1 < N) p[1] = v1;
        }
      }
}

// The hooks of a split-K step over a warp-tiled step Prev (mma_sp and dense s05_raster): Prev's grid (x: column
// blocks, y: row blocks) with grid z = the split slices of K; Prev's tile, shared memory and launch bounds; the
// block (run_block): the K slice of blockIdx.z, then f32 partials into the workspace when gridDim.z > 1, or Prev's
// epilogue (D directly) when it is 1. Derived only names the kernel. SPLIT > 0 is used as given (a slice may then be empty: it writes zero
// partials); SPLIT = 0 is chosen in prepare() by choose_split_compute from the SM count, the occupancy, the GPU's
// peak clock and DRAM bandwidth and the shape. Split 1 allocates no workspace and launches nothing more.
template <class Derived, class Prev, int SPLIT>
struct SplitKTiled : WarpTiled<Derived, Prev::kTypes.a, Prev::kBM, Prev::kBN, Prev::kBK, Prev::kWM, Prev::kWN,
                               Prev::kStages> {
  using Base =
      WarpTiled<Derived, Prev::kTypes.a, Prev::kBM, Prev::kBN, Prev::kBK, Prev::kWM, Prev::kWN, Prev::kStages>;
  using Base::kThreads;
  static constexpr ArchRule kArch = Prev::kArch;
  static constexpr bool kSparse = Prev::kSparse;
  static constexpr format::MetaLayout kMetaLayout = Prev::kMetaLayout;
  static constexpr ShapeRule kRule = Prev::kRule;
  static constexpr int kSmemBytes = Prev::kSmemBytes;
  // Prev's promise to the compiler (read by gemm_entry's __launch_bounds__): the same register budget as Prev.
  static constexpr int kMinBlocksPerSm = Prev::kMinBlocksPerSm;

  static_assert(SPLIT >= 0 && SPLIT <= kMaxSplit, "SPLIT: 0 (automatic) or 1..kMaxSplit slices of K");
  static_assert(Prev::kThreads == Base::kThreads, "the same block as Prev");

  static Params params() {
    Params p = Prev::params();
    p.push_back({"split_k", SPLIT});
    return p;
  }

  static const void* entry() { return reinterpret_cast<const void*>(&gemm_entry<Derived>); }

  // The split factor for this problem on the current GPU: SPLIT, or the model's choice when SPLIT == 0 (needs the
  // kernel's shared-memory attribute set first: the occupancy calculator reads it).
  static int split_for(const GemmArgs& a) {
    if (SPLIT > 0) return SPLIT;
    int device = 0, sms = 0, per_sm = 0, sm_khz = 0, mem_khz = 0, bus_bits = 0;
    SPARSE24_CUDA_CHECK(cudaGetDevice(&device));
    SPARSE24_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
    SPARSE24_CUDA_CHECK(cudaDeviceGetAttribute(&sm_khz, cudaDevAttrClockRate, device));
    SPARSE24_CUDA_CHECK(cudaDeviceGetAttribute(&mem_khz, cudaDevAttrMemoryClockRate, device));
    SPARSE24_CUDA_CHECK(cudaDeviceGetAttribute(&bus_bits, cudaDevAttrGlobalMemoryBusWidth, device));
    SPARSE24_CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, entry(), kThreads, kSmemBytes));
    per_sm = std::max(per_sm, 1);
    // Peak DRAM bandwidth: two transfers per memory clock over the bus (how CUDA's deviceQuery sample reads it).
    const double dram_bytes_per_s = 2.0 * mem_khz * 1e3 * bus_bits / 8;
    const double tile_flops = 2.0 * Prev::kBM * Prev::kBN * Prev::kBK;
    const double rate = kMmaDenseFlopsPerClkSm * (kSparse ? 2 : 1);
    const int64_t tiles = int64_t((a.M + Prev::kBM - 1) / Prev::kBM) * ((a.N + Prev::kBN - 1) / Prev::kBN);
    return choose_split_compute(static_cast<int>(std::min<int64_t>(tiles, INT32_MAX)), a.K / Prev::kBK, sms * per_sm,
                                a.M, a.N, bytes_of(Prev::kTypes.d),
                                round_bytes(tile_flops, per_sm, rate, sm_khz * 1e3, dram_bytes_per_s));
  }

  // The block: Prev's tile (in Prev's block order, the same in every slice) over the K slice of blockIdx.z, then
  // Prev's epilogue when there is one slice, else the slice's f32 partials. gridDim.z is uniform over the grid:
  // every warp takes the same branch.
  static __device__ void run_block(const GemmArgs& args) {
    const BlockCoord c = Prev::block_coord();
    const int z = blockIdx.z, split = gridDim.z;
    const Slice k = slice_of(z, split, args.K / Prev::kBK);
    Prev::Tile::tile(args, c.m * Prev::kBM, c.n * Prev::kBN, k.begin, k.end, [&](const auto& acc, int m0, int n0) {
      if (split == 1)
        store_warp_tile<Prev::kTypes.a>(acc, m0, n0, args);
      else
        store_warp_partials(acc, m0, n0, args, z);
    });
  }

  static void prepare(Plan& p) {
    Base::prepare(p);  // BlockTiled's: kernel image, grid x and y, the dynamic shared-memory attribute
    const int split = split_for(p.args);
    p.grid.z = split;
    p.workspace_bytes = workspace_bytes(split, p.args.M, p.args.N);
  }

  static void run(const Plan& p, cudaStream_t stream) {
    Base::run(p, stream);
    if (p.grid.z > 1) launch_reduce<Prev::kTypes.d>(p.args, static_cast<int>(p.grid.z), stream);
  }
};

}  // namespace sparse24::splitk
