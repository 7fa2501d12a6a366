// The quality table's arithmetic and inputs (mask_quality.h). One block at a time, single-threaded: a real
// checkpoint's linear layers (all-MiniLM-L6-v2: 10.6M weights, 663k blocks, three element types) take seconds.
#include "harness/experiments/mask_quality.h"

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

#include "kernels/format/transposable.h"

namespace sparse24::harness::mask_quality {

namespace tr = format::transposable;

void Moments::add(double x) {
  const double x2 = x * x;
  n += 1, s1 += x, s2 += x2, s3 += x2 * x, s4 += x2 * x2;
}
void Moments::add(const Moments& o) { n += o.n, s1 += o.s1, s2 += o.s2, s3 += o.s3, s4 += o.s4; }
double Moments::excess_kurtosis() const {
  if (n < 2) return NAN;
  // Central moments from the raw sums: m2 = E x^2 - mu^2, m4 = E x^4 - 4 mu E x^3 + 6 mu^2 E x^2 - 3 mu^4.
  const double mu = s1 / n, e2 = s2 / n, e3 = s3 / n, e4 = s4 / n;
  const double m2 = e2 - mu * mu, m4 = e4 - 4 * mu * e3 + 6 * mu * mu * e2 - 3 * mu * mu * mu * mu;
  return m2 > 0 ? m4 / (m2 * m2) - 3.0 : NAN;
}

void TypeStats::add(const TypeStats& o) {
  blocks += o.blocks, sum_abs += o.sum_abs;
  kept_one_d += o.kept_one_d, kept_exact += o.kept_exact, kept_greedy += o.kept_greedy;
  greedy_differs += o.greedy_differs, one_d_transposable += o.one_d_transposable;
  for (auto [mine, theirs] : {std::pair{&halves, &o.halves}, std::pair{&int_keys, &o.int_keys},
                              std::pair{&slots, &o.slots}, std::pair{&lean_slots, &o.lean_slots}})
    mine->applied += theirs->applied, mine->differs += theirs->differs;
  exact_differs_from_f32 += o.exact_differs_from_f32, f32_kept_by_exact += o.f32_kept_by_exact;
}

namespace {

uint16_t round_to(DType t, float x) {
  // Round to nearest even, as the GPU's conversions do (CUDA's host forms of the same intrinsics).
  uint16_t bits = 0;
  if (t == DType::bf16) {
    const __nv_bfloat16 v = __float2bfloat16_rn(x);
    std::memcpy(&bits, &v, sizeof bits);
  } else {
    const __half v = __float2half_rn(x);
    std::memcpy(&bits, &v, sizeof bits);
  }
  return bits;
}

// Checks a GPU scoring's host form: `mask` < 0 where it leaves the block to another path (-1), or names an invalid
// slot (-2, counted as a difference: the kernel would write garbage there).
void check_form(FormCheck& c, int mask, uint16_t want) {
  if (mask == -1) return;
  ++c.applied;
  c.differs += mask < 0 || static_cast<uint16_t>(mask) != want;
}

// One block of one type: the methods' sums and checks.
void score_block(TypeStats& s, const double (&mag)[16], int* exact_out) {
  const int e = tr::exact_pattern(mag), g = tr::greedy_pattern(mag);
  const uint16_t one_d = tr::one_d_mask(mag);
  ++s.blocks;
  for (double x : mag) s.sum_abs += x;
  s.kept_one_d += tr::kept_sum(mag, one_d);
  s.kept_exact += tr::kept_sum(mag, tr::kPatterns[e]);
  s.kept_greedy += tr::kept_sum(mag, tr::kPatterns[g]);
  s.greedy_differs += e != g;
  s.one_d_transposable += tr::is_transposable_24(one_d);
  *exact_out = e;
}

const char* type_name(DType t) { return name(t); }

bool valid_name(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-')) return false;
  return true;
}

// "ROWSxCOLS" with both positive multiples of 4.
void parse_shape(const std::string& s, MatrixSpec& spec, const std::string& arg) {
  const size_t x = s.find('x');
  auto number = [&](const std::string& t) -> int64_t {
    if (t.empty() || t.find_first_not_of("0123456789") != std::string::npos || t.size() > 12)
      throw std::invalid_argument("'" + arg + "': bad shape '" + s + "' (want ROWSxCOLS)");
    return std::stoll(t);
  };
  if (x == std::string::npos) throw std::invalid_argument("'" + arg + "': bad shape '" + s + "' (want ROWSxCOLS)");
  spec.rows = number(s.substr(0, x)), spec.cols = number(s.substr(x + 1));
}

void check_shape(const MatrixSpec& spec) {
  if (spec.rows <= 0 || spec.cols <= 0 || spec.rows % tr::kBlock || spec.cols % tr::kBlock)
    throw std::invalid_argument(spec.name + ": " + std::to_string(spec.rows) + " x " + std::to_string(spec.cols) +
                                " is not made of 4 x 4 blocks (rows and columns must be positive multiples of 4)");
}

bool host_is_little_endian() {
  const uint32_t one = 1;
  unsigned char first = 0;
  std::memcpy(&first, &one, 1);
  return first == 1;
}

std::vector<char> read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error(path + ": cannot open");
  return std::vector<char>(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

// A .npy file (format versions 1-3): magic, version, header length, a Python dict literal, then the data. Only what
// the tool needs is accepted: 'descr': '<f4', 'fortran_order': False, a 2-D 'shape'.
std::vector<float> read_npy(const std::string& path, int64_t* rows, int64_t* cols) {
  const std::vector<char> bytes = read_file(path);
  const char kMagic[] = "\x93NUMPY";
  if (bytes.size() < 10 || std::memcmp(bytes.data(), kMagic, 6) != 0) throw std::runtime_error(path + ": not .npy");
  const int major = static_cast<unsigned char>(bytes[6]);
  size_t header_len = 0, start = 0;
  if (major == 1) {
    header_len = static_cast<unsigned char>(bytes[8]) | static_cast<unsigned char>(bytes[9]) << 8, start = 10;
  } else if ((major == 2 || major == 3) && bytes.size() >= 12) {
    for (int i = 0; i < 4; ++i) header_len |= size_t(static_cast<unsigned char>(bytes[8 + i])) << (8 * i);
    start = 12;
  } else {
    throw std::runtime_error(path + ": .npy format version " + std::to_string(major) + " not read");
  }
  if (start + header_len > bytes.size()) throw std::runtime_error(path + ": .npy header runs past the file");
  const std::string header(bytes.data() + start, header_len);
  auto value_of = [&](const std::string& key) {
    const size_t k = header.find("'" + key + "'");
    if (k == std::string::npos) throw std::runtime_error(path + ": .npy header lacks '" + key + "'");
    size_t v = header.find(':', k);
    while (v + 1 < header.size() && header[v + 1] == ' ') ++v;
    return v + 1;
  };
  const size_t d = value_of("descr");
  if (header.compare(d, 5, "'<f4'") != 0)
    throw std::runtime_error(path + ": .npy dtype is not '<f4' (little-endian float32): header " + header);
  if (header.compare(value_of("fortran_order"), 5, "False") != 0)
    throw std::runtime_error(path + ": .npy is in Fortran order; want C order");
  const size_t s = value_of("shape");
  long long r = 0, c = 0;
  char close = 0;
  if (std::sscanf(header.c_str() + s, "(%lld, %lld%c", &r, &c, &close) != 3 || close != ')')
    throw std::runtime_error(path + ": .npy shape is not 2-D: header " + header);
  *rows = r, *cols = c;
  const size_t data = start + header_len, want = size_t(r) * size_t(c) * sizeof(float);
  if (bytes.size() - data != want)
    throw std::runtime_error(path + ": .npy holds " + std::to_string(bytes.size() - data) +
                             " data bytes, shape needs " + std::to_string(want));
  std::vector<float> out(size_t(r) * size_t(c));
  std::memcpy(out.data(), bytes.data() + data, want);
  return out;
}

void json_type(std::ostringstream& o, const TypeStats& s) {
  auto frac = [&](double kept) { return s.sum_abs > 0 ? kept / s.sum_abs : NAN; };
  auto num = [](double x) {
    char buf[40];
    if (std::isnan(x)) return std::string("null");
    std::snprintf(buf, sizeof buf, "%.17g", x);
    return std::string(buf);
  };
  o << "{\"type\": \"" << type_name(s.type) << "\", \"blocks\": " << s.blocks << ", \"sum_abs\": " << num(s.sum_abs)
    << ", \"kept\": {\"one_d\": " << num(s.kept_one_d) << ", \"exact\": " << num(s.kept_exact)
    << ", \"greedy\": " << num(s.kept_greedy) << "}, \"fraction\": {\"one_d\": " << num(frac(s.kept_one_d))
    << ", \"exact\": " << num(frac(s.kept_exact)) << ", \"greedy\": " << num(frac(s.kept_greedy))
    << "}, \"exact_over_one_d\": " << num(s.kept_one_d > 0 ? s.kept_exact / s.kept_one_d : NAN)
    << ", \"greedy_over_one_d\": " << num(s.kept_one_d > 0 ? s.kept_greedy / s.kept_one_d : NAN)
    << ", \"greedy_differs_blocks\": " << s.greedy_differs
    << ", \"one_d_transposable_blocks\": " << s.one_d_transposable;
  if (s.type != DType::f32) {
    o << ", \"gpu_forms\": {";
    const char* sep = "";
    for (auto [n, c] : {std::pair{"halves", &s.halves}, std::pair{"int_keys", &s.int_keys},
                        std::pair{"slots", &s.slots}, std::pair{"lean_slots", &s.lean_slots}}) {
      o << sep << "\"" << n << "\": {\"applied\": " << c->applied << ", \"differs\": " << c->differs << "}";
      sep = ", ";
    }
    o << "}, \"exact_differs_from_f32_blocks\": " << s.exact_differs_from_f32
      << ", \"f32_kept_by_exact\": " << num(s.f32_kept_by_exact);
  }
  o << "}";
}

void json_matrix(std::ostringstream& o, const MatrixStats& m) {
  const double k = m.moments.excess_kurtosis();
  o << "{\"name\": \"" << m.name << "\", \"rows\": " << m.rows << ", \"cols\": " << m.cols
    << ", \"elements\": " << static_cast<int64_t>(m.moments.n) << ", \"excess_kurtosis\": ";
  if (std::isnan(k)) {
    o << "null";
  } else {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.6g", k);
    o << buf;
  }
  char sums[160];
  std::snprintf(sums, sizeof sums, "{\"n\": %.17g, \"s1\": %.17g, \"s2\": %.17g, \"s3\": %.17g, \"s4\": %.17g}",
                m.moments.n, m.moments.s1, m.moments.s2, m.moments.s3, m.moments.s4);
  o << ", \"moments\": " << sums << ", \"types\": [";
  for (size_t i = 0; i < m.types.size(); ++i) {
    if (i) o << ", ";
    json_type(o, m.types[i]);
  }
  o << "]}";
}

}  // namespace

MatrixStats measure(const std::string& name, const float* w, int64_t rows, int64_t cols,
                    const std::vector<DType>& types) {
  MatrixSpec shape;
  shape.name = name, shape.rows = rows, shape.cols = cols;
  check_shape(shape);
  bool want_bf16 = false, want_fp16 = false;
  for (DType t : types) {
    if (t != DType::f32 && t != DType::bf16 && t != DType::fp16)
      throw std::invalid_argument(std::string("mask quality: type ") + type_name(t) + " (want f32, bf16, fp16)");
    want_bf16 = want_bf16 || t == DType::bf16, want_fp16 = want_fp16 || t == DType::fp16;
  }
  TypeStats f32, bf16, fp16;
  f32.type = DType::f32, bf16.type = DType::bf16, fp16.type = DType::fp16;
  MatrixStats out;
  out.name = name, out.rows = rows, out.cols = cols;
  for (int64_t i = 0; i < rows * cols; ++i) out.moments.add(w[i]);
  for (int64_t bi = 0; bi < rows / tr::kBlock; ++bi)
    for (int64_t bj = 0; bj < cols / tr::kBlock; ++bj) {
      double mag[16];
      float value[16];
      for (int r = 0; r < tr::kBlock; ++r)
        for (int c = 0; c < tr::kBlock; ++c) {
          const int64_t row = tr::kBlock * bi + r, col = tr::kBlock * bj + c;
          value[tr::kBlock * r + c] = w[row * cols + col];
          if (std::isnan(value[tr::kBlock * r + c]))
            throw std::runtime_error(name + ": NaN at row " + std::to_string(row) + ", column " + std::to_string(col) +
                                     ": a mask that keeps the most magnitude is undefined there");
          mag[tr::kBlock * r + c] = std::fabs(static_cast<double>(value[tr::kBlock * r + c]));
        }
      int e32 = 0;
      score_block(f32, mag, &e32);
      for (TypeStats* s : {&bf16, &fp16}) {
        if (!(s->type == DType::bf16 ? want_bf16 : want_fp16)) continue;
        uint16_t bits[16];
        double mag16[16];
        float mag16f[16];
        for (int i = 0; i < 16; ++i) {
          bits[i] = round_to(s->type, value[i]);
          mag16[i] = tr::magnitude(s->type, bits[i]);
          mag16f[i] = static_cast<float>(mag16[i]);   // exact: every 16-bit float is an f32
        }
        int e = 0;
        score_block(*s, mag16, &e);
        const uint16_t want = tr::kPatterns[e];
        if (tr::halves_applies(s->type, bits)) check_form(s->halves, tr::halves_mask(mag16), want);
        const bool b = s->type == DType::bf16;
        check_form(s->int_keys, b ? tr::int_keys_mask<true>(mag16f) : tr::int_keys_mask<false>(mag16f), want);
        check_form(s->slots, b ? tr::int_keys_slot_mask<true>(mag16f) : tr::int_keys_slot_mask<false>(mag16f), want);
        check_form(s->lean_slots,
                   b ? tr::int_keys_lean_slot_mask<true>(mag16f) : tr::int_keys_lean_slot_mask<false>(mag16f), want);
        s->exact_differs_from_f32 += e != e32;
        s->f32_kept_by_exact += tr::kept_sum(mag, want);
      }
      f32.f32_kept_by_exact += tr::kept_sum(mag, tr::kPatterns[e32]);
    }
  for (DType t : types) out.types.push_back(t == DType::f32 ? f32 : t == DType::bf16 ? bf16 : fp16);
  return out;
}

MatrixStats total(const std::vector<MatrixStats>& all) {
  MatrixStats sum;
  sum.name = "total";
  for (const MatrixStats& m : all) {
    sum.rows += m.rows;
    sum.moments.add(m.moments);
    if (sum.types.empty()) {
      for (const TypeStats& t : m.types) sum.types.push_back(TypeStats{}), sum.types.back().type = t.type;
    }
    if (m.types.size() != sum.types.size()) throw std::invalid_argument("mask quality: matrices with other types");
    for (size_t i = 0; i < m.types.size(); ++i) sum.types[i].add(m.types[i]);
  }
  return sum;
}

MatrixSpec parse_spec(const std::string& arg) {
  MatrixSpec spec;
  const size_t eq = arg.find('=');
  if (eq == std::string::npos) throw std::invalid_argument("'" + arg + "': want NAME=SOURCE");
  spec.name = arg.substr(0, eq);
  const std::string src = arg.substr(eq + 1);
  if (!valid_name(spec.name))
    throw std::invalid_argument("'" + arg + "': the name must be made of letters, digits, '.', '_' and '-'");
  if (src.rfind("normal:", 0) == 0) {
    spec.kind = MatrixSpec::Kind::normal;
    const std::string rest = src.substr(7);
    const size_t colon = rest.find(':');
    if (colon == std::string::npos) throw std::invalid_argument("'" + arg + "': want normal:ROWSxCOLS:SEED");
    parse_shape(rest.substr(0, colon), spec, arg);
    const std::string seed = rest.substr(colon + 1);
    if (seed.empty() || seed.size() > 9 || seed.find_first_not_of("0123456789") != std::string::npos)
      throw std::invalid_argument("'" + arg + "': the seed must be a number below 10^9");
    spec.seed = static_cast<uint32_t>(std::stoul(seed));
  } else if (src.size() > 4 && src.compare(src.size() - 4, 4, ".npy") == 0) {
    spec.kind = MatrixSpec::Kind::npy, spec.path = src;
    return spec;   // the shape comes from the file
  } else {
    const size_t colon = src.rfind(':');
    if (colon == std::string::npos || colon == 0)
      throw std::invalid_argument("'" + arg +
                                  "': want PATH:ROWSxCOLS (raw float32), PATH.npy or normal:ROWSxCOLS:SEED");
    spec.kind = MatrixSpec::Kind::raw, spec.path = src.substr(0, colon);
    parse_shape(src.substr(colon + 1), spec, arg);
  }
  check_shape(spec);
  return spec;
}

std::vector<float> load(MatrixSpec& spec) {
  switch (spec.kind) {
    case MatrixSpec::Kind::normal: {
      std::mt19937 rng(spec.seed);
      std::normal_distribution<double> normal(0.0, 1.0);
      std::vector<float> out(static_cast<size_t>(spec.rows * spec.cols));
      for (float& x : out) x = static_cast<float>(normal(rng));
      return out;
    }
    case MatrixSpec::Kind::npy: {
      if (!host_is_little_endian()) throw std::runtime_error("the readers assume a little-endian host");
      std::vector<float> out = read_npy(spec.path, &spec.rows, &spec.cols);
      check_shape(spec);
      return out;
    }
    case MatrixSpec::Kind::raw: {
      if (!host_is_little_endian()) throw std::runtime_error("the readers assume a little-endian host");
      const std::vector<char> bytes = read_file(spec.path);
      const size_t want = static_cast<size_t>(spec.rows * spec.cols) * sizeof(float);
      if (bytes.size() != want)
        throw std::runtime_error(spec.path + ": " + std::to_string(bytes.size()) + " bytes, " +
                                 std::to_string(spec.rows) + " x " + std::to_string(spec.cols) + " float32 need " +
                                 std::to_string(want));
      std::vector<float> out(static_cast<size_t>(spec.rows * spec.cols));
      std::memcpy(out.data(), bytes.data(), want);
      return out;
    }
  }
  throw std::logic_error("mask quality: unknown input kind");
}

std::string to_json(const std::vector<MatrixStats>& matrices, const MatrixStats& sum) {
  std::ostringstream o;
  o << "{\"tool\": \"sparse24_mask_quality\",\n"
       " \"axis\": \"W is rows x cols = out_features x in_features (M x K, the GEMM's A, y = x W^T); 1-D 2:4 keeps "
       "2 of 4 along each row (along K); the transposable masks keep 2 of 4 along rows and along columns of every 4x4 "
       "block\",\n"
       " \"methods\": {\"one_d\": \"transposable::one_d_mask: each row's 2 largest of 4, not transposable (the upper "
       "bound)\", \"exact\": \"transposable::exact_pattern: the most |W| among the 90 transposable 4x4 patterns\", "
       "\"greedy\": \"transposable::greedy_pattern: largest first while row and column hold < 2, then completed; "
       "PyTorch's _sparse_semi_structured_tile method in spirit (not a torch run)\"},\n"
       " \"gpu_forms\": \"host forms of the GPU scorings (halves: s04/s05; int_keys: s06; slots: s07; lean_slots: s08) "
       "on the blocks they take, compared with exact_pattern\",\n"
       " \"matrices\": [\n";
  for (size_t i = 0; i < matrices.size(); ++i) {
    o << "  ";
    json_matrix(o, matrices[i]);
    o << (i + 1 < matrices.size() ? ",\n" : "\n");
  }
  o << " ],\n \"total\": ";
  json_matrix(o, sum);
  o << "\n}\n";
  return o.str();
}

std::string to_text(const std::vector<MatrixStats>& matrices, const MatrixStats& sum) {
  std::ostringstream o;
  char line[256];
  std::snprintf(line, sizeof line, "%-28s %-5s %8s %7s %7s %7s %9s %8s %7s\n", "matrix", "type", "blocks", "1-D",
                "exact", "greedy", "exact/1D", "g.differs", "kurt");
  o << line;
  auto print = [&](const MatrixStats& m) {
    for (const TypeStats& s : m.types) {
      std::snprintf(line, sizeof line, "%-28s %-5s %8lld %7.4f %7.4f %7.4f %9.4f %8.1f%% %7.2f\n", m.name.c_str(),
                    type_name(s.type), static_cast<long long>(s.blocks), s.kept_one_d / s.sum_abs,
                    s.kept_exact / s.sum_abs, s.kept_greedy / s.sum_abs, s.kept_exact / s.kept_one_d,
                    100.0 * static_cast<double>(s.greedy_differs) / static_cast<double>(s.blocks),
                    m.moments.excess_kurtosis());
      o << line;
    }
  };
  for (const MatrixStats& m : matrices) print(m);
  print(sum);
  return o.str();
}

}  // namespace sparse24::harness::mask_quality
