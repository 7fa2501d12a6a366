# The skinny family: decode / small-batch shapes (N <= 128), split-K over all SMs, warp-level mma.sp (sm_80 and
# later). SASS: what scripts/check_sass.py demands of every kernel of the family (every HMMA sparse). The split-K
# reduction kernel has no HMMA and lives in namespace sparse24::splitk (kernels/common/splitk.cuh), not here.
sparse24_add_family(skinny MIN_ARCH 80 SASS "hmma_sparse")
