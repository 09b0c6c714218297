# wasm2o: the front door. CI runs `make test` (see .ci/run).
#
#   make build    release build of the workspace (target/release/wasm2o)
#   make test     unit tests, spec scripts, memory-control scripts, C demo check;
#                 prints a summary and fails if any step failed
#   make test-cross  aarch64 Linux under qemu (spec + memory-control scripts,
#                 the C examples, the pthread tests), the Mach-O link check and
#                 check-macos; part of `make test` (docs/cross.md)
#   make check-macos  builds the runtime for both Apple targets (-Zbuild-std)
#                 and links it with a Mach-O object; nothing runs
#   make demo     runs examples/run-demo.sh
#   make bench    benchmark suite, results in build/bench (bench/README.md);
#                 not part of `make test`
#   make install  cargo install --path cli
#   make fmt / make clippy

SHELL   := /bin/bash
CARGO   ?= cargo
WASM2O  ?= target/release/wasm2o
SPEC    := target/spec
SUMMARY := target/test-summary
MEMCTL  := $(wildcard testsuite/memory-control/*.wast)
# Our own scripts for code generation edge cases, run with the spec files.
CODEGEN := $(wildcard testsuite/codegen/*.wast)
STEPS   := unit build spec memory-control demo cross
# Cross-target testing (docs/cross.md): Debian's Rust has the aarch64 std.
CROSS        := aarch64-unknown-linux-gnu
CROSS_CARGO  ?= cargo +debian

.PHONY: all build test demo install fmt clippy \
        test-unit test-build test-spec test-memory-control test-demo test-cross \
        check-macos

all: build

build:
	$(CARGO) build --release

# Every step runs (make -k) even when an earlier one failed; each leaves
# its verdict in $(SUMMARY)/<step>, and the summary decides the exit code.
test:
	@rm -rf $(SUMMARY) && mkdir -p $(SUMMARY)
	@$(MAKE) --no-print-directory -k $(addprefix test-,$(STEPS)) || true
	@echo; echo "== summary =="; rc=0; \
	for s in $(STEPS); do \
	  if [ -f $(SUMMARY)/$$s ]; then v=$$(cat $(SUMMARY)/$$s); else v="FAIL (did not run)"; fi; \
	  printf '  %-15s %s\n' "$$s" "$$v"; \
	  case "$$v" in FAIL*) rc=1;; esac; \
	done; \
	p=0; f=0; \
	for log in $(SUMMARY)/unit.log; do \
	  [ -f $$log ] || continue; \
	  eval $$(sed -n 's/^test result: [a-zA-Z]*\. \([0-9]*\) passed; \([0-9]*\) failed.*/p=$$((p+\1)); f=$$((f+\2));/p' $$log | tr -d '\n'); \
	done; \
	for log in $(SUMMARY)/spec.log $(SUMMARY)/memory-control.log \
	           $(SUMMARY)/cross-spec.log $(SUMMARY)/cross-memory-control.log; do \
	  [ -f $$log ] || continue; \
	  eval $$(tail -n 1 $$log | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed.*/p=$$((p+\1)); f=$$((f+\2));/p'); \
	done; \
	for s in build demo; do \
	  case "$$(cat $(SUMMARY)/$$s 2>/dev/null)" in ok*) p=$$((p+1));; *) f=$$((f+1));; esac; \
	done; \
	echo "== scripts by target =="; \
	printf '  %-27s %-24s %s\n' target spec memory-control; \
	for t in "x86_64-unknown-linux-gnu:" "$(CROSS):cross-"; do \
	  printf '  %-27s %-24s %s\n' "$${t%%:*}" \
	    "$$(tail -n 1 $(SUMMARY)/$${t#*:}spec.log 2>/dev/null || echo 'did not run')" \
	    "$$(tail -n 1 $(SUMMARY)/$${t#*:}memory-control.log 2>/dev/null || echo 'did not run')"; \
	done; \
	if [ $$rc = 0 ]; then echo "make test: all steps passed"; else echo "make test: FAILED"; f=$$((f>0?f:1)); fi; \
	echo "$$p passed, $$f failed"; \
	exit $$rc

test-unit:
	@set -o pipefail; \
	if $(CARGO) test --workspace --release 2>&1 | tee $(SUMMARY)/unit.log; then echo ok > $(SUMMARY)/unit; \
	else echo FAIL > $(SUMMARY)/unit; exit 1; fi

test-build:
	@if $(CARGO) build --release; then echo ok > $(SUMMARY)/build; \
	else echo FAIL > $(SUMMARY)/build; exit 1; fi

