// CPU reference of fragment order (fragment_values.h): the permutation written as a loop over the image, each
// element fetched from where fragment_source() says, the same function the GPU kernel calls.
#include "kernels/format/fragment_values.h"

#include <cstring>
#include <string>
#include <vector>

#include "kernels/format/format.h"

namespace sparse24::format {
namespace {

void check_shape(const char* fn, DType t, int64_t M, int64_t K, int64_t ldv) {
  const std::string where = std::string("format::") + fn + ": ";
  if (!valid_dtype(t) || bytes_of(t) != 2)
    throw FormatError(where + "fragment order is a layout of the 16-bit wgmma.sp RS fragment (fp16, bf16)");
  if (M < 1) throw FormatError(where + "M = " + std::to_string(M) + " must be at least 1");
  if (K < kFragmentTileCols || K % kFragmentTileCols != 0)
    throw FormatError(where + "K = " + std::to_string(K) + " must be a positive multiple of " +
                      std::to_string(kFragmentTileCols) + " (whole k-tiles)");
  if (ldv < K / 2)
    throw FormatError(where + "the values' row stride " + std::to_string(ldv) + " is below K/2 = " +
                      std::to_string(K / 2));
}

}  // namespace

size_t fragment_values_bytes(DType t, int64_t M, int64_t K) {
  check_shape("fragment_values_bytes", t, M, K, K / 2);
  return size_t(fragment_slabs(M)) * size_t(K / kFragmentTileCols) * kFragmentBlockBytes;
}

// Visits every element of the fragment image once, in image order: fn(index in the image, its source row and column).
template <class Fn>
static void for_each_fragment_element(int64_t M, int64_t K, Fn fn) {
  const int64_t k_tiles = K / kFragmentTileCols;
  constexpr int kChunks = kFragmentBlockBytes / kFragmentChunkBytes;
  for (int64_t s = 0; s < fragment_slabs(M); ++s)
    for (int64_t kt = 0; kt < k_tiles; ++kt)
      for (int c = 0; c < kChunks; ++c)
        for (int e = 0; e < kFragmentChunkValues; ++e)
          fn(((s * k_tiles + kt) * kChunks + c) * kFragmentChunkValues + e, fragment_source(s, kt, c, e));
}

void to_fragment_order(DType t, const void* values, int64_t ldv, int64_t M, int64_t K, void* out) {
  check_shape("to_fragment_order", t, M, K, ldv);
  const auto* v = static_cast<const uint16_t*>(values);
  auto* o = static_cast<uint16_t*>(out);
  for_each_fragment_element(M, K, [&](int64_t at, const FragmentSource& src) {
    o[at] = src.row < M ? v[src.row * ldv + src.col] : uint16_t{0};
  });
}

void from_fragment_order(DType t, const void* fragments, int64_t M, int64_t K, void* values, int64_t ldv) {
  check_shape("from_fragment_order", t, M, K, ldv);
  const auto* f = static_cast<const uint16_t*>(fragments);
  auto* v = static_cast<uint16_t*>(values);
  for_each_fragment_element(M, K, [&](int64_t at, const FragmentSource& src) {
    if (src.row < M) v[src.row * ldv + src.col] = f[at];
  });
}

}  // namespace sparse24::format
