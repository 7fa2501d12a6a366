// XOR swizzle of 16-byte chunks in shared tiles without padding: which physical chunk holds logical chunk c of
// row r, so that both the cp.async writes and the ldmatrix reads of 8 consecutive rows hit 8 different 16-byte
// bank groups (a 128-byte shared-memory line has 8 of them; ldmatrix reads one 16-byte row per lane, 8 lanes per
// matrix, so it is conflict-free exactly when those 8 rows fall in 8 different groups).
//
// Rows of kChunks >= 8 chunks (BK = 64 for 16-bit B and dense A: 128-byte rows):
//   physical chunk = c ^ (r % 8)           row r:  0: 0 1 2 3 4 5 6 7
//                                                  1: 1 0 3 2 5 4 7 6    a column of logical chunk c across 8
//                                                  2: 2 3 0 1 6 7 4 5    rows lands in 8 different columns
// Rows of kChunks < 8 chunks (compressed A at BK = 64: 64-byte rows, two rows per 128-byte line):
//   physical chunk = c ^ ((r / L) % kChunks), L = 8 / kChunks rows per line
//     rows r = 2j, 2j+1 share a line (groups 0-3 and 4-7); within a line the XOR with j spreads the 4 line pairs
//     of 8 rows over the 4 chunks: 8 rows -> (r % 2, c ^ j) = 8 distinct groups.
#pragma once

#include "kernels/common/fragments.h"

namespace sparse24 {

template <int kChunks>
SPARSE24_HD constexpr int swizzle_chunk(int r, int c) {
  static_assert(kChunks > 0 && (kChunks & (kChunks - 1)) == 0, "swizzled rows must be a power of 2 of chunks");
  if constexpr (kChunks >= 8) {
    return c ^ (r % 8);
  } else {
    constexpr int kRowsPerLine = 8 / kChunks;
    return c ^ ((r / kRowsPerLine) % kChunks);
  }
}

// Byte offset of logical 16-byte chunk c of row r in a swizzled tile of kChunks chunks per row.
template <int kChunks>
SPARSE24_HD constexpr int swizzle_offset(int r, int c) {
  return (r * kChunks + swizzle_chunk<kChunks>(r, c)) * 16;
}

// The property the kernels rely on, checked at compile time: 8 consecutive rows starting at a multiple of 8, same
// logical chunk, fall in 8 different 16-byte bank groups.
template <int kChunks>
constexpr bool swizzle_conflict_free() {
  for (int c = 0; c < kChunks; ++c) {
    int seen = 0;
    for (int r = 0; r < 8; ++r) seen |= 1 << ((swizzle_offset<kChunks>(r, c) / 16) % 8);
    if (seen != 0xff) return false;
  }
  return true;
}

}  // namespace sparse24
