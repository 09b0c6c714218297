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
	if [ $$rc = 0 ]; then echo "make test: all steps passed"; else echo "make test: FAILED"; fi; \
	exit $$rc

test-unit:
	@if $(CARGO) test --workspace --release; then echo ok > $(SUMMARY)/unit; \
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
ifeq ($(MEMCTL),)
	@echo "skipped (no scripts in testsuite/memory-control yet)" > $(SUMMARY)/memory-control
else
	@set -o pipefail; \
	if $(WASM2O) wast $(MEMCTL) | tee $(SUMMARY)/memory-control.log; then v=ok; else v=FAIL; fi; \
	echo "$$v: $$(tail -n 1 $(SUMMARY)/memory-control.log)" > $(SUMMARY)/memory-control; [ $$v = ok ]
endif

test-demo: test-build
	@if [ ! -x examples/check-demo.sh ] && [ ! -f examples/check-demo.sh ]; then \
	  echo "skipped (examples/check-demo.sh not present)" > $(SUMMARY)/demo; \
	elif bash examples/check-demo.sh; then echo ok > $(SUMMARY)/demo; \
	else echo FAIL > $(SUMMARY)/demo; exit 1; fi

demo: build
	bash examples/run-demo.sh

install:
	$(CARGO) install --path cli

fmt:
	$(CARGO) fmt --all

clippy:
	$(CARGO) clippy --workspace --all-targets -- -D warnings
