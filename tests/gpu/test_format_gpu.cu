// GPU tests of the sparse formats: every GPU kernel agrees with the CPU reference (format_cpu.cpp) bit for bit, on
// random data full of degenerate chunks, ties, -0.0, NaN and inf, for the 16-bit types and for int8, e4m3, e5m2 and
// tf32; and the host wrappers refuse bad input before launching anything.
//
// Every output buffer is poisoned with 0xFF bytes before each GPU call (0xFFFF is a NaN, 0xF an invalid nibble),
// so an element a kernel forgot to write cannot pass for a correct one.
#include "tests/catch.h"
#include "tests/format_inputs.h"
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "harness/device_buffer.h"
#include "kernels/common/cuda_check.h"
#include "kernels/common/dtype.h"
#include "kernels/format/format.h"
#include "kernels/format/rules.h"
#include "kernels/format/transposable.h"
#include "kernels/registry.h"

namespace {

namespace f = sparse24::format;
using namespace test;  // tests/format_inputs.h
using sparse24::DType;
using f::MetaLayout;

using sparse24::check_cuda;

// A typed view of harness::DeviceBuffer (plain cudaMalloc, never managed memory: a kernel that reads or writes the
// wrong place must fault or show up in the comparison, not be papered over by page migration).
template <typename T>
class DeviceBuffer {
 public:
  explicit DeviceBuffer(size_t n) : n_(n), buf_(n * sizeof(T)) {}
  explicit DeviceBuffer(const std::vector<T>& h) : DeviceBuffer(h.size()) { upload(h); }

  T* get() const { return buf_.as<T>(); }
  size_t bytes() const { return buf_.bytes(); }
  void upload(const std::vector<T>& h) {
    if (h.size() != n_) throw std::logic_error("upload: size mismatch");
    check_cuda(cudaMemcpy(get(), h.data(), bytes(), cudaMemcpyHostToDevice), "cudaMemcpy H2D");
    settle();
  }
  std::vector<T> download() const {
    std::vector<T> h(n_);
    settle();  // waits for every stream, and surfaces a fault from the kernel itself
    check_cuda(cudaMemcpy(h.data(), get(), bytes(), cudaMemcpyDeviceToHost), "cudaMemcpy D2H");
    return h;
  }
  void poison() {
    check_cuda(cudaMemset(get(), 0xFF, bytes()), "cudaMemset");
    settle();
  }

 private:
  // NOTE: cudaMemset and a pageable cudaMemcpy run on the legacy default stream, which does not order work on
  // the non-blocking stream the tests also launch on: without this wait a poison could land after the kernel
  // it was meant to precede (seen under compute-sanitizer initcheck, which slows the kernels down).
  static void settle() { check_cuda(cudaDeviceSynchronize(), "cudaDeviceSynchronize"); }

  size_t n_;
  sparse24::harness::DeviceBuffer buf_;
};

// A stream that is not the default one, so that the wrappers' stream argument is exercised.
class Stream {
 public:
  Stream() { check_cuda(cudaStreamCreateWithFlags(&s_, cudaStreamNonBlocking), "cudaStreamCreate"); }
  ~Stream() { cudaStreamDestroy(s_); }
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  void* get() const { return s_; }
  void sync() const { check_cuda(cudaStreamSynchronize(s_), "cudaStreamSynchronize"); }

 private:
  cudaStream_t s_ = nullptr;
};

// ---- Random inputs (the same kinds of chunks as the CPU tests) ------------------------------------------------

// Number of positions where two buffers differ (a count reads better in a failure than a 1M-element dump).
template <typename T>
int64_t mismatches(const std::vector<T>& a, const std::vector<T>& b) {
  if (a.size() != b.size()) return -1;
  int64_t n = 0;
  for (size_t i = 0; i < a.size(); ++i) n += a[i] != b[i];
  return n;
}

const std::pair<int64_t, int64_t> kShapes[] = {{1, 8}, {3, 64}, {5, 40}, {64, 128}, {33, 1032}, {256, 4096}};
// Shapes for the reorders: each layout takes those it accepts (LaneBlocks16: M % 32, K % 32; Wgmma16x64: M % 16,
// K % 64).
const std::pair<int64_t, int64_t> kReorderShapes[] = {{32, 32},    {64, 96},    {96, 256}, {48, 192},
                                                      {128, 4160}, {256, 4096}, {16, 64}};
constexpr bool layout_fits(MetaLayout l, int64_t M, int64_t K) {
  return l == MetaLayout::LaneBlocks16 ? M % 32 == 0 && K % 32 == 0 : M % 16 == 0 && K % 64 == 0;
}
constexpr uint32_t kSeeds[] = {1, 2, 3};

}  // namespace

TEST_CASE("format gpu: prune, compress and decompress agree with the CPU bit for bit", "[format][gpu]") {
  Stream stream;
  for (DType t : kBothTypes)
    for (const auto& [M, K] : kShapes)
      for (uint32_t seed : kSeeds) {
        INFO("dtype " << sparse24::name(t) << ", " << M << " x " << K << ", seed " << seed);
        const size_t n = static_cast<size_t>(M * K);
        // Half the runs on the default stream, half on our own.
        void* s = (seed % 2) ? stream.get() : nullptr;

        const auto dense = random_dense(M, K, seed);
        std::vector<uint16_t> pruned(n), values(n / 2), restored(n);
        std::vector<uint8_t> meta(n / 8);
        f::prune(t, dense.data(), M, K, pruned.data());
        f::compress(t, pruned.data(), M, K, values.data(), meta.data());
        f::decompress(t, values.data(), meta.data(), M, K, restored.data());
        REQUIRE(restored == pruned);   // the CPU reference is self-consistent before it judges the GPU

        DeviceBuffer<uint16_t> d_dense(dense), d_pruned_in(pruned), d_values_in(values);
        DeviceBuffer<uint8_t> d_meta_in(meta);
        DeviceBuffer<uint16_t> d_out(n), d_values(n / 2);
        DeviceBuffer<uint8_t> d_meta(n / 8);

        d_out.poison();
        f::gpu::prune(t, d_dense.get(), M, K, d_out.get(), s);
        CHECK(mismatches(d_out.download(), pruned) == 0);

        d_values.poison();
        d_meta.poison();
        f::gpu::compress(t, d_pruned_in.get(), M, K, d_values.get(), d_meta.get(), s);
        CHECK(mismatches(d_values.download(), values) == 0);
        CHECK(mismatches(d_meta.download(), meta) == 0);

        // On input that is not 2:4 the GPU compressor applies the selection rule, i.e. it compresses the pruned
        // matrix (format.h): the same values and metadata as the CPU's prune then compress.
        d_values.poison();
        d_meta.poison();
        f::gpu::compress(t, d_dense.get(), M, K, d_values.get(), d_meta.get(), s);
        CHECK(mismatches(d_values.download(), values) == 0);
        CHECK(mismatches(d_meta.download(), meta) == 0);

        d_out.poison();
        f::gpu::decompress(t, d_values_in.get(), d_meta_in.get(), M, K, d_out.get(), s);
        CHECK(mismatches(d_out.download(), pruned) == 0);

        // In place, as the CPU allows.
        f::gpu::prune(t, d_dense.get(), M, K, d_dense.get(), s);
        CHECK(mismatches(d_dense.download(), pruned) == 0);

        CHECK(f::gpu::validate_dense(t, d_pruned_in.get(), M, K, s).ok);
        CHECK(f::gpu::validate_meta(d_meta_in.get(), M, K, s).ok);
      }
}

