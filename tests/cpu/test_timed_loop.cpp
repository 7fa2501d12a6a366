// gbench_loop (harness/timing.h): how the runner reads Google Benchmark's calls of one row's loop, with a fake
// iteration (no GPU): the samples are the reported call's, the row is cleared afterwards (the next row's loop does
// not run it again), and an iteration that throws leaves nothing registered.
#include "tests/catch.h"

#include <cmath>
#include <stdexcept>
#include <utility>
#include <vector>

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

// The energy columns (Runner::measure_energy): the arithmetic from NVML's readings to J/GEMM and TFLOP/s per watt.
TEST_CASE("energy: counter deltas and power samples to joules per GEMM and TFLOP/s per watt", "[energy]") {
  // 2 J over 0.2 s (10 W) for 100 launches of 2e12 flop each.
  const double j = joules_from_counter(1'000'000.0, 1'002'000.0);
  CHECK(j == 2.0);
  const EnergyFigures e = energy_figures(j, 0.2, 100, 2e12);
  CHECK(e.joules_per_gemm == 0.02);
  CHECK(e.tflops_per_watt == Approx(100.0));  // 2e14 flop / 2 J = 1e14 flop/J = 100 TFLOP/s per W
  CHECK(e.watts == Approx(10.0));

  // Power samples: mean 500 W over 0.1 s = 50 J.
  CHECK(joules_from_power({400'000.0, 600'000.0}, 0.1) == Approx(50.0));

  // No reading is no figure (null in the JSON), never zero or infinity.
  CHECK(std::isnan(joules_from_counter(-1, 5)));
  CHECK(std::isnan(joules_from_counter(5, -1)));
  CHECK(std::isnan(joules_from_counter(10, 5)));  // the counter went backwards (driver reloaded)
  CHECK(std::isnan(joules_from_power({}, 0.1)));
  CHECK(std::isnan(joules_from_power({400'000.0, -1}, 0.1)));
  for (const double none : {std::nan(""), 0.0}) {  // a counter that did not tick: no figure rather than infinity
    const EnergyFigures n = energy_figures(none, 0.2, 100, 2e12);
    CHECK(std::isnan(n.joules_per_gemm));
    CHECK(std::isnan(n.tflops_per_watt));
    CHECK(std::isnan(n.watts));
  }
  CHECK(std::isnan(energy_figures(2.0, 0.2, 100, 0).tflops_per_watt));  // no flop: no rate, still J per launch
}

TEST_CASE("passes: even passes run the rows backwards, odd passes forwards", "[timed_loop]") {
  CHECK(pass_order(4, 2) == std::vector<size_t>{3, 2, 1, 0});
  CHECK(pass_order(4, 3) == std::vector<size_t>{0, 1, 2, 3});
  CHECK(pass_order(1, 2) == std::vector<size_t>{0});
  CHECK(pass_order(0, 2).empty());
  // Summed over passes 1 (forward) and 2 every row's position in time is the same (n - 1): a linear drift of the
  // GPU's state over the two passes adds the same to every row. With a third pass the sums differ by at most one
  // pass's span (n - 1 .. 2 (n - 1)).
  const size_t n = 5;
  std::vector<double> pos(n, 0.0);
  for (size_t i = 0; i < n; ++i) pos[i] += i;  // pass 1
  for (int pass = 2; pass <= 3; ++pass) {
    const std::vector<size_t> order = pass_order(n, pass);
    for (size_t at = 0; at < n; ++at) pos[order[at]] += at;
    for (size_t i = 0; i < n; ++i) {
      if (pass == 2) CHECK(pos[i] == n - 1.0);
      if (pass == 3) CHECK((pos[i] >= n - 1.0 && pos[i] <= 2 * (n - 1.0)));
    }
  }
}

TEST_CASE("quantiles and the mean of a loop's samples", "[timed_loop]") {
  // Two launch times taking turns: the median sits on either level as the count of each tips; the mean does not.
  const std::vector<double> more_fast = {1, 2, 1, 2, 1}, more_slow = {2, 1, 2, 1, 2};
  CHECK(quantile(more_fast, 0.5) == 1.0);
  CHECK(quantile(more_slow, 0.5) == 2.0);
  CHECK(mean(more_fast) == Approx(1.4));
  CHECK(mean(more_slow) == Approx(1.6));
  const std::vector<double> ten = {10, 1, 9, 2, 8, 3, 7, 4, 6, 5};
  CHECK(quantile(ten, 0.0) == 1.0);
  CHECK(quantile(ten, 1.0) == 10.0);
  CHECK(quantile(ten, 0.1) == 2.0);  // rank 0.9 -> the second smallest
  CHECK(quantile(ten, 0.9) == 9.0);
  CHECK(quantile({}, 0.5) == 0.0);
  CHECK(mean({}) == 0.0);
}
