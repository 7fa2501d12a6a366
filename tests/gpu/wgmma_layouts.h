// The shared-memory layouts of the one-instruction wgmma tests in bytes (test_wgmma_8bit_gpu.cu,
// test_wgmma_tf32_gpu.cu): tiles of `rows` K-major rows of kRowBytes = 128 bytes, in three layouts: KFast (core
// matrices of 8 rows x 16 bytes, no swizzle: LBO = 128 along K, SBO between 8-row groups), Sw128 (128-byte swizzle,
// SBO = 1024) and Sw64 (64-byte swizzle in 64-byte column blocks, SBO = 512; A in the TMA kernels' pairing A Sw64,
// B Sw128). A k-step is picked by advancing the descriptor's start address, as a kernel does. The 16-bit test
// (test_wgmma_instructions_gpu.cu) has its own element-indexed copy of the same maps.
#pragma once

#include <cstdint>

#include "kernels/common/ptx_sm90.cuh"

namespace sparse24::gputest {

inline constexpr int kWgmmaRowBytes = 128;  // bytes of each A and B row held in shared memory

enum class Layout { KFast, Sw128, Sw64 };
inline const char* layout_name(Layout l) {
  return l == Layout::KFast ? "KFast" : l == Layout::Sw128 ? "Sw128" : "Sw64";
}

struct DescFields {
  uint32_t start, lbo, sbo;
  ptx::SmemSwizzle swizzle;
};

// Byte offset of byte column cb of row r in a K-major tile of `rows` rows of kWgmmaRowBytes in layout l.
inline uint32_t layout_offset(Layout l, int rows, int r, int cb) {
  constexpr int kRowBytes = kWgmmaRowBytes;
  switch (l) {
    case Layout::KFast: return (r / 8) * 128 * (kRowBytes / 16) + (cb / 16) * 128 + (r % 8) * 16 + cb % 16;
    case Layout::Sw128: return (r / 8) * 1024 + (r % 8) * 128 + (((cb / 16) ^ (r % 8)) * 16) + cb % 16;
    case Layout::Sw64: {
      const int in_block = cb % 64;
      return (cb / 64) * rows * 64 + (r / 8) * 512 + (r % 8) * 64 + (((in_block / 16) ^ ((r % 8) / 2)) * 16) +
             in_block % 16;
    }
  }
  return 0;
}
// Descriptor fields for the k-step starting at byte column c0 (a multiple of 16).
inline DescFields layout_desc(Layout l, int rows, int c0) {
  constexpr int kRowBytes = kWgmmaRowBytes;
  switch (l) {
    case Layout::KFast:
      return {uint32_t(c0 / 16 * 128), 128u, uint32_t(128 * (kRowBytes / 16)), ptx::SmemSwizzle::None};
    case Layout::Sw128: return {uint32_t(c0), 16u, 1024u, ptx::SmemSwizzle::B128};
    case Layout::Sw64: return {uint32_t((c0 / 64) * rows * 64 + c0 % 64), 16u, 512u, ptx::SmemSwizzle::B64};
  }
  return {};
}

}  // namespace sparse24::gputest
