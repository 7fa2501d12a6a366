// The registry: collects every family's variants (listed in registry.def) and checks shapes before launching.
#include "kernels/registry.h"

#include <cstdint>
#include <set>
#include <sstream>
#include <stdexcept>

namespace sparse24 {

namespace mma_sp {
std::vector<Variant> variants();
}
namespace dense {
std::vector<Variant> variants();
}

const char* name(Family f) {
  switch (f) {
    case Family::mma_sp: return "mma_sp";
    case Family::dense: return "dense";
  }
  return "?";
}

int parse_step(const std::string& st) {
  // "s02_smem" -> 2
  if (st.size() < 4 || st[0] != 's' || st.find('_') == std::string::npos)
    throw std::logic_error("step struct names read s<NN>_<technique>, got " + st);
  return std::stoi(st.substr(1, st.find('_') - 1));
}

std::string variant_name(const Variant& v, const std::string& st) {
  std::ostringstream s;
  s << name(v.family) << '.' << st << '.' << name(v.dtype) << '.' << v.bm << 'x' << v.bn << 'x' << v.bk << ".w"
    << v.wm << 'x' << v.wn << ".s" << v.stages;
  return s.str();
}

const std::vector<Variant>& registry() {
  static const std::vector<Variant> all = [] {
    std::vector<Variant> v = mma_sp::variants();
    for (auto& d : dense::variants()) v.push_back(d);
    std::set<std::string> seen;
    for (const auto& x : v)
      if (!seen.insert(x.name).second) throw std::logic_error("registry: variant listed twice: " + x.name);
    return v;
  }();
  return all;
}

const Variant* find_variant(const std::string& n) {
  for (const auto& v : registry())
    if (v.name == n) return &v;
  return nullptr;
}

constexpr int kMaxGridY = 65535;

std::string shape_error(const Variant& v, int M, int N, int K) {
  std::ostringstream s;
  if (M <= 0 || N <= 0 || K <= 0) {
    s << "M, N and K must be positive (got " << M << " x " << N << " x " << K << ")";
  } else if (M % v.rule.m_multiple != 0) {
    s << "M = " << M << " is not a multiple of " << v.rule.m_multiple
      << (v.sparse ? " (one metadata lane block serves 32 rows)" : " (kept equal to the sparse family's rule)");
  } else if (K % v.rule.k_multiple != 0) {
    s << "K = " << K << " is not a multiple of the tile K " << v.rule.k_multiple;
  } else if (N < v.rule.n_min) {
    s << "N = " << N << " is below the minimum " << v.rule.n_min;
  } else if ((M + v.bm - 1) / v.bm > kMaxGridY) {
    // The kernels put block rows on grid y, which CUDA limits to 65535.
    s << "M = " << M << " needs more than " << kMaxGridY << " row blocks of " << v.bm << " (CUDA's grid y limit)";
  }
  return s.str();
}

std::string arch_error(const Variant& v, int sm) {
  if (sm >= v.min_sm) return "";
  std::ostringstream s;
  s << "needs sm_" << v.min_sm << " or newer, the device is sm_" << sm;
  return s.str();
}

void launch(const Variant& v, const GemmArgs& a, cudaStream_t stream) {
  const std::string err = shape_error(v, a.M, a.N, a.K);
  if (!err.empty()) throw ShapeError(v.name + ": " + err);
  auto misaligned = [](const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 != 0; };
  if (!a.a || !a.b || !a.d || (v.sparse && !a.a_meta) || (a.beta != 0.0f && !a.c))
    throw ShapeError(v.name + ": a null operand pointer (A, B, D, metadata for sparse variants, C when beta != 0)");
  if (misaligned(a.a) || misaligned(a.b) || misaligned(a.d) || (v.sparse && misaligned(a.a_meta)) ||
      (a.c && misaligned(a.c)))
    throw ShapeError(v.name + ": every operand pointer must be 16-byte aligned");
  v.launch_unchecked(a, stream);
}

}  // namespace sparse24
