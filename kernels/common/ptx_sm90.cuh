// The Hopper-only (sm_90a) instructions: warpgroup MMA (wgmma) and what it needs around it. One wrapper per
// instruction form, each with the PTX ISA section it implements and why we need it. No other file may contain asm;
// the sm_80+ forms are in kernels/common/ptx.cuh.
//
// Every asm statement is compiled only in the sm_90a device pass (__CUDA_ARCH_FEAT_SM90_ALL): a translation unit
// that includes this file still compiles for sm_80 (and for the host), where the wrappers are empty. Kernels that
// use them belong to families built for 90a only (family.cmake: ARCH_SPECIFIC MIN_ARCH 90).
//
// Facts (docs/sparse-tensor-cores.md §3 and the subsection "wgmma.sp, verified"):
//   - wgmma runs on a warpgroup: 4 consecutive warps (128 threads) issue the same instruction, warp w % 4 owning
//     rows 16w..16w+15 of the m64 tile, of the accumulators, and of the sparsity metadata.
//   - A comes from shared memory through a 64-bit matrix descriptor, or from 4 registers per thread; B always
//     from shared memory (descriptor). Both K-major here (imm-trans 0): X[N][K] is K-major as stored.
//   - wgmma is asynchronous: wgmma.fence before the first wgmma (and after any register write of its operands),
//     wgmma.commit_group to close a batch, wgmma.wait_group N to wait until at most N batches are in flight.
//     Accumulators, A registers and the metadata register must not be touched until the batch that reads them
//     has completed. Shared memory written by ordinary stores must be made visible to the async proxy with
//     fence.proxy.async before the wgmma that reads it.
#pragma once

#include <cstdint>
#include <type_traits>

#include "kernels/common/dtype.h"

#if defined(__CUDA_ARCH__) && defined(__CUDA_ARCH_FEAT_SM90_ALL)
#define SPARSE24_SM90A_DEVICE 1  // this device pass is sm_90a: the asm below is compiled
#else
#define SPARSE24_SM90A_DEVICE 0
#endif

#ifdef __CUDACC__
#define SPARSE24_PTX90_HD __host__ __device__
#else
#define SPARSE24_PTX90_HD
#endif

namespace sparse24::ptx {

// ---- Shared-memory matrix descriptor (PTX ISA 9.7.15.5.1.2.2, "Matrix Descriptor Format") --------------------
// A 64-bit value that tells wgmma where a K-major (or MN-major) operand tile sits in shared memory and how it is
// laid out, built from plain integer arithmetic (no instruction): host code (tests) can build one too.
//
//   bits  0..13  start address >> 4        (shared-window byte address, 16-byte aligned)
//   bits 16..29  leading-dimension byte offset (LBO) >> 4
//   bits 32..45  stride-dimension byte offset  (SBO) >> 4
//   bits 49..51  base offset (swizzle phase of the start address; 0 when every atom is swizzle-aligned)
//   bits 62..63  swizzle mode: 0 none ("interleave"), 1 = 128B, 2 = 64B, 3 = 32B
//
// The unit of the layout is the "core matrix": 8 rows x 16 bytes (8 x 8 16-bit elements), 128 contiguous bytes
// (row r of the core matrix at byte 16 r). For a K-major operand without swizzle (PTX ISA 9.7.15.5.1.2.1):
//   LBO = byte distance between core matrices adjacent along K,
//   SBO = byte distance between core matrices adjacent along M (or N): the next 8 rows.
// With 128B swizzle, one atom is 8 rows x 128 bytes (1024 bytes, 1024-aligned), the 16-byte chunk c of row r
// stored at chunk c ^ (r % 8); SBO = distance between 8-row atoms; LBO unused (encoded 1).
enum class SmemSwizzle : uint32_t { None = 0, B128 = 1, B64 = 2, B32 = 3 };

SPARSE24_PTX90_HD constexpr uint64_t smem_desc(uint32_t smem_byte_addr, uint32_t lbo_bytes, uint32_t sbo_bytes,
                                               SmemSwizzle swizzle) {
  return static_cast<uint64_t>((smem_byte_addr & 0x3FFFFu) >> 4) |
         (static_cast<uint64_t>((lbo_bytes & 0x3FFFFu) >> 4) << 16) |
         (static_cast<uint64_t>((sbo_bytes & 0x3FFFFu) >> 4) << 32) |
         (static_cast<uint64_t>(swizzle) << 62);
}

// ---- fence.proxy.async (PTX ISA 9.7.13.4, "membar/fence", proxy fences) --------------------------------------------
// wgmma reads shared memory through the async proxy; data written there by st.shared (the generic proxy) is only
// guaranteed visible to it after this fence, executed by the writing threads before the barrier that publishes
// the tile.
__device__ __forceinline__ void fence_proxy_async_shared() {
#if SPARSE24_SM90A_DEVICE
  asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
#endif
}

// ---- wgmma.fence (PTX ISA 9.7.15.7.1) -------------------------------------------------------------------------
// Orders this warpgroup's earlier register and shared-memory accesses before the wgmma.mma_async that follows:
// needed before the first wgmma of a batch and whenever its accumulator, A or metadata registers were written.
__device__ __forceinline__ void wgmma_fence() {
#if SPARSE24_SM90A_DEVICE
  asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory");
#endif
}

// ---- wgmma.commit_group (PTX ISA 9.7.15.7.2) --------------------------------------------------------------------
// Closes the batch of wgmma.mma_async issued since the last commit into one wgmma-group.
__device__ __forceinline__ void wgmma_commit_group() {
#if SPARSE24_SM90A_DEVICE
  asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory");
#endif
}

// ---- wgmma.wait_group (PTX ISA 9.7.15.7.3) ----------------------------------------------------------------------
// Waits until at most kPending wgmma-groups of this warpgroup are still in flight; their registers and shared
// memory may then be touched. kPending must be an immediate.
template <int kPending>
__device__ __forceinline__ void wgmma_wait_group() {
  static_assert(kPending >= 0 && kPending <= 7, "wgmma.wait_group takes an immediate 0..7");
#if SPARSE24_SM90A_DEVICE
  asm volatile("wgmma.wait_group.sync.aligned %0;\n" ::"n"(kPending) : "memory");
#endif
}

// ---- Register fence for the compiler (no instruction) ----------------------------------------------------------
// An empty asm that "reads and writes" each register: the compiler cannot move accesses of the accumulators across
// it. Put it around wgmma.fence ... wgmma.wait_group, else it may read an accumulator before the wait (wrong
// results, or ptxas serializing the wgmma: warning C7510). Emits no instruction.
template <int kN>
__device__ __forceinline__ void fence_registers(float (&r)[kN]) {
#pragma unroll
  for (int i = 0; i < kN; ++i) asm volatile("" : "+f"(r[i])::"memory");
}
// The s32 accumulators of the int8 wgmma forms.
template <int kN>
__device__ __forceinline__ void fence_registers(int32_t (&r)[kN]) {
#pragma unroll
  for (int i = 0; i < kN; ++i) asm volatile("" : "+r"(r[i])::"memory");
}
__device__ __forceinline__ void fence_register(uint32_t& r) { asm volatile("" : "+r"(r)::"memory"); }

// ---- ld.volatile.shared.{b32, v2.b32, v4.b32} (PTX ISA 9.7.9.8, "ld") ----------------------------------------------
// Shared-memory loads that the compiler issues where they stand, every time: the data-pipe experiment's extra
// wavefronts between a wgmma batch's commit and its wait (harness/experiments/datapipe.cu). Plain C++ loads of a
// tile that nothing writes were hoisted out of that loop (nvcc 13.0, some X: the "memory" clobbers of the wgmma
// asm around them did not keep them), so the probe needs volatile loads in asm. The kernels' own shared loads stay
// plain C++ (ptx.cuh's note). `addr`: a shared-window byte address (smem_addr), aligned to the load's width.
__device__ __forceinline__ uint4 ld_shared_volatile_v4(uint32_t addr) {
  uint4 v{};
#if SPARSE24_SM90A_DEVICE
  asm volatile("ld.volatile.shared.v4.b32 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w)
               : "r"(addr)
               : "memory");
#else
  (void)addr;
#endif
  return v;
}
__device__ __forceinline__ uint2 ld_shared_volatile_v2(uint32_t addr) {
  uint2 v{};
#if SPARSE24_SM90A_DEVICE
  asm volatile("ld.volatile.shared.v2.b32 {%0, %1}, [%2];\n" : "=r"(v.x), "=r"(v.y) : "r"(addr) : "memory");
#else
  (void)addr;
#endif
  return v;
}
__device__ __forceinline__ uint32_t ld_shared_volatile_b32(uint32_t addr) {
  uint32_t v = 0;
#if SPARSE24_SM90A_DEVICE
  asm volatile("ld.volatile.shared.b32 %0, [%1];\n" : "=r"(v) : "r"(addr) : "memory");
#else
  (void)addr;
#endif
  return v;
}

// ---- mbarrier (PTX ISA 9.7.13.15): the completion signal of the TMA stage ring -------------------------------------
// A 64-bit object in shared memory with an expected arrival count and a transaction (byte) count. A phase completes
// when all expected arrivals have arrived and every byte announced with expect_tx has landed; waiters poll the
// phase parity. We use two per ring stage: "full" (the producer's arrive.expect_tx + the TMA's bytes) and "empty"
// (one arrival per consumer warp once its wgmma no longer read the stage).
__device__ __forceinline__ void mbarrier_init(uint32_t bar, uint32_t arrivals) {
#if SPARSE24_SM90A_DEVICE
  asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;\n" ::"r"(bar), "r"(arrivals) : "memory");
#endif
}

// Makes the barriers' initialisation visible to the async proxy (the TMA unit) and to the other threads before the
// first use (PTX ISA 9.7.13.4, fence.mbarrier_init; valid for a cluster of one CTA). Follow with __syncthreads().
__device__ __forceinline__ void fence_mbarrier_init() {
#if SPARSE24_SM90A_DEVICE
  asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory");
#endif
}

// Arrives once and announces `bytes` more bytes for the current phase (the TMA loads that follow complete them).
__device__ __forceinline__ void mbarrier_arrive_expect_tx(uint32_t bar, uint32_t bytes) {
#if SPARSE24_SM90A_DEVICE
  asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;\n" ::"r"(bar), "r"(bytes) : "memory");
#endif
}

__device__ __forceinline__ void mbarrier_arrive(uint32_t bar) {
#if SPARSE24_SM90A_DEVICE
  asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];\n" ::"r"(bar) : "memory");
#endif
}

