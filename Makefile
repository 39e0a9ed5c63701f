# kcustody - one Makefile, dependencies through pkg-config.
#
#   make                 build ./kcustody
#   make deps            install packages, build/reuse kube-apiserver
#   make check           unit tests, then command tests against a real
#                        kube-apiserver + etcd on loopback (tests/cluster)
#   make check-unit      unit tests only (no cluster needed)
#   make lint            house rules: layers, banned calls (tests/lint/)
#   make equiv           behaviour of ./kcustody against the build of commit
#                        EQUIV_BASE, command by command (tests/golden/README.md)
#   make SANITIZE=1 check   the same under ASan + UBSan
#   make DEVELOPER=1     warnings are errors
#   make demo            the end-to-end pre/post remediation demo
#   make bench           benchmarks against the tools a responder would use
#   make fuzz FUZZ_SECONDS=N   libFuzzer harnesses (tests/fuzz), N s each
#   make fuzz-replay     replay every committed seed and crash, then a short
#                        fuzz of each harness (FUZZ_SMOKE_SECONDS)
#   make install PREFIX=/usr/local DESTDIR=
#   make deb             Debian package in build/deb/ (docs/PACKAGING.md)
#   make image-rootfs    container root tarball in build/image/ (Debian + the package)
#   make image           that root imported as the image kcustody:$(VERSION) (podman)
#   make dist            build/dist/kubectl-custody_v$(VERSION)_linux_amd64.tar.gz
#   make krew            krew plugin manifest build/krew/plugins/custody.yaml for it

VERSION := 0.1.0
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
DESTDIR ?=
CC ?= cc
PKG_CONFIG ?= pkg-config
PKGS := libcurl libcjson libarchive libcrypto libssl yaml-0.1 zlib libevent libevent_openssl

# Evaluated on first use (not when the Makefile is read) so that
# `make deps check` works on a machine where deps installs the libraries.
PKG_CFLAGS = $(eval PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS)))$(PKG_CFLAGS)
PKG_LIBS = $(eval PKG_LIBS := $(shell $(PKG_CONFIG) --libs $(PKGS)))$(PKG_LIBS)

WARN := -Wall -Wextra -Wformat=2 -Wformat-security -Wshadow -Wpointer-arith \
	-Wstrict-prototypes -Wmissing-prototypes -Wvla -Wnull-dereference \
	-Wimplicit-fallthrough -Wundef -Wwrite-strings
OPT ?= -O2 -g
CFLAGS ?= $(OPT)
# The commit and its date (not the wall clock: the same tree builds the same
# binary); "unknown" outside a git checkout (a release tarball).
GIT_COMMIT := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
BUILD_DATE := $(shell git log -1 --format=%cd --date=format:%Y-%m-%d 2>/dev/null || echo unknown)
KC_CFLAGS = -std=c11 -D_GNU_SOURCE -DKC_VERSION='"$(VERSION)"' -I. $(WARN) \
	-fstack-protector-strong -fPIE -pthread $(PKG_CFLAGS)
KC_LDFLAGS := -pie -pthread -Wl,-z,relro,-z,now

ifeq ($(DEVELOPER),1)
KC_CFLAGS += -Werror
endif
ifeq ($(SANITIZE),1)
KC_CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
KC_LDFLAGS += -fsanitize=address,undefined
BUILD ?= build/san
else
KC_CFLAGS += -D_FORTIFY_SOURCE=2
BUILD ?= build/rel
endif