TEST_CASE("format gpu: decompress decodes an invalid nibble as 0x4", "[format][gpu]") {
  for (const auto& [M, K] : kShapes)
    for (uint32_t seed : kSeeds) {
      INFO(M << " x " << K << ", seed " << seed);
      const size_t n = static_cast<size_t>(M * K);
      std::vector<uint16_t> values(n / 2);
      std::mt19937 rng(seed);
      for (auto& v : values) v = static_cast<uint16_t>(rng());
      const auto meta = random_bytes(n / 8, seed);   // about 10 of 16 nibbles invalid
      // What format.h promises: decode as if every invalid nibble were 0x4.
      auto fixed = meta;
      for (int64_t r = 0; r < M; ++r)
        for (int64_t c = 0; c < K / 4; ++c) {
          const uint32_t nib = (meta[static_cast<size_t>(r * (K / 8) + c / 2)] >> (4 * (c % 2))) & 0xF;
          if (!sparse24::format::rules::nibble_valid(nib)) set_nibble(fixed, K, r, c, 0x4);
        }
      std::vector<uint16_t> want(n);
      f::decompress(DType::bf16, values.data(), fixed.data(), M, K, want.data());

      DeviceBuffer<uint16_t> d_values(values), d_out(n);
      DeviceBuffer<uint8_t> d_meta(meta);
      d_out.poison();
      f::gpu::decompress(DType::bf16, d_values.get(), d_meta.get(), M, K, d_out.get());
      CHECK(mismatches(d_out.download(), want) == 0);
    }
}

TEST_CASE("format gpu: validate finds the same first violation as the CPU", "[format][gpu]") {
  for (DType t : kBothTypes)
    for (const auto& [M, K] : kShapes)
      for (uint32_t seed : kSeeds) {
        INFO("dtype " << sparse24::name(t) << ", " << M << " x " << K << ", seed " << seed);
        const size_t n = static_cast<size_t>(M * K);
        std::vector<uint16_t> dense(n);
        f::prune(t, random_dense(M, K, seed).data(), M, K, dense.data());
        std::vector<uint8_t> meta(n / 8);
        {
          std::vector<uint16_t> values(n / 2);
          f::compress(t, dense.data(), M, K, values.data(), meta.data());
        }
        // Plant several offenders at random chunks (the last chunk always among them); then remove the first
        // one reported, again and again, checking each time that GPU and CPU name the same chunk and message.
        std::mt19937 rng(seed * 7919u);
        const int64_t chunks = M * K / 4;
        std::vector<int64_t> planted = {chunks - 1};
        for (int i = 0; i < 6; ++i) planted.push_back(static_cast<int64_t>(rng() % static_cast<uint64_t>(chunks)));
        for (int64_t p : planted) {
          uint16_t* x = &dense[static_cast<size_t>(4 * p)];
          const int nonzeros = 3 + static_cast<int>(rng() % 2);
          for (int j = 0; j < 4; ++j) x[j] = j < nonzeros ? static_cast<uint16_t>(rng() | 1) : kNZ;
          set_nibble(meta, K, p / (K / 4), p % (K / 4), (rng() % 2) ? 0x5u : 0x1u);
        }
        std::sort(planted.begin(), planted.end());
        planted.erase(std::unique(planted.begin(), planted.end()), planted.end());

        DeviceBuffer<uint16_t> d_dense(n);
        DeviceBuffer<uint8_t> d_meta(n / 8);
        for (int64_t first : planted) {
          d_dense.upload(dense);
          d_meta.upload(meta);
          const f::Violation cpu_d = f::validate_dense(t, dense.data(), M, K);
          const f::Violation gpu_d = f::gpu::validate_dense(t, d_dense.get(), M, K);
          CHECK_FALSE(gpu_d.ok);
          CHECK(cpu_d.row * (K / 4) + cpu_d.chunk == first);
          CHECK(gpu_d.row == cpu_d.row);
          CHECK(gpu_d.chunk == cpu_d.chunk);
          CHECK(gpu_d.message == cpu_d.message);

          const f::Violation cpu_m = f::validate_meta(meta.data(), M, K);
          const f::Violation gpu_m = f::gpu::validate_meta(d_meta.get(), M, K);
          CHECK_FALSE(gpu_m.ok);
          CHECK(cpu_m.row * (K / 4) + cpu_m.chunk == first);
          CHECK(gpu_m.row == cpu_m.row);
          CHECK(gpu_m.chunk == cpu_m.chunk);
          CHECK(gpu_m.message == cpu_m.message);

          // Repair this one: the next planted chunk becomes the first.
          std::fill_n(dense.begin() + 4 * first, 4, kZ);
          set_nibble(meta, K, first / (K / 4), first % (K / 4), 0x4);
        }
        d_dense.upload(dense);
        d_meta.upload(meta);
        CHECK(f::gpu::validate_dense(t, d_dense.get(), M, K).ok);
        CHECK(f::gpu::validate_meta(d_meta.get(), M, K).ok);
      }
}

TEST_CASE("format gpu: reorder agrees with the CPU bit for bit", "[format][gpu]") {
  Stream stream;
  for (MetaLayout layout : {MetaLayout::LaneBlocks16, MetaLayout::Wgmma16x64})
    for (const auto& [M, K] : kReorderShapes)
      for (uint32_t seed : kSeeds) {
        if (!layout_fits(layout, M, K)) continue;  // a shape this layout refuses (tested below)
        INFO(f::name(layout) << ", " << M << " x " << K << ", seed " << seed);
        const size_t bytes = static_cast<size_t>(M * K / 8);
        const auto canonical = random_bytes(bytes, seed);   // any bytes: a reorder only moves nibbles
        std::vector<uint8_t> want(f::meta_bytes(layout, M, K));
        f::reorder_meta(layout, canonical.data(), M, K, want.data());

        DeviceBuffer<uint8_t> d_in(canonical), d_out(bytes);
        d_out.poison();
        f::gpu::reorder_meta(layout, d_in.get(), M, K, d_out.get(), stream.get());
        stream.sync();
        CHECK(mismatches(d_out.download(), want) == 0);

        d_out.poison();
        f::gpu::reorder_meta(MetaLayout::Canonical, d_in.get(), M, K, d_out.get(), stream.get());
        stream.sync();
        CHECK(mismatches(d_out.download(), canonical) == 0);
      }
  // The canonical "reorder" is a plain copy and accepts any canonical shape.
  const auto canonical = random_bytes(3 * 40 / 8, 4);
  DeviceBuffer<uint8_t> d_in(canonical), d_out(canonical.size());
  d_out.poison();
  f::gpu::reorder_meta(MetaLayout::Canonical, d_in.get(), 3, 40, d_out.get());
  CHECK(d_out.download() == canonical);
}

