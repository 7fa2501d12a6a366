# The dense family: mma.sync twins of the sparse ladders (sm_80 and later).
# SASS: what scripts/check_sass.py demands of every kernel of the family (HMMA, none sparse).
sparse24_add_family(dense MIN_ARCH 80 SASS "hmma_dense")
