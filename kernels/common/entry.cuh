// The one __global__ function of every GEMM variant: it forwards to the variant's device-side run().
//
// Keeping the kernel body in a static member (Kernel::run) lets each step be one struct that carries its
// parameters, its derived sizes and its code together; the entry's mangled name contains the struct's full name
// (family namespace, step, template arguments), which is what ncu's -k filter and scripts/check_ptx.py match on.
#pragma once

#include "kernels/gemm_args.h"

namespace sparse24 {

template <class Kernel>
__global__ void __launch_bounds__(Kernel::kThreads) gemm_entry(GemmArgs args) {
  Kernel::run(args);
}

}  // namespace sparse24