TEST_CASE("format gpu: bad input is refused before launch", "[format][gpu]") {
  const DType t = DType::fp16;
  DeviceBuffer<uint16_t> e(4096);
  DeviceBuffer<uint8_t> m(1024);
  uint16_t* const n16 = nullptr;
  uint8_t* const n8 = nullptr;

  // Shapes: the same rules and words as the CPU reference, named for the GPU function.
  REQUIRE_FORMAT_ERROR(f::gpu::prune(t, e.get(), 1, 12, e.get()),
                       "format::gpu::prune: K = 12 is not a multiple of 8 (two chunks per metadata byte)");
  REQUIRE_FORMAT_ERROR(f::gpu::compress(t, e.get(), 0, 8, e.get(), m.get()),
                       "format::gpu::compress: M = 0 is less than 1");
  REQUIRE_FORMAT_ERROR(f::gpu::decompress(t, e.get(), m.get(), 1, 4, e.get()),
                       "format::gpu::decompress: K = 4 is less than 8");
  REQUIRE_FORMAT_ERROR(f::gpu::validate_dense(t, e.get(), -1, 8), "format::gpu::validate_dense: M = -1");
  REQUIRE_FORMAT_ERROR(f::gpu::validate_meta(m.get(), 2, 20), "format::gpu::validate_meta: K = 20 is not a multiple");
  REQUIRE_FORMAT_ERROR(f::gpu::reorder_meta(MetaLayout::LaneBlocks16, m.get(), 48, 32, m.get()),
                       "format::gpu::reorder_meta: M = 48 is not a multiple of 32 "
                       "(lane-block metadata serves 32 rows)");
  REQUIRE_FORMAT_ERROR(f::gpu::reorder_meta(MetaLayout::LaneBlocks16, m.get(), 32, 48, m.get()),
                       "K = 48 is not a multiple of 32");
  REQUIRE_FORMAT_ERROR(f::gpu::reorder_meta(MetaLayout::Wgmma16x64, m.get(), 24, 64, m.get()),
                       "format::gpu::reorder_meta: M = 24 is not a multiple of 16 "
                       "(wgmma16x64 metadata serves a warp's 16 rows)");
  REQUIRE_FORMAT_ERROR(f::gpu::reorder_meta(MetaLayout::Wgmma16x64, m.get(), 32, 96, m.get()),
                       "K = 96 is not a multiple of 64");
  REQUIRE_FORMAT_ERROR(f::gpu::reorder_meta(static_cast<MetaLayout>(5), m.get(), 32, 32, m.get()),
                       "unknown metadata layout value 5");
  REQUIRE_FORMAT_ERROR(f::gpu::prune(static_cast<DType>(99), e.get(), 1, 8, e.get()), "unknown dtype value 99");

  // Null pointers.
  REQUIRE_FORMAT_ERROR(f::gpu::prune(t, n16, 1, 8, e.get()), "format::gpu::prune: dense is a null pointer");
  REQUIRE_FORMAT_ERROR(f::gpu::prune(t, e.get(), 1, 8, n16), "pruned is a null pointer");
  REQUIRE_FORMAT_ERROR(f::gpu::compress(t, n16, 1, 8, e.get(), m.get()), "pruned is a null pointer");
  REQUIRE_FORMAT_ERROR(f::gpu::compress(t, e.get(), 1, 8, n16, m.get()), "values is a null pointer");
  REQUIRE_FORMAT_ERROR(f::gpu::compress(t, e.get(), 1, 8, e.get(), n8), "meta is a null pointer");
  REQUIRE_FORMAT_ERROR(f::gpu::decompress(t, n16, m.get(), 1, 8, e.get()), "values is a null pointer");
  REQUIRE_FORMAT_ERROR(f::gpu::decompress(t, e.get(), n8, 1, 8, e.get()), "meta is a null pointer");
  REQUIRE_FORMAT_ERROR(f::gpu::decompress(t, e.get(), m.get(), 1, 8, n16), "dense is a null pointer");
  REQUIRE_FORMAT_ERROR(f::gpu::validate_dense(t, n16, 1, 8), "dense is a null pointer");
  REQUIRE_FORMAT_ERROR(f::gpu::validate_meta(n8, 1, 8), "meta is a null pointer");
  REQUIRE_FORMAT_ERROR(f::gpu::reorder_meta(MetaLayout::LaneBlocks16, n8, 32, 32, m.get()),
                       "canonical is a null pointer");
  REQUIRE_FORMAT_ERROR(f::gpu::reorder_meta(MetaLayout::Canonical, m.get(), 32, 32, n8), "out is a null pointer");

  // Alignment: the kernels move 16 dense bytes, 8 value bytes and 4 lane-block bytes per access.
  REQUIRE_FORMAT_ERROR(f::gpu::prune(t, e.get() + 1, 1, 8, e.get()), "dense is not 16-byte aligned");
  REQUIRE_FORMAT_ERROR(f::gpu::prune(t, e.get(), 1, 8, e.get() + 4), "pruned is not 16-byte aligned");
  REQUIRE_FORMAT_ERROR(f::gpu::compress(t, e.get(), 1, 8, e.get() + 2, m.get()), "values is not 8-byte aligned");
  REQUIRE_FORMAT_ERROR(f::gpu::decompress(t, e.get() + 1, m.get(), 1, 8, e.get()), "values is not 8-byte aligned");
  REQUIRE_FORMAT_ERROR(f::gpu::validate_dense(t, e.get() + 4, 1, 8), "dense is not 16-byte aligned");
  REQUIRE_FORMAT_ERROR(f::gpu::reorder_meta(MetaLayout::LaneBlocks16, m.get(), 32, 32, m.get() + 2),
                       "out is not 4-byte aligned");
  REQUIRE_FORMAT_ERROR(f::gpu::reorder_meta(MetaLayout::Wgmma16x64, m.get(), 32, 64, m.get() + 2),
                       "out is not 4-byte aligned");
  // Metadata is read byte by byte: any address is fine.
  m.upload(std::vector<uint8_t>(1024, 0x4C));
  e.upload(std::vector<uint16_t>(4096, 0x3C00));  // decompress below reads values: initialized (initcheck)
  CHECK(f::gpu::validate_meta(m.get() + 1, 1, 8).ok);
  CHECK_NOTHROW(f::gpu::decompress(t, e.get(), m.get() + 1, 1, 8, e.get() + 8));
  CHECK_NOTHROW(f::gpu::reorder_meta(MetaLayout::LaneBlocks16, m.get() + 1, 32, 32, m.get() + 512));

  // Nothing was launched by the refused calls, and nothing went wrong on the device.
  CHECK(cudaDeviceSynchronize() == cudaSuccess);
  CHECK(cudaGetLastError() == cudaSuccess);
}

