# Short verbs over CMake (CMakeLists.txt is the build's source of truth).
#   make test       install missing build dependencies, configure, build, run every test (GPU tests skip without a GPU)
#   make bench      build, a quick look on the GPU (~2 min: peers, auto, each family's fastest variants and their
#                   dense twins on 4 shapes), recorded under results/, then a compact table
#   make sweep SET=<name> [FILTER=<regex or named filter>] [DTYPES=fp16,bf16]
#                   every variant (or FILTER's) over a named shape set (scripts/shape_sets.json: square, llama3-8b,
#                   llama3-70b, mixtral-8x7b, qwen2.5-72b, models = the four together, overhead), resumable: the same
#                   command picks up where it stopped. Named filters: best (each sparse family's fastest variants),
#                   overhead (the constant-metadata twins and their real variants); peers and auto always run.
#                   E.g. make sweep SET=models FILTER=best DTYPES=bf16 BENCH_ARGS="--min-time 0.05": 1030 rows, the
#                   harness's estimate 8.7 min (11.3 at the sweep's default 0.1 s; the H200's committed sweep, 990 rows
#                   before wgmma_sp s11 joined `best`, took 4.5 min); shape_sets.py --estimate says
#   make plots [RUN=results/<gpu>/<run>]  PNG plots beside a run's JSON (default: the newest report per GPU), then
#                   make overhead; needs matplotlib (pip install matplotlib); not part of `make test`
#   make overhead   the metadata-overhead table and plot per GPU (results/<gpu>/overhead.md, overhead.png) from the
#                   committed reports, SASS counts (results/sass-meta/) and ncu records (make overhead-ncu)
#   make overhead-ncu  ncu's shared-memory wavefronts of every constant-metadata twin and its real variant (GPU;
#                   scripts/overhead_ncu.sh, a few minutes), into results/<gpu>/overhead-ncu_<date>_<commit>/
#   make list       print every registered variant
#   make sanitize   GPU tests on small shapes under compute-sanitizer (memcheck, racecheck, initcheck)
#   make clean      remove the build folder
# Variables: BUILD_DIR (build), CUDA_ARCHS (e.g. "80;90a"), BUILD_TYPE (Release), JOBS (cores), BENCH_ARGS (extra
# sparse24_bench options), WERROR=1 (warnings are errors, as in CI).

BUILD_DIR  ?= build
# CUDA architectures: empty = CMakeLists.txt's default (80;90a, or 80;90 with CMake 3.24).
CUDA_ARCHS ?=
BUILD_TYPE ?= Release
BENCH_ARGS ?=
# WERROR=1: every compiler warning is an error (CI).
WERROR     ?= 0
# Parallel compile jobs: one per core (a bare -j with Unix Makefiles would start every nvcc at once).
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)

# nvcc: from PATH, else the toolkit's usual place.
CUDACXX ?= $(shell command -v nvcc 2>/dev/null || echo /usr/local/cuda/bin/nvcc)
export CUDACXX

# Dependencies unpacked from Debian packages into .deps/ (for a host without package access: scripts/setup_deps.sh
# --bundle .deps) are used when present, and the installer is skipped.
DEPS_PREFIX := $(wildcard $(CURDIR)/.deps/prefix/usr)
ifneq ($(DEPS_PREFIX),)
  CMAKE_EXTRA += -DCMAKE_PREFIX_PATH=$(DEPS_PREFIX)
  export LD_LIBRARY_PATH := $(DEPS_PREFIX)/lib/x86_64-linux-gnu:$(LD_LIBRARY_PATH)
endif
GENERATOR := $(if $(shell command -v ninja 2>/dev/null),-G Ninja,)

SET    ?=
FILTER ?=
DTYPES ?=
RUN    ?=

.PHONY: deps configure build test bench sweep plots overhead overhead-ncu list sanitize clean

deps:
	@if [ -z "$(DEPS_PREFIX)" ]; then scripts/setup_deps.sh; fi

$(BUILD_DIR)/CMakeCache.txt:
	@$(MAKE) --no-print-directory deps
	cmake -S . -B $(BUILD_DIR) $(GENERATOR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(if $(CUDA_ARCHS),"-DCMAKE_CUDA_ARCHITECTURES=$(CUDA_ARCHS)") $(if $(filter 1,$(WERROR)),-DSPARSE24_WERROR=ON) $(CMAKE_EXTRA)

configure: $(BUILD_DIR)/CMakeCache.txt

build: configure
	cmake --build $(BUILD_DIR) --parallel $(JOBS)

test: build
	ctest --test-dir $(BUILD_DIR) --output-on-failure

bench: build
	scripts/bench.sh $(BUILD_DIR) $(BENCH_ARGS)

sweep: build
	@if [ -z "$(SET)" ]; then echo "make sweep: give SET=<name> (one of: $$(python3 scripts/shape_sets.py --list | cut -d: -f1 | tr '\n' ' '))"; exit 1; fi
	scripts/sweep.sh $(BUILD_DIR) "$(SET)" "$(FILTER)" "$(DTYPES)" $(BENCH_ARGS)

plots:
	python3 scripts/plots.py $(RUN)
	python3 scripts/overhead.py

overhead:
	python3 scripts/overhead.py

overhead-ncu: build
	scripts/overhead_ncu.sh $(BUILD_DIR)

list: build
	$(BUILD_DIR)/sparse24_bench --list

sanitize: build
	scripts/sanitize.sh $(BUILD_DIR)

clean:
	rm -rf $(BUILD_DIR)
