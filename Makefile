# SPDX-License-Identifier: Apache-2.0
# vmon build.  `make` builds build/vmon; `make test` builds and runs every test.

CC      ?= gcc
CFLAGS  ?= -O2 -g
WARN    := -Wall -Wextra -Werror
BASEFLAGS := -std=gnu11 $(WARN) -D_GNU_SOURCE -Isrc -MMD -MP -pthread
LDLIBS  := -pthread -luring -llz4 -llzma -lz -lzstd -lbz2 -ljansson

# Quiet build lines ("CC file"); `make V=1` shows the whole commands.
V ?= 0
ifeq ($(V),0)
Q := @
msg = @printf '  %-7s %s\n'
else
Q :=
msg = @true
endif

SAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

# Every source file belongs to libvmon except the programs' main files.
IMG_SRC := $(sort $(wildcard src/img/*.c))
MAINS   := src/cli/main.c $(IMG_SRC)
LIB_SRC := $(filter-out $(MAINS),$(shell find src -name '*.c' | sort))
LIB_OBJ := $(LIB_SRC:%.c=build/obj/%.o)
SAN_OBJ := $(LIB_SRC:%.c=build/san/%.o)

UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=build/tests/%)
UNIT_SAN := $(UNIT_SRC:tests/unit/%.c=build/tests/san/%)

.PHONY: all test unit tools guests clean deps demo
all: build/vmon build/vmon-img

# The libraries vmon links: installed once per build tree when missing.
build/.deps-build: scripts/deps.sh
	@mkdir -p build
	@scripts/deps.sh build
	@touch $@

$(LIB_OBJ) $(SAN_OBJ) $(MAINS:%.c=build/obj/%.o): | build/.deps-build

build/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(msg) CC $<
	$(Q)$(CC) $(BASEFLAGS) $(CFLAGS) -c $< -o $@

build/san/%.o: %.c
	@mkdir -p $(dir $@)
	$(msg) CC $<
	$(Q)$(CC) $(BASEFLAGS) $(SAN_FLAGS) -c $< -o $@

# gcc's use-after-scope checks go wrong in the block runner's computed
# gotos (a bogus stack-buffer-overflow, then a wild jump); the rest of ASan
# and UBSan stay on for it.
build/san/src/accel/emu/fast.o: SAN_FLAGS += -fno-sanitize-address-use-after-scope

build/libvmon.a: $(LIB_OBJ)
	@rm -f $@
	$(msg) AR $@
	$(Q)ar rcs $@ $^

build/libvmon-san.a: $(SAN_OBJ)
	@rm -f $@
	$(msg) AR $@
	$(Q)ar rcs $@ $^

build/vmon: build/obj/src/cli/main.o build/libvmon.a
	$(msg) LINK $@
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

build/vmon-img: $(IMG_SRC:%.c=build/obj/%.o) build/libvmon.a
	$(msg) LINK $@
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS) -lm

build/tests/%: tests/unit/%.c build/libvmon.a tests/unit/test.h
	@mkdir -p $(dir $@)
	$(msg) LINK $@
	$(Q)$(CC) $(BASEFLAGS) $(CFLAGS) -Itests/unit -o $@ $< build/libvmon.a $(LDLIBS)

build/tests/san/%: tests/unit/%.c build/libvmon-san.a tests/unit/test.h
	@mkdir -p $(dir $@)
	$(msg) LINK $@
	$(Q)$(CC) $(BASEFLAGS) $(SAN_FLAGS) -Itests/unit -o $@ $< build/libvmon-san.a $(LDLIBS)

unit: $(UNIT_BIN) $(UNIT_SAN)

# Helpers the integration tests run.
TOOLS := build/tests/extract-vmlinux build/difftest
build/tests/extract-vmlinux: tests/tools/extract_vmlinux.c build/libvmon.a
	@mkdir -p $(dir $@)
	$(msg) LINK $@
	$(Q)$(CC) $(BASEFLAGS) $(CFLAGS) -o $@ $< build/libvmon.a $(LDLIBS)

# The differential test of the software CPU against KVM (docs/emu.md).
DIFF_SRC := $(sort $(wildcard tests/diff/*.c))
build/difftest: $(DIFF_SRC) $(wildcard tests/diff/*.h) build/libvmon.a
	$(msg) LINK $@
	$(Q)$(CC) $(BASEFLAGS) $(CFLAGS) -Itests/diff -o $@ $(DIFF_SRC) build/libvmon.a $(LDLIBS)

tools: $(TOOLS)

include guests/guests.mk

# The README's test command: installs what it needs, builds, runs everything.
test:
	@scripts/deps.sh test
	@$(MAKE) --no-print-directory all unit tools guests
	@scripts/linux-guest.sh
	@tests/run.sh

# The README's main command: builds what it needs, then boots a guest.
demo:
	@scripts/deps.sh build
	@$(MAKE) --no-print-directory all
	@scripts/demo.sh

deps:
	@scripts/deps.sh

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
