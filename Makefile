# sluice — top-level build.
#
#   make            build build/sluice (and the test binaries)
#   make deps       install the Debian packages sluice needs (no-op when present)
#   make test       deps + build + every unit, SQL and CLI test; ends "N passed, M failed"
#   make SAN=1 ...  the same with AddressSanitizer + UndefinedBehaviorSanitizer (build-san/)
#   make demo       deps + build + run examples/crash_monitoring.sql
#   make fuzz       libFuzzer targets (clang, ASan+UBSan), FUZZ_SECONDS each
#   make kill-test  the checkpoint kill test, KILLS (100) SIGKILLs per case
#   make group-kill-test  the seed query on three --group instances, one killed, RUNS (10) times
#   make clean
#
# Sources are found by wildcard: a new .c/.re/.y file in a module folder or a
# new tests/unit/test_*.c is picked up without editing this file.

SAN ?= 0
CC  ?= gcc
ifeq ($(CC),cc)
CC  := gcc
endif

ifeq ($(SAN),1)
BUILD    ?= build-san
OPTFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
SANLD    := -fsanitize=address,undefined
else
BUILD    ?= build
OPTFLAGS := -O2 -g
SANLD    :=
endif

PKGS     := rdkafka jansson libedit libxxhash libmicrohttpd
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

CFLAGS   := -std=c17 $(OPTFLAGS) -Wall -Wextra -Werror -D_GNU_SOURCE -I. -I$(BUILD)/gen $(PKG_CFLAGS) $(EXTRA_CFLAGS)
DEPFLAGS  = -MMD -MP
LDLIBS   := $(PKG_LIBS) -lleveldb -lpthread -lm
LDFLAGS  := $(SANLD) $(EXTRA_LDFLAGS)

LEMON    ?= lemon
RE2C     ?= re2c
LEMPAR   ?= $(firstword $(wildcard /usr/share/lemon/lempar.c /usr/share/lemon/lempar.tpl) /usr/share/lemon/lempar.c)