// Blocks until the phase of parity `parity` has completed (try_wait suspends the thread for a hardware-chosen time
// per attempt, so the loop does not spin the issue slots).
__device__ __forceinline__ void mbarrier_wait(uint32_t bar, uint32_t parity) {
#if SPARSE24_SM90A_DEVICE
  asm volatile(
      "{\n.reg .pred done;\n"
      "wait_%=:\n"
      "mbarrier.try_wait.parity.shared::cta.b64 done, [%0], %1;\n"
      "@!done bra wait_%=;\n}\n" ::"r"(bar),
      "r"(parity)
      : "memory");
#endif
}

// ---- cp.async.bulk.tensor (TMA, PTX ISA 9.7.9.25.5.1): one 2-D box from global to shared memory --------------------
// `tensor_map` is the generic address of a CUtensorMap (a __grid_constant__ kernel parameter) that describes the
// global tensor, the box and the shared-memory swizzle; (c0, c1) is the box's first element (c0 along the
// contiguous dimension). Rows or columns past the tensor's end arrive as zeros and still count as bytes for the
// mbarrier. Issued by one thread; completion is signalled on `bar` (complete_tx::bytes).
__device__ __forceinline__ void tma_load_2d(uint32_t dst, const void* tensor_map, uint32_t bar, int c0, int c1) {
#if SPARSE24_SM90A_DEVICE
  asm volatile(
      "cp.async.bulk.tensor.2d.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1, {%3, %4}], [%2];\n" ::
          "r"(dst),
      "l"(tensor_map), "r"(bar), "r"(c0), "r"(c1)
      : "memory");
#endif
}

// The same for a 3-D box (c0 innermost): the tile-contiguous ("panel") view of a row-major matrix that the
// streaming experiment (harness/experiments/tmastream.cu) reads beside the 2-D view the kernels read.
__device__ __forceinline__ void tma_load_3d(uint32_t dst, const void* tensor_map, uint32_t bar, int c0, int c1,
                                            int c2) {
#if SPARSE24_SM90A_DEVICE
  asm volatile(
      "cp.async.bulk.tensor.3d.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1, {%3, %4, %5}], [%2];\n" ::
          "r"(dst),
      "l"(tensor_map), "r"(bar), "r"(c0), "r"(c1), "r"(c2)
      : "memory");
#endif
}

// ---- cp.async.bulk.tensor, shared to global (TMA store, PTX ISA 9.7.9.25.5.2) and its bulk groups -----------------
// One 2-D box from shared memory (laid out as the tensor map's swizzle says) to the global tensor at (c0, c1);
// elements past the tensor's rows or columns are not written. Issued by one thread; it joins that thread's current
// bulk async-group (cp.async.bulk.commit_group closes it). The shared memory must have been written before by the
// generic proxy and made visible to the async proxy (fence_proxy_async_shared, then a barrier).
__device__ __forceinline__ void tma_store_2d(const void* tensor_map, uint32_t src, int c0, int c1) {
#if SPARSE24_SM90A_DEVICE
  asm volatile("cp.async.bulk.tensor.2d.global.shared::cta.bulk_group [%0, {%2, %3}], [%1];\n" ::"l"(tensor_map),
               "r"(src), "r"(c0), "r"(c1)
               : "memory");
#endif
}
// Closes the issuing thread's bulk async-group (PTX ISA 9.7.9.25.6.1, cp.async.bulk.commit_group).
__device__ __forceinline__ void bulk_commit_group() {
#if SPARSE24_SM90A_DEVICE
  asm volatile("cp.async.bulk.commit_group;\n" ::: "memory");
#endif
}
// Waits until at most kPending of the thread's bulk groups have not finished READING their shared memory (PTX ISA
// 9.7.9.25.6.2, .read): the source buffer may then be overwritten; the global writes may still be in flight.
template <int kPending>
__device__ __forceinline__ void bulk_wait_group_read() {
#if SPARSE24_SM90A_DEVICE
  asm volatile("cp.async.bulk.wait_group.read %0;\n" ::"n"(kPending) : "memory");
#endif
}
// Waits until at most kPending of the thread's bulk groups are complete, global writes included.
template <int kPending>
__device__ __forceinline__ void bulk_wait_group() {
#if SPARSE24_SM90A_DEVICE
  asm volatile("cp.async.bulk.wait_group %0;\n" ::"n"(kPending) : "memory");
#endif
}

// ---- bar.sync with an id and a thread count (PTX ISA 9.7.13.4): a barrier for one warpgroup of a block -------------
// Barrier 0 is __syncthreads; the kernels use 1 + consumer index so that one consumer warpgroup (128 threads)
// synchronises without the producer or the other consumer.
__device__ __forceinline__ void named_barrier_sync(uint32_t id, uint32_t threads) {
  asm volatile("bar.sync %0, %1;\n" ::"r"(id), "r"(threads) : "memory");
}
// bar.arrive (PTX ISA 9.7.13.4): counts this warp's threads toward barrier `id` of `threads` without waiting, the
// producer half of a hand-off whose consumer half waits with bar.sync (wgmma/kernel.cuh's Alternating: one
// consumer warpgroup tells the next that its turn has come).
__device__ __forceinline__ void named_barrier_arrive(uint32_t id, uint32_t threads) {
  asm volatile("bar.arrive %0, %1;\n" ::"r"(id), "r"(threads) : "memory");
}

// Fetches a tensor map into the constant cache ahead of its first use (PTX ISA 9.7.9.26, prefetch.tensormap).
__device__ __forceinline__ void tma_prefetch_descriptor(const void* tensor_map) {
#if SPARSE24_SM90A_DEVICE
  asm volatile("prefetch.tensormap [%0];\n" ::"l"(tensor_map) : "memory");
#endif
}

// ---- Thread-block clusters (PTX ISA 9.7.13.x, 10.x): a pair of CTAs that share B through TMA multicast --------
// The CTA's rank in its cluster (%cluster_ctarank).
__device__ __forceinline__ uint32_t cluster_ctarank() {
  uint32_t r = 0;
#if SPARSE24_SM90A_DEVICE
  asm volatile("mov.u32 %0, %%cluster_ctarank;\n" : "=r"(r));
#endif
  return r;
}

// Every thread of every CTA of the cluster arrives, then waits for all the others (barrier.cluster, release /
// acquire: shared-memory writes before it are visible to the cluster after it). Before a CTA's barriers may be
// touched by its peer (after their initialisation), and before a CTA exits while its peer may still signal it.
__device__ __forceinline__ void cluster_sync() {
#if SPARSE24_SM90A_DEVICE
  asm volatile(
      "barrier.cluster.arrive.release.aligned;\n"
      "barrier.cluster.wait.acquire.aligned;\n" ::
          : "memory");
#endif
}

// cluster_sync without the release: for a barrier that orders no memory, only lifetimes (wgmma_sp s17: no CTA exits
// while a peer may still read its shared memory; each reader has consumed its loaded values before it arrives).
// NOTE: the release form compiles to MEMBAR.ALL.GPU before the arrival (SASS, nvcc 13.0), which waits for the
// thread's global stores of D to be acknowledged: nothing here needs that.
__device__ __forceinline__ void cluster_sync_relaxed() {
#if SPARSE24_SM90A_DEVICE
  asm volatile(
      "barrier.cluster.arrive.relaxed.aligned;\n"
      "barrier.cluster.wait.aligned;\n" ::
          : "memory");
#endif
}

// Arrives on the mbarrier at shared address `bar` of CTA `rank` of the cluster (mapa translates our shared-window
// address to the peer's window). Default semantics (release, CTA scope): what the arrival publishes is that our
// wgmma have finished reading the stage, which wgmma.wait_group already guarantees. NOTE: the explicit
// `.release.cluster` form compiles to a MEMBAR.ALL.GPU before every arrival (SASS, nvcc 13.0), once per consumer
// warp and k-tile, and made s04 2.2x slower than s03 on an H100 (results/NOTES.md).
__device__ __forceinline__ void mbarrier_arrive_cluster(uint32_t bar, uint32_t rank) {
#if SPARSE24_SM90A_DEVICE
  asm volatile(
      "{\n.reg .b32 remote;\n"
      "mapa.shared::cluster.u32 remote, %0, %1;\n"
      "mbarrier.arrive.shared::cluster.b64 _, [remote];\n}\n" ::"r"(bar),
      "r"(rank)
      : "memory");
#endif
}

// ---- Distributed shared memory (PTX ISA "mapa"; 9.7.9.8 "ld" on .shared::cluster): reads of a peer CTA's memory ---
// wgmma_sp s17_clustersum sums the K slices of one tile, staged in the shared memory of the cluster's CTAs, without
// a round trip through L2. The peer must be running (clusters are co-scheduled) and must not exit before the read
// completes (a cluster barrier after the reads, before either exits).
// The address in the cluster's shared window of shared-window address `addr` of this CTA, moved to CTA `rank` of
// the cluster (the same offset in the peer's shared memory): what ld.shared::cluster takes.
__device__ __forceinline__ uint32_t mapa_shared_cluster(uint32_t addr, uint32_t rank) {
  uint32_t remote = 0;
#if SPARSE24_SM90A_DEVICE
  asm("mapa.shared::cluster.u32 %0, %1, %2;\n" : "=r"(remote) : "r"(addr), "r"(rank));
#endif
  return remote;
}

// Four f32 (16 bytes, 16-byte aligned) from the shared memory of a CTA of the cluster, at an address from
// mapa_shared_cluster (its own CTA's included). No "memory" clobber, so that a run of them can be issued before the
// first is used; the cluster_sync (asm volatile, "memory") that publishes the data orders them after it.
__device__ __forceinline__ void ld_shared_cluster_v4(float (&v)[4], uint32_t addr) {
#if SPARSE24_SM90A_DEVICE
  asm volatile("ld.shared::cluster.v4.f32 {%0, %1, %2, %3}, [%4];\n"
               : "=f"(v[0]), "=f"(v[1]), "=f"(v[2]), "=f"(v[3])
               : "r"(addr));
#else
  v[0] = v[1] = v[2] = v[3] = 0.0f;
#endif
}
// The same for four int32 (int8's s32 accumulators, staged by wgmma_sp s17_clustersum's 8-bit cluster sum): .s32,
// so that the registers are integer ones and the sums that follow are IADDs with no conversion.
__device__ __forceinline__ void ld_shared_cluster_v4(int32_t (&v)[4], uint32_t addr) {
#if SPARSE24_SM90A_DEVICE
  asm volatile("ld.shared::cluster.v4.s32 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(v[0]), "=r"(v[1]), "=r"(v[2]), "=r"(v[3])
               : "r"(addr));
#else
  v[0] = v[1] = v[2] = v[3] = 0;
#endif
}