// =====================================================================================================================
// The other storage types: int8, e4m3, e5m2 (8-bit 2:4) and tf32 (32-bit 1:2), the same kernels templated on the
// storage width, against the CPU reference bit for bit
// =====================================================================================================================

namespace {

// Shapes every new type accepts (K % 8 for 2:4, K % 4 for tf32), with odd M and K not a power of two.
const std::pair<int64_t, int64_t> kNewShapes[] = {{1, 16}, {3, 64}, {5, 40}, {64, 128}, {33, 1032}, {256, 4096}};

template <class S>
void check_new_type_on_gpu(DType t, int64_t M, int64_t K, uint32_t seed, void* stream) {
  const int64_t meta_bytes = M * f::meta_bytes_per_row(t, K);
  const auto dense = random_dense_of<S>(t, M, K, seed);
  // CPU reference.
  std::vector<S> want_pruned(dense.size()), want_values(dense.size() / 2), want_back(dense.size());
  std::vector<uint8_t> want_meta(static_cast<size_t>(meta_bytes));
  f::prune(t, dense.data(), M, K, want_pruned.data());
  f::compress(t, want_pruned.data(), M, K, want_values.data(), want_meta.data());
  f::decompress(t, want_values.data(), want_meta.data(), M, K, want_back.data());
  // GPU, every output poisoned first.
  DeviceBuffer<S> d_dense(dense), d_pruned(dense.size()), d_values(dense.size() / 2), d_back(dense.size());
  DeviceBuffer<uint8_t> d_meta(static_cast<size_t>(meta_bytes));
  d_pruned.poison(), d_values.poison(), d_meta.poison(), d_back.poison();
  f::gpu::prune(t, d_dense.get(), M, K, d_pruned.get(), stream);
  CHECK(mismatches(d_pruned.download(), want_pruned) == 0);
  f::gpu::compress(t, d_pruned.get(), M, K, d_values.get(), d_meta.get(), stream);
  CHECK(mismatches(d_values.download(), want_values) == 0);
  CHECK(mismatches(d_meta.download(), want_meta) == 0);
  f::gpu::decompress(t, d_values.get(), d_meta.get(), M, K, d_back.get(), stream);
  CHECK(mismatches(d_back.download(), want_back) == 0);
  CHECK(f::gpu::validate_dense(t, d_pruned.get(), M, K, stream).ok);
  CHECK(f::gpu::validate_meta(t, d_meta.get(), M, K, stream).ok);
  // validate on the unpruned input finds the CPU's first violation, with the same message.
  const f::Violation cpu = f::validate_dense(t, dense.data(), M, K);
  const f::Violation gpu = f::gpu::validate_dense(t, d_dense.get(), M, K, stream);
  CHECK(gpu.ok == cpu.ok);
  CHECK(gpu.row == cpu.row);
  CHECK(gpu.chunk == cpu.chunk);
  CHECK(gpu.message == cpu.message);
  // And on random metadata bytes (mostly invalid codes, for tf32 especially).
  const auto bytes = random_bytes(static_cast<size_t>(meta_bytes), seed + 100);
  DeviceBuffer<uint8_t> d_bytes(bytes);
  const f::Violation cm = f::validate_meta(t, bytes.data(), M, K);
  const f::Violation gm = f::gpu::validate_meta(t, d_bytes.get(), M, K, stream);
  CHECK(gm.ok == cm.ok);
  CHECK(gm.row == cm.row);
  CHECK(gm.chunk == cm.chunk);
  CHECK(gm.message == cm.message);
}

}  // namespace

TEST_CASE("format gpu: int8, e4m3, e5m2 and tf32 agree with the CPU bit for bit", "[format][gpu]") {
  Stream stream;
  for (DType t : kNewSparseTypes)
    for (const auto& [M, K] : kNewShapes)
      for (uint32_t seed : kSeeds) {
        INFO("dtype " << sparse24::name(t) << ", " << M << " x " << K << ", seed " << seed);
        if (t == DType::tf32)
          check_new_type_on_gpu<uint32_t>(t, M, K, seed, stream.get());
        else
          check_new_type_on_gpu<uint8_t>(t, M, K, seed, stream.get());
      }
}

TEST_CASE("format gpu: tf32 reorders agree with the CPU bit for bit", "[format][gpu]") {
  Stream stream;
  const std::pair<int64_t, int64_t> shapes[] = {{32, 16}, {64, 48}, {96, 128}, {16, 32}, {128, 2080}};
  for (MetaLayout layout : {MetaLayout::LaneBlocks16, MetaLayout::Wgmma16x64})
    for (const auto& [M, K] : shapes) {
      const f::MetaLayoutDesc& d = f::desc(layout);
      if (M % d.block_rows() != 0 || K % (2 * d.block_nibble_cols()) != 0) continue;
      INFO(f::name(layout) << ", tf32 " << M << " x " << K);
      const auto canonical = random_bytes(static_cast<size_t>(M * K / 4), 7);
      std::vector<uint8_t> want(f::meta_bytes(layout, DType::tf32, M, K));
      f::reorder_meta(layout, DType::tf32, canonical.data(), M, K, want.data());
      DeviceBuffer<uint8_t> d_in(canonical), d_out(want.size());
      d_out.poison();
      f::gpu::reorder_meta(layout, DType::tf32, d_in.get(), M, K, d_out.get(), stream.get());
      stream.sync();
      CHECK(mismatches(d_out.download(), want) == 0);
    }
  // 8-bit types: only the canonical form (no kernel layout reads 8-bit metadata yet); refused before launch.
  DeviceBuffer<uint8_t> m(64 * 64 / 8);
  REQUIRE_FORMAT_ERROR(f::gpu::reorder_meta(MetaLayout::LaneBlocks16, DType::int8, m.get(), 64, 64, m.get()),
                       "format::gpu::reorder_meta: metadata layout lane_blocks16 is read by no instruction of "
                       "8-bit types");
}