# ---- module sources ---------------------------------------------------------
MODULES     := exec parser planner runtime runtime/connectors
MOD_C       := $(foreach m,$(MODULES),$(wildcard $(m)/*.c))
PARSER_RE   := $(wildcard parser/*.re)
PARSER_Y    := $(wildcard parser/*.y)
CONN_RE     := $(wildcard runtime/connectors/*.re)
GEN_C       := $(PARSER_RE:%.re=$(BUILD)/gen/%.c) $(PARSER_Y:%.y=$(BUILD)/gen/%.c) \
               $(CONN_RE:%.re=$(BUILD)/gen/%.c)
GEN_H       := $(PARSER_Y:%.y=$(BUILD)/gen/%.h)

LIB_OBJ     := $(MOD_C:%.c=$(BUILD)/obj/%.o) $(GEN_C:$(BUILD)/gen/%.c=$(BUILD)/obj/gen/%.o)
LIB         := $(BUILD)/libsluice.a

SHELL_C     := $(wildcard shell/*.c)
SHELL_OBJ   := $(SHELL_C:%.c=$(BUILD)/obj/%.o)
BIN         := $(BUILD)/sluice

UNIT_C      := $(wildcard tests/unit/*.c)
UNIT_OBJ    := $(UNIT_C:%.c=$(BUILD)/obj/%.o)
UNIT_BIN    := $(BUILD)/unit_tests

SQLTEST_C   := $(wildcard tests/sqltest/*.c)
SQLTEST_OBJ := $(SQLTEST_C:%.c=$(BUILD)/obj/%.o)
SQLTEST_BIN := $(BUILD)/sqltest

BENCH_C     := $(wildcard bench/*.c)
BENCH_BIN   := $(BENCH_C:bench/%.c=$(BUILD)/bench/%)

.PHONY: group-kill-test all deps test unit sqltest demo bench clean help fuzz fuzz-bins kill-test
all: $(BIN) $(UNIT_BIN) $(SQLTEST_BIN)

help:
	@sed -n '2,12p' Makefile | sed 's/^# \{0,1\}//'

# ---- dependencies (Debian packages) -----------------------------------------
DEB_PKGS := gcc make pkg-config librdkafka-dev lemon re2c libjansson-dev libleveldb-dev libmicrohttpd-dev curl chromium \
            libedit-dev libxxhash-dev kcat sqlite3 tmux clang valgrind
deps:
	@sh .ci/deps.sh $(DEB_PKGS)

# ---- generated parser code --------------------------------------------------
$(BUILD)/gen/parser/%.c: parser/%.re $(GEN_H)
	@mkdir -p $(dir $@)
	$(RE2C) -W --no-generation-date -i -o $@ $<

# re2c scanners of the connectors (e.g. a JSON decoder)
$(BUILD)/gen/runtime/connectors/%.c: runtime/connectors/%.re
	@mkdir -p $(dir $@)
	$(RE2C) -W --no-generation-date -i -o $@ $<

$(BUILD)/gen/parser/%.c $(BUILD)/gen/parser/%.h: parser/%.y
	@mkdir -p $(dir $@)
	@cp $< $(BUILD)/gen/parser/$*.y
	$(LEMON) -q -T$(LEMPAR) $(BUILD)/gen/parser/$*.y
	@rm -f $(BUILD)/gen/parser/$*.y
	@touch $(BUILD)/gen/parser/$*.c $(BUILD)/gen/parser/$*.h   # lemon keeps an unchanged .h: mark both new

# keep generated sources (make would delete them as intermediates and redo them)
.PRECIOUS: $(BUILD)/gen/parser/%.c $(BUILD)/gen/parser/%.h $(BUILD)/gen/runtime/connectors/%.c
.SECONDARY: $(GEN_C) $(GEN_H)

# generated code is compiled with the same flags, less the warnings it cannot avoid
$(BUILD)/obj/gen/%.o: $(BUILD)/gen/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Wno-unused-parameter -Wno-unused-variable -Wno-implicit-fallthrough -Wno-unused-but-set-variable $(DEPFLAGS) -Iparser -Iruntime/connectors -c $< -o $@

# every object may include the generated headers
$(BUILD)/obj/%.o: %.c | $(GEN_H)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(DEPFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BIN): $(SHELL_OBJ) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $(SHELL_OBJ) $(LIB) $(LDLIBS)

$(UNIT_BIN): $(UNIT_OBJ) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $(UNIT_OBJ) $(LIB) $(LDLIBS)

$(SQLTEST_BIN): $(SQLTEST_OBJ) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $(SQLTEST_OBJ) $(LIB) $(LDLIBS)

$(BUILD)/bench/%: bench/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

# ---- tests, demo, bench -----------------------------------------------------
test: deps
	@$(MAKE) --no-print-directory all
	@BUILD=$(BUILD) bash tests/run.sh

unit: $(UNIT_BIN)
	@$(UNIT_BIN)

# the longer kill test: the checkpoint test's SIGKILL runs KILLS times per
# case (make test does 20); also with spilled state (tests/cli/spill.sh)
KILLS ?= 100
kill-test: deps
	@$(MAKE) --no-print-directory $(BIN)
	@CHECKPOINT_KILLS=$(KILLS) SLUICE=$(CURDIR)/$(BIN) BUILD=$(BUILD) bash tests/cli/checkpoint.sh
	@SPILL_KILLS=$$(( $(KILLS) / 5 )) SLUICE=$(CURDIR)/$(BIN) BUILD=$(BUILD) bash tests/cli/spill.sh

# Group mode (issue 13): the seed's crash query, window and interval joins
# of two streams (tests/cli/group_wjoin.sh), aggregations that emit
# changes (tests/cli/group_changes.sh) and session windows that emit final
# rows (tests/cli/group_sessions.sh), on three instances, one killed
# mid-run, RUNS times; each run must give the single-process answer
# exactly (docs/scaling.md says how often it does yet).
RUNS ?= 10
group-kill-test: deps
	@$(MAKE) --no-print-directory $(BIN)
	@GROUP_KILLS=$(RUNS) SLUICE=$(CURDIR)/$(BIN) BUILD=$(BUILD) bash tests/cli/group_agg.sh
	@GROUP_KILLS=$(RUNS) SLUICE=$(CURDIR)/$(BIN) BUILD=$(BUILD) bash tests/cli/group_wjoin.sh
	@GROUP_KILLS=$(RUNS) SLUICE=$(CURDIR)/$(BIN) BUILD=$(BUILD) bash tests/cli/group_changes.sh
	@GROUP_KILLS=$(RUNS) SLUICE=$(CURDIR)/$(BIN) BUILD=$(BUILD) bash tests/cli/group_sessions.sh

DEMO_SECONDS ?= 45
demo: deps
	@$(MAKE) --no-print-directory $(BIN)
	@echo "sluice demo: the seed's crash monitoring query on the built-in log generator (20k events/s)."
	@echo "Windows are final ~20 s after they start; stopping after $(DEMO_SECONDS) s (Ctrl-C stops earlier)."
	@timeout -s INT $(DEMO_SECONDS) $(BIN) -f examples/crash_monitoring.sql; rc=$$?; [ $$rc -eq 0 ] || [ $$rc -eq 124 ]

bench: deps
	@$(MAKE) --no-print-directory $(BIN) $(BENCH_BIN)
	@BUILD=$(BUILD) bash bench/run.sh

# fuzzing: libFuzzer targets (tests/fuzz/fuzz_*.c) against a clang build of
# the library with ASan+UBSan, each run for FUZZ_SECONDS from its corpus
FUZZ_SECONDS ?= 60
FUZZ_RUNS    ?=
FUZZ_C       := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS     = $(FUZZ_C:tests/fuzz/%.c=$(BUILD)/fuzz/%)
fuzz: deps
	@$(MAKE) --no-print-directory BUILD=build-fuzz CC=clang \
	  EXTRA_CFLAGS="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all" \
	  EXTRA_LDFLAGS="-fsanitize=address,undefined" fuzz-bins
	@BUILD=build-fuzz FUZZ_RUNS=$(FUZZ_RUNS) bash tests/fuzz/run.sh $(FUZZ_SECONDS)

fuzz-bins: $(FUZZ_BINS)

$(BUILD)/fuzz/%: tests/fuzz/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fsanitize=fuzzer -o $@ $< $(LIB) $(LDFLAGS) $(LDLIBS) -lstdc++

clean:
	rm -rf build build-san build-fuzz build-tsan

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
