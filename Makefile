# breakglass - build, test, fuzz-replay, bench.
#
#   make            build build/breakglass and build/breakglass-gate
#   make check      install deps, then unit + integration + fuzz replay +
#                   banned calls, plain and under ASan+UBSan
#   make demo       install deps, then a complete emergency flow
#   make fuzz       libFuzzer builds of the fuzz targets (clang)

CC      ?= cc
PKGS    := sqlite3 libsodium libpcre2-8 libcrypto
# libcurl is dlopen'd by src/base/http.c when a request needs it (its
# dependencies cost every command ~7 ms of start-up): only its header is
# needed to build.
# The secret scanner matches with vectorscan/Hyperscan when it is installed
# (NO_HS=1 builds the PCRE2-only fallback; results are the same).
ifeq ($(NO_HS),)
HS_PKG  := $(shell pkg-config --exists libhs 2>/dev/null && echo libhs)
endif
# breakglass links only the runtime (C, no libstdc++); the compiler is
# linked into tools/gen-hsdb, which compiles the built-in rules at build
# time.  The runtime is linked statically when the archive is there: a
# serialized database loads only into the library version that made it,
# so the two must not drift apart with a package upgrade (and the gate
# saves loading one more shared object on every command).
HS_CFLAGS := $(if $(HS_PKG),$(shell pkg-config --cflags libhs) -DBG_HAVE_HS)
HS_LIBDIR := $(if $(HS_PKG),$(shell pkg-config --variable=libdir libhs))
HS_STATIC := -Wl,-Bstatic -lhs_runtime -Wl,-Bdynamic
HS_RUNTIME := $(if $(HS_PKG),$(if $(wildcard $(HS_LIBDIR)/libhs_runtime.a),$(HS_STATIC),-lhs_runtime))
HS_FULL := $(if $(HS_PKG),$(shell pkg-config --libs libhs))
BUILD   ?= build
SAN     ?=
OPT     ?= -O2
# TEST_HOOKS=1: a test build (BREAKGLASS_TESTING, BREAKGLASS_NOW, ...; see
# src/base/testhook.h).  make check, unit and integration build one in
# BUILD/test; the binary `make` builds and `make install` installs has none.
TEST_HOOKS ?=
VERSION := 0.1.0

# src/ is one folder per layer (src/LAYERS, lowest first); every folder is
# on the include path, and scripts/check-layers resolves a bare include
# with the same list the compiler uses.
LAYERS  := base ssh scan proto store db host broker client
INC     := $(addprefix -Isrc/,$(LAYERS)) -Icmd

# the database layer: libpq and libmariadb (their headers only:
# src/db/pqload.c and myload.c load them when the host supervisor first
# connects), libpg_query (no .pc file; linked statically so the parser
# cannot drift from what was tested)
DB_CFLAGS := $(shell pkg-config --cflags libpq libmariadb 2>/dev/null)
DB_LIBS   := -Wl,-Bstatic -lpg_query -Wl,-Bdynamic

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null)

WARN := -Wall -Wextra -Wshadow -Wformat=2 -Wformat-security -Wno-unused-parameter \
        -Wstrict-prototypes -Wmissing-prototypes -Wvla -Wpointer-arith
HARDEN := -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIE
CFLAGS ?= $(OPT) -g
ALL_CFLAGS := -std=c11 $(CFLAGS) $(WARN) $(HARDEN) $(SAN) -D_GNU_SOURCE \
              -DBREAKGLASS_VERSION='"$(VERSION)"' $(INC) $(PKG_CFLAGS) $(DB_CFLAGS) $(HS_CFLAGS) \
              $(if $(TEST_HOOKS),-DBG_TEST_HOOKS)
# --as-needed: a library is recorded only if the binary uses it (libpq and
# libmariadb are used by the database layer alone; loading them and their
# dependencies cost every command, the gate's too, ~4 ms)
ALL_LDFLAGS := $(LDFLAGS) $(SAN) -pie -Wl,-z,relro,-z,now -Wl,--as-needed
LIBS := $(PKG_LIBS) $(HS_RUNTIME) $(DB_LIBS) -lm

