# The wgmma_dense family: dense wgmma.mma_async twins of the wgmma_sp TMA steps (sm_90a only, as wgmma_sp), the
# same ring, tiles and schedule with dense A and no metadata, so that sparse/dense at equal engineering is measured.
# SASS: what scripts/check_sass.py demands of every kernel of the family (HGMMA, none sparse).
sparse24_add_family(wgmma_dense MIN_ARCH 90 ARCH_SPECIFIC SASS "hgmma_dense")
