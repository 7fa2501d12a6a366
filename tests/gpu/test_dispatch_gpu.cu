// `auto` on the GPU (kernels/dispatch.h prepare_auto): the table's variant where this GPU measured the shape (timed
// beside the row's near ties where it has some); a measurement of the candidates where it did not, cached for the process and in SPARSE24_AUTOTUNE_CACHE's file;
// padding of shapes off every rule (M = 4004, K = 8200), checked on the UNPADDED problem: bit for bit on small
// integers and within the element bound on random normals, the output poisoned first, so padding rows or columns
// that leaked into D, or a D row never copied out, fail.
#include "tests/catch.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "harness/check.h"
#include "harness/device_buffer.h"
#include "harness/problem.h"
#include "kernels/common/cuda_check.h"
#include "kernels/dispatch.h"
#include "kernels/registry.h"

using namespace sparse24;
using namespace sparse24::harness;

namespace {

struct Stream {
  cudaStream_t s = nullptr;
  Stream() { SPARSE24_CUDA_CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking)); }
  ~Stream() { cudaStreamDestroy(s); }
};

AutoArgs args_of(const Problem& p, DType t, void* d) {
  AutoArgs a;
  a.M = p.M, a.N = p.N, a.K = p.K;
  a.a_values = p.a_values.get();
  a.a_meta_canonical = p.meta(format::MetaLayout::Canonical);
  a.a_meta_layout = p.meta(pick_layout(t));
  a.b = p.b.get();
  a.d = d;
  return a;
}

// D poisoned, the plan run once, the caller's M x N compared with the unpadded problem's reference.
CheckResult check(const AutoPlan& plan, const Problem& p, void* d, cudaStream_t s) {
  const DType td = plan.variant().types.d;
  poison(td, d, int64_t(p.M) * p.N, s);
  plan.run(s);
  SPARSE24_CUDA_CHECK(cudaGetLastError());
  SPARSE24_CUDA_CHECK(cudaStreamSynchronize(s));
  return compare(td, p.fill, d, p.reference(), int64_t(p.M) * p.N, s);
}

// A GPU that no table row names: every shape is measured there.
Gpu without_rows() {
  Gpu g = gpu_of(0);
  g.model = "sparse24-test-gpu-without-rows";
  return g;
}

bool has_candidates(DType t, int M, int N, int K) {
  const Gpu g = gpu_of(0);
  try {
    const PaddedShape ps = padded_shape(t, M, N, K, g);
    return !candidates(t, ps.M, N, ps.K, g).empty();
  } catch (const ShapeError&) {
    return false;
  }
}

}  // namespace

TEST_CASE("auto: the device's model is the results folders' spelling", "[dispatch]") {
  const Gpu g = gpu_of(0);
  CHECK(!g.model.empty());
  CHECK(g.model == gpu_model_key(g.model));  // already normalized: lower case, [a-z0-9-]
  CHECK(g.sm >= 80);
  CHECK(g.sm_count > 0);
}

// The variants a row stands for on this GPU at its own shape: its variant, then its near ties that this build has
// and pick() may return there (kernels/dispatch.h, DispatchRow::ties).
std::vector<const Variant*> row_set(const DispatchRow& r, int sm) {
  std::vector<const Variant*> out{find_variant(r.variant)};
  std::istringstream names(r.ties);
  std::string n;
  while (names >> n)
    if (const Variant* v = find_variant(n); v && pickable(*v, r.dtype, r.M, r.N, r.K, sm)) out.push_back(v);
  return out;
}

// This GPU's row of least work (to keep the test short) with near ties that run here, or without.
const DispatchRow* smallest_row(const Gpu& g, bool with_ties) {
  int count = 0;
  const DispatchRow* rows = dispatch_table(&count);
  const DispatchRow* row = nullptr;
  for (int i = 0; i < count; ++i)
    if (g.model == rows[i].gpu && find_variant(rows[i].variant) &&
        (row_set(rows[i], g.sm).size() > 1) == with_ties &&
        (!row || double(rows[i].M) * rows[i].N * rows[i].K < double(row->M) * row->N * row->K))
      row = &rows[i];
  return row;
}

