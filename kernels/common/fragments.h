// Which lane holds which element: the per-lane fragment maps of the instructions we use.
//
// These are hardware facts (PTX ISA 9.7.14.5.8 and 9.7.14.6.3; verified on an H200 for m16n8k32, see
// docs/sparse-tensor-cores.md section 3). The kernels use them for epilogue indexing and the tests use
// them on the host to build or read fragments, so both are written once, here. Notation: lane = 4*g + q.
//
// C/D of any m16n8 shape (f32 accumulators, 4 per lane):
//
//            col: 0   1   2   3   4   5   6   7
//   row 0       [ T0      T1      T2      T3     ]   lane T(4g+q) holds (g, 2q) and (g, 2q+1) in d0, d1
//   row 1       [ T4      T5      T6      T7     ]
//   ...
//   row 7       [ T28     T29     T30     T31    ]
//   row 8..15   the same lanes again, in d2, d3
//
// A of m16n8k32 sparse (compressed tile 16 x 16 values; identical to the dense m16n8k16 A fragment):
//   a0 = (g, 2q..2q+1)   a1 = (g+8, 2q..2q+1)   a2 = (g, 8+2q..9+2q)   a3 = (g+8, 8+2q..9+2q)
// B of m16n8k32 (32 x 8, K-major in registers): b_i = (k = 8i+2q, 8i+2q+1; n = g), i = 0..3.
// B of m16n8k16 (16 x 8): the first two of those, b_0 and b_1.
#pragma once

#ifdef __CUDACC__
#define SPARSE24_HD __host__ __device__
#else
#define SPARSE24_HD
#endif

namespace sparse24::frag {

struct RowCol {
  int row, col;
};

// C/D element i (0..3) of `lane`.
SPARSE24_HD constexpr RowCol acc_m16n8(int lane, int i) {
  return {lane / 4 + 8 * (i / 2), 2 * (lane % 4) + (i % 2)};
}

// Compressed-A element j (0..7: register j/2, half j%2) of `lane`, for m16n8k32 sparse (and dense m16n8k16).
SPARSE24_HD constexpr RowCol a_m16k16(int lane, int j) {
  return {lane / 4 + 8 * ((j / 2) % 2), 8 * (j / 4) + 2 * (lane % 4) + (j % 2)};
}

// B element j (0..7: register j/2, half j%2) of `lane` for m16n8k32, as (k, n).
SPARSE24_HD constexpr RowCol b_k32n8(int lane, int j) {
  return {8 * (j / 2) + 2 * (lane % 4) + (j % 2), lane / 4};
}

// Accumulator element i (0..N/2-1) of `thread` (0..127) of a warpgroup for wgmma m64nNk* with f32 accumulators
// (PTX ISA 9.7.15.5.1.1, the D fragment of every wgmma shape): warp w = thread / 32 owns rows 16w..16w+15, and
// each group of 4 registers is the m16n8 C fragment above for the columns 8*(i/4)..8*(i/4)+7.
SPARSE24_HD constexpr RowCol acc_m64(int thread, int i) {
  return {16 * (thread / 32) + (thread % 32) / 4 + 8 * ((i / 2) % 2), 8 * (i / 4) + 2 * (thread % 4) + (i % 2)};
}

// ---- 8-bit operands (four values per register; docs/sparse-tensor-cores.md §3) ----------------------------------
// A of m16n8k64 sparse (compressed tile 16 x 32 bytes; identical to the dense 8-bit m16n8k32 A fragment):
//   a0 = (g, 4q..4q+3)   a1 = (g+8, 4q..4q+3)   a2 = (g, 16+4q..19+4q)   a3 = (g+8, 16+4q..19+4q)
// B of m16n8k64 (64 x 8): b_i = (k = 16i+4q .. 16i+4q+3; n = g), i = 0..3; dense m16n8k32 uses b_0 and b_1.
// Element j (0..15) is byte j%4 of register j/4, the lowest byte first.
SPARSE24_HD constexpr RowCol a8_m16k32(int lane, int j) {
  return {lane / 4 + 8 * ((j / 4) % 2), 16 * (j / 8) + 4 * (lane % 4) + j % 4};
}
SPARSE24_HD constexpr RowCol b8_k64n8(int lane, int j) { return {16 * (j / 4) + 4 * (lane % 4) + j % 4, lane / 4}; }

// ---- tf32 operands (one value per register) ----------------------------------------------------------------------
// A of m16n8k16 sparse (compressed tile 16 x 8; identical to the dense m16n8k8 A fragment):
//   a0 = (g, q)   a1 = (g+8, q)   a2 = (g, q+4)   a3 = (g+8, q+4)
// B of m16n8k16 (16 x 8): b_i = (k = q + 4i; n = g), i = 0..3; dense m16n8k8 uses b_0 and b_1.
SPARSE24_HD constexpr RowCol a32_m16k8(int lane, int j) { return {lane / 4 + 8 * (j % 2), lane % 4 + 4 * (j / 2)}; }
SPARSE24_HD constexpr RowCol b32_k16n8(int lane, int j) { return {lane % 4 + 4 * j, lane / 4}; }

// The fact the tf32 kernels stand on (mma_sp s04_swizzle, skinny s01_splitk): value j of a lane's tf32 m16n8k16 A or
// B fragment is register j, whose 4 bytes are 16-bit elements 2j and 2j + 1 of the m16n8k32 fragment (same row of A
// or column of B, same byte offset: 4 x the tf32 column = 2 x the 16-bit one). So tf32 runs on the 16-bit tiles and
// loads in bytes, with half the values per k-step (BK = 32 values is 128 bytes of a B row).
SPARSE24_HD constexpr bool tf32_fragments_are_16bit_bytes() {
  for (int lane = 0; lane < 32; ++lane)
    for (int j = 0; j < 4; ++j) {
      const RowCol a32 = a32_m16k8(lane, j), a16 = a_m16k16(lane, 2 * j);
      const RowCol a16_hi = a_m16k16(lane, 2 * j + 1);
      if (a32.row != a16.row || 4 * a32.col != 2 * a16.col || a16_hi.row != a16.row || a16_hi.col != a16.col + 1)
        return false;
      const RowCol b32 = b32_k16n8(lane, j), b16 = b_k32n8(lane, 2 * j);
      const RowCol b16_hi = b_k32n8(lane, 2 * j + 1);
      if (b32.col != b16.col || 4 * b32.row != 2 * b16.row || b16_hi.col != b16.col || b16_hi.row != b16.row + 1)
        return false;
    }
  return true;
}

// ldmatrix.x4 row addresses: lanes 8i..8i+7 give the 8 row addresses of matrix i (ptx::ldmatrix_x4), so lane l
// points at one (row, column) of the tile. Two arrangements serve every kernel:
//   A (16 x 16 tile, matrices = (rows 0-7 | 8-15) x (cols 0-7 | 8-15)): register i of every lane is a_i of the
//     m16n8k16 A fragment above (and of the compressed m16n8k32 sparse A);
//   B (8 rows n x 32 columns k, matrices = the four 8-wide k chunks): register i is b_i of b_k32n8.
SPARSE24_HD constexpr RowCol ldmatrix_x4_a_16x16(int lane) {
  return {(lane % 8) + 8 * ((lane / 8) % 2), 8 * (lane / 16)};
}
SPARSE24_HD constexpr RowCol ldmatrix_x4_b_8x32(int lane) { return {lane % 8, 8 * (lane / 8)}; }

}  // namespace sparse24::frag