test-spec: test-build
	@rm -rf $(SPEC) && $(WASM2O) spec-files $(SPEC) >/dev/null
	@set -o pipefail; \
	if $(WASM2O) wast $(SPEC)/*/*.wast $(CODEGEN) | tee $(SUMMARY)/spec.log; then v=ok; else v=FAIL; fi; \
	echo "$$v: $$(tail -n 1 $(SUMMARY)/spec.log)" > $(SUMMARY)/spec; [ $$v = ok ]

test-memory-control: test-build
	@set -o pipefail; \
	if $(WASM2O) wast $(MEMCTL) | tee $(SUMMARY)/memory-control.log; then v=ok; else v=FAIL; fi; \
	echo "$$v: $$(tail -n 1 $(SUMMARY)/memory-control.log)" > $(SUMMARY)/memory-control; [ $$v = ok ]

test-demo: test-build
	@if bash examples/check-demo.sh; then echo ok > $(SUMMARY)/demo; \
	else echo FAIL > $(SUMMARY)/demo; exit 1; fi

# aarch64 Linux under qemu, and Mach-O. Builds wasm2o and the runtime for
# aarch64 (release: the scripts run emulated), runs the spec and
# memory-control scripts through `wasm2o wast --target $(CROSS)`, the
# differential test's generated scripts (cli/tests/differential.rs), the C examples
# (demo, memctl, mapping) cross-built (testsuite/cross/demo.sh), the pthread
# tests of testsuite/threads (testsuite/cross/threads.sh), the Mach-O link check
# (testsuite/cross/macho-link.sh) and the macOS runtime build and link
# (testsuite/cross/macos-runtime.sh). Logs: $(SUMMARY)/cross-*.log.
test-cross: test-build
	@mkdir -p $(SUMMARY) && rm -f $(SUMMARY)/cross $(SUMMARY)/cross-*.log
	@set -o pipefail; \
	if ! $(CROSS_CARGO) build --release --target $(CROSS) -p wasm2o -p wasm2o-runtime 2>&1 | tee $(SUMMARY)/cross-build.log; then \
	  echo "FAIL: cannot build for $(CROSS) (see $(SUMMARY)/cross-build.log)" > $(SUMMARY)/cross; exit 1; fi; \
	[ -d $(SPEC) ] || $(WASM2O) spec-files $(SPEC) >/dev/null; \
	fail=; \
	$(WASM2O) wast --target $(CROSS) $(SPEC)/*/*.wast $(CODEGEN) | tee $(SUMMARY)/cross-spec.log || fail="$$fail spec"; \
	$(WASM2O) wast --target $(CROSS) $(MEMCTL) | tee $(SUMMARY)/cross-memory-control.log || fail="$$fail memory-control"; \
	WASM2O_DIFFERENTIAL_TARGET=$(CROSS) $(CARGO) test --release -p wasm2o --test differential -- --nocapture 2>&1 | tee $(SUMMARY)/cross-differential.log || fail="$$fail differential"; \
	bash testsuite/cross/demo.sh 2>&1 | tee $(SUMMARY)/cross-demo.log || fail="$$fail demo"; \
	bash testsuite/cross/threads.sh 2>&1 | tee $(SUMMARY)/cross-threads.log || fail="$$fail threads"; \
	bash testsuite/cross/macho-link.sh 2>&1 | tee $(SUMMARY)/cross-macho.log || fail="$$fail macho-link"; \
	APPLE_CARGO="$(CROSS_CARGO)" bash testsuite/cross/macos-runtime.sh 2>&1 | tee $(SUMMARY)/cross-macos.log || fail="$$fail macos-runtime"; \
	if [ -z "$$fail" ]; then v=ok; else v="FAIL ($${fail# })"; fi; \
	echo "$$v: $(CROSS) spec $$(tail -n 1 $(SUMMARY)/cross-spec.log), memory-control $$(tail -n 1 $(SUMMARY)/cross-memory-control.log), differential $$(grep -o '[0-9]* generated modules.*' $(SUMMARY)/cross-differential.log | tail -n 1); C examples and pthread tests run; Mach-O links; macOS runtime builds (never run)" > $(SUMMARY)/cross; \
	[ -z "$$fail" ]

# The runtime for x86_64- and aarch64-apple-darwin, type-checked, built
# and linked on this machine (docs/cross.md, "The runtime on macOS").
check-macos: build
	APPLE_CARGO="$(CROSS_CARGO)" bash testsuite/cross/macos-runtime.sh

demo: build
	bash examples/run-demo.sh

install:
	$(CARGO) install --path cli

fmt:
	$(CARGO) fmt --all

clippy:
	$(CARGO) clippy --workspace --all-targets -- -D warnings

# Benchmarks (bench/README.md): kernels against native, Wasmtime and wasm2c,
# compile throughput, instantiation, memory discard. BENCH_ARGS goes to
# bench/run.py, e.g. BENCH_ARGS='--reps 3 --kernels fib,nbody'.
.PHONY: bench
bench: build
	python3 bench/run.py $(BENCH_ARGS)
