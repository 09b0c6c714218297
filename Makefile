# wasm2o: the front door. CI runs `make test` (see .ci/run).
#
#   make build    release build of the workspace (target/release/wasm2o)
#   make test     unit tests, spec scripts, memory-control scripts, C demo check;
#                 prints a summary and fails if any step failed
#   make demo     runs examples/run-demo.sh
#   make install  cargo install --path cli
#   make fmt / make clippy

SHELL   := /bin/bash
CARGO   ?= cargo
WASM2O  ?= target/release/wasm2o
SPEC    := target/spec
SUMMARY := target/test-summary
MEMCTL  := $(wildcard testsuite/memory-control/*.wast)
STEPS   := unit build spec memory-control demo

.PHONY: all build test demo install fmt clippy \
        test-unit test-build test-spec test-memory-control test-demo

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
	for log in $(SUMMARY)/spec.log $(SUMMARY)/memory-control.log; do \
	  [ -f $$log ] || continue; \
	  eval $$(tail -n 1 $$log | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed.*/p=$$((p+\1)); f=$$((f+\2));/p'); \
	done; \
	for s in build demo; do \
	  case "$$(cat $(SUMMARY)/$$s 2>/dev/null)" in ok*) p=$$((p+1));; *) f=$$((f+1));; esac; \
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
	if $(WASM2O) wast $(SPEC)/*/*.wast | tee $(SUMMARY)/spec.log; then v=ok; else v=FAIL; fi; \
	echo "$$v: $$(tail -n 1 $(SUMMARY)/spec.log)" > $(SUMMARY)/spec; [ $$v = ok ]

test-memory-control: test-build
	@set -o pipefail; \
	if $(WASM2O) wast $(MEMCTL) | tee $(SUMMARY)/memory-control.log; then v=ok; else v=FAIL; fi; \
	echo "$$v: $$(tail -n 1 $(SUMMARY)/memory-control.log)" > $(SUMMARY)/memory-control; [ $$v = ok ]

test-demo: test-build
	@if bash examples/check-demo.sh; then echo ok > $(SUMMARY)/demo; \
	else echo FAIL > $(SUMMARY)/demo; exit 1; fi

demo: build
	bash examples/run-demo.sh

install:
	$(CARGO) install --path cli

fmt:
	$(CARGO) fmt --all

clippy:
	$(CARGO) clippy --workspace --all-targets -- -D warnings
