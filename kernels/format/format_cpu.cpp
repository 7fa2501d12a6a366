// The sparse formats on the CPU: the reference that the GPU kernels must match bit for bit.
//
// Written for reading, not for speed: one chunk at a time, in row-major order, so that "the first offending row
// and chunk" is simply the first one the loop meets. The rules themselves (the magnitude keys, which elements are
// kept, which nibbles are valid, where a nibble goes in a layout) live in rules.h, shared with format_gpu.cu.
#include <cstring>
#include <vector>

#include "kernels/format/format.h"
#include "kernels/format/rules.h"

namespace sparse24::format {

using rules::cat;
using rules::check_canonical_shape;
using rules::check_dtype;
using rules::check_k;
using rules::check_layout_shape;
using rules::check_ptr;
using rules::fail;

// ---- Sizes and the byte accounting ----------------------------------------------------------------------------

int64_t compressed_cols(int64_t K) {
  check_k("compressed_cols", K);
  return K / 2;
}

int64_t meta_bytes_per_row(int64_t K) {
  check_k("meta_bytes_per_row", K);
  return K / 8;
}

int64_t compressed_cols(DType t, int64_t K) {
  check_k("compressed_cols", K, check_dtype("compressed_cols", t).group);
  return K / 2;   // 2:4 and 1:2 both keep half
}

int64_t meta_bytes_per_row(DType t, int64_t K) {
  const int group = check_dtype("meta_bytes_per_row", t).group;
  check_k("meta_bytes_per_row", K, group);
  return K / (2 * group);
}

namespace {
ByteAccount account(int elem_bits, int group, int keep) {
  ByteAccount a;
  a.dense_bits_per_group = group * elem_bits;
  a.compressed_bits_per_group = keep * elem_bits + 4;
  a.fraction_saved = 1.0 - static_cast<double>(a.compressed_bits_per_group) / a.dense_bits_per_group;
  a.meta_over_values = 4.0 / (keep * elem_bits);
  return a;
}
}  // namespace

ByteAccount byte_account(int elem_bits) {
  if (elem_bits < 1) fail("byte_account", cat("elem_bits = ", elem_bits, " is less than 1"));
  return account(elem_bits, 4, 2);
}

// tf32's 1:2 spends a nibble per PAIR: 8 bits per 4 elements, the same 1/8 of the values as 16-bit 2:4.
ByteAccount byte_account(DType t) {
  const DTypeInfo& d = check_dtype("byte_account", t);
  return account(d.bits, d.group, d.keep);
}

// ---- Metadata layouts -----------------------------------------------------------------------------------------

const char* name(MetaLayout l) { return valid_layout(l) ? desc(l).name : "unknown"; }

size_t meta_bytes(MetaLayout l, int64_t M, int64_t K) {
  check_layout_shape("meta_bytes", l, M, K);
  // Every layout is a permutation of the canonical nibbles: the same M*K/8 bytes, only in another order.
  return static_cast<size_t>(M) * static_cast<size_t>(K / 8);
}

size_t meta_bytes(MetaLayout l, DType t, int64_t M, int64_t K) {
  const DTypeInfo& d = check_dtype("meta_bytes", t);
  check_layout_shape("meta_bytes", l, M, K, d.bits, d.group);
  return static_cast<size_t>(M) * static_cast<size_t>(K / (2 * d.group));
}

// ---- Prune, compress, decompress --------------------------------------------------------------------------------
// Each is written once over the storage type S (uint8_t, uint16_t, uint32_t) and the group; the rules read raw bits
// widened to 32 bits.

namespace {

// Calls f(S{}) with the unsigned storage type of t's width (check_dtype has refused types without a format).
template <class F>
void with_storage(const DTypeInfo& d, F&& f) {
  switch (d.bits) {
    case 8: return f(uint8_t{});
    case 16: return f(uint16_t{});
    case 32: return f(uint32_t{});
    default: fail("with_storage", cat("dtype ", d.name, " has ", d.bits, "-bit storage"));
  }
}

// The group of elements at x, widened to 32-bit words for the rules.
template <class S>
void load_group(const S* x, int group, uint32_t (&e)[4]) {
  for (int j = 0; j < 4; ++j) e[j] = j < group ? static_cast<uint32_t>(x[j]) : 0u;
}

template <class S>
void prune_impl(const rules::ElemSpec& s, const S* dense, int64_t M, int64_t K, S* pruned) {
  for (int64_t i = 0; i < M * K; i += s.group) {
    uint32_t e[4];
    load_group(dense + i, s.group, e);
    const uint32_t keep = rules::group_nibble(e, s);
    // Read the group before writing it, so that prune may run in place (dense == pruned).
    for (int j = 0; j < s.group; ++j) pruned[i + j] = 0;   // dropped elements become +0.0 (integer 0)
    for (int j = 0; j < s.keep; ++j) {                     // kept ones keep their exact bits (-0.0 stays -0.0)
      const int at = rules::kept_index(keep, j, s.group);
      pruned[i + at] = static_cast<S>(e[at]);
    }
  }
}

template <class S>
void compress_impl(const rules::ElemSpec& s, const S* pruned, int64_t M, int64_t K, S* values, uint8_t* meta) {
  const int64_t groups = K / s.group, row_bytes = groups / 2, row_values = K / 2;
  for (int64_t r = 0; r < M; ++r) {
    for (int64_t c = 0; c < groups; ++c) {
      uint32_t e[4];
      load_group(pruned + r * K + s.group * c, s.group, e);
      const int nz = rules::group_nonzeros(e, s);
      if (nz > s.keep)
        fail("compress", cat("input is not ", s.keep, ":", s.group, ": ",
                             rules::dense_violation_message(r, c, nz, s.group, s.keep), " (prune it first)"));
      // On a valid group the selection rule keeps every nonzero, and fills up with the lowest-indexed zeros.
      const uint32_t keep = rules::group_nibble(e, s);
      for (int j = 0; j < s.keep; ++j)
        values[r * row_values + s.keep * c + j] = static_cast<S>(e[rules::kept_index(keep, j, s.group)]);
      uint8_t& byte = meta[r * row_bytes + c / 2];
      if (c % 2 == 0)
        byte = static_cast<uint8_t>(keep);            // low nibble first; the high one is written next
      else
        byte = static_cast<uint8_t>(byte | (keep << 4));
    }
  }
}

template <class S>
void decompress_impl(const rules::ElemSpec& s, const S* values, const uint8_t* meta, int64_t M, int64_t K, S* dense) {
  const int64_t groups = K / s.group, row_bytes = groups / 2, row_values = K / 2;
  for (int64_t r = 0; r < M; ++r) {
    for (int64_t c = 0; c < groups; ++c) {
      const uint32_t nibble = rules::canonical_nibble(meta + r * row_bytes, c);
      if (!rules::nibble_valid(nibble, s.group))
        fail("decompress", cat("invalid metadata: ", rules::meta_violation_message(r, c, nibble, s.group)));
      S* x = dense + r * K + s.group * c;
      for (int j = 0; j < s.group; ++j) x[j] = 0;
      for (int j = 0; j < s.keep; ++j)
        x[rules::kept_index(nibble, j, s.group)] = values[r * row_values + s.keep * c + j];
    }
  }
}

template <class S>
Violation validate_dense_impl(const rules::ElemSpec& s, const S* dense, int64_t M, int64_t K) {
  for (int64_t r = 0; r < M; ++r)
    for (int64_t c = 0; c < K / s.group; ++c) {
      uint32_t e[4];
      load_group(dense + r * K + s.group * c, s.group, e);
      const int nz = rules::group_nonzeros(e, s);
      if (nz > s.keep) return rules::make_violation(r, c, rules::dense_violation_message(r, c, nz, s.group, s.keep));
    }
  return Violation{};
}

}  // namespace

void prune(DType t, const void* dense, int64_t M, int64_t K, void* pruned) {
  const DTypeInfo& d = check_dtype("prune", t);
  check_canonical_shape("prune", M, K, d.group);
  check_ptr("prune", dense, "dense");
  check_ptr("prune", pruned, "pruned");
  with_storage(d, [&](auto tag) {
    using S = decltype(tag);
    prune_impl(rules::spec_of(d), static_cast<const S*>(dense), M, K, static_cast<S*>(pruned));
  });
}

void compress(DType t, const void* pruned, int64_t M, int64_t K, void* values, uint8_t* meta) {
  const DTypeInfo& d = check_dtype("compress", t);
  check_canonical_shape("compress", M, K, d.group);
  check_ptr("compress", pruned, "pruned");
  check_ptr("compress", values, "values");
  check_ptr("compress", meta, "meta");
  with_storage(d, [&](auto tag) {
    using S = decltype(tag);
    compress_impl(rules::spec_of(d), static_cast<const S*>(pruned), M, K, static_cast<S*>(values), meta);
  });
}

void decompress(DType t, const void* values, const uint8_t* meta, int64_t M, int64_t K, void* dense) {
  const DTypeInfo& d = check_dtype("decompress", t);   // decompression only moves bits, of the type's width
  check_canonical_shape("decompress", M, K, d.group);
  check_ptr("decompress", values, "values");
  check_ptr("decompress", meta, "meta");
  check_ptr("decompress", dense, "dense");
  with_storage(d, [&](auto tag) {
    using S = decltype(tag);
    decompress_impl(rules::spec_of(d), static_cast<const S*>(values), meta, M, K, static_cast<S*>(dense));
  });
}

void prune_compress(DType t, MetaLayout l, const void* dense, int64_t M, int64_t K, void* values, uint8_t* meta) {
  const char* fn = "prune_compress";
  const DTypeInfo& d = check_dtype(fn, t);
  check_layout_shape(fn, l, M, K, d.bits, d.group);
  check_ptr(fn, dense, "dense");
  check_ptr(fn, values, "values");
  check_ptr(fn, meta, "meta");
  const size_t dense_bytes = static_cast<size_t>(M) * static_cast<size_t>(K) * static_cast<size_t>(d.bits / 8);
  std::vector<uint8_t> pruned(dense_bytes), canonical(meta_bytes(MetaLayout::Canonical, t, M, K));
  prune(t, dense, M, K, pruned.data());
  compress(t, pruned.data(), M, K, values, canonical.data());
  reorder_meta(l, t, canonical.data(), M, K, meta);
}

// ---- Validate -------------------------------------------------------------------------------------------------

Violation validate_dense(DType t, const void* dense, int64_t M, int64_t K) {
  const DTypeInfo& d = check_dtype("validate_dense", t);
  check_canonical_shape("validate_dense", M, K, d.group);
  check_ptr("validate_dense", dense, "dense");
  Violation v;
  with_storage(d, [&](auto tag) {
    using S = decltype(tag);
    v = validate_dense_impl(rules::spec_of(d), static_cast<const S*>(dense), M, K);
  });
  return v;
}

namespace {
Violation validate_meta_impl(const char* fn, int group, const uint8_t* meta, int64_t M, int64_t K) {
  check_canonical_shape(fn, M, K, group);
  check_ptr(fn, meta, "meta");
  const int64_t groups = K / group, row_bytes = groups / 2;
  for (int64_t r = 0; r < M; ++r)
    for (int64_t c = 0; c < groups; ++c) {
      const uint32_t nibble = rules::canonical_nibble(meta + r * row_bytes, c);
      if (!rules::nibble_valid(nibble, group))
        return rules::make_violation(r, c, rules::meta_violation_message(r, c, nibble, group));
    }
  return Violation{};
}
}  // namespace

Violation validate_meta(const uint8_t* meta, int64_t M, int64_t K) {
  return validate_meta_impl("validate_meta", 4, meta, M, K);
}

Violation validate_meta(DType t, const uint8_t* meta, int64_t M, int64_t K) {
  return validate_meta_impl("validate_meta", check_dtype("validate_meta", t).group, meta, M, K);
}

// ---- Reorder --------------------------------------------------------------------------------------------------
// A reorder is a pure permutation of nibbles: it neither checks nor changes them, so reorder followed by its
// inverse is the identity on any bytes, valid metadata or not.

namespace {

// The one generic reorder: canonical -> layout d (to_layout) or d -> canonical, through the description's position
// function (rules.h layout_nibble_byte); `cols` nibble columns per row. Every output nibble is written exactly
// once, so the output is cleared first and OR-ed into.
void reorder_with(const MetaLayoutDesc& d, const uint8_t* in, int64_t M, int64_t cols, uint8_t* out,
                  bool to_layout) {
  const MetaLayoutDesc& canonical = desc(MetaLayout::Canonical);
  const size_t bytes = static_cast<size_t>(M) * static_cast<size_t>(cols / 2);
  if (d.id == MetaLayout::Canonical) {  // the identity (and the input may be the output)
    std::memmove(out, in, bytes);
    return;
  }
  std::memset(out, 0, bytes);
  for (int64_t r = 0; r < M; ++r)
    for (int64_t j = 0; j < cols; ++j) {
      int s_layout = 0, s_canon = 0;
      const int64_t at_layout = rules::layout_nibble_byte(d, r, j, cols, &s_layout);
      const int64_t at_canon = rules::layout_nibble_byte(canonical, r, j, cols, &s_canon);
      const int64_t from = to_layout ? at_canon : at_layout, to = to_layout ? at_layout : at_canon;
      const int from_shift = to_layout ? s_canon : s_layout, to_shift = to_layout ? s_layout : s_canon;
      out[to] = static_cast<uint8_t>(out[to] | (((in[from] >> from_shift) & 0xFu) << to_shift));
    }
}

void reorder(const char* fn, MetaLayout l, int elem_bits, int group, const uint8_t* in, const char* in_name,
             int64_t M, int64_t K, uint8_t* out, const char* out_name, bool to_layout) {
  const MetaLayoutDesc& d = check_layout_shape(fn, l, M, K, elem_bits, group);
  check_ptr(fn, in, in_name);
  check_ptr(fn, out, out_name);
  reorder_with(d, in, M, K / group, out, to_layout);
}

}  // namespace

void reorder_meta(MetaLayout to, const uint8_t* canonical, int64_t M, int64_t K, uint8_t* out) {
  reorder("reorder_meta", to, 16, 4, canonical, "canonical", M, K, out, "out", true);
}

void reorder_meta_to_canonical(MetaLayout from, const uint8_t* in, int64_t M, int64_t K, uint8_t* canonical) {
  reorder("reorder_meta_to_canonical", from, 16, 4, in, "in", M, K, canonical, "canonical", false);
}

void reorder_meta(MetaLayout to, DType t, const uint8_t* canonical, int64_t M, int64_t K, uint8_t* out) {
  const DTypeInfo& d = check_dtype("reorder_meta", t);
  reorder("reorder_meta", to, d.bits, d.group, canonical, "canonical", M, K, out, "out", true);
}

void reorder_meta_to_canonical(MetaLayout from, DType t, const uint8_t* in, int64_t M, int64_t K,
                               uint8_t* canonical) {
  const DTypeInfo& d = check_dtype("reorder_meta_to_canonical", t);
  reorder("reorder_meta_to_canonical", from, d.bits, d.group, in, "in", M, K, canonical, "canonical", false);
}

}  // namespace sparse24::format