// Four f32 (16 bytes, 16-byte aligned) into the shared memory of a CTA of the cluster, at an address from
// mapa_shared_cluster (wgmma_sp s28_pairsum: a consumer sends the half of its tile that its peer CTA sums). A weak
// store: the release / acquire cluster_sync after it is what makes it visible to the peer.
__device__ __forceinline__ void st_shared_cluster_v4(uint32_t addr, const float (&v)[4]) {
#if SPARSE24_SM90A_DEVICE
  asm volatile("st.shared::cluster.v4.f32 [%0], {%1, %2, %3, %4};\n" ::"r"(addr), "f"(v[0]), "f"(v[1]), "f"(v[2]),
               "f"(v[3])
               : "memory");
#else
  (void)addr;
  (void)v;
#endif
}

// tma_load_2d, multicast: the box lands at the same shared offset in every CTA of `cta_mask` (bit r = rank r) and
// signals each one's mbarrier at the same offset with the box's bytes.
__device__ __forceinline__ void tma_load_2d_multicast(uint32_t dst, const void* tensor_map, uint32_t bar, int c0,
                                                      int c1, uint16_t cta_mask) {
#if SPARSE24_SM90A_DEVICE
  asm volatile(
      "cp.async.bulk.tensor.2d.shared::cluster.global.mbarrier::complete_tx::bytes.multicast::cluster"
      " [%0], [%1, {%3, %4}], [%2], %5;\n" ::"r"(dst),
      "l"(tensor_map), "r"(bar), "r"(c0), "r"(c1), "h"(cta_mask)
      : "memory");
#endif
}

// ---- setmaxnreg (PTX ISA 9.7.19.5): move registers between the warpgroups of a warp-specialised block ------------
// A producer warpgroup that only issues TMA gives registers back (dec) so that the consumer warpgroups, which hold
// the accumulators, can take more (inc). Effective only with a register cap at entry (__launch_bounds__(threads,
// 1)) and with each role in its own branch; ptxas warns (C7508) when it ignores the request. kRegs: 24..256, a
// multiple of 8.
template <int kRegs>
__device__ __forceinline__ void setmaxnreg_inc() {
  static_assert(kRegs >= 24 && kRegs <= 256 && kRegs % 8 == 0, "setmaxnreg takes 24..256 in steps of 8");
#if SPARSE24_SM90A_DEVICE
  asm volatile("setmaxnreg.inc.sync.aligned.u32 %0;\n" ::"n"(kRegs));
#endif
}
template <int kRegs>
__device__ __forceinline__ void setmaxnreg_dec() {
  static_assert(kRegs >= 24 && kRegs <= 256 && kRegs % 8 == 0, "setmaxnreg takes 24..256 in steps of 8");
#if SPARSE24_SM90A_DEVICE
  asm volatile("setmaxnreg.dec.sync.aligned.u32 %0;\n" ::"n"(kRegs));
#endif
}

// Keeps a value alive in NVVM's view (no instruction): a value an in-flight wgmma still reads (the metadata of the
// batch left in flight by wgmma.wait_group 1) stays live up to here in the PTX's virtual registers. It emits no PTX,
// so ptxas, which allocates the physical registers, never sees this use and may put the next k-tile's metadata into
// the register the batch in flight reads (wgmma_sp s21's first form did: docs/sparse-tensor-cores.md §6 item 10).
// What guarantees the kernels is the SASS check, scripts/check_wgmma_operands.py (CTest `build: wgmma_operands`).
__device__ __forceinline__ void keep_register(uint32_t r) { asm volatile("" ::"r"(r) : "memory"); }

// ---- wgmma.mma_async.sp, f16/bf16 inputs, f32 accumulators (PTX ISA 9.7.15.6.3) ----------------------------------
// D[64 x N] (+)= A[64 x 32] . B[32 x N], A 2:4-sparse: its compressed 64 x 16 values come from shared memory
// (descriptor: the same bytes as a dense 64 x 16 K-major tile) or from 4 registers per thread; B from shared
// memory (descriptor), K-major. `e` is the thread's metadata register; kSelector (sp-sel, an immediate) picks
// the lane pair of each quad that supplies it: 0 -> lanes q = 0, 1; 1 -> q = 2, 3 (the per-warp layout of
// mma.sp m16n8k32, warp w serving rows 16w..16w+15). `accumulate` false computes D = A.B (scale-d = 0).
// d holds N/2 accumulators per thread, in the order of the dense wgmma D fragment (fragments.h, acc_m64).
// imm-scale-a = imm-scale-b = 1 (no negation), imm-trans = 0 (K-major).
// The operand lists are spelled out per N (PTX needs literal register lists); N = 8, 64, 128, 256 so far, and
// N = 16, 32 for the sparse SS forms (the narrow tiles of wgmma_sp/s11_narrow.cuh), N = 192 for the fp8 SS forms
// (wgmma_sp/s12_lazypromote.cuh: 96 + 96 registers for the promoted and the in-instruction sums), and N = 200 for
// the 16-bit sparse SS form (wgmma_sp/s13_tall.cuh's 192 x 200 tile: N = 200 in one column tile).
#define SPARSE24_WGMMA_ACC4(i) "+f"(d[i]), "+f"(d[i + 1]), "+f"(d[i + 2]), "+f"(d[i + 3])

#define SPARSE24_WGMMA_D_N8 "{%0, %1, %2, %3}"
#define SPARSE24_WGMMA_D_N16 "{%0, %1, %2, %3, %4, %5, %6, %7}"
#define SPARSE24_WGMMA_D_N32 "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15}"
#define SPARSE24_WGMMA_D_N64                                                                                    \
  "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, " \
  "%23, %24, %25, %26, %27, %28, %29, %30, %31}"
#define SPARSE24_WGMMA_D_N128                                                                                   \
  "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, " \
  "%23, %24, %25, %26, %27, %28, %29, %30, %31, %32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, "   \
  "%44, %45, %46, %47, %48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63}"
#define SPARSE24_WGMMA_D_N192                                                                                   \
  "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, "  \
  "%23, %24, %25, %26, %27, %28, %29, %30, %31, %32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, "   \
  "%44, %45, %46, %47, %48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63, %64, "   \
  "%65, %66, %67, %68, %69, %70, %71, %72, %73, %74, %75, %76, %77, %78, %79, %80, %81, %82, %83, %84, %85, "   \
  "%86, %87, %88, %89, %90, %91, %92, %93, %94, %95}"
#define SPARSE24_WGMMA_D_N256                                                                                   \
  "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, " \
  "%23, %24, %25, %26, %27, %28, %29, %30, %31, %32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, "   \
  "%44, %45, %46, %47, %48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63, %64, "   \
  "%65, %66, %67, %68, %69, %70, %71, %72, %73, %74, %75, %76, %77, %78, %79, %80, %81, %82, %83, %84, %85, "   \
  "%86, %87, %88, %89, %90, %91, %92, %93, %94, %95, %96, %97, %98, %99, %100, %101, %102, %103, %104, %105, "  \
  "%106, %107, %108, %109, %110, %111, %112, %113, %114, %115, %116, %117, %118, %119, %120, %121, %122, "      \
  "%123, %124, %125, %126, %127}"

#define SPARSE24_WGMMA_D_N200 \
  "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, " \
  "%23, %24, %25, %26, %27, %28, %29, %30, %31, %32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, " \
  "%44, %45, %46, %47, %48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63, %64, " \
  "%65, %66, %67, %68, %69, %70, %71, %72, %73, %74, %75, %76, %77, %78, %79, %80, %81, %82, %83, %84, %85, " \
  "%86, %87, %88, %89, %90, %91, %92, %93, %94, %95, %96, %97, %98, %99}"

#define SPARSE24_WGMMA_ACC_N8 SPARSE24_WGMMA_ACC4(0)
#define SPARSE24_WGMMA_ACC_N16 SPARSE24_WGMMA_ACC4(0), SPARSE24_WGMMA_ACC4(4)
#define SPARSE24_WGMMA_ACC_N32 \
  SPARSE24_WGMMA_ACC4(0), SPARSE24_WGMMA_ACC4(4), SPARSE24_WGMMA_ACC4(8), SPARSE24_WGMMA_ACC4(12)
#define SPARSE24_WGMMA_ACC_N64                                                                                  \
  SPARSE24_WGMMA_ACC4(0), SPARSE24_WGMMA_ACC4(4), SPARSE24_WGMMA_ACC4(8), SPARSE24_WGMMA_ACC4(12),             \
      SPARSE24_WGMMA_ACC4(16), SPARSE24_WGMMA_ACC4(20), SPARSE24_WGMMA_ACC4(24), SPARSE24_WGMMA_ACC4(28)
#define SPARSE24_WGMMA_ACC_N128                                                                                 \
  SPARSE24_WGMMA_ACC_N64, SPARSE24_WGMMA_ACC4(32), SPARSE24_WGMMA_ACC4(36), SPARSE24_WGMMA_ACC4(40),           \
      SPARSE24_WGMMA_ACC4(44), SPARSE24_WGMMA_ACC4(48), SPARSE24_WGMMA_ACC4(52), SPARSE24_WGMMA_ACC4(56),      \
      SPARSE24_WGMMA_ACC4(60)
#define SPARSE24_WGMMA_ACC_N192                                                                                 \
  SPARSE24_WGMMA_ACC_N128, SPARSE24_WGMMA_ACC4(64), SPARSE24_WGMMA_ACC4(68), SPARSE24_WGMMA_ACC4(72),          \
      SPARSE24_WGMMA_ACC4(76), SPARSE24_WGMMA_ACC4(80), SPARSE24_WGMMA_ACC4(84), SPARSE24_WGMMA_ACC4(88),      \
      SPARSE24_WGMMA_ACC4(92)
#define SPARSE24_WGMMA_ACC_N200 \
  SPARSE24_WGMMA_ACC_N128, SPARSE24_WGMMA_ACC4(64), SPARSE24_WGMMA_ACC4(68), SPARSE24_WGMMA_ACC4(72), \
      SPARSE24_WGMMA_ACC4(76), SPARSE24_WGMMA_ACC4(80), SPARSE24_WGMMA_ACC4(84), SPARSE24_WGMMA_ACC4(88), \
      SPARSE24_WGMMA_ACC4(92), SPARSE24_WGMMA_ACC4(96)
#define SPARSE24_WGMMA_ACC_N256                                                                                 \
  SPARSE24_WGMMA_ACC_N128, SPARSE24_WGMMA_ACC4(64), SPARSE24_WGMMA_ACC4(68), SPARSE24_WGMMA_ACC4(72),          \
      SPARSE24_WGMMA_ACC4(76), SPARSE24_WGMMA_ACC4(80), SPARSE24_WGMMA_ACC4(84), SPARSE24_WGMMA_ACC4(88),      \
      SPARSE24_WGMMA_ACC4(92), SPARSE24_WGMMA_ACC4(96), SPARSE24_WGMMA_ACC4(100), SPARSE24_WGMMA_ACC4(104),    \
      SPARSE24_WGMMA_ACC4(108), SPARSE24_WGMMA_ACC4(112), SPARSE24_WGMMA_ACC4(116), SPARSE24_WGMMA_ACC4(120),  \
      SPARSE24_WGMMA_ACC4(124)

