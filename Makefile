# The two commands a new machine needs: `make run` and `make test`.
# Everything else here is what they are made of.

BUILD     ?= build
ASAN      ?= build-asan
STATE     ?= var
CONF      ?= examples/sipwall.yaml
PYTHON    ?= /usr/bin/python3
FUZZ_SECS ?= 60

# An undefined-behaviour report fails the test that triggered it.
export UBSAN_OPTIONS ?= halt_on_error=1:print_stacktrace=1

.PHONY: all deps build asan run test unit fuzz-smoke integration fuzz bench clean

all: build

deps:
	@scripts/deps.sh

$(BUILD)/build.ninja:
	meson setup $(BUILD) --buildtype=release -Dwerror=true

$(ASAN)/build.ninja:
	CC=clang meson setup $(ASAN) --buildtype=debug -Db_sanitize=address,undefined \
	    -Db_lundef=false -Dfuzz=true -Dwerror=true

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

asan: deps $(ASAN)/build.ninja
	ninja -C $(ASAN)

run: build
	@mkdir -p $(STATE)
	@echo "sipwalld: starting on $(CONF), state in $(STATE)/ (Ctrl-C stops)"
	@echo "sipwalld: phones register on 127.0.0.1:5060 (udp/tcp), realm \"sipwall\"; create an account first:"
	@echo "sipwalld:   ./$(BUILD)/src/cli/sipwall account -D $(STATE) add alice     (prints its password once)"
	@echo "sipwalld: calls from phones go to the PBX at 127.0.0.10:5060 (phones must offer SRTP/SDES; media is relayed on ports 20000-39999); the PBX sends calls for phones to 127.0.0.1:5080"
	@echo "sipwalld: security events: tail -f $(STATE)/events.jsonl"
	exec ./$(BUILD)/src/sipwalld -c $(CONF) -D $(STATE)

# Unit tests in both builds, fuzz corpora replayed in both, each fuzz
# target for a bounded smoke under ASan+UBSan, then the integration
# tests against the sanitizer build (leaks fail the test).
test: build asan
	$(MAKE) unit fuzz-smoke integration

unit:
	meson test -C $(BUILD) --suite unit --print-errorlogs
	meson test -C $(ASAN) --suite unit --print-errorlogs

fuzz-smoke:
	FUZZ_SECS=$(FUZZ_SECS) scripts/fuzz.sh $(ASAN)

# Tests marked `release` (floods: they measure the daemon, not the
# sanitizers) run in a second pytest, with the release build's daemon.
integration:
	SIPWALL_BUILD=$(ASAN) $(PYTHON) -m pytest -q -m "not release" tests/integration
	SIPWALL_BUILD=$(ASAN) SIPWALL_BUILD_RELEASE=$(BUILD) $(PYTHON) -m pytest -q -m release tests/integration

fuzz: asan
	FUZZ_SECS=$${FUZZ_SECS:-600} scripts/fuzz.sh $(ASAN)

# Benchmarks need their peers (Kamailio, SIPp): scripts/deps.sh --bench.
bench: build
	@scripts/deps.sh --bench
	scripts/bench.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN)
