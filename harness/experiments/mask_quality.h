// Issue 18's quality table on any weight matrix: how much of sum |W| each 2:4 mask method keeps, per matrix and in
// total (the tool sparse24_mask_quality, harness/experiments/mask_quality_main.cpp; scripts/checkpoint_quality.py
// runs it on a real checkpoint's linear layers).
//
// The matrix is W as a linear layer stores it and as our GEMM reads it (design.md: A = W, M x K row-major,
// y = x·Wᵀ): rows = output features (M), columns = input features (K), so "1-D 2:4" prunes along each row (along K,
// the GEMM's reduction axis) and a transposable mask makes Wᵀ 2:4 along M as well. PyTorch's nn.Linear.weight is
// [out_features, in_features]: its rows are these rows.
//
// Every method is the library's, called by name (kernels/format/transposable.h), on the magnitudes of each 4x4
// block (rows 4i..4i+3, columns 4j..4j+3):
//   one_d:  one_d_mask, each row's two largest of four (not transposable: the upper bound);
//   exact:  exact_pattern, the most magnitude among the 90 transposable patterns;
//   greedy: greedy_pattern, largest first while the row and column hold fewer than two, then completed. It is
//           PyTorch's tile method (_sparse_semi_structured_tile, xformers' sparsify_both_ways) in spirit, not in code:
//           no torch run stands behind its figures.
// The GPU's faster scorings are the exact optimum by construction; on the 16-bit types their host forms are run on
// every block they take and counted where they differ from exact_pattern (expected: never):
//   halves (format.s04_halves, s05) where halves_applies; int_keys_mask (s06), int_keys_slot_mask (s07) and
//   int_keys_lean_slot_mask (s08) where their integer keys are exact (elsewhere the kernels fall back to the double
//   path, i.e. to exact_pattern itself).
// Element types: the masks are chosen on the weights as f32 (the file's values), and on the weights rounded to bf16
// and to fp16 (round to nearest even, CUDA's host conversions: what our prune kernels read). For a 16-bit type the
// kept fractions are of that type's own sum |W|, and the exact choice is also compared with the f32 one (blocks that
// choose another pattern, and the f32 |W| that the 16-bit choice keeps).
// NaN is refused (the block's position named), as block_masks refuses it; rows and columns must be multiples of 4.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kernels/common/dtype.h"

namespace sparse24::harness::mask_quality {

// Raw power sums of the f32 values, so that matrices add up; excess kurtosis 0 for a normal distribution, 3 for a
// Laplace one: how heavy the tails are.
struct Moments {
  double n = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0;
  void add(double x);
  void add(const Moments& o);
  double excess_kurtosis() const;
};

// A GPU scoring's host form checked against exact_pattern: the blocks it took, and of those the blocks where its
// mask differs.
struct FormCheck {
  int64_t applied = 0, differs = 0;
};

// One element type's figures for a matrix (or a sum of matrices).
struct TypeStats {
  DType type = DType::f32;
  int64_t blocks = 0;
  double sum_abs = 0;                         // sum of |w| of this type's values
  double kept_one_d = 0, kept_exact = 0, kept_greedy = 0;
  int64_t greedy_differs = 0;                 // blocks where greedy_pattern != exact_pattern
  int64_t one_d_transposable = 0;             // blocks whose 1-D mask is already transposable (then exact = 1-D)
  FormCheck halves, int_keys, slots, lean_slots;   // 16-bit types only
  int64_t exact_differs_from_f32 = 0;         // 16-bit types: blocks whose exact pattern differs from the f32 one
  double f32_kept_by_exact = 0;               // the f32 |w| kept by this type's exact patterns
  void add(const TypeStats& o);
};

struct MatrixStats {
  std::string name;
  int64_t rows = 0, cols = 0;
  Moments moments;
  std::vector<TypeStats> types;   // in the order asked
};

// The figures for one matrix (rows x cols floats, row-major). types: a subset of {f32, bf16, fp16}, f32 always
// computed (the 16-bit types compare with it) but listed only if asked.
MatrixStats measure(const std::string& name, const float* w, int64_t rows, int64_t cols,
                    const std::vector<DType>& types);
// The sum of several matrices' figures (name "total", rows = total rows, cols = 0).
MatrixStats total(const std::vector<MatrixStats>& all);

// ---- Inputs ------------------------------------------------------------------------------------------------------
// NAME=SOURCE, NAME of [A-Za-z0-9._-] (so that it goes into JSON and tables unescaped), SOURCE one of
//   PATH:ROWSxCOLS   raw little-endian float32, row-major, exactly ROWS * COLS * 4 bytes;
//   PATH.npy         a 2-D C-order .npy of '<f4';
//   normal:ROWSxCOLS:SEED   i.i.d. N(0, 1) drawn as doubles by std::mt19937(SEED), rounded to float (the control).
struct MatrixSpec {
  enum class Kind { raw, npy, normal } kind = Kind::raw;
  std::string name, path;
  int64_t rows = 0, cols = 0;
  uint32_t seed = 0;
};
MatrixSpec parse_spec(const std::string& arg);   // throws std::invalid_argument with the reason
// The matrix's values; rows and cols filled in for .npy. Throws std::runtime_error (file, size, format).
std::vector<float> load(MatrixSpec& spec);

// The report: {"tool", "axis", "methods", "gpu_forms", "matrices": [...], "total": {...}}, a matrix with its
// "moments" (the raw power sums above, so that a reader can pool matrices) and one entry per type.
std::string to_json(const std::vector<MatrixStats>& matrices, const MatrixStats& sum);
// The same as a text table (one line per matrix and type).
std::string to_text(const std::vector<MatrixStats>& matrices, const MatrixStats& sum);

}  // namespace sparse24::harness::mask_quality
