// The K that wraps a variant's shared-memory ring in every K slice, shared by the GPU tests whose shapes the
// sanitizer runs (scripts/sanitize.sh): a bug at the wrap (a wrong phase, a missed barrier, a stage refilled while
// still read) is invisible on a shape whose slices never reach the ring's last stage.
#pragma once

#include <algorithm>

#include "kernels/common/splitk.h"
#include "kernels/registry.h"

namespace sparse24::gputest {

inline int round_up(int x, int multiple) { return (x + multiple - 1) / multiple * multiple; }

// Slices of K a variant may run: its fixed split (split_k > 0), at most splitk::kMaxSplit when prepare() chooses
// (split_k 0: both choosers in kernels/common/splitk.h cap there), 1 without split-K.
inline int max_slices(const Variant& v) {
  if (!v.has_param("split_k")) return 1;
  return v.param("split_k") > 0 ? v.param("split_k") : splitk::kMaxSplit;
}

// (stages + 1) k-tiles of the variant's "bk" in the shortest slice (splitk::slice_of: slices differ by at most one
// tile), so stage 0 is refilled after the last stage was used; rounded up to the shape rule's K multiple.
inline int ring_wrap_k(const Variant& v) {
  return round_up((v.param("stages") + 1) * v.param("bk") * max_slices(v), v.rule.k_multiple);
}

}  // namespace sparse24::gputest
