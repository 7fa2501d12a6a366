// The split-K model and workspace layouts (kernels/common/splitk.h): pure host arithmetic, no GPU.
#include "tests/catch.h"

#include <algorithm>
#include <cstdint>
#include <random>

#include "kernels/common/splitk.h"

using namespace sparse24;

TEST_CASE("choose_split: the fixed cost decides between one slice and the best split, nothing else", "[splitk]") {
  // One row block, 8 chunks of 1000 bytes, 8 slots, a 128 x 1 output. Costs (bytes):
  //   s = 1: 1 wave x 8 chunks x 8 slots x 1000 = 64000
  //   s = 8: 1 wave x 1 chunk  x 8 slots x 1000 + 8 x 8 x 128 x 1 partial bytes = 8000 + 8192 = 16192, + fixed
  //   (s = 2, 4 cost 32000 + 2048 and 16000 + 4096 plus the same fixed: always above s = 8)
  // so s = 8 wins while 16192 + fixed < 64000, i.e. fixed < 47808; at equality the smaller s (1) wins.
  auto pick = [](int64_t fixed) { return splitk::choose_split(1, 8, 8, 1000, 128, 1, fixed); };
  CHECK(pick(0) == 8);
  CHECK(pick(47807) == 8);
  CHECK(pick(47808) == 1);
  CHECK(pick(splitk::kLaunchBytes) == 1);
  // No split beyond the chunks there are, nor beyond kMaxSplit.
  CHECK(splitk::choose_split(1, 1, 132, 1000, 128, 1, 0) == 1);
  CHECK(splitk::choose_split(1, 1000, 132 * 4, 18432, 128, 1, 0) <= splitk::kMaxSplit);
}

TEST_CASE("choose_split: a lower fixed cost never picks a smaller split, and the choice is in range",
          "[splitk]") {
  std::mt19937 rng(8);
  for (int i = 0; i < 20000; ++i) {
    const int row_blocks = 1 + int(rng() % 512), chunks = 1 + int(rng() % 256), slots = 1 + int(rng() % 600);
    const int64_t chunk_bytes = 1 + int64_t(rng() % 40000);
    const int M = 32 * (1 + int(rng() % 1024)), N = 1 + int(rng() % 128);
    const int64_t lo = int64_t(rng() % 4'000'000), hi = lo + int64_t(rng() % 4'000'000);
    INFO(row_blocks << " row blocks, " << chunks << " chunks, " << slots << " slots, " << chunk_bytes
                    << " bytes per chunk, " << M << " x " << N << ", fixed " << lo << " / " << hi);
    const int s_lo = splitk::choose_split(row_blocks, chunks, slots, chunk_bytes, M, N, lo);
    const int s_hi = splitk::choose_split(row_blocks, chunks, slots, chunk_bytes, M, N, hi);
    REQUIRE(s_lo >= s_hi);
    REQUIRE(s_hi >= 1);
    REQUIRE(s_lo <= std::min(chunks, splitk::kMaxSplit));
    // Either the same split, or the higher cost fell back to one slice.
    if (s_lo != s_hi) REQUIRE(s_hi == 1);
  }
  CHECK(splitk::kArrivalBytes < splitk::kLaunchBytes);
}

TEST_CASE("split-K workspace layouts", "[splitk]") {
  CHECK(splitk::workspace_bytes(1, 4096, 16) == 0);
  CHECK(splitk::counted_workspace_bytes(1, 4096, 16, 32) == 0);
  CHECK(splitk::workspace_bytes(3, 4096, 16) == size_t(3) * 4096 * 16 * 4);
  // The one-launch layout: the same partials, then one 32-bit counter per row block.
  CHECK(splitk::counters_offset(3, 4096, 16) == splitk::workspace_bytes(3, 4096, 16));
  CHECK(splitk::counted_workspace_bytes(3, 4096, 16, 32) == splitk::workspace_bytes(3, 4096, 16) + 32 * 4);
  // M a multiple of 32 (every split-K variant's rule): the counters start 128-byte aligned, and so does every
  // slice of partials (the in-launch reduction reads them as float4).
  for (int split : {2, 3, 7, 32})
    for (int M : {32, 96, 4096, 14336})
      for (int N : {1, 3, 7, 16, 127}) {
        CHECK(splitk::counters_offset(split, M, N) % 128 == 0);
        CHECK((size_t(M) * N * 4) % 128 == 0);
      }
}

