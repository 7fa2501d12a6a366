# The wgmma_sp family: Hopper warpgroup wgmma.mma_async.sp (sm_90a only: the instruction exists on no other
# architecture, and only in the arch-specific 'a' target). Left out of builds that do not target 90a.
# SASS: what scripts/check_sass.py demands of every kernel of the family (every HGMMA sparse).
sparse24_add_family(wgmma_sp MIN_ARCH 90 ARCH_SPECIFIC SASS "hgmma_sparse")
