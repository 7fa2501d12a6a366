// Evicting the operands from L2 before a timed launch: the one flush that the harness's timed loop
// (harness/timing.h, L2Flusher) and `auto`'s measurement of its candidates (kernels/dispatch.cpp) both use, so that
// the two time a launch the same way.
// NOTE: a read, never a write. A memset of the same buffer leaves L2 full of dirty lines that the next launch pays
// to write back inside its own event window: up to 60 MB on an H200. Until session 22 `auto` flushed with a memset,
// and its candidates read 5-7 us slower than the same kernels in the harness's loop (fp16 8192x128x8192: 36.1-36.7
// against 29.4-31.3 us, results/nvidia-h200/session21_2026-12-04_18bcb0f/band_fp16.json, notes.auto_timings), with
// the order of the fastest three changed: the write-back is not the same for every kernel.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>

namespace sparse24 {

// Twice the L2 of `device` (at least 2 MB): the size of buffer that flush_l2 reads.
size_t l2_flush_bytes(int device);

// Reads every byte of `zeroed` (`bytes` long, all zero: the kernel keeps its loads alive with a store that runs only
// if it reads a value that is not there) on `stream`. Leaves L2 holding only clean lines of that buffer.
void flush_l2(const void* zeroed, size_t bytes, cudaStream_t stream);

}  // namespace sparse24
