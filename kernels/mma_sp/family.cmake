# The mma_sp family: warp-level mma.sp (sm_80 and later). Built for every targeted architecture from sm_80 up.
# SASS: what scripts/check_sass.py demands of every kernel of the family (every HMMA sparse).
sparse24_add_family(mma_sp MIN_ARCH 80 SASS "hmma_sparse")
