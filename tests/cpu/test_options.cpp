// The benchmark's command line (harness/bench.h): every option validated, with a message that names it. The
// binary's exit code 1 for the same cases is checked by the "harness: ..." CTest entries (CMakeLists.txt).
#include "tests/catch.h"

#include <initializer_list>
#include <string>
#include <vector>

#include "harness/bench.h"

using namespace sparse24;
using namespace sparse24::harness;

namespace {

Options parse(std::initializer_list<const char*> args) {
  std::vector<const char*> argv = {"sparse24_bench"};
  argv.insert(argv.end(), args.begin(), args.end());
  return parse_options(static_cast<int>(argv.size()), argv.data());
}

void refused(std::initializer_list<const char*> args, const std::string& message) {
  std::string line;
  for (const char* a : args) line += std::string(" ") + a;
  INFO("sparse24_bench" << line);
  CHECK_THROWS_AS(parse(args), UsageError);
  CHECK_THROWS_WITH(parse(args), test::contains(message));
}

}  // namespace

TEST_CASE("defaults and accepted values", "[options]") {
  const Options d = parse({});
  CHECK(d.mode == Mode::run);
  CHECK(d.shapes == default_shapes());
  CHECK(d.operations == std::vector<Operation>{Operation::gemm});
  CHECK(d.min_time > 0);

  const Options o = parse({"--shapes", "64x8x128,128x1x256", "--dtypes", "bf16", "--min-time", "0.05", "--seed",
                           "18446744073709551615", "--peer-candidates", "3", "--search-reps", "2", "--no-cusparselt",
                           "--operations", "prune_compress,gemm", "--json", "out.json", "--kernels", "^mma_sp\\."});
  CHECK(o.shapes == std::vector<Shape>{{64, 8, 128}, {128, 1, 256}});
  CHECK(o.dtypes == std::vector<DType>{DType::bf16});
  CHECK(o.min_time == 0.05);
  CHECK(o.seed == 18446744073709551615ull);
  CHECK(o.peer_candidates == 3);
  CHECK(o.search_reps == 2);
  CHECK_FALSE(o.cusparselt);
  CHECK(o.runs(Operation::gemm));
  CHECK(o.runs(Operation::prune_compress));
  CHECK(o.json_path == "out.json");
  CHECK(o.kernels == "^mma_sp\\.");
  CHECK(o.command.find("--min-time 0.05") != std::string::npos);

  CHECK(parse({"--profile", "--shapes", "64x8x128"}).mode == Mode::profile);
  CHECK(parse({"--list"}).mode == Mode::list);
  CHECK(parse({"--list-json"}).mode == Mode::list_json);
  CHECK(parse({"--ceilings-only"}).mode == Mode::ceilings_only);
  CHECK(parse({"--seed", "x", "--help"}).mode == Mode::help);  // help wins: it is what the user asked for
}

TEST_CASE("bad values are refused with a message naming the option", "[options]") {
  refused({"--min-time", "-1"}, "--min-time needs a positive number of seconds, got '-1'");
  refused({"--min-time", "0"}, "--min-time needs a positive number");
  refused({"--min-time", "nan"}, "--min-time needs a positive number");
  refused({"--min-time", "inf"}, "--min-time needs a positive number");
  refused({"--min-time", "1e999"}, "--min-time needs a positive number");
  refused({"--min-time", "0.5s"}, "got '0.5s'");
  refused({"--min-time", ""}, "--min-time needs a positive number");
  refused({"--seed", "12x"}, "--seed needs a non-negative integer");
  refused({"--seed", "-3"}, "--seed needs a non-negative integer");
  refused({"--seed", "18446744073709551616"}, "--seed needs a non-negative integer below 2^64");
  refused({"--seed", " 7"}, "--seed needs a non-negative integer");
  refused({"--peer-candidates", "0"}, "--peer-candidates needs a positive integer");
  refused({"--peer-candidates", "3.5"}, "--peer-candidates needs a positive integer");
  refused({"--search-reps", "99999999999"}, "--search-reps needs a positive integer");
  refused({"--shapes", "64x8"}, "bad shape '64x8'");
  refused({"--shapes", "64x8x0"}, "bad shape '64x8x0'");
  refused({"--shapes", "64x8x128,"}, "bad shape ''");
  refused({"--shapes", "64x8x128,64x8x128"}, "shape '64x8x128' given twice");
  refused({"--dtypes", "fp64"}, "unknown dtype 'fp64'");
  refused({"--dtypes", "bf16,bf16"}, "dtype 'bf16' given twice");
  refused({"--operations", "conv"}, "unknown operation 'conv'");
  refused({"--operations", "gemm,gemm"}, "operation 'gemm' given twice");
  refused({"--kernels", "("}, "is not a valid regex");
  refused({"--kernels", "^no_such_variant$"}, "matches no registered variant");
  // A regex that matches only variants of an operation not selected selects nothing.
  refused({"--kernels", "^format\\."}, "matches no registered variant");
  CHECK(parse({"--kernels", "^format\\.", "--operations", "prune_compress"}).kernels == "^format\\.");
}