TEST_CASE("format gpu: the 8-bit kernels need 8-byte aligned dense pointers, tf32 16-byte", "[format][gpu]") {
  DeviceBuffer<uint8_t> e(256), m(64);
  REQUIRE_FORMAT_ERROR(f::gpu::prune(DType::int8, e.get() + 4, 1, 8, e.get()),
                       "dense is not 8-byte aligned (the kernel moves 8 bytes per access)");
  REQUIRE_FORMAT_ERROR(f::gpu::compress(DType::e4m3, e.get(), 1, 8, e.get() + 2, m.get()),
                       "values is not 4-byte aligned");
  REQUIRE_FORMAT_ERROR(f::gpu::prune(DType::tf32, e.get() + 8, 1, 4, e.get()), "dense is not 16-byte aligned");
  REQUIRE_FORMAT_ERROR(f::gpu::prune(DType::f32, e.get(), 1, 8, e.get()), "has no sparse format");
}

// =====================================================================================================================
// format.s02_onepass: gpu::prune_compress (kernels/format/onepass_gpu.cu), one pass from dense W to the values and the
// metadata in a layout, against the CPU's prune + compress + reorder_meta bit for bit
// =====================================================================================================================

namespace {

// Each (type, layout) the one-pass kernel serves, on shapes that make it cover: several row tiles, a last tile
// narrower than the kernel's tile (its tiles are 256 columns for lane_blocks16, 512 for wgmma16x64 and 1024 for
// lane_blocks8 and 8-bit canonical, 8192 for 16-bit canonical), one block column, and K below one tile.
struct OnepassCase {
  DType t;
  MetaLayout layout;
};
constexpr OnepassCase kOnepassCases[] = {
    {DType::fp16, MetaLayout::LaneBlocks16}, {DType::bf16, MetaLayout::LaneBlocks16},
    {DType::fp16, MetaLayout::Wgmma16x64},   {DType::bf16, MetaLayout::Wgmma16x64},
    {DType::fp16, MetaLayout::Canonical},    {DType::bf16, MetaLayout::Canonical},
    {DType::int8, MetaLayout::LaneBlocks8},  {DType::e4m3, MetaLayout::LaneBlocks8},
    {DType::e5m2, MetaLayout::LaneBlocks8},  {DType::int8, MetaLayout::Canonical},
    {DType::e4m3, MetaLayout::Canonical}};
const std::pair<int64_t, int64_t> kOnepassShapes[] = {{32, 32},   {64, 64},    {96, 320},   {32, 1088},
                                                      {64, 4160}, {160, 8256}, {16, 1024}, {48, 192}};
// Bytes past each output that must stay poisoned: a kernel that writes past the end of a range shows up here.
constexpr size_t kGuard = 256;

template <class S>
std::vector<S> onepass_input(DType t, int64_t M, int64_t K, uint32_t seed) {
  if constexpr (sizeof(S) == 2) {
    (void)t;
    return random_dense(M, K, seed);   // fp16 bit patterns: NaN, inf, -0.0, ties; bf16 reads the same bits
  } else {
    return random_dense_of<S>(t, M, K, seed);
  }
}

template <class S>
void check_onepass(DType t, MetaLayout layout, int64_t M, int64_t K, uint32_t seed, void* stream) {
  const auto dense = onepass_input<S>(t, M, K, seed);
  const size_t meta_bytes = f::meta_bytes(layout, t, M, K), value_bytes = dense.size() / 2 * sizeof(S);
  std::vector<uint8_t> want_values(value_bytes), want_meta(meta_bytes);
  f::prune_compress(t, layout, dense.data(), M, K, want_values.data(), want_meta.data());
  DeviceBuffer<S> d_dense(dense);
  DeviceBuffer<uint8_t> d_values(value_bytes + kGuard), d_meta(meta_bytes + kGuard);
  d_values.poison(), d_meta.poison();
  f::gpu::prune_compress(t, layout, d_dense.get(), M, K, d_values.get(), d_meta.get(), stream);
  const auto got_values = d_values.download(), got_meta = d_meta.download();
  const std::vector<uint8_t> values(got_values.begin(), got_values.begin() + static_cast<int64_t>(value_bytes));
  const std::vector<uint8_t> meta(got_meta.begin(), got_meta.begin() + static_cast<int64_t>(meta_bytes));
  CHECK(mismatches(values, want_values) == 0);
  CHECK(mismatches(meta, want_meta) == 0);
  CHECK(std::all_of(got_values.begin() + static_cast<int64_t>(value_bytes), got_values.end(),
                    [](uint8_t b) { return b == 0xFF; }));
  CHECK(std::all_of(got_meta.begin() + static_cast<int64_t>(meta_bytes), got_meta.end(),
                    [](uint8_t b) { return b == 0xFF; }));
}

}  // namespace

TEST_CASE("format gpu: the one-pass prune_compress agrees with the CPU bit for bit", "[format][gpu][onepass]") {
  Stream stream;
  int checked = 0;
  for (const OnepassCase& c : kOnepassCases)
    for (const auto& [M, K] : kOnepassShapes) {
      const f::MetaLayoutDesc& d = f::desc(c.layout);
      const int bits = sparse24::info(c.t).bits;
      if (M % d.block_rows() != 0 || K % (4 * d.block_nibble_cols()) != 0 || (K * bits / 8) % 16 != 0) continue;
      for (uint32_t seed : kSeeds) {
        INFO(sparse24::name(c.t) << ", " << f::name(c.layout) << ", " << M << " x " << K << ", seed " << seed);
        if (bits == 16)
          check_onepass<uint16_t>(c.t, c.layout, M, K, seed, stream.get());
        else
          check_onepass<uint8_t>(c.t, c.layout, M, K, seed, stream.get());
        ++checked;
      }
    }
  CHECK(checked >= 100);   // the shape filter above must leave most cases in
}

