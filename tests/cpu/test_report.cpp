// compute_ratios (harness/report.h): the ratios are a pure function of the finished rows present, so they cannot
// depend on the order the rows ran in, on a filter, or on a subset; a peer's ratio to itself is exactly 1; a peer
// that is absent or did not pass gives no ratio. (Run 731aa7e's cuBLAS row read 0.967 against itself: its ratio
// had been taken from an earlier call's time.)
#include "tests/catch.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "harness/report.h"

using namespace sparse24;
using namespace sparse24::harness;

namespace {

Row row(const std::string& kernel, PeerLibrary peer, DType t, int M, int N, int K, double us,
        Status status = Status::passed, Operation op = Operation::gemm) {
  Row r;
  r.kernel = kernel;
  r.kind = peer == PeerLibrary::none ? "variant" : "peer";
  r.peer = peer;
  r.operation = op;
  r.dtype = t;
  r.M = M, r.N = N, r.K = K;
  r.status = status;
  if (us > 0) r.counters["median_us"] = us;
  return r;
}

// Two (dtype, shape) groups, times chosen so that no two ratios coincide by accident.
std::vector<Row> sample_rows() {
  return {
      row("cublas.dense.bf16", PeerLibrary::cublas, DType::bf16, 4096, 4096, 4096, 300.0),
      row("cusparselt.bf16", PeerLibrary::cusparselt, DType::bf16, 4096, 4096, 4096, 210.0),
      row("mma_sp.a", PeerLibrary::none, DType::bf16, 4096, 4096, 4096, 250.0),
      row("mma_sp.b", PeerLibrary::none, DType::bf16, 4096, 4096, 4096, 170.0),
      row("mma_sp.failed", PeerLibrary::none, DType::bf16, 4096, 4096, 4096, 0.0, Status::failed),
      row("cublas.dense.bf16", PeerLibrary::cublas, DType::bf16, 8192, 16, 28672, 90.0),
      row("cusparselt.bf16", PeerLibrary::cusparselt, DType::bf16, 8192, 16, 28672, 0.0, Status::refused),
      row("skinny.a", PeerLibrary::none, DType::bf16, 8192, 16, 28672, 60.0),
      row("cublas.dense.fp16", PeerLibrary::cublas, DType::fp16, 4096, 4096, 4096, 310.0),
      row("mma_sp.a.fp16", PeerLibrary::none, DType::fp16, 4096, 4096, 4096, 260.0),
      row("format.x", PeerLibrary::none, DType::bf16, 4096, 4096, 4096, 40.0, Status::passed,
          Operation::prune_compress),
  };
}

// kernel + shape + dtype -> the ratio counters of that row.
using Ratios = std::map<std::string, std::map<std::string, double>>;
Ratios ratios_of(const std::vector<Row>& rows) {
  Ratios out;
  for (const Row& r : rows) {
    auto& m = out[r.kernel + "@" + std::to_string(r.M) + "x" + std::to_string(r.N) + "x" + std::to_string(r.K) + ":" +
                  name(r.dtype)];
    for (const auto& [k, v] : r.counters)
      if (k.rfind("speedup_vs_", 0) == 0) m[k] = v;
  }
  return out;
}

}  // namespace

TEST_CASE("a peer's ratio to itself is exactly 1, and others are the peer's time over theirs", "[report]") {
  auto rows = sample_rows();
  compute_ratios(rows);
  const Ratios r = ratios_of(rows);
  CHECK(r.at("cublas.dense.bf16@4096x4096x4096:bf16").at("speedup_vs_cublas") == 1.0);
  CHECK(r.at("cusparselt.bf16@4096x4096x4096:bf16").at("speedup_vs_cusparselt") == 1.0);
  CHECK(r.at("cublas.dense.bf16@8192x16x28672:bf16").at("speedup_vs_cublas") == 1.0);
  CHECK(r.at("cublas.dense.fp16@4096x4096x4096:fp16").at("speedup_vs_cublas") == 1.0);
  CHECK(r.at("mma_sp.b@4096x4096x4096:bf16").at("speedup_vs_cublas") == 300.0 / 170.0);
  CHECK(r.at("mma_sp.b@4096x4096x4096:bf16").at("speedup_vs_cusparselt") == 210.0 / 170.0);
  CHECK(r.at("cublas.dense.bf16@4096x4096x4096:bf16").at("speedup_vs_cusparselt") == 210.0 / 300.0);
  // Each group against its own peers only: the fp16 row against the fp16 cuBLAS row, not the bf16 one.
  CHECK(r.at("mma_sp.a.fp16@4096x4096x4096:fp16").at("speedup_vs_cublas") == 310.0 / 260.0);
  CHECK(r.at("mma_sp.a.fp16@4096x4096x4096:fp16").count("speedup_vs_cusparselt") == 0);
  CHECK(r.at("skinny.a@8192x16x28672:bf16").at("speedup_vs_cublas") == 90.0 / 60.0);
}