// The operands after D: (SS) a-desc, b-desc, sp-meta, sp-sel, then the scale-d predicate from a register;
// (RS) {a0..a3}, b-desc, sp-meta, sp-sel, predicate. Numbered after the N/2 accumulators.
#define SPARSE24_WGMMA_SP_SS_TAIL_N8 "setp.ne.b32 p, %8, 0;\n", ", %4, %5, %6, %7, p, 1, 1, 0, 0;\n"
#define SPARSE24_WGMMA_SP_SS_TAIL_N16 "setp.ne.b32 p, %12, 0;\n", ", %8, %9, %10, %11, p, 1, 1, 0, 0;\n"
#define SPARSE24_WGMMA_SP_SS_TAIL_N32 "setp.ne.b32 p, %20, 0;\n", ", %16, %17, %18, %19, p, 1, 1, 0, 0;\n"
#define SPARSE24_WGMMA_SP_SS_TAIL_N64 "setp.ne.b32 p, %36, 0;\n", ", %32, %33, %34, %35, p, 1, 1, 0, 0;\n"
#define SPARSE24_WGMMA_SP_SS_TAIL_N128 "setp.ne.b32 p, %68, 0;\n", ", %64, %65, %66, %67, p, 1, 1, 0, 0;\n"
#define SPARSE24_WGMMA_SP_SS_TAIL_N200 "setp.ne.b32 p, %104, 0;\n", ", %100, %101, %102, %103, p, 1, 1, 0, 0;\n"
#define SPARSE24_WGMMA_SP_SS_TAIL_N256 "setp.ne.b32 p, %132, 0;\n", ", %128, %129, %130, %131, p, 1, 1, 0, 0;\n"
#define SPARSE24_WGMMA_SP_RS_TAIL_N8 "setp.ne.b32 p, %11, 0;\n", ", {%4, %5, %6, %7}, %8, %9, %10, p, 1, 1, 0;\n"
#define SPARSE24_WGMMA_SP_RS_TAIL_N64 \
  "setp.ne.b32 p, %39, 0;\n", ", {%32, %33, %34, %35}, %36, %37, %38, p, 1, 1, 0;\n"
#define SPARSE24_WGMMA_SP_RS_TAIL_N128 \
  "setp.ne.b32 p, %71, 0;\n", ", {%64, %65, %66, %67}, %68, %69, %70, p, 1, 1, 0;\n"
#define SPARSE24_WGMMA_SP_RS_TAIL_N256 \
  "setp.ne.b32 p, %135, 0;\n", ", {%128, %129, %130, %131}, %132, %133, %134, p, 1, 1, 0;\n"

#define SPARSE24_WGMMA_SP_ASM_(N, TY, SETP, ARGS, ...)                                                          \
  asm volatile("{\n.reg .pred p;\n" SETP "wgmma.mma_async.sp.sync.aligned.m64n" #N "k32.f32." TY "." TY " "      \
               SPARSE24_WGMMA_D_N##N ARGS "}\n"                                                                 \
               : SPARSE24_WGMMA_ACC_N##N                                                                       \
               : __VA_ARGS__)
#define SPARSE24_WGMMA_SP_ASM(N, TY, TAIL, ...) SPARSE24_WGMMA_SP_ASM_(N, TY, TAIL, __VA_ARGS__)

// A from shared memory (descriptor), B from shared memory (descriptor): the "SS" form.
template <DType T, int N, int kSelector>
__device__ __forceinline__ void wgmma_sp_ss(float (&d)[N / 2], uint64_t a_desc, uint64_t b_desc, uint32_t e,
                                            bool accumulate) {
  static_assert(T == DType::bf16 || T == DType::fp16, "wgmma.sp m64nNk32: 16-bit inputs only");
  static_assert(kSelector == 0 || kSelector == 1, "wgmma.sp k32 has two sparsity selectors: 0 and 1");
  static_assert(N == 8 || N == 16 || N == 32 || N == 64 || N == 128 || N == 200 || N == 256,
                "N not spelled out in ptx_sm90.cuh yet");
#if SPARSE24_SM90A_DEVICE
  const uint32_t acc = accumulate ? 1u : 0u;
#define SPARSE24_ARGS_ "l"(a_desc), "l"(b_desc), "r"(e), "n"(kSelector), "r"(acc)
  if constexpr (T == DType::bf16) {
    if constexpr (N == 8) SPARSE24_WGMMA_SP_ASM(8, "bf16", SPARSE24_WGMMA_SP_SS_TAIL_N8, SPARSE24_ARGS_);
    if constexpr (N == 16) SPARSE24_WGMMA_SP_ASM(16, "bf16", SPARSE24_WGMMA_SP_SS_TAIL_N16, SPARSE24_ARGS_);
    if constexpr (N == 32) SPARSE24_WGMMA_SP_ASM(32, "bf16", SPARSE24_WGMMA_SP_SS_TAIL_N32, SPARSE24_ARGS_);
    if constexpr (N == 64) SPARSE24_WGMMA_SP_ASM(64, "bf16", SPARSE24_WGMMA_SP_SS_TAIL_N64, SPARSE24_ARGS_);
    if constexpr (N == 128) SPARSE24_WGMMA_SP_ASM(128, "bf16", SPARSE24_WGMMA_SP_SS_TAIL_N128, SPARSE24_ARGS_);
    if constexpr (N == 200) SPARSE24_WGMMA_SP_ASM(200, "bf16", SPARSE24_WGMMA_SP_SS_TAIL_N200, SPARSE24_ARGS_);
    if constexpr (N == 256) SPARSE24_WGMMA_SP_ASM(256, "bf16", SPARSE24_WGMMA_SP_SS_TAIL_N256, SPARSE24_ARGS_);
  } else {
    if constexpr (N == 8) SPARSE24_WGMMA_SP_ASM(8, "f16", SPARSE24_WGMMA_SP_SS_TAIL_N8, SPARSE24_ARGS_);
    if constexpr (N == 16) SPARSE24_WGMMA_SP_ASM(16, "f16", SPARSE24_WGMMA_SP_SS_TAIL_N16, SPARSE24_ARGS_);
    if constexpr (N == 32) SPARSE24_WGMMA_SP_ASM(32, "f16", SPARSE24_WGMMA_SP_SS_TAIL_N32, SPARSE24_ARGS_);
    if constexpr (N == 64) SPARSE24_WGMMA_SP_ASM(64, "f16", SPARSE24_WGMMA_SP_SS_TAIL_N64, SPARSE24_ARGS_);
    if constexpr (N == 128) SPARSE24_WGMMA_SP_ASM(128, "f16", SPARSE24_WGMMA_SP_SS_TAIL_N128, SPARSE24_ARGS_);
    if constexpr (N == 200) SPARSE24_WGMMA_SP_ASM(200, "f16", SPARSE24_WGMMA_SP_SS_TAIL_N200, SPARSE24_ARGS_);
    if constexpr (N == 256) SPARSE24_WGMMA_SP_ASM(256, "f16", SPARSE24_WGMMA_SP_SS_TAIL_N256, SPARSE24_ARGS_);
  }
#undef SPARSE24_ARGS_
#endif
}

// A from registers (4 x b32 per thread: the m16n8k32 compressed A fragment of the thread's warp rows), B from
// shared memory (descriptor): the "RS" form.
template <DType T, int N, int kSelector>
__device__ __forceinline__ void wgmma_sp_rs(float (&d)[N / 2], const uint32_t (&a)[4], uint64_t b_desc, uint32_t e,
                                            bool accumulate) {
  static_assert(T == DType::bf16 || T == DType::fp16, "wgmma.sp m64nNk32: 16-bit inputs only");
  static_assert(kSelector == 0 || kSelector == 1, "wgmma.sp k32 has two sparsity selectors: 0 and 1");
  static_assert(N == 8 || N == 64 || N == 128 || N == 256, "N not spelled out in ptx_sm90.cuh yet");
#if SPARSE24_SM90A_DEVICE
  const uint32_t acc = accumulate ? 1u : 0u;
#define SPARSE24_ARGS_ "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(b_desc), "r"(e), "n"(kSelector), "r"(acc)
  if constexpr (T == DType::bf16) {
    if constexpr (N == 8) SPARSE24_WGMMA_SP_ASM(8, "bf16", SPARSE24_WGMMA_SP_RS_TAIL_N8, SPARSE24_ARGS_);
    if constexpr (N == 64) SPARSE24_WGMMA_SP_ASM(64, "bf16", SPARSE24_WGMMA_SP_RS_TAIL_N64, SPARSE24_ARGS_);
    if constexpr (N == 128) SPARSE24_WGMMA_SP_ASM(128, "bf16", SPARSE24_WGMMA_SP_RS_TAIL_N128, SPARSE24_ARGS_);
    if constexpr (N == 256) SPARSE24_WGMMA_SP_ASM(256, "bf16", SPARSE24_WGMMA_SP_RS_TAIL_N256, SPARSE24_ARGS_);
  } else {
    if constexpr (N == 8) SPARSE24_WGMMA_SP_ASM(8, "f16", SPARSE24_WGMMA_SP_RS_TAIL_N8, SPARSE24_ARGS_);
    if constexpr (N == 64) SPARSE24_WGMMA_SP_ASM(64, "f16", SPARSE24_WGMMA_SP_RS_TAIL_N64, SPARSE24_ARGS_);
    if constexpr (N == 128) SPARSE24_WGMMA_SP_ASM(128, "f16", SPARSE24_WGMMA_SP_RS_TAIL_N128, SPARSE24_ARGS_);
    if constexpr (N == 256) SPARSE24_WGMMA_SP_ASM(256, "f16", SPARSE24_WGMMA_SP_RS_TAIL_N256, SPARSE24_ARGS_);
  }
#undef SPARSE24_ARGS_
#endif
}


