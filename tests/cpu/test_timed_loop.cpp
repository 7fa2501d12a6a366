// gbench_loop (harness/timing.h): how the runner reads Google Benchmark's calls of one row's loop, with a fake
// iteration (no GPU): the samples are the reported call's, the row is cleared afterwards (the next row's loop does
// not run it again), and an iteration that throws leaves nothing registered.
#include "tests/catch.h"

#include <stdexcept>
#include <utility>

#include "harness/timing.h"

using namespace sparse24::harness;

TEST_CASE("the samples are those of the call Google Benchmark reports", "[timed_loop]") {
  int iterations = 0;
  // 2 ms per iteration against a 20 ms minimum: Google Benchmark needs more than one call to size the count.
  const LoopSamples s = gbench_loop("fake/1x1x1", 0.02, [&] {
    ++iterations;
    return std::make_pair(2.0, 1000 + iterations % 7);
  });
  REQUIRE(!s.ms.empty());
  for (double ms : s.ms) CHECK(ms == 2.0);
  CHECK(s.calls >= 1);
  CHECK(static_cast<int>(s.ms.size()) <= iterations);
  CHECK(s.ms.size() * 2.0 >= 20.0);  // the reported call covers the minimum time by itself
  CHECK(s.clock_min_mhz >= 1000);
  CHECK(s.clock_max_mhz <= 1006);
  CHECK(s.clock_min_mhz <= s.clock_max_mhz);

  // The next row's loop runs its own function only.
  const int first_iterations = iterations;
  int second = 0;
  const LoopSamples t = gbench_loop("fake/2x2x2", 0.01, [&] {
    ++second;
    return std::make_pair(1.0, -1);
  });
  CHECK(iterations == first_iterations);
  CHECK(second >= static_cast<int>(t.ms.size()));
  CHECK(t.clock_max_mhz == -1);  // no clock read: none reported
}

TEST_CASE("an iteration that throws leaves nothing registered", "[timed_loop]") {
  CHECK_THROWS_WITH(gbench_loop("fake/throws", 0.01, []() -> std::pair<double, int> {
                      throw std::runtime_error("launch failed");
                    }),
                    test::contains("launch failed"));
  int calls = 0;
  const LoopSamples s = gbench_loop("fake/after", 0.005, [&] {
    ++calls;
    return std::make_pair(1.0, -1);
  });
  CHECK(!s.ms.empty());
  CHECK(calls >= static_cast<int>(s.ms.size()));
}
