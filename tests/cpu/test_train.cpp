// Issue 18's harness pieces that need no GPU: the command line of the new operations (prune_compress_both,
// linear_train), and the ratios of their peers' rows, also when read back from a --resume file (a prune or
// training peer must rank only the rows of its own operation).
#include "tests/catch.h"

#include <initializer_list>
#include <string>
#include <vector>

#include "harness/bench.h"
#include "harness/report.h"

using namespace sparse24;
using namespace sparse24::harness;

namespace {

Options parse(std::initializer_list<const char*> args) {
  std::vector<const char*> argv = {"sparse24_bench"};
  argv.insert(argv.end(), args.begin(), args.end());
  return parse_options(static_cast<int>(argv.size()), argv.data());
}

Row timed(const std::string& kernel, const char* kind, PeerLibrary peer, Operation op, double us) {
  Row r;
  r.kernel = kernel, r.kind = kind, r.peer = peer, r.operation = op;
  r.dtype = DType::bf16, r.M = 8192, r.N = 8192, r.K = 28672;
  r.status = Status::passed;
  r.counters["median_us"] = us;
  return r;
}

}  // namespace

TEST_CASE("train: --operations takes prune_compress_both and linear_train; linear_train needs no --kernels match",
          "[options][train]") {
  const Options o = parse({"--operations", "linear_train,prune_compress_both", "--shapes", "8192x8192x28672"});
  CHECK(o.runs(Operation::linear_train));
  CHECK(o.runs(Operation::prune_compress_both));
  CHECK_FALSE(o.runs(Operation::gemm));
  // linear_train composes the dispatcher's picks: a regex that selects no variant still leaves its rows.
  CHECK_NOTHROW(parse({"--operations", "linear_train", "--kernels", "^no_such_variant$"}));
  // ... but with another operation alone it is the usual typo refusal.
  CHECK_THROWS_WITH(parse({"--operations", "prune_compress_both", "--kernels", "^no_such_variant$"}),
                    test::contains("matches no registered variant"));
  // The refusal of an unknown operation lists every one (from kOperations, so a new one cannot be forgotten).
  CHECK_THROWS_WITH(parse({"--operations", "train"}),
                    test::contains("known: gemm, prune_compress, prune_compress_both, linear_train"));
}

TEST_CASE("train: the peers of the prune and training rows rank only their own operation, resumed or not",
          "[report][train]") {
  // One shape, three operations, each with its cuSPARSELt row: every ratio comes from the peer of its own operation.
  std::vector<Row> rows = {
      timed("cusparselt.bf16", "peer", PeerLibrary::cusparselt, Operation::gemm, 1000.0),
      timed("auto.bf16", "auto", PeerLibrary::none, Operation::gemm, 500.0),
      timed("cusparselt.prune_compress.bf16", "peer", PeerLibrary::cusparselt, Operation::prune_compress, 300.0),
      timed("format.s02_onepass.bf16.lane_blocks16", "variant", PeerLibrary::none, Operation::prune_compress, 100.0),
      timed("linear_train.cublas.bf16", "peer", PeerLibrary::cublas, Operation::linear_train, 4000.0),
      timed("linear_train.cusparselt.bf16", "peer", PeerLibrary::cusparselt, Operation::linear_train, 2000.0),
      timed("linear_train.auto.bf16", "auto", PeerLibrary::none, Operation::linear_train, 2500.0)};
  compute_ratios(rows);
  CHECK(rows[1].counters.at("speedup_vs_cusparselt") == 2.0);
  CHECK(rows[3].counters.at("speedup_vs_cusparselt") == 3.0);
  CHECK(rows[6].counters.at("speedup_vs_cublas") == 1.6);
  CHECK(rows[6].counters.at("speedup_vs_cusparselt") == 0.8);
  CHECK(rows[3].counters.count("speedup_vs_cublas") == 0);   // no cuBLAS row of prune_compress

  // The same from a resume file: each peer read back keeps its operation and its library.
  std::vector<Row> resumed = {rows[3], rows[6]};
  for (int i : {0, 2, 4, 5}) {
    const auto f = parse_row_line(row_json(rows[static_cast<size_t>(i)]));
    REQUIRE(f);
    CHECK(f->operation == rows[static_cast<size_t>(i)].operation);
    const Row back = row_from_finished(*f);
    CHECK(back.peer == rows[static_cast<size_t>(i)].peer);
    resumed.push_back(back);
  }
  compute_ratios(resumed);
  CHECK(resumed[0].counters.at("speedup_vs_cusparselt") == 3.0);
  CHECK(resumed[1].counters.at("speedup_vs_cublas") == 1.6);
  CHECK(resumed[1].counters.at("speedup_vs_cusparselt") == 0.8);
}
