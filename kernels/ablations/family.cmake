# The ablations: twins of ladder steps with one cost removed, so that the difference in time is that cost (issue
# 17's metadata overhead measured as time). They are correct kernels on the problems they declare (the registry's
# uniform_metadata field: the harness gives them a problem whose 2:4 pattern is the one they assume), listed apart
# from the ladders, never picked by the dispatcher. sm_90a only (the wgmma twins need it; the mma_sp twin is built
# there too, where it is measured; so is the skinny twin). SASS: every tensor-core MMA sparse, HGMMA (wgmma twins) or
# HMMA (mma_sp and skinny twins).
# One ablation of another cost: s06_fp8fastaccum, wgmma_sp s06 on fp8 without s10/s12's promotion to f32 registers
# (the price of f32-quality fp8 sums, issue 16). It reads the real metadata (not uniform_metadata) and is correct on
# every problem, at the fp8 accumulator's ~14 bits: it is never picked because it is an ablation (the family).
sparse24_add_family(ablations MIN_ARCH 90 ARCH_SPECIFIC SASS "any_sparse")
