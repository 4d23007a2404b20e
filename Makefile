# kbook: one Makefile for every program, test and tool.
#
#   make            build everything (release flags)
#   make run        install what is missing, build, start the local stack (Ctrl-C stops it)
#   make test       install what is missing, build with sanitizers, run every test
#   make lint       cppcheck, clang-tidy and the banned-pattern grep (make test runs it too)
#   make unit       the CUnit suites alone (make valgrind: under valgrind)
#   make fuzz       build the libFuzzer targets (clang)
#   make deps       install the Debian packages the project needs (idempotent)
#   make schema     rewrite sql/schema.sql from the migrations (after adding one; commit it)
#
# SANITIZE=address,undefined builds into build/san instead of build/rel.

SHELL      := /bin/bash
CC         ?= cc
PKGS       := libpq json-c libcurl libwebsockets openssl libsodium fcgi
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CUNIT_LIBS := $(shell pkg-config --libs cunit 2>/dev/null)

WARN    := -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
           -Wmissing-prototypes -Wformat=2 -Wcast-qual -fno-common
CPPFLAGS += -D_GNU_SOURCE -Ilib $(PKG_CFLAGS) -MMD -MP
CFLAGS  ?= -O2 -g
CFLAGS  += $(WARN)

ifdef SANITIZE
B       := build/san
CFLAGS  += -O1 -fno-omit-frame-pointer -fsanitize=$(SANITIZE) -fno-sanitize-recover=all
LDFLAGS += -fsanitize=$(SANITIZE)
else
B       := build/rel
endif

BIN := $(B)/bin

.DEFAULT_GOAL := all

# ---- the shared library ---------------------------------------------------
LIB_SRCS := $(wildcard lib/*.c)
LIB_OBJS := $(LIB_SRCS:%.c=$(B)/%.o)
LIBKBOOK := $(B)/libkbook.a

# ---- programs: name -> source directory -----------------------------------
# Each program is every .c file of its directory linked with lib/.
PROGRAMS := kbook-api:cgi-bin
PROGRAMS += $(if $(wildcard collector/*.c),kbook-collector:collector)
PROGRAMS += $(if $(wildcard feedd/*.c),kbook-feedd:feedd)
PROGRAMS += $(if $(wildcard sim/kalshi/*.c),kalshi-sim:sim/kalshi)
PROGRAMS += $(if $(wildcard sim/stripe/*.c),stripe-sim:sim/stripe)
PROGRAMS += $(if $(wildcard tools/admin/*.c),kbook-admin:tools/admin)
PROGRAMS += $(if $(wildcard tools/gen/*.c),kbook-gen:tools/gen)
PROGRAMS += $(if $(wildcard tools/feedload/*.c),kbook-feedload:tools/feedload)
PROGRAMS += $(if $(wildcard mailer/*.c),kbook-mailer:mailer)
PROGRAMS += $(if $(wildcard billing/*.c),kbook-billing:billing)

# libraries one program needs beyond PKG_LIBS
kbook-feedload_LIBS := -lev
kbook-feedd_LIBS := -lev -pthread

prog_name = $(word 1,$(subst :, ,$1))
prog_dir  = $(word 2,$(subst :, ,$1))
ALL_BINS  := $(foreach p,$(PROGRAMS),$(BIN)/$(call prog_name,$p))

define PROGRAM_RULES
$(call prog_name,$1)_OBJS := $$(patsubst %.c,$(B)/%.o,$$(wildcard $(call prog_dir,$1)/*.c))
$(BIN)/$(call prog_name,$1): $$($(call prog_name,$1)_OBJS) $(LIBKBOOK) | $(BIN)
	$$(CC) $$(LDFLAGS) -o $$@ $$^ $(PKG_LIBS) $$($(call prog_name,$1)_LIBS) -lm
ALL_OBJS += $$($(call prog_name,$1)_OBJS)
endef
$(foreach p,$(PROGRAMS),$(eval $(call PROGRAM_RULES,$p)))

# ---- unit tests (CUnit) ---------------------------------------------------
UNIT_SRCS := $(wildcard tests/unit/*.c)
UNIT_OBJS := $(UNIT_SRCS:%.c=$(B)/%.o)
UNIT_BIN  := $(BIN)/unit-tests
ALL_OBJS  += $(LIB_OBJS) $(UNIT_OBJS)

.PHONY: all build deps run test unit integration lint fuzz fuzz-smoke bench valgrind clean migrate \
	schema
all build: $(ALL_BINS) $(UNIT_BIN)

$(UNIT_BIN): $(UNIT_OBJS) $(LIBKBOOK) | $(BIN)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(CUNIT_LIBS) -lm

$(LIBKBOOK): $(LIB_OBJS)
	@mkdir -p $(@D)
	$(AR) rcs $@ $^

$(B)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(BIN):
	@mkdir -p $@

-include $(ALL_OBJS:.o=.d)

# ---- the two commands -----------------------------------------------------
deps:
	@scripts/deps.sh

run: deps
	@$(MAKE) --no-print-directory build
	@scripts/foreground.py scripts/run.sh $(BIN)

# TESTS="t_a t_b" runs only those integration tests (and no fuzz pass): for work on one part.
test: deps
	@$(MAKE) --no-print-directory SANITIZE=address,undefined build
	@$(if $(TESTS),,$(MAKE) --no-print-directory fuzz)
	@TESTS="$(TESTS)" scripts/test.sh build/san/bin build/fuzz

# the CUnit suites alone (a throwaway Postgres for the db suite; see scripts/unit.sh)
unit: $(UNIT_BIN)
	@scripts/unit.sh $(UNIT_BIN)

# ---- fuzzing (clang + libFuzzer) -------------------------------------------
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=build/fuzz/%)
FUZZ_FLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Ilib -Icgi-bin $(PKG_CFLAGS) $(WARN)
fuzz: $(FUZZ_BINS)
# a target fuzzing a parser of kbook-api compiles that parser's file in (each depends on libc only)
FUZZ_EXTRA_route  := cgi-bin/route_match.c
FUZZ_EXTRA_cursor := cgi-bin/cursor.c
build/fuzz/fuzz_route: cgi-bin/route_match.c cgi-bin/route_match.h
build/fuzz/fuzz_cursor: cgi-bin/cursor.c cgi-bin/cursor.h
build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(LIB_SRCS) $(wildcard lib/*.h)
	@mkdir -p $(@D)
	clang $(FUZZ_FLAGS) -o $@ $< $(FUZZ_EXTRA_$*) $(LIB_SRCS) $(PKG_LIBS) -lm

fuzz-smoke: fuzz
	@scripts/fuzz-smoke.sh build/fuzz 20

# ---- quality ----------------------------------------------------------------
LINT_SRCS := $(shell git ls-files '*.c' 2>/dev/null)
lint:
	@scripts/lint.sh

valgrind: $(UNIT_BIN)
	@scripts/unit.sh $(UNIT_BIN) valgrind --error-exitcode=1 --leak-check=full

bench: deps build
	@scripts/bench.sh $(BIN)

migrate:
	@scripts/migrate.sh

# sql/schema.sql: the schema the migrations make (pg_dump of a throwaway database); run it after
# adding a migration and commit the result (tests/integration/t_schema.sh checks it)
schema:
	@scripts/schema.sh

clean:
	rm -rf build
