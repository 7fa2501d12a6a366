# Sourced (not run) by the scripts that write a results folder results/<gpu>/<name>_<date>_<commit>/ (bench.sh,
# sweep.sh, overhead_ncu.sh, datapipe.sh), so that every folder is named the same way. Needs $top (the repository
# root); sets
#   gpu     the first GPU's name as nvidia-smi spells it, lower case, spaces to '-', anything but [a-z0-9-] dropped
#           ("NVIDIA H100 80GB HBM3" -> nvidia-h100-80gb-hbm3: kernels/dispatch.h and make_dispatch_table.py key
#           their rows the same way); unknown-gpu without one
#   commit  as scripts/commit_header.cmake: git's short hash, "-dirty" if tracked files differ; in a copy without
#           .git, SPARSE24_COMMIT if set, else unknown
gpu=$( (nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null || true) | head -n 1 | tr 'A-Z ' 'a-z-' | tr -cd 'a-z0-9-')
gpu=${gpu:-unknown-gpu}
if commit=$(git -C "$top" rev-parse --short HEAD 2>/dev/null); then
  git -C "$top" diff --quiet HEAD 2>/dev/null || commit="$commit-dirty"
else
  commit=${SPARSE24_COMMIT:-unknown}
fi