TEST_CASE("format gpu: the one-pass prune_compress refuses bad input before launch, with the rule", "[format][gpu]") {
  DeviceBuffer<uint8_t> e(64 * 1024), v(32 * 1024), m(8 * 1024);
  uint8_t* dense = e.get();
  auto run = [&](DType t, MetaLayout l, int64_t M, int64_t K, const void* in, void* values, uint8_t* meta) {
    f::gpu::prune_compress(t, l, in, M, K, values, meta);
  };
  // Types: tf32's 1:2 pairs and the types without a format.
  REQUIRE_FORMAT_ERROR(run(DType::tf32, MetaLayout::LaneBlocks16, 32, 32, dense, v.get(), m.get()),
                       "the one-pass kernel handles 2:4 types");
  REQUIRE_FORMAT_ERROR(run(DType::f32, MetaLayout::Canonical, 32, 32, dense, v.get(), m.get()),
                       "has no sparse format");
  // Shapes: the layout's blocks (check_layout_shape's messages, as every other format call).
  REQUIRE_FORMAT_ERROR(run(DType::fp16, MetaLayout::LaneBlocks16, 16, 32, dense, v.get(), m.get()),
                       "M = 16 is not a multiple of 32 (lane-block metadata serves 32 rows)");
  REQUIRE_FORMAT_ERROR(run(DType::bf16, MetaLayout::LaneBlocks16, 32, 48, dense, v.get(), m.get()),
                       "K = 48 is not a multiple of 32");
  REQUIRE_FORMAT_ERROR(run(DType::int8, MetaLayout::LaneBlocks8, 16, 32, dense, v.get(), m.get()),
                       "K = 32 is not a multiple of 64 (8-bit lane-block metadata covers one m16n8k64 k-step)");
  REQUIRE_FORMAT_ERROR(run(DType::int8, MetaLayout::LaneBlocks16, 32, 64, dense, v.get(), m.get()),
                       "metadata layout lane_blocks16 is read by no instruction of 8-bit types");
  REQUIRE_FORMAT_ERROR(run(DType::e4m3, MetaLayout::Canonical, 2, 12, dense, v.get(), m.get()),
                       "K = 12 is not a multiple of 8");
  // The kernel's own rule: a dense row is whole 16-byte loads (8-bit canonical accepts K % 8 == 0 otherwise).
  REQUIRE_FORMAT_ERROR(run(DType::int8, MetaLayout::Canonical, 2, 24, dense, v.get(), m.get()),
                       "K = 24 is not a multiple of 16 (the kernel reads a int8 row in 16-byte loads)");
  // Pointers: null, and misaligned for the kernel's 16-byte loads, 8-byte value stores and 16-byte metadata stores.
  REQUIRE_FORMAT_ERROR(run(DType::fp16, MetaLayout::LaneBlocks16, 32, 32, nullptr, v.get(), m.get()),
                       "dense is a null pointer");
  REQUIRE_FORMAT_ERROR(run(DType::fp16, MetaLayout::LaneBlocks16, 32, 32, dense, nullptr, m.get()),
                       "values is a null pointer");
  REQUIRE_FORMAT_ERROR(run(DType::fp16, MetaLayout::LaneBlocks16, 32, 32, dense, v.get(), nullptr),
                       "meta is a null pointer");
  REQUIRE_FORMAT_ERROR(run(DType::fp16, MetaLayout::LaneBlocks16, 32, 32, dense + 8, v.get(), m.get()),
                       "dense is not 16-byte aligned (the kernel reads 16 bytes per access)");
  REQUIRE_FORMAT_ERROR(run(DType::bf16, MetaLayout::LaneBlocks16, 32, 32, dense, v.get() + 4, m.get()),
                       "values is not 8-byte aligned (the kernel stores 8 bytes per access)");
  REQUIRE_FORMAT_ERROR(run(DType::int8, MetaLayout::LaneBlocks8, 16, 64, dense, v.get(), m.get() + 4),
                       "meta is not 16-byte aligned");
  // Aligned neighbours of the refused pointers are accepted (the checks are not stricter than their rule).
  e.upload(std::vector<uint8_t>(e.bytes(), 0x3C));
  CHECK_NOTHROW(run(DType::fp16, MetaLayout::LaneBlocks16, 32, 32, dense + 16, v.get() + 8, m.get() + 16));
  // Nothing was launched by the refused calls, and nothing went wrong on the device.
  CHECK(cudaDeviceSynchronize() == cudaSuccess);
  CHECK(cudaGetLastError() == cudaSuccess);
}

// =====================================================================================================================
// Transposable 2:4 in one pass: transposable::gpu::prune_compress_both against the CPU's prune_compress_both (the
// exact pattern per 4x4 block; W's and Wᵀ's values and metadata) bit for bit
// =====================================================================================================================

namespace {

namespace tr = sparse24::format::transposable;

// random_dense without NaNs (the CPU reference refuses them; the NaN case is below): exponent-all-ones patterns
// become finite, inf stays possible through kInf's own pattern only where the mantissa is zero.
std::vector<uint16_t> finite_dense(int64_t M, int64_t K, uint32_t seed) {
  auto x = random_dense(M, K, seed);
  for (auto& v : x)
    if ((v & 0x7C00) == 0x7C00 && (v & 0x03FF) != 0) v = static_cast<uint16_t>(v & 0x83FF);
  return x;
}

// One dense W: the CPU reference's four outputs and the device buffers a GPU pass writes. run_and_check poisons the
// outputs, zeroes the NaN counter, calls launch() (which writes the buffers on `stream`), waits, and compares all
// four outputs bit for bit and the counter with 0.
struct TransposableCase {
  std::vector<uint16_t> want_values, want_values_t;
  std::vector<uint8_t> want_meta, want_meta_t;
  DeviceBuffer<uint16_t> d_dense, d_values, d_values_t;
  DeviceBuffer<uint8_t> d_meta, d_meta_t;
  DeviceBuffer<unsigned long long> d_nan;
  TransposableCase(DType t, MetaLayout l, const std::vector<uint16_t>& dense, int64_t M, int64_t K)
      : want_values(dense.size() / 2), want_values_t(dense.size() / 2), want_meta(dense.size() / 8),
        want_meta_t(dense.size() / 8), d_dense(dense), d_values(dense.size() / 2), d_values_t(dense.size() / 2),
        d_meta(dense.size() / 8), d_meta_t(dense.size() / 8), d_nan(1) {
    tr::prune_compress_both(t, l, dense.data(), M, K, want_values.data(), want_meta.data(), want_values_t.data(),
                            want_meta_t.data());
  }
  template <class Launch>
  void run_and_check(Stream& stream, Launch launch) {
    d_values.poison(), d_values_t.poison(), d_meta.poison(), d_meta_t.poison();
    d_nan.upload({0ull});
    launch();
    stream.sync();
    CHECK(mismatches(d_values.download(), want_values) == 0);
    CHECK(mismatches(d_meta.download(), want_meta) == 0);
    CHECK(mismatches(d_values_t.download(), want_values_t) == 0);
    CHECK(mismatches(d_meta_t.download(), want_meta_t) == 0);
    CHECK(d_nan.download()[0] == 0);
  }
  // The GPU pass with the given scoring and grid into this case's buffers.
  void run_pass(Stream& stream, DType t, MetaLayout l, int64_t M, int64_t K, tr::gpu::Scoring scoring,
                tr::gpu::Grid grid, int max_blocks) {
    run_and_check(stream, [&] {
      tr::gpu::prune_compress_both(t, l, d_dense.get(), M, K, d_values.get(), d_meta.get(), d_values_t.get(),
                                   d_meta_t.get(), d_nan.get(), stream.get(), scoring, grid, max_blocks);
    });
  }
};

}  // namespace

