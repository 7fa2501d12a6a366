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