// ---- wgmma.mma_async (dense), f16/bf16 inputs, f32 accumulators (PTX ISA 9.7.15.5.2) ------------------------------
// D[64 x N] (+)= A[64 x 16] . B[16 x N], A and B from shared memory (descriptors), both K-major: the dense twin of
// wgmma_sp_ss (same accumulator order, acc_m64; same scale/transpose immediates: 1, 1, 0, 0). Operands after D:
// a-desc, b-desc, then the scale-d predicate from a register.
#define SPARSE24_WGMMA_SS_TAIL_N8 "setp.ne.b32 p, %6, 0;\n", ", %4, %5, p, 1, 1, 0, 0;\n"
#define SPARSE24_WGMMA_SS_TAIL_N64 "setp.ne.b32 p, %34, 0;\n", ", %32, %33, p, 1, 1, 0, 0;\n"
#define SPARSE24_WGMMA_SS_TAIL_N128 "setp.ne.b32 p, %66, 0;\n", ", %64, %65, p, 1, 1, 0, 0;\n"
#define SPARSE24_WGMMA_SS_TAIL_N256 "setp.ne.b32 p, %130, 0;\n", ", %128, %129, p, 1, 1, 0, 0;\n"

#define SPARSE24_WGMMA_ASM_(N, TY, SETP, ARGS, ...)                                                             \
  asm volatile("{\n.reg .pred p;\n" SETP "wgmma.mma_async.sync.aligned.m64n" #N "k16.f32." TY "." TY " "         \
               SPARSE24_WGMMA_D_N##N ARGS "}\n"                                                                 \
               : SPARSE24_WGMMA_ACC_N##N                                                                       \
               : __VA_ARGS__)
#define SPARSE24_WGMMA_ASM(N, TY, TAIL, ...) SPARSE24_WGMMA_ASM_(N, TY, TAIL, __VA_ARGS__)

template <DType T, int N>
__device__ __forceinline__ void wgmma_ss(float (&d)[N / 2], uint64_t a_desc, uint64_t b_desc, bool accumulate) {
  static_assert(T == DType::bf16 || T == DType::fp16, "wgmma m64nNk16: 16-bit inputs only");
  static_assert(N == 8 || N == 64 || N == 128 || N == 256, "N not spelled out in ptx_sm90.cuh yet");
#if SPARSE24_SM90A_DEVICE
  const uint32_t acc = accumulate ? 1u : 0u;
#define SPARSE24_ARGS_ "l"(a_desc), "l"(b_desc), "r"(acc)
  if constexpr (T == DType::bf16) {
    if constexpr (N == 8) SPARSE24_WGMMA_ASM(8, "bf16", SPARSE24_WGMMA_SS_TAIL_N8, SPARSE24_ARGS_);
    if constexpr (N == 64) SPARSE24_WGMMA_ASM(64, "bf16", SPARSE24_WGMMA_SS_TAIL_N64, SPARSE24_ARGS_);
    if constexpr (N == 128) SPARSE24_WGMMA_ASM(128, "bf16", SPARSE24_WGMMA_SS_TAIL_N128, SPARSE24_ARGS_);
    if constexpr (N == 256) SPARSE24_WGMMA_ASM(256, "bf16", SPARSE24_WGMMA_SS_TAIL_N256, SPARSE24_ARGS_);
  } else {
    if constexpr (N == 8) SPARSE24_WGMMA_ASM(8, "f16", SPARSE24_WGMMA_SS_TAIL_N8, SPARSE24_ARGS_);
    if constexpr (N == 64) SPARSE24_WGMMA_ASM(64, "f16", SPARSE24_WGMMA_SS_TAIL_N64, SPARSE24_ARGS_);
    if constexpr (N == 128) SPARSE24_WGMMA_ASM(128, "f16", SPARSE24_WGMMA_SS_TAIL_N128, SPARSE24_ARGS_);
    if constexpr (N == 256) SPARSE24_WGMMA_ASM(256, "f16", SPARSE24_WGMMA_SS_TAIL_N256, SPARSE24_ARGS_);
  }
#undef SPARSE24_ARGS_
#endif
}

// ---- wgmma.mma_async(.sp), 8-bit inputs: e4m3/e5m2 -> f32, s8 -> s32 (PTX ISA 9.7.15.5.2, 9.7.15.6.3) --------------
// Dense m64nNk32 and sparse m64nNk64: the same 32 bytes of K per A row (compressed when sparse) as the 16-bit k16
// and k32 forms, so the shared-memory layouts and descriptors are the 16-bit ones, byte for byte. Both operands
// K-major (8-bit operands have no transpose immediate: the PTX takes none). Sparse A from shared memory (SS) or
// from 4 registers per thread (RS: the m16n8k64 compressed A fragment of the thread's warp rows,
// frag::a8_m16k32). The sparse metadata is the per-warp layout of mma.sp m16n8k64: all four lanes of a quad
// supply it, selector 0 only. fp8 takes imm-scale-a/b (1: no negation); s8 takes neither and accumulates in s32
// (wrapping: no .satfinite). These are the native 8-bit paths on Hopper (QGMMA, IGMMA in SASS): the warp-level
// fp8 mma compiles to conversions and 16-bit HMMA there (docs/sparse-tensor-cores.md §9).
// Operand numbering after the R = N/2 accumulators: sparse SS a-desc %R, b-desc %R+1, e %R+2, sel %R+3, scale-d
// %R+4; sparse RS {a} %R..%R+3, b-desc %R+4, e %R+5, sel %R+6, scale-d %R+7; dense SS a %R, b %R+1, scale-d %R+2.
template <DType T>
using Acc8 = std::conditional_t<T == DType::int8, int32_t, float>;
template <DType T>
inline constexpr bool kIsWgmma8 = T == DType::e4m3 || T == DType::e5m2 || T == DType::int8;

#define SPARSE24_WGMMA_IACC4(i) "+r"(d[i]), "+r"(d[i + 1]), "+r"(d[i + 2]), "+r"(d[i + 3])
#define SPARSE24_WGMMA_IACC_N8 SPARSE24_WGMMA_IACC4(0)
#define SPARSE24_WGMMA_IACC_N16 SPARSE24_WGMMA_IACC4(0), SPARSE24_WGMMA_IACC4(4)
#define SPARSE24_WGMMA_IACC_N32 \
  SPARSE24_WGMMA_IACC4(0), SPARSE24_WGMMA_IACC4(4), SPARSE24_WGMMA_IACC4(8), SPARSE24_WGMMA_IACC4(12)
#define SPARSE24_WGMMA_IACC_N64                                                                                 \
  SPARSE24_WGMMA_IACC4(0), SPARSE24_WGMMA_IACC4(4), SPARSE24_WGMMA_IACC4(8), SPARSE24_WGMMA_IACC4(12),         \
      SPARSE24_WGMMA_IACC4(16), SPARSE24_WGMMA_IACC4(20), SPARSE24_WGMMA_IACC4(24), SPARSE24_WGMMA_IACC4(28)
#define SPARSE24_WGMMA_IACC_N128                                                                                \
  SPARSE24_WGMMA_IACC_N64, SPARSE24_WGMMA_IACC4(32), SPARSE24_WGMMA_IACC4(36), SPARSE24_WGMMA_IACC4(40),       \
      SPARSE24_WGMMA_IACC4(44), SPARSE24_WGMMA_IACC4(48), SPARSE24_WGMMA_IACC4(52), SPARSE24_WGMMA_IACC4(56),  \
      SPARSE24_WGMMA_IACC4(60)
#define SPARSE24_WGMMA_IACC_N256                                                                                \
  SPARSE24_WGMMA_IACC_N128, SPARSE24_WGMMA_IACC4(64), SPARSE24_WGMMA_IACC4(68), SPARSE24_WGMMA_IACC4(72),      \
      SPARSE24_WGMMA_IACC4(76), SPARSE24_WGMMA_IACC4(80), SPARSE24_WGMMA_IACC4(84), SPARSE24_WGMMA_IACC4(88),  \
      SPARSE24_WGMMA_IACC4(92), SPARSE24_WGMMA_IACC4(96), SPARSE24_WGMMA_IACC4(100), SPARSE24_WGMMA_IACC4(104), \
      SPARSE24_WGMMA_IACC4(108), SPARSE24_WGMMA_IACC4(112), SPARSE24_WGMMA_IACC4(116), SPARSE24_WGMMA_IACC4(120), \
      SPARSE24_WGMMA_IACC4(124)

#define SPARSE24_W8_SP_SS_F8_TAIL_N8 "setp.ne.b32 p, %8, 0;\n", ", %4, %5, %6, %7, p, 1, 1;\n"
#define SPARSE24_W8_SP_SS_F8_TAIL_N16 "setp.ne.b32 p, %12, 0;\n", ", %8, %9, %10, %11, p, 1, 1;\n"
#define SPARSE24_W8_SP_SS_F8_TAIL_N32 "setp.ne.b32 p, %20, 0;\n", ", %16, %17, %18, %19, p, 1, 1;\n"
#define SPARSE24_W8_SP_SS_F8_TAIL_N64 "setp.ne.b32 p, %36, 0;\n", ", %32, %33, %34, %35, p, 1, 1;\n"
#define SPARSE24_W8_SP_SS_F8_TAIL_N128 "setp.ne.b32 p, %68, 0;\n", ", %64, %65, %66, %67, p, 1, 1;\n"
#define SPARSE24_W8_SP_SS_F8_TAIL_N192 "setp.ne.b32 p, %100, 0;\n", ", %96, %97, %98, %99, p, 1, 1;\n"
#define SPARSE24_W8_SP_SS_F8_TAIL_N256 "setp.ne.b32 p, %132, 0;\n", ", %128, %129, %130, %131, p, 1, 1;\n"
#define SPARSE24_W8_SP_SS_S8_TAIL_N8 "setp.ne.b32 p, %8, 0;\n", ", %4, %5, %6, %7, p;\n"
#define SPARSE24_W8_SP_SS_S8_TAIL_N16 "setp.ne.b32 p, %12, 0;\n", ", %8, %9, %10, %11, p;\n"
#define SPARSE24_W8_SP_SS_S8_TAIL_N32 "setp.ne.b32 p, %20, 0;\n", ", %16, %17, %18, %19, p;\n"
#define SPARSE24_W8_SP_SS_S8_TAIL_N64 "setp.ne.b32 p, %36, 0;\n", ", %32, %33, %34, %35, p;\n"
#define SPARSE24_W8_SP_SS_S8_TAIL_N128 "setp.ne.b32 p, %68, 0;\n", ", %64, %65, %66, %67, p;\n"
#define SPARSE24_W8_SP_SS_S8_TAIL_N256 "setp.ne.b32 p, %132, 0;\n", ", %128, %129, %130, %131, p;\n"
#define SPARSE24_W8_SP_RS_F8_TAIL_N8 "setp.ne.b32 p, %11, 0;\n", ", {%4, %5, %6, %7}, %8, %9, %10, p, 1, 1;\n"
#define SPARSE24_W8_SP_RS_F8_TAIL_N64 "setp.ne.b32 p, %39, 0;\n", ", {%32, %33, %34, %35}, %36, %37, %38, p, 1, 1;\n"
#define SPARSE24_W8_SP_RS_F8_TAIL_N128 "setp.ne.b32 p, %71, 0;\n", ", {%64, %65, %66, %67}, %68, %69, %70, p, 1, 1;\n"
#define SPARSE24_W8_SP_RS_F8_TAIL_N256 "setp.ne.b32 p, %135, 0;\n", ", {%128, %129, %130, %131}, %132, %133, %134, p, 1, 1;\n"
#define SPARSE24_W8_SP_RS_S8_TAIL_N8 "setp.ne.b32 p, %11, 0;\n", ", {%4, %5, %6, %7}, %8, %9, %10, p;\n"
#define SPARSE24_W8_SP_RS_S8_TAIL_N64 "setp.ne.b32 p, %39, 0;\n", ", {%32, %33, %34, %35}, %36, %37, %38, p;\n"
#define SPARSE24_W8_SP_RS_S8_TAIL_N128 "setp.ne.b32 p, %71, 0;\n", ", {%64, %65, %66, %67}, %68, %69, %70, p;\n"
#define SPARSE24_W8_SP_RS_S8_TAIL_N256 "setp.ne.b32 p, %135, 0;\n", ", {%128, %129, %130, %131}, %132, %133, %134, p;\n"
#define SPARSE24_W8_D_SS_F8_TAIL_N8 "setp.ne.b32 p, %6, 0;\n", ", %4, %5, p, 1, 1;\n"
#define SPARSE24_W8_D_SS_F8_TAIL_N64 "setp.ne.b32 p, %34, 0;\n", ", %32, %33, p, 1, 1;\n"
#define SPARSE24_W8_D_SS_F8_TAIL_N128 "setp.ne.b32 p, %66, 0;\n", ", %64, %65, p, 1, 1;\n"
#define SPARSE24_W8_D_SS_F8_TAIL_N192 "setp.ne.b32 p, %98, 0;\n", ", %96, %97, p, 1, 1;\n"
#define SPARSE24_W8_D_SS_F8_TAIL_N256 "setp.ne.b32 p, %130, 0;\n", ", %128, %129, p, 1, 1;\n"
#define SPARSE24_W8_D_SS_S8_TAIL_N8 "setp.ne.b32 p, %6, 0;\n", ", %4, %5, p;\n"
#define SPARSE24_W8_D_SS_S8_TAIL_N64 "setp.ne.b32 p, %34, 0;\n", ", %32, %33, p;\n"
#define SPARSE24_W8_D_SS_S8_TAIL_N128 "setp.ne.b32 p, %66, 0;\n", ", %64, %65, p;\n"
#define SPARSE24_W8_D_SS_S8_TAIL_N256 "setp.ne.b32 p, %130, 0;\n", ", %128, %129, p;\n"