LIB_SRCS := $(sort $(wildcard util/*.c manifest/*.c collector/*.c rbac/*.c formats/*.c pipeline/*.c))
CLI_SRCS := $(sort $(wildcard cli/*.c))
UNIT_SRCS := $(sort $(wildcard tests/unit/*.c))
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o)
CLI_OBJS := $(CLI_SRCS:%.c=$(BUILD)/%.o)
UNIT_OBJS := $(UNIT_SRCS:%.c=$(BUILD)/%.o)
DEPS := $(LIB_OBJS:.o=.d) $(CLI_OBJS:.o=.d) $(UNIT_OBJS:.o=.d)

ifeq ($(SANITIZE),1)
BIN ?= $(BUILD)/kcustody
else
BIN ?= kcustody
endif

.DEFAULT_GOAL := all
FORCE:

.PHONY: FORCE lint man bench-scale deps all check check-unit check-cmd demo bench install uninstall clean \
	cluster-start cluster-stop deb image-rootfs image dist krew fuzz fuzz-build fuzz-replay check-fuzz \
	equiv check-equiv equiv-selftest

all: $(BIN)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(KC_CFLAGS) $(CFLAGS) $(CPPFLAGS) -MMD -MP -c $< -o $@

# Subcommands register themselves with KC_COMMAND(name, "summary") in
# cli/cmd_*.c; the table is generated so that each file stands alone.
# FORCE: regenerated every run, replaced only when its content changes, so
# that adding or removing a file is noticed.
$(BUILD)/commands.h: FORCE
	@mkdir -p $(dir $@)
	@grep -h '^KC_COMMAND(' $(CLI_SRCS) /dev/null | sort > $@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@
# The version string names the commit: build/version.h is regenerated every
# run and replaced only when the commit changes, so main.o is rebuilt when
# HEAD moves (in a worktree, a detached HEAD or with packed refs too).
$(BUILD)/version.h: FORCE
	@mkdir -p $(dir $@)
	@printf '#define KC_GIT_COMMIT "%s"\n#define KC_BUILD_DATE "%s"\n' '$(GIT_COMMIT)' '$(BUILD_DATE)' > $@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@
$(BUILD)/cli/main.o: $(BUILD)/commands.h $(BUILD)/version.h
$(BUILD)/cli/main.o: KC_CFLAGS += -I$(BUILD)

# Unit tests register with DEFINE_TEST(name); the list is generated.
$(BUILD)/tests/list.h: FORCE
	@mkdir -p $(dir $@)
	@grep -h '^DEFINE_TEST(' $(UNIT_SRCS) /dev/null | sort > $@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@
$(BUILD)/tests/unit/test_main.o: $(BUILD)/tests/list.h
$(BUILD)/tests/unit/test_main.o: KC_CFLAGS += -I$(BUILD)/tests

$(BUILD)/libkcustody.a: $(LIB_OBJS)
	rm -f $@
	ar rcs $@ $^

$(BIN): $(CLI_OBJS) $(BUILD)/libkcustody.a
	$(CC) $(KC_LDFLAGS) $(LDFLAGS) -o $@ $(CLI_OBJS) $(BUILD)/libkcustody.a $(PKG_LIBS)

$(BUILD)/unit-tests: $(UNIT_OBJS) $(BUILD)/libkcustody.a
	$(CC) $(KC_LDFLAGS) $(LDFLAGS) -o $@ $(UNIT_OBJS) $(BUILD)/libkcustody.a $(PKG_LIBS)

# Packages, kubectl check, and the cached kube-apiserver build; the OSCAL
# validator (ajv from npm, pinned by tests/oscal/package-lock.json) in the
# same cache, outside the repository.
deps:
	bash tests/cluster/install.sh
	bash tests/oscal/install.sh

check-unit: $(BUILD)/unit-tests
	$(BUILD)/unit-tests

check-cmd: $(BIN)
	KCUSTODY_BIN=$(abspath $(BIN)) KCUSTODY_SANITIZE=$(if $(filter 1,$(SANITIZE)),1,0) bash tests/cmd/run.sh

# The fuzz harnesses' committed seeds and crash inputs are replayed, then
# each is fuzzed FUZZ_SMOKE_SECONDS (20 s) so a regression is caught in CI.
check: lint check-unit check-equiv check-fuzz check-cmd

# House rules (docs/ARCHITECTURE.md): each script in tests/lint/ checks one,
# tests/lint/selftest.sh plants a violation of each and expects a failure.
lint:
	@for t in tests/lint/[a-z]*.sh; do case $$t in */selftest.sh) continue;; esac; \
		bash $$t || exit 1; done
	@bash tests/lint/selftest.sh

# Behaviour equivalence (tests/golden/README.md): every read-only command,
# seal and collect run with $(BIN) and with the build of EQUIV_BASE (cached in
# build/equiv-base-<commit>/) on the same generated inputs, compared byte for
# byte.  A change meant to change behaviour bumps EQUIV_BASE in a commit of
# its own that names the change.
EQUIV_BASE ?= 623050d7e500a14cf706680f49967df801aa4365
EQUIV_JOBS ?= 2
EQUIV_TIMEOUT ?= 900

equiv: $(BIN)
	@base=$$(bash tests/golden/build-base.sh $(EQUIV_BASE) $(EQUIV_JOBS)) && \
		timeout $(EQUIV_TIMEOUT) bash tests/golden/equiv.sh "$$base" $(abspath $(BIN))

check-equiv: equiv

# The comparison shown able to fail: $(BIN) against a wrapper of itself that
# plants one difference per compared channel, over every case.
equiv-selftest: $(BIN)
	timeout $(EQUIV_TIMEOUT) bash tests/golden/equiv.sh --self-test $(abspath $(BIN))

check-fuzz: fuzz-replay

cluster-start:
	bash tests/cluster/start.sh

cluster-stop:
	bash tests/cluster/stop.sh

demo: $(BIN)
	KCUSTODY_BIN=$(abspath $(BIN)) bash demo/demo.sh

bench: $(BIN)
	KCUSTODY_BIN=$(abspath $(BIN)) bash bench/run.sh

# Collect, diff and report at the sizes of issue 11 (tests/cluster/gen-scale.py:
# about 10k and 50k objects, and 150k pods in 10,000 namespaces), each on its
# own cluster folder /tmp/kcustody-scale-SIZE, loaded once and reused while
# it runs (the 150k load: 44 min measured on this busy machine, about 17 at
# its quiet rate of 300 objects/s). BENCH_SIZES picks
# sizes, BENCH_RUNS the runs per figure (default 3; 1 at 150k);
# BENCH_SELECT=--all-sas makes every account an agent in the diff benchmark.
# Then recertify on the 13.7k estate of gen-estate.py with --all-sas (3,109 agents).
BENCH_SIZES ?= 10k 50k 150k
bench-scale: $(BIN)
	@set -e; for s in $(BENCH_SIZES); do \
		runs=$${BENCH_RUNS:-3}; [ "$$s" != 150k ] || runs=$${BENCH_RUNS:-1}; \
		echo "== $$s"; \
		KCUSTODY_BIN=$(abspath $(BIN)) BENCH_SCALE=$$s BENCH_RUNS=$$runs bash bench/bench_collect.sh; \
		KCUSTODY_BIN=$(abspath $(BIN)) BENCH_SCALE=$$s BENCH_RUNS=$$runs bash bench/bench_diff.sh; \
	done
	KCUSTODY_BIN=$(abspath $(BIN)) BENCH_ESTATE="100 3000 3000 6000" BENCH_RUNS=$${BENCH_RUNS:-3} \
		bash bench/bench_recertify.sh

# The man page's per-command option section, from each command's --help.
man: $(BIN)
	bash man/gen-options.sh $(abspath $(BIN)) man/kcustody.1

install: $(BIN)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1
	install -m 0755 $(BIN) $(DESTDIR)$(BINDIR)/kcustody
	ln -sf kcustody $(DESTDIR)$(BINDIR)/kubectl-custody
	install -m 0644 man/kcustody.1 $(DESTDIR)$(MANDIR)/man1/kcustody.1
	install -d $(DESTDIR)$(PREFIX)/share/bash-completion/completions \
		$(DESTDIR)$(PREFIX)/share/zsh/vendor-completions $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
	$(abspath $(BIN)) completion bash > $(DESTDIR)$(PREFIX)/share/bash-completion/completions/kcustody
	$(abspath $(BIN)) completion zsh > $(DESTDIR)$(PREFIX)/share/zsh/vendor-completions/_kcustody
	$(abspath $(BIN)) completion fish > $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/kcustody.fish

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/kcustody $(DESTDIR)$(BINDIR)/kubectl-custody \
		$(DESTDIR)$(MANDIR)/man1/kcustody.1 \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/kcustody \
		$(DESTDIR)$(PREFIX)/share/zsh/vendor-completions/_kcustody \
		$(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/kcustody.fish

# Packaging (docs/PACKAGING.md).  The .deb and the image root are built from
# the working tree in copies under build/ and reused while it is unchanged.
deb:
	@bash packaging/deb.sh

image-rootfs:
	@bash packaging/image.sh rootfs

image:
	@bash packaging/image.sh image

# The krew archive: the binary as kubectl-custody and the licence statement;
# KREW_URI is where the archive will be published (no release host yet).
KREW_ARCHIVE := kubectl-custody_v$(VERSION)_linux_amd64.tar.gz
KREW_URI ?= https://example.invalid/kcustody/releases/download/v$(VERSION)/$(KREW_ARCHIVE)
KREW_HOMEPAGE ?= https://example.invalid/kcustody

dist: $(BIN)
	@bash packaging/dist.sh $(abspath $(BIN)) build/dist/$(KREW_ARCHIVE)

krew: dist
	@bash packaging/krew.sh $(VERSION) build/dist/$(KREW_ARCHIVE) "$(KREW_URI)" "$(KREW_HOMEPAGE)" build/krew/plugins/custody.yaml

clean:
	rm -rf build kcustody

# ---- fuzzing (tests/fuzz/README.md) -----------------------------------
# clang + libFuzzer with ASan and UBSan (LeakSanitizer on).  The library
# objects get -fsanitize=fuzzer-no-link, each tests/fuzz/fuzz_<name>.c is
# linked with -fsanitize=fuzzer.  One process at a time, one core.
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 20
FUZZ_SMOKE_SECONDS ?= 20
FUZZ_CACHE ?= /var/cache/kcustody/fuzz
FUZZ_FLAGS ?= -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
FUZZ_BUILD := build/fuzz
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_CFLAGS = -std=c11 -D_GNU_SOURCE -DKC_VERSION='"$(VERSION)"' -I. $(WARN) -Wno-format-nonliteral -O1 -g $(FUZZ_SAN) \
	-DFUZZ_TOP='"$(abspath .)"' $(PKG_CFLAGS)
FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_NAMES := $(filter-out common,$(FUZZ_SRCS:tests/fuzz/fuzz_%.c=%))
FUZZ_BINS := $(FUZZ_NAMES:%=$(FUZZ_BUILD)/fuzz_%)
FUZZ_LIB_OBJS := $(LIB_SRCS:%.c=$(FUZZ_BUILD)/%.o)
FUZZ_OBJS := $(FUZZ_SRCS:%.c=$(FUZZ_BUILD)/%.o)

$(FUZZ_BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $< (fuzz)"
	@$(FUZZ_CC) $(FUZZ_CFLAGS) $(if $(filter tests/fuzz/%,$<),,-fsanitize=fuzzer-no-link) \
		-MMD -MP -c $< -o $@

$(FUZZ_BUILD)/libkcustody.a: $(FUZZ_LIB_OBJS)
	rm -f $@
	ar rcs $@ $^

$(FUZZ_BUILD)/fuzz_%: $(FUZZ_BUILD)/tests/fuzz/fuzz_%.o $(FUZZ_BUILD)/tests/fuzz/fuzz_common.o \
		$(FUZZ_BUILD)/libkcustody.a
	$(FUZZ_CC) -fsanitize=fuzzer $(FUZZ_SAN) -o $@ $^ $(PKG_LIBS)

.SECONDARY: $(FUZZ_OBJS)

fuzz-build: $(FUZZ_BINS)

# Each harness for FUZZ_SECONDS on its committed seeds and crashes plus a
# working corpus kept outside the tree (FUZZ_CACHE/<name>), so that a
# campaign resumes where the last one stopped.  Findings land in
# build/fuzz/artifacts/<name>/.
fuzz: $(FUZZ_BINS)
	@for h in $(FUZZ_NAMES); do \
		mkdir -p $(FUZZ_CACHE)/$$h $(FUZZ_BUILD)/artifacts/$$h tests/fuzz/crashes/$$h || \
			{ echo "fuzz: cannot create $(FUZZ_CACHE)/$$h; set FUZZ_CACHE" >&2; exit 1; }; \
		echo "== fuzz $$h ($(FUZZ_SECONDS) s)"; \
		$(FUZZ_BUILD)/fuzz_$$h $(FUZZ_FLAGS) -max_total_time=$(FUZZ_SECONDS) \
			-artifact_prefix=$(FUZZ_BUILD)/artifacts/$$h/ \
			$(FUZZ_CACHE)/$$h tests/fuzz/corpus/$$h tests/fuzz/crashes/$$h || exit 1; \
	done

# For CI: run every committed seed and crash input once (no fuzzing), then
# fuzz each harness for FUZZ_SMOKE_SECONDS from the seeds alone (a scratch
# corpus under build/fuzz/smoke, emptied first).
fuzz-replay: $(FUZZ_BINS)
	@for h in $(FUZZ_NAMES); do \
		files=$$(find tests/fuzz/corpus/$$h tests/fuzz/crashes/$$h -type f 2>/dev/null | sort); \
		echo "== replay $$h ($$(echo "$$files" | grep -c .) inputs)"; \
		[ -z "$$files" ] || $(FUZZ_BUILD)/fuzz_$$h $(FUZZ_FLAGS) $$files \
			>$(FUZZ_BUILD)/replay-$$h.log 2>&1 || \
			{ cat $(FUZZ_BUILD)/replay-$$h.log; exit 1; }; \
	done
	@for h in $(FUZZ_NAMES); do \
		rm -rf $(FUZZ_BUILD)/smoke/$$h && mkdir -p $(FUZZ_BUILD)/smoke/$$h $(FUZZ_BUILD)/artifacts/$$h; \
		echo "== smoke $$h ($(FUZZ_SMOKE_SECONDS) s)"; \
		$(FUZZ_BUILD)/fuzz_$$h $(FUZZ_FLAGS) -max_total_time=$(FUZZ_SMOKE_SECONDS) \
			-artifact_prefix=$(FUZZ_BUILD)/artifacts/$$h/ \
			$(FUZZ_BUILD)/smoke/$$h $$(ls -d tests/fuzz/corpus/$$h tests/fuzz/crashes/$$h 2>/dev/null) \
			>$(FUZZ_BUILD)/smoke-$$h.log 2>&1 || \
			{ tail -n 60 $(FUZZ_BUILD)/smoke-$$h.log; exit 1; }; \
		grep '^Done\|^stat::number_of_executed_units' $(FUZZ_BUILD)/smoke-$$h.log | tr '\n' ' '; echo; \
	done

-include $(DEPS) $(FUZZ_LIB_OBJS:.o=.d) $(FUZZ_OBJS:.o=.d)
