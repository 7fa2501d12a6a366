#include "harness/report.h"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <tuple>

namespace sparse24::harness {

const char* name(Status s) {
  switch (s) {
    case Status::passed: return "passed";
    case Status::failed: return "failed";
    case Status::refused: return "refused";
    case Status::skipped: return "skipped";
    case Status::error: return "error";
  }
  return "?";
}

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += ch;
        }
    }
  }
  return out + "\"";
}

const char* ratio_counter(PeerLibrary peer) {
  switch (peer) {
    case PeerLibrary::cublas: return "speedup_vs_cublas";
    case PeerLibrary::cusparselt: return "speedup_vs_cusparselt";
    case PeerLibrary::none: break;
  }
  return nullptr;
}

namespace {

// The median of a finished, timed row in microseconds; 0 when the row has none (not passed, or not timed).
double timed_us(const Row& r) {
  if (r.status != Status::passed) return 0;
  const auto it = r.counters.find("median_us");
  return it != r.counters.end() && std::isfinite(it->second) && it->second > 0 ? it->second : 0;
}

}  // namespace

void compute_ratios(std::vector<Row>& rows) {
  using Key = std::tuple<Operation, DType, int, int, int>;
  auto key = [](const Row& r) { return Key{r.operation, r.dtype, r.M, r.N, r.K}; };
  constexpr PeerLibrary kPeers[] = {PeerLibrary::cublas, PeerLibrary::cusparselt};
  std::map<std::pair<Key, PeerLibrary>, double> peer_us;
  for (Row& r : rows) {
    for (PeerLibrary p : kPeers) r.counters.erase(ratio_counter(p));
    const double us = timed_us(r);
    if (r.peer == PeerLibrary::none || us == 0) continue;
    if (!peer_us.emplace(std::make_pair(key(r), r.peer), us).second)
      throw std::logic_error("compute_ratios: two passed rows of " + r.kernel + " at " + std::to_string(r.M) + "x" +
                             std::to_string(r.N) + "x" + std::to_string(r.K));
  }
  for (Row& r : rows) {
    const double us = timed_us(r);
    if (us == 0) continue;
    for (PeerLibrary p : kPeers) {
      const auto it = peer_us.find(std::make_pair(key(r), p));
      if (it != peer_us.end()) r.counters[ratio_counter(p)] = it->second / us;
    }
  }
}

namespace {

std::string json_number(double x) {
  if (!std::isfinite(x)) return "null";
  std::ostringstream s;
  s.precision(10);
  s << x;
  return s.str();
}

}  // namespace

std::string variant_json(const Variant& v) {
  std::ostringstream s;
  s << "{\"name\": " << json_string(v.name) << ", \"operation\": " << json_string(name(v.operation))
    << ", \"family\": " << json_string(v.family) << ", \"step\": " << v.step
    << ", \"technique\": " << json_string(v.technique) << ", \"types\": {\"a\": " << json_string(name(v.types.a))
    << ", \"b\": " << json_string(name(v.types.b)) << ", \"d\": " << json_string(name(v.types.d))
    << ", \"acc\": " << json_string(name(v.types.acc)) << "}, \"sparse\": " << (v.sparse ? "true" : "false")
    << ", \"meta_layout\": " << (v.sparse ? json_string(format::name(v.meta_layout)) : "null")
    << ", \"has_scales\": " << (v.has_scales ? "true" : "false")
    << ", \"uniform_metadata\": " << (v.uniform_metadata ? "true" : "false") << ", \"params\": {";
  for (size_t i = 0; i < v.params.size(); ++i)
    s << (i ? ", " : "") << json_string(v.params[i].first) << ": " << v.params[i].second;
  const ShapeRule& r = v.rule;
  s << "}, \"threads\": " << v.threads << ", \"arch\": {\"min_sm\": " << v.arch.min_sm << ", \"max_sm\": "
    << v.arch.max_sm << ", \"arch_specific\": " << (v.arch.arch_specific ? "true" : "false")
    << ", \"label\": " << json_string(v.arch.str()) << "}, \"shape_rule\": {\"m_multiple\": " << r.m_multiple
    << ", \"n_multiple\": " << r.n_multiple << ", \"k_multiple\": " << r.k_multiple << ", \"n_min\": " << r.n_min
    << ", \"n_max\": " << r.n_max << "}}";
  return s.str();
}