// Where this GPU has table rows, a row's exact shape without near ties is served by the row's variant, source
// "table", and checks.
TEST_CASE("auto: a shape this GPU measured runs the table's variant", "[dispatch]") {
  const Gpu g = gpu_of(0);
  const DispatchRow* row = smallest_row(g, false);
  if (!row) {
    WARN("no table rows without near ties for " << g.model << ": the table case is not exercised on this GPU");
    return;
  }
  INFO(row->variant << " at " << row->M << "x" << row->N << "x" << row->K);
  clear_autotune_cache();
  Stream s;
  auto p = Problem::make(row->dtype, row->M, row->N, row->K, Fill::SmallInt, 1, s.s);
  DeviceBuffer d(p->d_bytes());
  const auto plan = prepare_auto(row->dtype, args_of(*p, row->dtype, d.get()), g, s.s);
  CHECK(plan->source == PickSource::table);
  CHECK(plan->variant().name == row->variant);
  CHECK(plan->timings.empty());
  const CheckResult c = check(*plan, *p, d.get(), s.s);
  CHECK(c.passed);
  INFO(c.message);
}

// A row with near ties: its variant and the ties that run here are timed (source table_ties), the fastest kept and
// checked; the next prepare of the shape comes from the process cache.
TEST_CASE("auto: a table row with near ties times them and keeps the fastest", "[dispatch]") {
  const Gpu g = gpu_of(0);
  const DispatchRow* row = smallest_row(g, true);
  if (!row) {
    WARN("no table rows with near ties for " << g.model << ": the near-tie case is not exercised on this GPU");
    return;
  }
  INFO(row->variant << " and " << row->ties << " at " << row->M << "x" << row->N << "x" << row->K);
  clear_autotune_cache();
  Stream s;
  auto p = Problem::make(row->dtype, row->M, row->N, row->K, Fill::SmallInt, 3, s.s);
  DeviceBuffer d(p->d_bytes());
  const auto plan = prepare_auto(row->dtype, args_of(*p, row->dtype, d.get()), g, s.s);
  CHECK(plan->source == PickSource::table_ties);
  const std::vector<const Variant*> set = row_set(*row, g.sm);
  REQUIRE(plan->timings.size() == set.size());
  double fastest = 1e30;
  for (size_t i = 0; i < set.size(); ++i) {
    CHECK(plan->timings[i].variant == set[i]);  // the row's variant first, then the ties in the row's order
    if (plan->timings[i].median_us >= 0) fastest = std::min(fastest, plan->timings[i].median_us);
  }
  for (const AutoTiming& x : plan->timings)
    if (x.variant == &plan->variant()) CHECK(x.median_us == fastest);
  const CheckResult c = check(*plan, *p, d.get(), s.s);
  CHECK(c.passed);
  INFO(c.message);
  const auto again = prepare_auto(row->dtype, args_of(*p, row->dtype, d.get()), g, s.s);
  CHECK(again->source == PickSource::cache);
  CHECK(&again->variant() == &plan->variant());
  clear_autotune_cache();
}