SRC  := $(foreach l,$(LAYERS),$(wildcard src/$(l)/*.c))
HDR  := $(wildcard src/*/*.h)
CMD  := $(wildcard cmd/*.c)
LIBOBJ := $(SRC:src/%.c=$(BUILD)/src/%.o) $(BUILD)/gen/rules-builtin.o \
          $(BUILD)/gen/hsdb-builtin.o $(BUILD)/gen/launchers-builtin.o \
          $(BUILD)/gen/migrations-builtin.o \
          $(BUILD)/gen/profiles-builtin.o
PROFILES := $(sort $(wildcard profiles/*.profile))
CMDOBJ := $(CMD:cmd/%.c=$(BUILD)/cmd/%.o)
UNIT_SRC := $(wildcard tests/unit/test-*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%) $(if $(HS_PKG),$(BUILD)/tests/hs-trim)
FUZZ_SRC := $(wildcard fuzz/fuzz-*.c)
FUZZ_BIN := $(FUZZ_SRC:fuzz/%.c=$(BUILD)/fuzz/%)

.PHONY: all check check-all check-one check-nohs unit integration fuzz-replay banned layers units demo \
        bench fuzz deps clean install man gate-libs

all: $(BUILD)/breakglass $(BUILD)/breakglass-gate

$(BUILD)/src/%.o: src/%.c $(HDR)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/cmd/%.o: cmd/%.c $(HDR) cmd/cmd.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# data files embedded as bytes (scripts/embed): the scanner's rules and the
# policy's launcher list
$(BUILD)/gen/rules-builtin.c: rules/secrets.rules scripts/embed
	@mkdir -p $(dir $@)
	scripts/embed rules_builtin_text rules_builtin_len $< > $@.tmp && mv $@.tmp $@

$(BUILD)/gen/launchers-builtin.c: rules/launchers.rules scripts/embed
	@mkdir -p $(dir $@)
	scripts/embed policy_launchers_builtin policy_launchers_builtin_len $< > $@.tmp && mv $@.tmp $@

$(BUILD)/gen/migrations-builtin.c: rules/migrations.rules scripts/embed
	@mkdir -p $(dir $@)
	scripts/embed dbfacts_migrations_builtin dbfacts_migrations_builtin_len $< > $@.tmp && mv $@.tmp $@

$(BUILD)/gen/%-builtin.o: $(BUILD)/gen/%-builtin.c
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# profiles/*.profile (collect's built-in profiles), embedded as bytes
$(BUILD)/gen/profiles-builtin.c: $(PROFILES)
	@mkdir -p $(dir $@)
	{ echo '#include <stddef.h>'; \
	  echo 'extern const char *const profiles_builtin_names[], *const profiles_builtin_texts[];'; \
	  echo 'extern const size_t profiles_builtin_lens[], profiles_builtin_n;'; \
	  i=0; for f in $(PROFILES); do \
	    echo "static const char p$$i[] = {"; \
	    od -An -v -tx1 $$f | sed 's/ *\([0-9a-f][0-9a-f]\)/0x\1,/g'; echo '0 };'; \
	    i=$$((i + 1)); done; \
	  echo 'const char *const profiles_builtin_names[] = {'; \
	  for f in $(PROFILES); do b=$${f##*/}; echo "\"$${b%.profile}\","; done; echo '0 };'; \
	  echo 'const char *const profiles_builtin_texts[] = {'; \
	  i=0; for f in $(PROFILES); do echo "p$$i,"; i=$$((i + 1)); done; echo '0 };'; \
	  echo 'const size_t profiles_builtin_lens[] = {'; \
	  for f in $(PROFILES); do echo "$$(wc -c < $$f),"; done; echo '0 };'; \
	  echo "const size_t profiles_builtin_n = $(words $(PROFILES));"; } > $@.tmp && mv $@.tmp $@