// One instruction: OP the name up to the types ("wgmma.mma_async.sp.sync.aligned.m64n256k64"), DT.TY.TY the types.
// ACC names the accumulator constraints: ACC (f32, "+f") or IACC (s32, "+r"), pasted here so that their commas
// are not taken for macro arguments.
#define SPARSE24_W8_ASM_(N, OP, DT, TY, ACC, SETP, OPERANDS, ...)                                                \
  asm volatile("{\n.reg .pred p;\n" SETP OP "." DT "." TY "." TY " " SPARSE24_WGMMA_D_N##N OPERANDS "}\n"        \
               : SPARSE24_WGMMA_##ACC##_N##N                                                                     \
               : __VA_ARGS__)
#define SPARSE24_W8_ASM(N, OP, DT, TY, ACC, TAIL, ...) SPARSE24_W8_ASM_(N, OP, DT, TY, ACC, TAIL, __VA_ARGS__)

// Sparse, A and B from shared memory: D[64 x N] (+)= A[64 x 64, 2:4] . B[64 x N].
template <DType T, int N>
__device__ __forceinline__ void wgmma8_sp_ss(Acc8<T> (&d)[N / 2], uint64_t a_desc, uint64_t b_desc, uint32_t e, bool accumulate) {
  static_assert(kIsWgmma8<T>, "wgmma8_sp_ss: e4m3, e5m2 or int8 inputs");
  static_assert(N == 8 || N == 16 || N == 32 || N == 64 || N == 128 || N == 256 || (N == 192 && T != DType::int8),
                "N not spelled out in ptx_sm90.cuh yet");
#if SPARSE24_SM90A_DEVICE
  const uint32_t acc = accumulate ? 1u : 0u;
  if constexpr (T == DType::e4m3) {
    if constexpr (N == 8)
      SPARSE24_W8_ASM(8, "wgmma.mma_async.sp.sync.aligned.m64n8k64", "f32", "e4m3", ACC,
                      SPARSE24_W8_SP_SS_F8_TAIL_N8, "l"(a_desc), "l"(b_desc), "r"(e), "n"(0), "r"(acc));
    if constexpr (N == 16)
      SPARSE24_W8_ASM(16, "wgmma.mma_async.sp.sync.aligned.m64n16k64", "f32", "e4m3", ACC,
                      SPARSE24_W8_SP_SS_F8_TAIL_N16, "l"(a_desc), "l"(b_desc), "r"(e), "n"(0), "r"(acc));
    if constexpr (N == 32)
      SPARSE24_W8_ASM(32, "wgmma.mma_async.sp.sync.aligned.m64n32k64", "f32", "e4m3", ACC,
                      SPARSE24_W8_SP_SS_F8_TAIL_N32, "l"(a_desc), "l"(b_desc), "r"(e), "n"(0), "r"(acc));
    if constexpr (N == 64)
      SPARSE24_W8_ASM(64, "wgmma.mma_async.sp.sync.aligned.m64n64k64", "f32", "e4m3", ACC,
                      SPARSE24_W8_SP_SS_F8_TAIL_N64, "l"(a_desc), "l"(b_desc), "r"(e), "n"(0), "r"(acc));
    if constexpr (N == 128)
      SPARSE24_W8_ASM(128, "wgmma.mma_async.sp.sync.aligned.m64n128k64", "f32", "e4m3", ACC,
                      SPARSE24_W8_SP_SS_F8_TAIL_N128, "l"(a_desc), "l"(b_desc), "r"(e), "n"(0), "r"(acc));
    if constexpr (N == 192)
      SPARSE24_W8_ASM(192, "wgmma.mma_async.sp.sync.aligned.m64n192k64", "f32", "e4m3", ACC,
                      SPARSE24_W8_SP_SS_F8_TAIL_N192, "l"(a_desc), "l"(b_desc), "r"(e), "n"(0), "r"(acc));
    if constexpr (N == 256)
      SPARSE24_W8_ASM(256, "wgmma.mma_async.sp.sync.aligned.m64n256k64", "f32", "e4m3", ACC,
                      SPARSE24_W8_SP_SS_F8_TAIL_N256, "l"(a_desc), "l"(b_desc), "r"(e), "n"(0), "r"(acc));
  }
  if constexpr (T == DType::e5m2) {
    if constexpr (N == 8)
      SPARSE24_W8_ASM(8, "wgmma.mma_async.sp.sync.aligned.m64n8k64", "f32", "e5m2", ACC,
                      SPARSE24_W8_SP_SS_F8_TAIL_N8, "l"(a_desc), "l"(b_desc), "r"(e), "n"(0), "r"(acc));
    if constexpr (N == 16)
      SPARSE24_W8_ASM(16, "wgmma.mma_async.sp.sync.aligned.m64n16k64", "f32", "e5m2", ACC,
                      SPARSE24_W8_SP_SS_F8_TAIL_N16, "l"(a_desc), "l"(b_desc), "r"(e), "n"(0), "r"(acc));
    if constexpr (N == 32)
      SPARSE24_W8_ASM(32, "wgmma.mma_async.sp.sync.aligned.m64n32k64", "f32", "e5m2", ACC,
                      SPARSE24_W8_SP_SS_F8_TAIL_N32, "l"(a_desc), "l"(b_desc), "r"(e), "n"(0), "r"(acc));
    if constexpr (N == 64)
      SPARSE24_W8_ASM(64, "wgmma.mma_async.sp.sync.aligned.m64n64k64", "f32", "e5m2", ACC,
                      SPARSE24_W8_SP_SS_F8_TAIL_N64, "l"(a_desc), "l"(b_desc), "r"(e), "n"(0), "r"(acc));
    if constexpr (N == 128)
      SPARSE24_W8_ASM(128, "wgmma.mma_async.sp.sync.aligned.m64n128k64", "f32", "e5m2", ACC,
                      SPARSE24_W8_SP_SS_F8_TAIL_N128, "l"(a_desc), "l"(b_desc), "r"(e), "n"(0), "r"(acc));
    if constexpr (N == 192)
      SPARSE24_W8_ASM(192, "wgmma.mma_async.sp.sync.aligned.m64n192k64", "f32", "e5m2", ACC,
                      SPARSE24_W8_SP_SS_F8_TAIL_N192, "l"(a_desc), "l"(b_desc), "r"(e), "n"(0), "r"(acc));
    if constexpr (N == 256)
      SPARSE24_W8_ASM(256, "wgmma.mma_async.sp.sync.aligned.m64n256k64", "f32", "e5m2", ACC,
                      SPARSE24_W8_SP_SS_F8_TAIL_N256, "l"(a_desc), "l"(b_desc), "r"(e), "n"(0), "r"(acc));
  }
  if constexpr (T == DType::int8) {
    if constexpr (N == 8)
      SPARSE24_W8_ASM(8, "wgmma.mma_async.sp.sync.aligned.m64n8k64", "s32", "s8", IACC,
                      SPARSE24_W8_SP_SS_S8_TAIL_N8, "l"(a_desc), "l"(b_desc), "r"(e), "n"(0), "r"(acc));
    if constexpr (N == 16)
      SPARSE24_W8_ASM(16, "wgmma.mma_async.sp.sync.aligned.m64n16k64", "s32", "s8", IACC,
                      SPARSE24_W8_SP_SS_S8_TAIL_N16, "l"(a_desc), "l"(b_desc), "r"(e), "n"(0), "r"(acc));
    if constexpr (N == 32)
      SPARSE24_W8_ASM(32, "wgmma.mma_async.sp.sync.aligned.m64n32k64", "s32", "s8", IACC,
                      SPARSE24_W8_SP_SS_S8_TAIL_N32, "l"(a_desc), "l"(b_desc), "r"(e), "n"(0), "r"(acc));
    if constexpr (N == 64)
      SPARSE24_W8_ASM(64, "wgmma.mma_async.sp.sync.aligned.m64n64k64", "s32", "s8", IACC,
                      SPARSE24_W8_SP_SS_S8_TAIL_N64, "l"(a_desc), "l"(b_desc), "r"(e), "n"(0), "r"(acc));
    if constexpr (N == 128)
      SPARSE24_W8_ASM(128, "wgmma.mma_async.sp.sync.aligned.m64n128k64", "s32", "s8", IACC,
                      SPARSE24_W8_SP_SS_S8_TAIL_N128, "l"(a_desc), "l"(b_desc), "r"(e), "n"(0), "r"(acc));
    if constexpr (N == 256)
      SPARSE24_W8_ASM(256, "wgmma.mma_async.sp.sync.aligned.m64n256k64", "s32", "s8", IACC,
                      SPARSE24_W8_SP_SS_S8_TAIL_N256, "l"(a_desc), "l"(b_desc), "r"(e), "n"(0), "r"(acc));
  }
#endif
}