// Not measured: the candidates are timed once, the fastest is kept and passes the check; the next prepare of the
// same key comes from the process cache, and, after the process cache is cleared, from the file.
TEST_CASE("auto: measures a shape the table does not know, then caches it (process and file)", "[dispatch]") {
  const Gpu g = without_rows();
  const int M = 1024, N = 200, K = 1024;
  for (DType t : {DType::fp16, DType::bf16}) {
    if (!has_candidates(t, M, N, K)) continue;
    INFO(name(t));
    char path[] = "/tmp/sparse24_autotune_XXXXXX";
    const int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    std::remove(path);  // prepare_auto writes the header to a new file
    setenv("SPARSE24_AUTOTUNE_CACHE", path, 1);
    clear_autotune_cache();
    Stream s;
    auto p = Problem::make(t, M, N, K, Fill::SmallInt, 7, s.s);
    DeviceBuffer d(p->d_bytes());
    const auto first = prepare_auto(t, args_of(*p, t, d.get()), g, s.s);
    CHECK(first->source == PickSource::measured);
    REQUIRE(!first->timings.empty());
    CHECK(int(first->timings.size()) <= kMaxCandidates);
    double fastest = 1e30;
    for (const AutoTiming& x : first->timings)
      if (x.median_us >= 0) fastest = std::min(fastest, x.median_us);
    for (const AutoTiming& x : first->timings)
      if (x.variant == &first->variant()) CHECK(x.median_us == fastest);
    const CheckResult c = check(*first, *p, d.get(), s.s);
    CHECK(c.passed);
    INFO(c.message);

    const auto second = prepare_auto(t, args_of(*p, t, d.get()), g, s.s);
    CHECK(second->source == PickSource::cache);
    CHECK(&second->variant() == &first->variant());
    CHECK(second->timings.empty());

    // The file: one human-readable line for the key, read back by a fresh process (a cleared cache here).
    std::ifstream f(path);
    std::stringstream text;
    text << f.rdbuf();
    const std::string key = g.model + " " + name(t) + " " + std::to_string(M) + "x" + std::to_string(N) + "x" +
                            std::to_string(K) + " " + first->variant().name;
    CHECK(text.str().find(key) != std::string::npos);
    clear_autotune_cache();
    const auto third = prepare_auto(t, args_of(*p, t, d.get()), g, s.s);
    CHECK(third->source == PickSource::cache_file);
    CHECK(&third->variant() == &first->variant());
    // A line naming a variant this build lacks is ignored (measured again), not trusted.
    {
      std::ofstream w(path, std::ios::trunc);
      w << g.model << ' ' << name(t) << ' ' << M << 'x' << N << 'x' << K << " no.such.variant 1.0 3\n";
    }
    clear_autotune_cache();
    const auto fourth = prepare_auto(t, args_of(*p, t, d.get()), g, s.s);
    CHECK(fourth->source == PickSource::measured);
    unsetenv("SPARSE24_AUTOTUNE_CACHE");
    std::remove(path);
    close(fd);
  }
  clear_autotune_cache();
}

// Off-tile shapes (kernels/dispatch.h): A padded once in prepare, B's K and D's rows handled in run(); checked on
// the unpadded problem in both modes. The issue's shapes (M = 4004; K = 8200) and one small shape off both.
TEST_CASE("auto: shapes off every rule are padded and pass both checks on the unpadded problem", "[dispatch]") {
  struct Case {
    int M, N, K;
  };
  const Gpu g = gpu_of(0);
  int ran = 0;
  for (DType t : {DType::fp16, DType::bf16, DType::int8, DType::e4m3, DType::tf32})
    for (const Case& c : {Case{100, 48, 200}, Case{4004, 128, 4096}, Case{4096, 16, 8200}, Case{4004, 512, 8200}}) {
      if (!has_candidates(t, c.M, c.N, c.K)) continue;
      INFO(name(t) << " " << c.M << "x" << c.N << "x" << c.K);
      const PaddedShape ps = padded_shape(t, c.M, c.N, c.K, g);
      CHECK((ps.M != c.M || ps.K != c.K));  // every case is off some rule
      Stream s;
      for (Fill fill : {Fill::SmallInt, Fill::Normal}) {
        std::unique_ptr<Problem> p;
        try {
          p = Problem::make(t, c.M, c.N, c.K, fill, 11, s.s);
        } catch (const std::exception& e) {  // the harness's set-up, not the dispatcher, cannot build this problem
          WARN("problem not built: " << e.what());
          continue;
        }
        DeviceBuffer d(size_t(c.M) * c.N * sizeof(float));
        const auto plan = prepare_auto(t, args_of(*p, t, d.get()), g, s.s);
        CHECK(plan->padded_M == ps.M);
        CHECK(plan->padded_K == ps.K);
        const CheckResult r = check(*plan, *p, d.get(), s.s);
        INFO(name(fill) << ": " << plan->variant().name << ": " << r.message);
        CHECK(r.passed);
        ++ran;
      }
    }
  CHECK(ran > 0);
}

TEST_CASE("auto: K off the canonical metadata bytes is refused with the rule", "[dispatch]") {
  Stream s;
  DeviceBuffer d(64);
  AutoArgs a;
  a.M = 128, a.N = 16, a.K = 4100;  // 4100 = 8 * 512 + 4: half a canonical byte
  a.a_values = a.a_meta_canonical = a.b = d.get();
  a.d = d.get();
  CHECK_THROWS_AS(prepare_auto(DType::bf16, a, gpu_of(0), s.s), ShapeError);
}
