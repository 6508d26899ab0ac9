# The two commands a newcomer needs: `make up` (run the whole system) and `make test`.
SHELL := /bin/bash
.ONESHELL:
.SHELLFLAGS := -euo pipefail -c
export PATH := $(HOME)/.local/bin:$(PATH)
UV := $(shell command -v uv 2>/dev/null || echo "python3 -m uv")
RUN := $(UV) run --frozen

.PHONY: install up down status test lint bench fuzz

install:  ## Python dependencies (pinned by uv.lock) and the servers (cached in ~/.cache/dinamis)
	command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet "uv==0.13.9"
	$(UV) sync --frozen
	bash scripts/install/postgres.sh
	bash scripts/install/kafka.sh
	bash scripts/install/ferretdb.sh
	bash scripts/install/keycloak.sh
	bash scripts/install/k8s-tools.sh  # kustomize + kubeconform: tests/k8s validates deploy/k8s offline
	bash scripts/install/seaweedfs.sh  # the S3 object store: built with Go, about 7 minutes the first time

up: install  ## everything: servers, services, demo data; prints the URLs
	$(RUN) dinamis up

down:  ## stop everything (dev profile)
	$(RUN) dinamis down

status:
	$(RUN) dinamis status

test: install  ## the whole test suite on the real servers (profile "test", apart from a running dev stack)
	export DINAMIS_PROFILE=test
	$(RUN) dinamis stack up --profile test
	status=0
	$(RUN) pytest || status=$$?
	$(RUN) dinamis down --profile test || true
	if [ "$$status" = 5 ]; then echo "pytest collected no test: failing" >&2; exit 1; fi
	exit $$status

lint:
	$(RUN) ruff check .
	$(RUN) lint-imports

bench: install  ## bench/pipeline on the test profile; figures in bench/pipeline/RESULTS.md (BENCH_ARGS="--profile-services")
	$(RUN) dinamis stack up --profile test
	$(RUN) python bench/pipeline/run.py --profile test --out bench/pipeline/latest.json $(BENCH_ARGS) || { $(RUN) dinamis down --profile test; exit 1; }
	$(RUN) dinamis down --profile test

fuzz: install  ## schemathesis against every service, longer than make test (FUZZ_CASES=10000 FUZZ_SEED=<n> by default)
	export DINAMIS_PROFILE=test FUZZ_CASES=$${FUZZ_CASES:-10000} FUZZ_SEED=$${FUZZ_SEED:-$$(date +%s)}
	echo "fuzz: $$FUZZ_CASES cases per service, seed $$FUZZ_SEED"
	$(RUN) dinamis stack up --profile test
	status=0
	$(RUN) pytest tests/security/test_schemathesis.py -s -p no:cacheprovider -o timeout=7200 || status=$$?
	$(RUN) dinamis down --profile test || true
	exit $$status