TEST_CASE("missing values, repeats, unknown options and conflicts are refused", "[options]") {
  refused({"--json"}, "--json needs a value");
  refused({"--json", "--profile"}, "--json needs a value, got the option --profile");
  refused({"--seed", "1", "--seed", "2"}, "--seed given twice");
  refused({"--frobnicate"}, "unknown option '--frobnicate'");
  refused({"extra"}, "unknown option 'extra'");
  refused({"--benchmark_repetitions=3"}, "Google Benchmark's own flags are not taken");
  refused({"--profile", "--json", "x.json"}, "--json conflicts with --profile");
  refused({"--profile", "--min-time", "1"}, "--min-time conflicts with --profile");
  refused({"--profile", "--no-ceilings"}, "--no-ceilings conflicts with --profile");
  refused({"--profile", "--same-size-copy"}, "--same-size-copy conflicts with --profile");
  refused({"--same-size-copy", "--same-size-copy"}, "--same-size-copy given twice");
  refused({"--profile", "--list"}, "--list conflicts with --profile");
  refused({"--list", "--list-json"}, "--list-json conflicts with --list");
  refused({"--list", "--shapes", "64x8x128"}, "--list takes no other option");
  refused({"--ceilings-only", "--no-ceilings"}, "--ceilings-only takes no other option");
}

TEST_CASE("energy and resume options, and the run's estimate", "[options]") {
  const Options d = parse({});
  CHECK(d.energy_time > 0);
  CHECK(d.resume_path.empty());
  const Options o = parse({"--energy-time", "0.1", "--resume", "rows.jsonl", "--min-time", "0.1"});
  CHECK(o.energy_time == 0.1);
  CHECK(o.resume_path == "rows.jsonl");
  CHECK(parse({"--no-energy"}).energy_time == 0);
  refused({"--energy-time", "0"}, "--energy-time needs a positive number");
  refused({"--energy-time", "0.1", "--no-energy"}, "conflicts with --no-energy");
  refused({"--profile", "--resume", "x.jsonl"}, "--resume conflicts with --profile");
  refused({"--profile", "--no-energy"}, "--no-energy conflicts with --profile");
  refused({"--profile", "--passes", "3"}, "--passes conflicts with --profile");
  refused({"--passes", "0"}, "--passes needs a positive integer");
  refused({"--passes", "2.5"}, "--passes needs a positive integer");
  CHECK(o.passes == 1);
  CHECK(parse({"--passes", "5"}).passes == 5);
  // Each pass times every row again: the timed part of the row budget scales with the passes, the rest does not.
  const double one = row_budget_seconds(parse({"--no-energy", "--min-time", "0.1"}));
  const double three = row_budget_seconds(parse({"--no-energy", "--min-time", "0.1", "--passes", "3"}));
  CHECK(three > 2.5 * (one - 0.15));
  CHECK(three < 3 * one);
  // The estimate is groups x the group budget + rows x the row budget, and grows with --min-time and energy.
  CHECK(estimate_seconds(o, 2, 10) == Approx(2 * group_budget_seconds() + 10 * row_budget_seconds(o)));
  CHECK(row_budget_seconds(o) > o.min_time + o.energy_time);
  CHECK(row_budget_seconds(parse({"--min-time", "0.5"})) > row_budget_seconds(o));
  CHECK(row_budget_seconds(parse({"--no-energy", "--min-time", "0.1"})) < row_budget_seconds(o));
}