// Sparse, A from registers (frag::a8_m16k32 per warp), B from shared memory.
template <DType T, int N>
__device__ __forceinline__ void wgmma8_sp_rs(Acc8<T> (&d)[N / 2], const uint32_t (&a)[4], uint64_t b_desc, uint32_t e, bool accumulate) {
  static_assert(kIsWgmma8<T>, "wgmma8_sp_rs: e4m3, e5m2 or int8 inputs");
  static_assert(N == 8 || N == 64 || N == 128 || N == 256, "N not spelled out in ptx_sm90.cuh yet");
#if SPARSE24_SM90A_DEVICE
  const uint32_t acc = accumulate ? 1u : 0u;
  if constexpr (T == DType::e4m3) {
    if constexpr (N == 8)
      SPARSE24_W8_ASM(8, "wgmma.mma_async.sp.sync.aligned.m64n8k64", "f32", "e4m3", ACC,
                      SPARSE24_W8_SP_RS_F8_TAIL_N8, "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(b_desc), "r"(e), "n"(0), "r"(acc));
    if constexpr (N == 64)
      SPARSE24_W8_ASM(64, "wgmma.mma_async.sp.sync.aligned.m64n64k64", "f32", "e4m3", ACC,
                      SPARSE24_W8_SP_RS_F8_TAIL_N64, "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(b_desc), "r"(e), "n"(0), "r"(acc));
    if constexpr (N == 128)
      SPARSE24_W8_ASM(128, "wgmma.mma_async.sp.sync.aligned.m64n128k64", "f32", "e4m3", ACC,
                      SPARSE24_W8_SP_RS_F8_TAIL_N128, "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(b_desc), "r"(e), "n"(0), "r"(acc));
    if constexpr (N == 256)
      SPARSE24_W8_ASM(256, "wgmma.mma_async.sp.sync.aligned.m64n256k64", "f32", "e4m3", ACC,
                      SPARSE24_W8_SP_RS_F8_TAIL_N256, "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(b_desc), "r"(e), "n"(0), "r"(acc));
  }
  if constexpr (T == DType::e5m2) {
    if constexpr (N == 8)
      SPARSE24_W8_ASM(8, "wgmma.mma_async.sp.sync.aligned.m64n8k64", "f32", "e5m2", ACC,
                      SPARSE24_W8_SP_RS_F8_TAIL_N8, "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(b_desc), "r"(e), "n"(0), "r"(acc));
    if constexpr (N == 64)
      SPARSE24_W8_ASM(64, "wgmma.mma_async.sp.sync.aligned.m64n64k64", "f32", "e5m2", ACC,
                      SPARSE24_W8_SP_RS_F8_TAIL_N64, "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(b_desc), "r"(e), "n"(0), "r"(acc));
    if constexpr (N == 128)
      SPARSE24_W8_ASM(128, "wgmma.mma_async.sp.sync.aligned.m64n128k64", "f32", "e5m2", ACC,
                      SPARSE24_W8_SP_RS_F8_TAIL_N128, "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(b_desc), "r"(e), "n"(0), "r"(acc));
    if constexpr (N == 256)
      SPARSE24_W8_ASM(256, "wgmma.mma_async.sp.sync.aligned.m64n256k64", "f32", "e5m2", ACC,
                      SPARSE24_W8_SP_RS_F8_TAIL_N256, "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(b_desc), "r"(e), "n"(0), "r"(acc));
  }
  if constexpr (T == DType::int8) {
    if constexpr (N == 8)
      SPARSE24_W8_ASM(8, "wgmma.mma_async.sp.sync.aligned.m64n8k64", "s32", "s8", IACC,
                      SPARSE24_W8_SP_RS_S8_TAIL_N8, "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(b_desc), "r"(e), "n"(0), "r"(acc));
    if constexpr (N == 64)
      SPARSE24_W8_ASM(64, "wgmma.mma_async.sp.sync.aligned.m64n64k64", "s32", "s8", IACC,
                      SPARSE24_W8_SP_RS_S8_TAIL_N64, "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(b_desc), "r"(e), "n"(0), "r"(acc));
    if constexpr (N == 128)
      SPARSE24_W8_ASM(128, "wgmma.mma_async.sp.sync.aligned.m64n128k64", "s32", "s8", IACC,
                      SPARSE24_W8_SP_RS_S8_TAIL_N128, "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(b_desc), "r"(e), "n"(0), "r"(acc));
    if constexpr (N == 256)
      SPARSE24_W8_ASM(256, "wgmma.mma_async.sp.sync.aligned.m64n256k64", "s32", "s8", IACC,
                      SPARSE24_W8_SP_RS_S8_TAIL_N256, "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(b_desc), "r"(e), "n"(0), "r"(acc));
  }
#endif
}

// Dense, A and B from shared memory: D[64 x N] (+)= A[64 x 32] . B[32 x N] (the dense twins' form).
template <DType T, int N>
__device__ __forceinline__ void wgmma8_ss(Acc8<T> (&d)[N / 2], uint64_t a_desc, uint64_t b_desc, bool accumulate) {
  static_assert(kIsWgmma8<T>, "wgmma8_ss: e4m3, e5m2 or int8 inputs");
  static_assert(N == 8 || N == 64 || N == 128 || N == 256 || (N == 192 && T != DType::int8),
                "N not spelled out in ptx_sm90.cuh yet");
#if SPARSE24_SM90A_DEVICE
  const uint32_t acc = accumulate ? 1u : 0u;
  if constexpr (T == DType::e4m3) {
    if constexpr (N == 8)
      SPARSE24_W8_ASM(8, "wgmma.mma_async.sync.aligned.m64n8k32", "f32", "e4m3", ACC,
                      SPARSE24_W8_D_SS_F8_TAIL_N8, "l"(a_desc), "l"(b_desc), "r"(acc));
    if constexpr (N == 64)
      SPARSE24_W8_ASM(64, "wgmma.mma_async.sync.aligned.m64n64k32", "f32", "e4m3", ACC,
                      SPARSE24_W8_D_SS_F8_TAIL_N64, "l"(a_desc), "l"(b_desc), "r"(acc));
    if constexpr (N == 128)
      SPARSE24_W8_ASM(128, "wgmma.mma_async.sync.aligned.m64n128k32", "f32", "e4m3", ACC,
                      SPARSE24_W8_D_SS_F8_TAIL_N128, "l"(a_desc), "l"(b_desc), "r"(acc));
    if constexpr (N == 192)
      SPARSE24_W8_ASM(192, "wgmma.mma_async.sync.aligned.m64n192k32", "f32", "e4m3", ACC,
                      SPARSE24_W8_D_SS_F8_TAIL_N192, "l"(a_desc), "l"(b_desc), "r"(acc));
    if constexpr (N == 256)
      SPARSE24_W8_ASM(256, "wgmma.mma_async.sync.aligned.m64n256k32", "f32", "e4m3", ACC,
                      SPARSE24_W8_D_SS_F8_TAIL_N256, "l"(a_desc), "l"(b_desc), "r"(acc));
  }
  if constexpr (T == DType::e5m2) {
    if constexpr (N == 8)
      SPARSE24_W8_ASM(8, "wgmma.mma_async.sync.aligned.m64n8k32", "f32", "e5m2", ACC,
                      SPARSE24_W8_D_SS_F8_TAIL_N8, "l"(a_desc), "l"(b_desc), "r"(acc));
    if constexpr (N == 64)
      SPARSE24_W8_ASM(64, "wgmma.mma_async.sync.aligned.m64n64k32", "f32", "e5m2", ACC,
                      SPARSE24_W8_D_SS_F8_TAIL_N64, "l"(a_desc), "l"(b_desc), "r"(acc));
    if constexpr (N == 128)
      SPARSE24_W8_ASM(128, "wgmma.mma_async.sync.aligned.m64n128k32", "f32", "e5m2", ACC,
                      SPARSE24_W8_D_SS_F8_TAIL_N128, "l"(a_desc), "l"(b_desc), "r"(acc));
    if constexpr (N == 192)
      SPARSE24_W8_ASM(192, "wgmma.mma_async.sync.aligned.m64n192k32", "f32", "e5m2", ACC,
                      SPARSE24_W8_D_SS_F8_TAIL_N192, "l"(a_desc), "l"(b_desc), "r"(acc));
    if constexpr (N == 256)
      SPARSE24_W8_ASM(256, "wgmma.mma_async.sync.aligned.m64n256k32", "f32", "e5m2", ACC,
                      SPARSE24_W8_D_SS_F8_TAIL_N256, "l"(a_desc), "l"(b_desc), "r"(acc));
  }
  if constexpr (T == DType::int8) {
    if constexpr (N == 8)
      SPARSE24_W8_ASM(8, "wgmma.mma_async.sync.aligned.m64n8k32", "s32", "s8", IACC,
                      SPARSE24_W8_D_SS_S8_TAIL_N8, "l"(a_desc), "l"(b_desc), "r"(acc));
    if constexpr (N == 64)
      SPARSE24_W8_ASM(64, "wgmma.mma_async.sync.aligned.m64n64k32", "s32", "s8", IACC,
                      SPARSE24_W8_D_SS_S8_TAIL_N64, "l"(a_desc), "l"(b_desc), "r"(acc));
    if constexpr (N == 128)
      SPARSE24_W8_ASM(128, "wgmma.mma_async.sync.aligned.m64n128k32", "s32", "s8", IACC,
                      SPARSE24_W8_D_SS_S8_TAIL_N128, "l"(a_desc), "l"(b_desc), "r"(acc));
    if constexpr (N == 256)
      SPARSE24_W8_ASM(256, "wgmma.mma_async.sync.aligned.m64n256k32", "s32", "s8", IACC,
                      SPARSE24_W8_D_SS_S8_TAIL_N256, "l"(a_desc), "l"(b_desc), "r"(acc));
  }
#endif
}


// ---- wgmma.mma_async(.sp), tf32 inputs, f32 accumulators (PTX ISA 9.7.15.5.2, 9.7.15.6.3) ------------------------
// Sparse m64nNk16 (A 1:2: the compressed row of a k-step is 8 values = 32 bytes, B's 16 values = 64 bytes, as in the
// 16-bit k32 form) and dense m64nNk8 (32 bytes per row): the 16-bit shared-memory layouts and descriptors byte for
// byte again, with 4-byte values. Both operands K-major (tf32 takes no transpose immediates; imm-scale-a/b 1).
// The metadata is the per-warp layout of mma.sp m16n8k16 tf32: a lane pair per quad (sp-sel 0: q = 0, 1; 1: q = 2,
// 3), q even rows g / g + 8 of dense k 0..7 in 4 pair-nibbles each (0x4 keeps the pair's first value, 0xE its
// second), q odd k 8..15: in nibble terms the 16-bit k32 layout, so LaneBlocks16 serves it
// (docs/sparse-tensor-cores.md §3 and §9; tests/gpu/test_wgmma_tf32_gpu.cu).
template <int N, int kSelector>
__device__ __forceinline__ void wgmma_tf32_sp_ss(float (&d)[N / 2], uint64_t a_desc, uint64_t b_desc, uint32_t e,
                                                 bool accumulate) {
  static_assert(kSelector == 0 || kSelector == 1, "wgmma.sp k16 tf32 has two sparsity selectors: 0 and 1");
  static_assert(N == 8 || N == 16 || N == 32 || N == 64 || N == 128 || N == 256,
                "N not spelled out in ptx_sm90.cuh yet");
#if SPARSE24_SM90A_DEVICE
  const uint32_t acc = accumulate ? 1u : 0u;
  if constexpr (N == 8)
    SPARSE24_W8_ASM(8, "wgmma.mma_async.sp.sync.aligned.m64n8k16", "f32", "tf32", ACC, SPARSE24_W8_SP_SS_F8_TAIL_N8,
                    "l"(a_desc), "l"(b_desc), "r"(e), "n"(kSelector), "r"(acc));
  // N = 16 and 32: wgmma_sp/s11_narrow.cuh's decode tiles (BN = 16, 32), as for the 16-bit and 8-bit SS forms.
  if constexpr (N == 16)
    SPARSE24_W8_ASM(16, "wgmma.mma_async.sp.sync.aligned.m64n16k16", "f32", "tf32", ACC,
                    SPARSE24_W8_SP_SS_F8_TAIL_N16, "l"(a_desc), "l"(b_desc), "r"(e), "n"(kSelector), "r"(acc));
  if constexpr (N == 32)
    SPARSE24_W8_ASM(32, "wgmma.mma_async.sp.sync.aligned.m64n32k16", "f32", "tf32", ACC,
                    SPARSE24_W8_SP_SS_F8_TAIL_N32, "l"(a_desc), "l"(b_desc), "r"(e), "n"(kSelector), "r"(acc));
  if constexpr (N == 64)
    SPARSE24_W8_ASM(64, "wgmma.mma_async.sp.sync.aligned.m64n64k16", "f32", "tf32", ACC,
                    SPARSE24_W8_SP_SS_F8_TAIL_N64, "l"(a_desc), "l"(b_desc), "r"(e), "n"(kSelector), "r"(acc));
  if constexpr (N == 128)
    SPARSE24_W8_ASM(128, "wgmma.mma_async.sp.sync.aligned.m64n128k16", "f32", "tf32", ACC,
                    SPARSE24_W8_SP_SS_F8_TAIL_N128, "l"(a_desc), "l"(b_desc), "r"(e), "n"(kSelector), "r"(acc));
  if constexpr (N == 256)
    SPARSE24_W8_ASM(256, "wgmma.mma_async.sp.sync.aligned.m64n256k16", "f32", "tf32", ACC,
                    SPARSE24_W8_SP_SS_F8_TAIL_N256, "l"(a_desc), "l"(b_desc), "r"(e), "n"(kSelector), "r"(acc));
#endif
}

// Sparse tf32, A from registers (frag::a32_m16k8 of the warp's 16 rows), B from shared memory.
template <int N, int kSelector>
__device__ __forceinline__ void wgmma_tf32_sp_rs(float (&d)[N / 2], const uint32_t (&a)[4], uint64_t b_desc,
                                                 uint32_t e, bool accumulate) {
  static_assert(kSelector == 0 || kSelector == 1, "wgmma.sp k16 tf32 has two sparsity selectors: 0 and 1");
  static_assert(N == 8 || N == 64 || N == 128 || N == 256, "N not spelled out in ptx_sm90.cuh yet");
#if SPARSE24_SM90A_DEVICE
  const uint32_t acc = accumulate ? 1u : 0u;
#define SPARSE24_ARGS_ "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(b_desc), "r"(e), "n"(kSelector), "r"(acc)
  if constexpr (N == 8)
    SPARSE24_W8_ASM(8, "wgmma.mma_async.sp.sync.aligned.m64n8k16", "f32", "tf32", ACC, SPARSE24_W8_SP_RS_F8_TAIL_N8,
                    SPARSE24_ARGS_);
  if constexpr (N == 64)
    SPARSE24_W8_ASM(64, "wgmma.mma_async.sp.sync.aligned.m64n64k16", "f32", "tf32", ACC,
                    SPARSE24_W8_SP_RS_F8_TAIL_N64, SPARSE24_ARGS_);
  if constexpr (N == 128)
    SPARSE24_W8_ASM(128, "wgmma.mma_async.sp.sync.aligned.m64n128k16", "f32", "tf32", ACC,
                    SPARSE24_W8_SP_RS_F8_TAIL_N128, SPARSE24_ARGS_);
  if constexpr (N == 256)
    SPARSE24_W8_ASM(256, "wgmma.mma_async.sp.sync.aligned.m64n256k16", "f32", "tf32", ACC,
                    SPARSE24_W8_SP_RS_F8_TAIL_N256, SPARSE24_ARGS_);
#undef SPARSE24_ARGS_
#endif
}

// Dense tf32, A and B from shared memory: D[64 x N] (+)= A[64 x 8] . B[8 x N] (the dense twins' form).
template <int N>
__device__ __forceinline__ void wgmma_tf32_ss(float (&d)[N / 2], uint64_t a_desc, uint64_t b_desc, bool accumulate) {
  static_assert(N == 8 || N == 64 || N == 128 || N == 256, "N not spelled out in ptx_sm90.cuh yet");
#if SPARSE24_SM90A_DEVICE
  const uint32_t acc = accumulate ? 1u : 0u;
  if constexpr (N == 8)
    SPARSE24_W8_ASM(8, "wgmma.mma_async.sync.aligned.m64n8k8", "f32", "tf32", ACC, SPARSE24_W8_D_SS_F8_TAIL_N8,
                    "l"(a_desc), "l"(b_desc), "r"(acc));
  if constexpr (N == 64)
    SPARSE24_W8_ASM(64, "wgmma.mma_async.sync.aligned.m64n64k8", "f32", "tf32", ACC, SPARSE24_W8_D_SS_F8_TAIL_N64,
                    "l"(a_desc), "l"(b_desc), "r"(acc));
  if constexpr (N == 128)
    SPARSE24_W8_ASM(128, "wgmma.mma_async.sync.aligned.m64n128k8", "f32", "tf32", ACC, SPARSE24_W8_D_SS_F8_TAIL_N128,
                    "l"(a_desc), "l"(b_desc), "r"(acc));
  if constexpr (N == 256)
    SPARSE24_W8_ASM(256, "wgmma.mma_async.sync.aligned.m64n256k8", "f32", "tf32", ACC, SPARSE24_W8_D_SS_F8_TAIL_N256,
                    "l"(a_desc), "l"(b_desc), "r"(acc));
#endif
}


// ---- Read-only global loads straight into registers (PTX ISA 9.7.9.8 ld, 9.7.9.9 ld.global.nc) ------------------
// wgmma_sp/s15_rsldg.cuh loads A (in fragment order, kernels/format/fragment_values.h) and its metadata from global
// memory into the registers the RS wgmma.sp reads, instead of through the shared-memory ring: the question of
// issue 19 item 2 is whether such loads stay off the shared-memory data pipe that the SS form's operand reads fill.
// .nc: the data is read-only for the kernel's lifetime (the non-coherent texture path, as __ldg). L1::no_allocate:
// each CTA reads each A chunk exactly once (other CTAs of the same rows hit in L2), so keeping it in the ~29 KB of L1
// that the 227 KB shared-memory carve-out leaves would only evict other lines; the data still returns through
// L1TEX, which is the point of the experiment. volatile: the load stays where the mainloop issues it (after the
// wgmma wait that frees its destination registers, D k-tiles ahead of its use), never sunk to its consumer.
__device__ __forceinline__ void ld_global_nc_na_v4(uint32_t (&r)[4], const void* p) {
#if SPARSE24_SM90A_DEVICE
  asm volatile("ld.global.nc.L1::no_allocate.v4.u32 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "l"(p));
#else
  (void)p;
  r[0] = r[1] = r[2] = r[3] = 0;
#endif
}
// One 32-bit word (a lane's metadata word of Wgmma16x64): the same path.
__device__ __forceinline__ uint32_t ld_global_nc_na_u32(const void* p) {
  uint32_t r = 0;
#if SPARSE24_SM90A_DEVICE
  asm volatile("ld.global.nc.L1::no_allocate.u32 %0, [%1];\n" : "=r"(r) : "l"(p));
#else
  (void)p;
#endif
  return r;
}

// ---- griddepcontrol (PTX ISA, "Parallel Synchronization and Communication Instructions: griddepcontrol"; sm_90) ---
// A kernel launched with cudaLaunchAttributeProgrammaticStreamSerialization may start while the kernel before it in
// the stream (the primary) still runs (CUDA C++ Programming Guide, "Programmatic Dependent Launch and
// Synchronization"). wgmma_sp/s16_pdl.cuh launches its split-K reduction that way.
// launch_dependents: this CTA lets the dependent grid be scheduled; the dependent launches once every CTA of the
// primary grid has issued it or exited (further issues by the same CTA have no effect, so one thread suffices). It
// only schedules: it makes no memory of the primary visible (cuda_device_runtime_api.h,
// cudaTriggerProgrammaticLaunchCompletion, says the same).
__device__ __forceinline__ void griddepcontrol_launch_dependents() {
#if SPARSE24_SM90A_DEVICE
  asm volatile("griddepcontrol.launch_dependents;\n" ::: "memory");
#endif
}
// wait: blocks the thread until every prerequisite grid (the primary) has completed and its memory operations are
// performed and visible to this grid. Every read of what the primary wrote must come after it. "memory": no load
// may be hoisted above it.
__device__ __forceinline__ void griddepcontrol_wait() {
#if SPARSE24_SM90A_DEVICE
  asm volatile("griddepcontrol.wait;\n" ::: "memory");
#endif
}

}  // namespace sparse24::ptx