TEST_CASE("absent or failed peers, failed rows and other operations give no ratio", "[report]") {
  auto rows = sample_rows();
  compute_ratios(rows);
  const Ratios r = ratios_of(rows);
  CHECK(r.at("skinny.a@8192x16x28672:bf16").count("speedup_vs_cusparselt") == 0);     // cuSPARSELt refused
  CHECK(r.at("cusparselt.bf16@8192x16x28672:bf16").empty());                        // a refused peer row
  CHECK(r.at("mma_sp.failed@4096x4096x4096:bf16").empty());                         // a failed row
  CHECK(r.at("format.x@4096x4096x4096:bf16").empty());                              // not a GEMM: no GEMM peer

  // Without the cuBLAS row, nothing has a cuBLAS ratio, and stale ones are removed.
  std::vector<Row> no_cublas;
  for (const Row& x : rows)
    if (x.peer != PeerLibrary::cublas) no_cublas.push_back(x);
  compute_ratios(no_cublas);
  for (const auto& [k, m] : ratios_of(no_cublas)) {
    INFO(k);
    CHECK(m.count("speedup_vs_cublas") == 0);
  }
  // A cuBLAS row that failed is the same as none.
  auto failed = sample_rows();
  for (Row& x : failed)
    if (x.peer == PeerLibrary::cublas) x.status = Status::failed;
  compute_ratios(failed);
  for (const auto& [k, m] : ratios_of(failed)) {
    INFO(k);
    CHECK(m.count("speedup_vs_cublas") == 0);
  }
}

TEST_CASE("ratios do not depend on the order, a filter or a subset of the rows", "[report]") {
  auto all = sample_rows();
  compute_ratios(all);
  const Ratios reference = ratios_of(all);
  std::mt19937 rng(15);
  for (int trial = 0; trial < 200; ++trial) {
    auto rows = sample_rows();
    std::shuffle(rows.begin(), rows.end(), rng);
    // A random subset that keeps or drops each row (peers included).
    std::vector<Row> subset;
    for (const Row& r : rows)
      if (trial == 0 || rng() % 3 != 0) subset.push_back(r);
    compute_ratios(subset);
    const bool has_cublas_4096 = std::any_of(subset.begin(), subset.end(), [](const Row& r) {
      return r.peer == PeerLibrary::cublas && r.dtype == DType::bf16 && r.M == 4096;
    });
    for (const auto& [k, m] : ratios_of(subset)) {
      INFO("trial " << trial << ": " << k);
      for (const auto& [counter, v] : m) CHECK(reference.at(k).at(counter) == v);  // bit for bit
      // And a ratio present in the full run is present whenever its peer is.
      if (k.find("@4096x4096x4096:bf16") != std::string::npos && has_cublas_4096 &&
          reference.at(k).count("speedup_vs_cublas"))
        CHECK(m.count("speedup_vs_cublas") == 1);
    }
  }
  // Computing again changes nothing.
  auto twice = all;
  compute_ratios(twice);
  CHECK(ratios_of(twice) == reference);
}

TEST_CASE("two passed rows of one peer for one shape are refused", "[report]") {
  auto rows = sample_rows();
  rows.push_back(row("cublas.dense.bf16", PeerLibrary::cublas, DType::bf16, 4096, 4096, 4096, 299.0));
  CHECK_THROWS_AS(compute_ratios(rows), std::logic_error);
}

TEST_CASE("the report writes each row's status once, its operation, and the ratios", "[report]") {
  auto rows = sample_rows();
  compute_ratios(rows);
  const std::string path = "sparse24_test_report.json";  // in the test's working directory (the build folder)
  write_report(path, {{"gpu", "none"}}, rows);
  std::ifstream f(path);
  const std::string json((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  std::remove(path.c_str());
  auto count = [&](const std::string& s) {
    size_t n = 0;
    for (size_t at = json.find(s); at != std::string::npos; at = json.find(s, at + 1)) ++n;
    return n;
  };
  CHECK(json.rfind("{\n  \"format\": \"sparse24-report-1\",\n  \"context\": {", 0) == 0);
  CHECK(count("\"status\": ") == rows.size());
  CHECK(count("\"operation\": \"prune_compress\"") == 1);
  CHECK(count("\"operation\": \"gemm\"") == rows.size() - 1);
  CHECK(count("\"speedup_vs_cublas\": 1,") + count("\"speedup_vs_cublas\": 1}") == 3);  // the three cuBLAS rows
}

TEST_CASE("the resume file: a row read back as row_json wrote it, a line cut short refused", "[report][resume]") {
  Row r = row("mma_sp.s05_raster.bf16.x", PeerLibrary::none, DType::bf16, 28672, 16, 8192, 123.5);
  r.counters["joules_per_gemm"] = std::nan("");  // null in the JSON
  r.notes["picked"] = "x";
  const std::string line = row_json(r);
  CHECK(line.find("\n") == std::string::npos);  // one line per row
  CHECK(line.find("\"joules_per_gemm\": null") != std::string::npos);
  const auto f = parse_row_line(line);
  REQUIRE(f);
  CHECK(f->kernel == r.kernel);
  CHECK(f->kind == "variant");
  CHECK(f->dtype == DType::bf16);
  CHECK((f->M == 28672 && f->N == 16 && f->K == 8192));
  CHECK(f->status == Status::passed);
  CHECK(f->median_us == 123.5);
  CHECK_FALSE(parse_row_line(line.substr(0, line.size() - 1)));  // an interrupted append
  CHECK_FALSE(parse_row_line(""));

  // A peer read back gives the new rows their ratios, as if it had run in this session.
  const auto p = parse_row_line(row_json(row("cusparselt.bf16", PeerLibrary::cusparselt, DType::bf16, 28672, 16,
                                             8192, 247.0)));
  REQUIRE(p);
  std::vector<Row> rows = {r, row_from_finished(*p)};
  compute_ratios(rows);
  CHECK(rows[0].counters.at("speedup_vs_cusparselt") == 2.0);
  CHECK(rows[1].peer == PeerLibrary::cusparselt);
}