# the built-in rules compiled by vectorscan at build time (tools/gen-hsdb.c)
GEN_HSDB_OBJ := $(BUILD)/gen/scan-compile.o \
                $(addprefix $(BUILD)/src/,scan/rules.o base/text.o base/err.o base/buf.o) \
                $(BUILD)/gen/rules-builtin.o
$(BUILD)/gen/scan-compile.o: src/scan/scan.c $(HDR)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -DBG_HAVE_HS_COMPILE -c -o $@ $<

$(BUILD)/gen/gen-hsdb: tools/gen-hsdb.c $(GEN_HSDB_OBJ)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(HS_FULL) -lm

$(BUILD)/gen/hsdb-builtin.c: $(BUILD)/gen/gen-hsdb
	$(BUILD)/gen/gen-hsdb > $@.tmp && mv $@.tmp $@

$(BUILD)/gen/hsdb-builtin.o: $(BUILD)/gen/hsdb-builtin.c
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/libbreakglass.a: $(LIBOBJ)
	rm -f $@
	ar rcs $@ $^

# sshd runs breakglass-gate, which hostd expects beside breakglass: one is
# built with the other
$(BUILD)/breakglass: $(CMDOBJ) $(BUILD)/libbreakglass.a | $(BUILD)/breakglass-gate
	$(CC) $(ALL_LDFLAGS) -o $@ $(CMDOBJ) $(BUILD)/libbreakglass.a $(LIBS)

# breakglass-gate: sshd's forced command and AuthorizedPrincipalsCommand
# (gate/main.c, src/host/login.c).  libc only - every request starts it
# twice, and the dynamic loader's work for breakglass's libraries was most
# of that cost; `make gate-libs` checks that nothing else crept in.
GATE_OBJ := $(BUILD)/gate/main.o $(BUILD)/src/host/login.o $(BUILD)/src/base/err.o
$(BUILD)/gate/%.o: gate/%.c $(HDR)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/breakglass-gate: $(GATE_OBJ)
	$(CC) $(ALL_LDFLAGS) -o $@ $(GATE_OBJ)

gate-libs: $(BUILD)/breakglass-gate
	@scripts/check-gate-libs $(BUILD)/breakglass-gate

