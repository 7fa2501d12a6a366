// Block rasterization: the order in which a grid's blocks walk the tiles of D, for L2 reuse.
//
// CUDA starts blocks in linear order (x fastest). With x = column block, the blocks resident at once (1-2 per SM,
// 132 SMs) are a few row blocks x every column block: each A tile is shared by many resident blocks, but the whole
// of B streams through L2 again for every few row blocks. Grouped order walks GROUP row blocks down a column before
// moving to the next column, so the resident blocks form a squarer patch (GROUP rows x resident/GROUP columns) and
// both A and B tiles are reused from L2 by about sqrt(resident) blocks:
//
//   linear id:   0  G  2G ..          grid (GROUP = G row blocks per group):
//                1 G+1                  group 0: rows 0..G-1, ids 0 .. G*cols-1, column by column
//                ..                     group 1: rows G..2G-1, ...
//               G-1 2G-1                the last group may have fewer rows (M / BM not a multiple of G)
#pragma once

#include "kernels/common/fragments.h"

namespace sparse24 {

struct BlockCoord {
  int m, n;  // row block, column block
};

// The tile of linear block id `id` in a grid of grid_m x grid_n tiles, in grouped order of kGroup row blocks.
template <int kGroup>
SPARSE24_HD constexpr BlockCoord grouped_block(int id, int grid_m, int grid_n) {
  static_assert(kGroup >= 1, "a group has at least one row block");
  const int per_group = kGroup * grid_n;
  const int first_m = (id / per_group) * kGroup;
  const int rows = grid_m - first_m < kGroup ? grid_m - first_m : kGroup;
  const int in_group = id % per_group;
  return {first_m + in_group % rows, in_group / rows};
}

// Every tile exactly once (checked at compile time on a few grids by the kernels' static_asserts).
template <int kGroup>
constexpr bool grouped_order_is_bijective(int grid_m, int grid_n) {
  int hits[64 * 64] = {};
  if (grid_m * grid_n > 64 * 64) return false;
  for (int id = 0; id < grid_m * grid_n; ++id) {
    const BlockCoord c = grouped_block<kGroup>(id, grid_m, grid_n);
    if (c.m < 0 || c.m >= grid_m || c.n < 0 || c.n >= grid_n) return false;
    ++hits[c.m * grid_n + c.n];
  }
  for (int i = 0; i < grid_m * grid_n; ++i)
    if (hits[i] != 1) return false;
  return true;
}

}  // namespace sparse24