std::string registry_json() {
  std::string out = "[\n";
  const auto& all = registry();
  for (size_t i = 0; i < all.size(); ++i) out += "  " + variant_json(all[i]) + (i + 1 < all.size() ? ",\n" : "\n");
  return out + "]\n";
}

std::string row_json(const Row& r) {
  std::ostringstream f;
  f << "{\"kernel\": " << json_string(r.kernel) << ", \"kind\": " << json_string(r.kind)
    << ", \"operation\": " << json_string(name(r.operation)) << ", \"dtype\": " << json_string(name(r.dtype))
    << ", \"M\": " << r.M << ", \"N\": " << r.N << ", \"K\": " << r.K << ", \"status\": "
    << json_string(name(r.status)) << ", \"reason\": " << json_string(r.reason);
  f << ", \"variant\": " << (r.variant ? variant_json(*r.variant) : "null");
  f << ", \"notes\": {";
  size_t j = 0;
  for (const auto& [k, v] : r.notes) f << (j++ ? ", " : "") << json_string(k) << ": " << json_string(v);
  f << "}, \"counters\": {";
  j = 0;
  for (const auto& [k, v] : r.counters) f << (j++ ? ", " : "") << json_string(k) << ": " << json_number(v);
  f << "}}";
  return f.str();
}

std::optional<FinishedRow> parse_row_line(const std::string& line) {
  // Only lines row_json wrote: their first fields in that order. The counters come last, so a line cut short by
  // an interrupted write lacks the closing "}}" and is refused (the row runs again).
  static const std::regex head(
      R"re(^\{"kernel": "([^"]+)", "kind": "([a-z]+)", "operation": "([a-z_]+)", "dtype": "([a-z0-9]+)", )re"
      R"re("M": (\d+), "N": (\d+), "K": (\d+), "status": "([a-z]+)")re");
  static const std::regex median(R"re("median_us": ([0-9.eE+-]+))re");
  std::smatch m;
  if (line.size() < 2 || line.compare(line.size() - 2, 2, "}}") != 0 || !std::regex_search(line, m, head))
    return std::nullopt;
  FinishedRow f;
  f.kernel = m[1], f.kind = m[2];
  if (!parse_operation(m[3].str(), &f.operation)) return std::nullopt;
  if (!parse_dtype(m[4].str(), &f.dtype)) return std::nullopt;
  f.M = std::stoi(m[5]), f.N = std::stoi(m[6]), f.K = std::stoi(m[7]);
  const std::string st = m[8];
  bool known = false;
  for (Status s : {Status::passed, Status::failed, Status::refused, Status::skipped, Status::error})
    if (st == name(s)) f.status = s, known = true;
  if (!known) return std::nullopt;
  std::smatch u;
  if (std::regex_search(line, u, median)) f.median_us = std::stod(u[1]);
  return f;
}

Row row_from_finished(const FinishedRow& f) {
  Row r;
  r.kernel = f.kernel, r.kind = f.kind, r.dtype = f.dtype, r.M = f.M, r.N = f.N, r.K = f.K, r.status = f.status;
  r.operation = f.operation;  // the ratios are per operation: a resumed prune or training peer must keep its own
  if (f.median_us > 0) r.counters["median_us"] = f.median_us;
  // Peer labels: cublas.dense.<t>, cusparselt.<t> (gemm); cusparselt.prune_compress.<t>; linear_train.cublas.<t>,
  // linear_train.cusparselt.<t> (harness/runner.cpp).
  if (f.kind == "peer")
    r.peer = f.kernel.find("cusparselt.") != std::string::npos ? PeerLibrary::cusparselt : PeerLibrary::cublas;
  return r;
}

void write_report(const std::string& path, const std::vector<std::pair<std::string, std::string>>& context,
                  const std::vector<Row>& rows) {
  std::ofstream f(path);
  if (!f) throw std::runtime_error("cannot write " + path);
  f << "{\n  \"format\": \"sparse24-report-1\",\n  \"context\": {";
  for (size_t i = 0; i < context.size(); ++i)
    f << (i ? ", " : "") << "\n    " << json_string(context[i].first) << ": " << json_string(context[i].second);
  f << "\n  },\n  \"rows\": [";
  for (size_t i = 0; i < rows.size(); ++i) f << (i ? "," : "") << "\n    " << row_json(rows[i]);
  f << "\n  ]\n}\n";
  if (!f) throw std::runtime_error("error writing " + path);
}

}  // namespace sparse24::harness