$(BUILD)/tests/%: tests/unit/%.c $(wildcard tests/unit/*.h) $(BUILD)/libbreakglass.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -Itests/unit -o $@ $< $(BUILD)/libbreakglass.a \
	    $(LIBS) $(CMOCKA_LIBS)

# the candidate-pattern rewriting lives in the compiler side of scan.c
$(BUILD)/tests/hs-trim: tests/unit/hs-trim.c $(wildcard tests/unit/*.h) $(GEN_HSDB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -Itests/unit -o $@ $< $(GEN_HSDB_OBJ) $(PKG_LIBS) \
	    $(HS_FULL) -lm $(CMOCKA_LIBS)

# drives src/db against the real servers for tests/t and bench (dbtool.c)
$(BUILD)/tests/dbtool: tests/db/dbtool.c $(BUILD)/libbreakglass.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(BUILD)/libbreakglass.a $(LIBS)

$(BUILD)/fuzz/%: fuzz/%.c fuzz/replay.c $(BUILD)/libbreakglass.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< fuzz/replay.c $(BUILD)/libbreakglass.a $(LIBS)

# --- tests ---------------------------------------------------------------

deps:
	@scripts/install-deps

check: deps
	@$(MAKE) --no-print-directory check-all

check-all: banned layers units
	@$(MAKE) --no-print-directory all gate-libs
	@echo "== plain build (with test hooks, in build/test)"
	@$(MAKE) --no-print-directory check-one BUILD=build/test TEST_HOOKS=1
	@echo "== ASan + UBSan build (with test hooks)"
	@$(MAKE) --no-print-directory check-one BUILD=build/asan TEST_HOOKS=1 OPT=-O1 \
	    SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all"
	@echo "== PCRE2-only build (NO_HS=1): the fallback scanner"
	@$(MAKE) --no-print-directory check-nohs
	@echo "make check: all passed"

check-one: unit fuzz-replay integration

# the scanner without vectorscan: same rules, same examples, same answers
check-nohs:
	@$(MAKE) --no-print-directory BUILD=build/nohs NO_HS=1 build/nohs/tests/test-scan \
	    build/nohs/breakglass
	build/nohs/tests/test-scan
	build/nohs/breakglass scan --check-rules

# tests run a test build (TEST_HOOKS=1); asked for without one, they make
# it in BUILD/test.  BREAKGLASS_RELEASE is the release binary, which a test
# checks refuses the hooks.
ifeq ($(TEST_HOOKS),)
unit fuzz-replay integration:
	@$(MAKE) --no-print-directory BUILD=$(BUILD)/test TEST_HOOKS=1 $@
else
unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "-- $$t"; $$t; done

fuzz-replay: $(FUZZ_BIN)
	@set -e; for f in $(FUZZ_BIN); do n=$$(basename $$f); \
	    $$f fuzz/corpus/$${n#fuzz-}; done

# prove picks only *.t by default: name the scripts, and refuse an empty run
integration: $(BUILD)/breakglass $(BUILD)/breakglass-gate $(BUILD)/tests/dbtool
	@$(MAKE) --no-print-directory BUILD=build TEST_HOOKS= SAN= OPT=-O2 build/breakglass \
	    build/breakglass-gate
	@set -- tests/t/t[0-9]*.sh; [ -e "$$1" ] || { echo "no integration tests" >&2; exit 1; }; \
	    BREAKGLASS=$(CURDIR)/$(BUILD)/breakglass \
	    BREAKGLASS_RELEASE=$(CURDIR)/build/breakglass prove -f "$$@"
endif

banned:
	@scripts/banned-calls src cmd gate

# the systemd units in contrib/, checked offline by systemd-analyze verify
units: $(BUILD)/breakglass
	@scripts/check-units $(BUILD)/breakglass

# includes only downwards (src/LAYERS), no include cycles between modules
layers:
	@scripts/check-layers src/LAYERS $(INC)

demo: deps
	@$(MAKE) --no-print-directory all
	@scripts/demo

$(BUILD)/bench/%: bench/%.c bench/bench.h $(BUILD)/libbreakglass.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(BUILD)/libbreakglass.a $(LIBS)

bench: deps
	@$(MAKE) --no-print-directory all build/bench/bench-audit build/bench/bench-exec build/tests/dbtool \
	    build/bench/bench-runbook build/bench/bench-sigverify build/bench/gen-corpus \
	    build/bench/bench-confine
	@bench/run

fuzz:
	@$(MAKE) --no-print-directory BUILD=build/libfuzzer CC=clang OPT=-O1 \
	    SAN="-fsanitize=fuzzer-no-link,address,undefined" $(BUILD)/libfuzzer/libbreakglass.a
	@mkdir -p build/libfuzzer/fuzz
	@for f in $(FUZZ_SRC); do n=$$(basename $$f .c); \
	    clang -std=c11 -O1 -g -D_GNU_SOURCE $(INC) $(PKG_CFLAGS) \
	      -fsanitize=fuzzer,address,undefined -o build/libfuzzer/fuzz/$$n $$f \
	      build/libfuzzer/libbreakglass.a $(LIBS) || exit 1; done
	@echo "run e.g.: build/libfuzzer/fuzz/fuzz-intake fuzz/corpus/intake"

install: $(BUILD)/breakglass $(BUILD)/breakglass-gate
	install -D -m 0755 $(BUILD)/breakglass $(DESTDIR)/usr/local/bin/breakglass
	install -D -m 0711 $(BUILD)/breakglass-gate $(DESTDIR)/usr/local/bin/breakglass-gate
	install -D -m 0644 docs/breakglass.1 $(DESTDIR)/usr/local/share/man/man1/breakglass.1

clean:
	rm -rf build
