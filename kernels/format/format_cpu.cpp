// The 2:4 format on the CPU: the reference that the GPU kernels must match bit for bit.
//
// Written for reading, not for speed: one chunk at a time, in row-major order, so that "the first offending row
// and chunk" is simply the first one the loop meets. The rules themselves (which elements are kept, which nibbles
// are valid, where a nibble goes in a lane block) live in rules.h, shared with format_gpu.cu.
#include <cstring>

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

// NOTE: this is the 2:4 accounting (one 4-bit nibble per 4 dense elements). tf32's 1:2 spends a nibble per PAIR,
// 8 bits per 4 elements, and will need its own line when tf32 arrives.
ByteAccount byte_account(int elem_bits) {
  if (elem_bits < 1) fail("byte_account", cat("elem_bits = ", elem_bits, " is less than 1"));
  ByteAccount a;
  a.dense_bits_per_group = 4 * elem_bits;
  a.compressed_bits_per_group = 2 * elem_bits + 4;
  a.fraction_saved = 1.0 - static_cast<double>(a.compressed_bits_per_group) / a.dense_bits_per_group;
  a.meta_over_values = 4.0 / (2.0 * elem_bits);
  return a;
}

// ---- Metadata layouts -----------------------------------------------------------------------------------------

const char* name(MetaLayout l) {
  switch (l) {
    case MetaLayout::Canonical: return "canonical";
    case MetaLayout::LaneBlocks16: return "lane_blocks16";
    case MetaLayout::Wgmma16x64: return "wgmma16x64";
  }
  return "unknown";
}

size_t meta_bytes(MetaLayout l, int64_t M, int64_t K) {
  check_layout_shape("meta_bytes", l, M, K);
  // Every layout is a permutation of the canonical nibbles: the same M*K/8 bytes, only in another order.
  return static_cast<size_t>(M) * static_cast<size_t>(K / 8);
}

// ---- Prune, compress, decompress --------------------------------------------------------------------------------

void prune(DType t, const void* dense_bytes, int64_t M, int64_t K, void* pruned_bytes) {
  const auto* dense = static_cast<const uint16_t*>(dense_bytes);
  auto* pruned = static_cast<uint16_t*>(pruned_bytes);
  const int sign_bit = check_dtype("prune", t).sign_bit;
  check_canonical_shape("prune", M, K);
  check_ptr("prune", dense, "dense");
  check_ptr("prune", pruned, "pruned");
  for (int64_t i = 0; i < M * K; i += 4) {
    const uint16_t* x = dense + i;
    const uint32_t keep = rules::keep_nibble(x[0], x[1], x[2], x[3], sign_bit);
    const int i0 = rules::nibble_idx0(keep), i1 = rules::nibble_idx1(keep);
    // Read the chunk before writing it, so that prune may run in place (dense == pruned).
    const uint16_t v0 = x[i0], v1 = x[i1];
    for (int j = 0; j < 4; ++j) pruned[i + j] = 0;   // dropped elements become +0.0
    pruned[i + i0] = v0;                             // kept ones keep their exact bits (a kept -0.0 stays -0.0)
    pruned[i + i1] = v1;
  }
}

void compress(DType t, const void* pruned_bytes, int64_t M, int64_t K, void* values_bytes, uint8_t* meta) {
  const auto* pruned = static_cast<const uint16_t*>(pruned_bytes);
  auto* values = static_cast<uint16_t*>(values_bytes);
  const int sign_bit = check_dtype("compress", t).sign_bit;
  check_canonical_shape("compress", M, K);
  check_ptr("compress", pruned, "pruned");
  check_ptr("compress", values, "values");
  check_ptr("compress", meta, "meta");
  const int64_t chunks = K / 4;
  for (int64_t r = 0; r < M; ++r) {
    const uint16_t* row = pruned + r * K;
    for (int64_t c = 0; c < chunks; ++c) {
      const uint16_t* x = row + 4 * c;
      const int nz = rules::count_nonzeros(x[0], x[1], x[2], x[3], sign_bit);
      if (nz > 2)
        fail("compress", cat("input is not 2:4: ", rules::dense_violation_message(r, c, nz), " (prune it first)"));
      // On a 2:4 chunk the selection rule keeps every nonzero, and fills up with the lowest-indexed zeros.
      const uint32_t keep = rules::keep_nibble(x[0], x[1], x[2], x[3], sign_bit);
      values[r * (K / 2) + 2 * c + 0] = x[rules::nibble_idx0(keep)];
      values[r * (K / 2) + 2 * c + 1] = x[rules::nibble_idx1(keep)];
      uint8_t& byte = meta[r * (K / 8) + c / 2];
      if (c % 2 == 0)
        byte = static_cast<uint8_t>(keep);            // low nibble first; the high one is written next
      else
        byte = static_cast<uint8_t>(byte | (keep << 4));
    }
  }
}