// The split-K choice of the block-tiled s06_splitk steps (choose_split_compute): a model
// in rounds of BK tiles, so the cases below are worked out by hand from it. The GPU figures are an H100 SXM's
// published peaks (132 SMs, 1980 MHz, 3.35 TB/s HBM3) and the sparse 128x256x64 tile at 1 block per SM; the cases
// that must not depend on those figures are checked with the bytes per round scaled from a quarter to four times.
TEST_CASE("split-K for compute-bound tiles: wave quantization against the partials' traffic", "[splitk]") {
  const double h100_round = splitk::round_bytes(2.0 * 128 * 256 * 64, 1, 2 * splitk::kMmaDenseFlopsPerClkSm, 1980e6,
                                                3.35e12);
  REQUIRE(h100_round > 0);
  const int slots = 132;
  auto split = [&](int M, int N, int K, double round) {
    return splitk::choose_split_compute((M / 128) * (N / 256), K / 64, slots, M, N, 2, round);
  };
  for (double scale : {0.25, 0.5, 1.0, 2.0, 4.0}) {
    INFO("bytes per round x " << scale);
    const double round = h100_round * scale;
    // 512 tiles = 3.88 waves: split s costs ceil(512 s / 132) * ceil(448 / s) >= 1750 rounds against 1792 at s = 1
    // (at most 2.3% back), and every slice's partials (8 s M N bytes) cost more than that.
    CHECK(split(8192, 2048, 28672, round) == 1);
    // 2048 tiles = 15.5 waves, K = 128 BK tiles: the same, with less K to share.
    CHECK(split(8192, 8192, 8192, round) == 1);
    // 64 tiles fill half the slots: split 2 is one full wave of 224 tiles instead of a half-empty one of 448.
    CHECK(split(1024, 2048, 28672, round) == 2);
  }
  // 160 tiles = 1.2 waves, where the trade-off decides: s = 2, 3, 4 cost 672, 600, 560 rounds of main loop plus
  // 56, 80, 104 rounds of partials (at the H100 figures) against 896 rounds at s = 1: 4 wins.
  CHECK(split(1280, 4096, 28672, h100_round) == 4);
  // With free partials the choice is wave quantization alone: main(s) = ceil(160 s / 132) * ceil(448 / s) is lowest
  // at s = 14 (17 waves x 32 tiles = 544; s = 28 ties, and the smaller split wins).
  CHECK(splitk::choose_split_compute(160, 448, slots, 1280, 4096, 2, 1e30) == 14);
  // A slice never has fewer than kMinSliceTiles (8) BK tiles: 16 tiles allow 2 slices, 15 allow 1.
  CHECK(splitk::choose_split_compute(4, 16, slots, 256, 512, 2, 1e30) == 2);
  CHECK(splitk::choose_split_compute(4, 15, slots, 256, 512, 2, 1e30) == 1);
  // No figures (an attribute the device did not report): no split.
  CHECK(splitk::choose_split_compute(64, 448, slots, 1024, 2048, 2, 0) == 1);
  CHECK(splitk::round_bytes(2.0 * 128 * 256 * 64, 1, 4096, 1980e6, 0) == 0);
}

// The same model at the wgmma rate (wgmma_sp.s08_splitk, one CTA per SM), for the decode shape it was built for:
// 4096 x 128 x 14336 in 128 x 128 tiles is 32 tiles for 132 slots and 224 BK tiles. At the H100 figures a round
// moves 433 KB, so the partials cost 9.7 s + 9.4 rounds (8 s M N + 2 M N + kLaunchBytes): s = 1, 2, 3, 4, 5 cost
// 224, 141, 113, 104, 148 rounds (s = 5 needs two waves), and 4 wins.
TEST_CASE("split-K at the wgmma rate: the decode shape 4096x128x14336 takes 4 slices", "[splitk]") {
  const double round = splitk::round_bytes(2.0 * 128 * 128 * 64, 1, 2 * splitk::kWgmmaDenseFlopsPerClkSm, 1980e6,
                                           3.35e12);
  CHECK(round == Approx(433.1e3).epsilon(0.01));
  CHECK(splitk::choose_split_compute(32, 224, 132, 4096, 128, 2, round) == 4);
  // The large shapes keep one slice: 8192^3 in 128 x 256 tiles is 2048 tiles (15.5 waves).
  const double round256 = splitk::round_bytes(2.0 * 128 * 256 * 64, 1, 2 * splitk::kWgmmaDenseFlopsPerClkSm, 1980e6,
                                              3.35e12);
  CHECK(splitk::choose_split_compute(2048, 128, 132, 8192, 8192, 2, round256) == 1);
  CHECK(splitk::choose_split_compute(512, 448, 132, 8192, 2048, 2, round256) == 1);
}

TEST_CASE("split-K slices are contiguous runs of whole BK tiles, at most one tile apart", "[splitk]") {
  for (int k_tiles : {1, 7, 8, 128, 448})
    for (int split = 1; split <= splitk::kMaxSplit; ++split) {
      INFO(k_tiles << " BK tiles in " << split << " slices");
      int next = 0, shortest = k_tiles, longest = 0;
      for (int z = 0; z < split; ++z) {
        const splitk::Slice s = splitk::slice_of(z, split, k_tiles);
        CHECK(s.begin == next);
        CHECK(s.end >= s.begin);
        next = s.end;
        shortest = std::min(shortest, s.end - s.begin), longest = std::max(longest, s.end - s.begin);
      }
      CHECK(next == k_tiles);
      CHECK(longest - shortest <= 1);
      CHECK(longest == (k_tiles + split - 1) / split);  // what choose_split_compute charges a wave
    }
}