TEST_CASE("transposable gpu: W and its transpose compressed in one pass agree with the CPU bit for bit",
          "[format][gpu][transposable]") {
  Stream stream;
  const std::pair<int64_t, int64_t> shapes[] = {{64, 64}, {128, 192}, {192, 128}, {64, 320}, {256, 256}};
  for (DType t : kBothTypes)
    for (MetaLayout l : {MetaLayout::LaneBlocks16, MetaLayout::Wgmma16x64})
      for (const auto& [M, K] : shapes)
        for (uint32_t seed : kSeeds) {
          INFO(sparse24::name(t) << ", " << f::name(l) << ", " << M << " x " << K << ", seed " << seed);
          auto dense = finite_dense(M, K, seed);
          if (t == DType::bf16)   // bf16's NaNs are the exponent-all-ones patterns with a mantissa: clear them too
            for (auto& v : dense)
              if ((v & 0x7F80) == 0x7F80 && (v & 0x007F) != 0) v = static_cast<uint16_t>(v & 0x807F);
          TransposableCase c(t, l, dense, M, K);
          // Both scorings (s03's 90 patterns, s04's two halves with the full scan where a block's sums are not
          // exact: this data's inf and wide bf16 spans take that path) and both grids, one reference.
          // s05's persistent grid with at most 3 blocks: every block takes several tiles (up to 6 at 256 x 256, an
          // odd count for some), so both shared-memory stages and the last-tile exit run. s06 (int keys) and s07
          // (slots): this data's any-bit-pattern blocks mostly take their double fallback (for s07, the double
          // path's mask mapped to its slot); the test below feeds them the fast path. s08 (lean slots): the same
          // blocks go to the warp's scan of the 90 patterns, most warps with many lanes pending at once.
          struct Run {
            const char* what;
            tr::gpu::Scoring scoring;
            tr::gpu::Grid grid;
            int max_blocks;
          };
          const Run runs[] = {{"full scan", tr::gpu::Scoring::full, tr::gpu::Grid::tile_per_block, 0},
                              {"halves", tr::gpu::Scoring::halves, tr::gpu::Grid::tile_per_block, 0},
                              {"halves, persistent, 3 blocks", tr::gpu::Scoring::halves, tr::gpu::Grid::persistent, 3},
                              {"halves, persistent", tr::gpu::Scoring::halves, tr::gpu::Grid::persistent, 0},
                              {"int keys, one tile per block", tr::gpu::Scoring::int_keys,
                               tr::gpu::Grid::tile_per_block, 0},
                              {"int keys, persistent, 3 blocks", tr::gpu::Scoring::int_keys, tr::gpu::Grid::persistent,
                               3},
                              {"int keys, persistent", tr::gpu::Scoring::int_keys, tr::gpu::Grid::persistent, 0},
                              {"slots, one tile per block", tr::gpu::Scoring::slots, tr::gpu::Grid::tile_per_block, 0},
                              {"slots, persistent, 3 blocks", tr::gpu::Scoring::slots, tr::gpu::Grid::persistent, 3},
                              {"slots, persistent", tr::gpu::Scoring::slots, tr::gpu::Grid::persistent, 0},
                              {"lean slots, one tile per block", tr::gpu::Scoring::lean_slots,
                               tr::gpu::Grid::tile_per_block, 0},
                              {"lean slots, persistent, 3 blocks", tr::gpu::Scoring::lean_slots,
                               tr::gpu::Grid::persistent, 3},
                              {"lean slots, persistent", tr::gpu::Scoring::lean_slots, tr::gpu::Grid::persistent, 0}};
          for (const Run& r : runs) {
            INFO(r.what);
            c.run_pass(stream, t, l, M, K, r.scoring, r.grid, r.max_blocks);
          }
        }
}

TEST_CASE("transposable gpu: s06's, s07's and s08's integer keys on blocks that take them, ties included, bit for bit",
          "[format][gpu][transposable][intkeys]") {
  // Data whose blocks take the integer keys (transposable.h int_keys_choice): magnitudes within the type's span
  // limit (normal-like weights: one window of binades per matrix), and data full of ties (magnitudes 0, 1, 2 and
  // four values of one binade: many patterns with equal sums, decided by the rank bits and the strict '>'), and a
  // mix where every 7th block holds one inf (its warp runs both paths; s08: a few lanes of most warps pending for
  // the warp's scan). Both grids, against the CPU reference.
  Stream stream;
  const std::pair<int64_t, int64_t> shapes[] = {{64, 64}, {192, 128}, {256, 320}};
  for (DType t : kBothTypes)
    for (MetaLayout l : {MetaLayout::LaneBlocks16, MetaLayout::Wgmma16x64})
      for (const auto& [M, K] : shapes)
        for (int kind = 0; kind < 3; ++kind) {
          const bool bf16 = t == DType::bf16;
          const int mant_bits = bf16 ? 7 : 10;
          // Exponent fields base .. base + span: the widest span the keys take (normal values only).
          const uint32_t span = bf16 ? tr::IntKeyRule<true>::kMaxSpan : tr::IntKeyRule<false>::kMaxSpan;
          const uint32_t base = bf16 ? 110 : 5;
          INFO(sparse24::name(t) << ", " << f::name(l) << ", " << M << " x " << K << ", kind " << kind);
          std::mt19937 rng(static_cast<uint32_t>(M * 31 + K + kind));
          std::vector<uint16_t> dense(static_cast<size_t>(M * K));
          for (size_t i = 0; i < dense.size(); ++i) {
            const uint32_t x = rng(), sign = (x >> 31) << 15;
            uint32_t v;
            const uint32_t one = bf16 ? 0x3F80u : 0x3C00u, exponent_lsb = 1u << mant_bits;
            if (kind == 1) v = x % 3 == 0 ? 0u : one + (x % 3 == 2 ? exponent_lsb : 0u);           // 0, 1, 2
            else if (kind == 2 && x % 5 == 0) v = ((base + 2) << mant_bits) | ((x >> 8) & 3);      // 4 values
            else v = ((base + (x >> 3) % (span + 1)) << mant_bits) | ((x >> 12) & ((1u << mant_bits) - 1));
            dense[i] = static_cast<uint16_t>(v | sign);
          }
          if (kind == 2)   // one inf in every 7th 4x4 block: those blocks take the double path
            for (int64_t b = 0; b < M / 4 * (K / 4); b += 7)
              dense[static_cast<size_t>((b / (K / 4)) * 4 * K + (b % (K / 4)) * 4)] = bf16 ? 0x7F80 : 0x7C00;
          TransposableCase c(t, l, dense, M, K);
          for (tr::gpu::Scoring scoring :
               {tr::gpu::Scoring::int_keys, tr::gpu::Scoring::slots, tr::gpu::Scoring::lean_slots})
            for (int max_blocks : {0, 3}) {
              INFO((scoring == tr::gpu::Scoring::lean_slots ? "s08 lean slots"
                    : scoring == tr::gpu::Scoring::slots    ? "s07 slots"
                                                            : "s06 int keys")
                   << ", persistent, max_blocks " << max_blocks);
              c.run_pass(stream, t, l, M, K, scoring, tr::gpu::Grid::persistent, max_blocks);
            }
        }
}