void decompress(DType t, const void* values_bytes, const uint8_t* meta, int64_t M, int64_t K, void* dense_bytes) {
  auto* dense = static_cast<uint16_t*>(dense_bytes);
  const auto* values = static_cast<const uint16_t*>(values_bytes);
  check_dtype("decompress", t);   // decompression only moves bits, but the storage must be 16-bit
  check_canonical_shape("decompress", M, K);
  check_ptr("decompress", values, "values");
  check_ptr("decompress", meta, "meta");
  check_ptr("decompress", dense, "dense");
  const int64_t chunks = K / 4;
  for (int64_t r = 0; r < M; ++r) {
    for (int64_t c = 0; c < chunks; ++c) {
      const uint32_t nibble = rules::canonical_nibble(meta + r * (K / 8), c);
      if (!rules::nibble_valid(nibble))
        fail("decompress", cat("invalid metadata: ", rules::meta_violation_message(r, c, nibble)));
      uint16_t* x = dense + r * K + 4 * c;
      for (int j = 0; j < 4; ++j) x[j] = 0;
      x[rules::nibble_idx0(nibble)] = values[r * (K / 2) + 2 * c + 0];
      x[rules::nibble_idx1(nibble)] = values[r * (K / 2) + 2 * c + 1];
    }
  }
}

// ---- Validate -------------------------------------------------------------------------------------------------

Violation validate_dense(DType t, const void* dense_bytes, int64_t M, int64_t K) {
  const auto* dense = static_cast<const uint16_t*>(dense_bytes);
  const int sign_bit = check_dtype("validate_dense", t).sign_bit;
  check_canonical_shape("validate_dense", M, K);
  check_ptr("validate_dense", dense, "dense");
  for (int64_t r = 0; r < M; ++r)
    for (int64_t c = 0; c < K / 4; ++c) {
      const uint16_t* x = dense + r * K + 4 * c;
      const int nz = rules::count_nonzeros(x[0], x[1], x[2], x[3], sign_bit);
      if (nz > 2) return rules::make_violation(r, c, rules::dense_violation_message(r, c, nz));
    }
  return Violation{};
}

Violation validate_meta(const uint8_t* meta, int64_t M, int64_t K) {
  check_canonical_shape("validate_meta", M, K);
  check_ptr("validate_meta", meta, "meta");
  for (int64_t r = 0; r < M; ++r)
    for (int64_t c = 0; c < K / 4; ++c) {
      const uint32_t nibble = rules::canonical_nibble(meta + r * (K / 8), c);
      if (!rules::nibble_valid(nibble)) return rules::make_violation(r, c, rules::meta_violation_message(r, c, nibble));
    }
  return Violation{};
}

// ---- Reorder --------------------------------------------------------------------------------------------------
// A reorder is a pure permutation of nibbles: it neither checks nor changes them, so reorder followed by its
// inverse is the identity on any bytes, valid metadata or not.

namespace {

// The one generic reorder: canonical -> Layout (to_layout) or Layout -> canonical, through the trait's position
// function (rules.h). Every output nibble is written exactly once, so the output is cleared first and OR-ed into.
template <class Layout>
void reorder_with(const uint8_t* in, int64_t M, int64_t K, uint8_t* out, bool to_layout) {
  std::memset(out, 0, static_cast<size_t>(M) * static_cast<size_t>(K / 8));
  for (int64_t r = 0; r < M; ++r)
    for (int64_t k = 0; k < K; k += 4) {
      int s_layout = 0, s_canon = 0;
      const int64_t at_layout = Layout::nibble_byte(r, k, K, &s_layout);
      const int64_t at_canon = rules::CanonicalLayout::nibble_byte(r, k, K, &s_canon);
      const int64_t from = to_layout ? at_canon : at_layout, to = to_layout ? at_layout : at_canon;
      const int from_shift = to_layout ? s_canon : s_layout, to_shift = to_layout ? s_layout : s_canon;
      out[to] = static_cast<uint8_t>(out[to] | (((in[from] >> from_shift) & 0xFu) << to_shift));
    }
}

}  // namespace

void reorder_meta(MetaLayout to, const uint8_t* canonical, int64_t M, int64_t K, uint8_t* out) {
  check_layout_shape("reorder_meta", to, M, K);
  check_ptr("reorder_meta", canonical, "canonical");
  check_ptr("reorder_meta", out, "out");
  if (to == MetaLayout::Canonical) {  // the identity (and the input may be the output)
    std::memmove(out, canonical, static_cast<size_t>(M) * static_cast<size_t>(K / 8));
    return;
  }
  rules::with_layout("reorder_meta", to, [&](auto layout) {
    reorder_with<decltype(layout)>(canonical, M, K, out, true);
  });
}

void reorder_meta_to_canonical(MetaLayout from, const uint8_t* in, int64_t M, int64_t K, uint8_t* canonical) {
  check_layout_shape("reorder_meta_to_canonical", from, M, K);
  check_ptr("reorder_meta_to_canonical", in, "in");
  check_ptr("reorder_meta_to_canonical", canonical, "canonical");
  if (from == MetaLayout::Canonical) {
    std::memmove(canonical, in, static_cast<size_t>(M) * static_cast<size_t>(K / 8));
    return;
  }
  rules::with_layout("reorder_meta_to_canonical", from, [&](auto layout) {
    reorder_with<decltype(layout)>(in, M, K, canonical, false);
  });
}

}  // namespace sparse24::format