TEST_CASE("transposable gpu: NaN blocks are counted, bad input refused before launch", "[format][gpu][transposable]") {
  const int64_t M = 64, K = 128;
  auto dense = finite_dense(M, K, 9);
  dense[0] = kNaN;                  // block (0, 0)
  dense[1] = kNaN;                  // the same block: counted once
  dense[5 * K + 70] = neg(kNaN);    // block (1, 17)
  dense[63 * K + 127] = 0x7C01;     // block (15, 31), a signalling-NaN pattern
  DeviceBuffer<uint16_t> d_dense(dense), d_values(dense.size() / 2), d_values_t(dense.size() / 2);
  DeviceBuffer<uint8_t> d_meta(dense.size() / 8), d_meta_t(dense.size() / 8);
  DeviceBuffer<unsigned long long> d_nan(1);
  d_nan.upload({0ull});
  tr::gpu::prune_compress_both(DType::fp16, MetaLayout::LaneBlocks16, d_dense.get(), M, K, d_values.get(),
                               d_meta.get(), d_values_t.get(), d_meta_t.get(), d_nan.get());
  CHECK(d_nan.download()[0] == 3);
  // s08 counts them in the warp's scan, each by the thread that owns the block (threads 0 and 17 of warp 0 and
  // thread 255 of warp 7, in two tiles), on both grids (persistent with one block: both tiles in one block).
  for (tr::gpu::Grid grid : {tr::gpu::Grid::tile_per_block, tr::gpu::Grid::persistent}) {
    d_nan.upload({0ull});
    tr::gpu::prune_compress_both(DType::fp16, MetaLayout::Wgmma16x64, d_dense.get(), M, K, d_values.get(),
                                 d_meta.get(), d_values_t.get(), d_meta_t.get(), d_nan.get(), nullptr,
                                 tr::gpu::Scoring::lean_slots, grid, 1);
    CHECK(d_nan.download()[0] == 3);
  }

  auto run = [&](DType t, MetaLayout l, int64_t m, int64_t k, const void* in, void* values, unsigned long long* nan) {
    tr::gpu::prune_compress_both(t, l, in, m, k, values, d_meta.get(), d_values_t.get(), d_meta_t.get(), nan);
  };
  REQUIRE_FORMAT_ERROR(run(DType::int8, MetaLayout::LaneBlocks16, 64, 64, d_dense.get(), d_values.get(), d_nan.get()),
                       "transposable masks are implemented for fp16 and bf16");
  REQUIRE_FORMAT_ERROR(run(DType::fp16, MetaLayout::Canonical, 64, 64, d_dense.get(), d_values.get(), d_nan.get()),
                       "the kernel writes lane_blocks16 or wgmma16x64");
  REQUIRE_FORMAT_ERROR(run(DType::fp16, MetaLayout::LaneBlocks16, 32, 64, d_dense.get(), d_values.get(), d_nan.get()),
                       "M = 32 is not a multiple of 64 (the kernel's tile)");
  REQUIRE_FORMAT_ERROR(run(DType::bf16, MetaLayout::Wgmma16x64, 64, 96, d_dense.get(), d_values.get(), d_nan.get()),
                       "is not a multiple of 64");
  REQUIRE_FORMAT_ERROR(run(DType::fp16, MetaLayout::LaneBlocks16, 64, 64, d_dense.get() + 4, d_values.get(),
                           d_nan.get()),
                       "dense is not 16-byte aligned");
  REQUIRE_FORMAT_ERROR(run(DType::fp16, MetaLayout::LaneBlocks16, 64, 64, d_dense.get(), d_values.get() + 2,
                           d_nan.get()),
                       "values is not 16-byte aligned");
  REQUIRE_FORMAT_ERROR(run(DType::fp16, MetaLayout::LaneBlocks16, 64, 64, d_dense.get(), d_values.get(), nullptr),
                       "nan_blocks is a null pointer");
  REQUIRE_FORMAT_ERROR(tr::gpu::prune_compress_both(DType::fp16, MetaLayout::LaneBlocks16, d_dense.get(), 64, 64,
                                                    d_values.get(), d_meta.get(), d_values_t.get(), d_meta_t.get(),
                                                    d_nan.get(), nullptr, tr::gpu::Scoring::full,
                                                    tr::gpu::Grid::persistent),
                       "runs the halves scoring only");
  REQUIRE_FORMAT_ERROR(tr::gpu::prune_compress_both(DType::fp16, MetaLayout::LaneBlocks16, d_dense.get(), 64, 64,
                                                    d_values.get(), d_meta.get(), d_values_t.get(), d_meta_t.get(),
                                                    d_nan.get(), nullptr, tr::gpu::Scoring::halves,
                                                    tr::gpu::Grid::persistent, -1),
                       "max_blocks = -1");
  CHECK(cudaDeviceSynchronize() == cudaSuccess);
  CHECK(cudaGetLastError() == cudaSuccess);
}

TEST_CASE("transposable gpu: the registered prune_compress_both runs through a plan, bit for bit, NaNs counted",
          "[format][gpu][transposable][registry]") {
  // The operation as the benchmark runs it (kernels/registry.h: prepare, then Plan::run on a stream), against the
  // CPU reference, for every registered (type, layout); then a NaN counted through the plan's arguments.
  Stream stream;
  const int64_t M = 128, K = 192;
  int variants = 0;
  for (const auto& v : sparse24::registry()) {
    if (v.operation != sparse24::Operation::prune_compress_both) continue;
    ++variants;
    INFO(v.name);
    auto dense = finite_dense(M, K, 17);
    if (v.types.a == DType::bf16)
      for (auto& x : dense)
        if ((x & 0x7F80) == 0x7F80 && (x & 0x007F) != 0) x = static_cast<uint16_t>(x & 0x807F);
    TransposableCase c(v.types.a, v.meta_layout, dense, M, K);
    sparse24::PruneCompressArgs a;
    a.M = M, a.K = K, a.dense = c.d_dense.get(), a.values = c.d_values.get(), a.meta = c.d_meta.get();
    a.values_t = c.d_values_t.get(), a.meta_t = c.d_meta_t.get(), a.nan_blocks = c.d_nan.get();
    const auto plan = sparse24::prepare(v, a);
    c.run_and_check(stream, [&] { plan->run(static_cast<cudaStream_t>(stream.get())); });
    // One NaN (fp16's and bf16's quiet NaN patterns both): counted once, through the plan's own counter.
    dense[5 * K + 7] = v.types.a == DType::bf16 ? uint16_t{0x7FC0} : kNaN;
    c.d_dense.upload(dense);
    plan->run(static_cast<cudaStream_t>(stream.get()));
    stream.sync();
    CHECK(c.d_nan.download()[0] == 1);
  }
  CHECK(variants == 24);   // s03 (the 90 patterns), s04 (two halves), s05 (s04, persistent), s06 (s05, integer
                           // keys), s07 (s06, slots), s08 (s07, four blocks per SM): 2 types x 2 layouts each
}
