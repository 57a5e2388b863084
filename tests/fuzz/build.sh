#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds the libFuzzer targets into build/fuzz/ with clang (ASan + UBSan).
# The emu is linked from its sources alone: no machine.c, no devices
# (accel_emu.c is the accelerator glue and is left out).
set -eu
cd "$(dirname "$0")/../.."
CLANG=${CLANG:-clang}
out=build/fuzz
mkdir -p "$out"
emu_src=$(ls src/accel/emu/*.c | grep -v '/accel_emu\.c$\|/fast\.c$')
# fast.c, the block runner, with coverage but not ASan/UBSan: clang takes
# many minutes to instrument its one huge function for them (the unit
# tests' gcc sanitizer build has them on fast.c).
"$CLANG" -std=gnu11 -D_GNU_SOURCE -Isrc -O1 -g -fno-omit-frame-pointer \
	-Wall -Wextra -Werror -fsanitize=fuzzer-no-link \
	-c src/accel/emu/fast.c -o "$out/fast.o"
"$CLANG" -std=gnu11 -D_GNU_SOURCE -Isrc -O1 -g -fno-omit-frame-pointer \
	-Wall -Wextra -Werror \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-o "$out/fuzz_emu_code" tests/fuzz/fuzz_emu_code.c $emu_src "$out/fast.o" \
	src/machine/bus.c src/machine/memory.c src/machine/mem_code.c src/util/log.c src/arch/x86/cpu_state.c \
	-pthread
# The block layer's qcow2 and raw drivers, on image files.
"$CLANG" -std=gnu11 -D_GNU_SOURCE -Isrc -O1 -g -fno-omit-frame-pointer \
	-Wall -Wextra -Werror \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-o "$out/fuzz_qcow2" tests/fuzz/fuzz_qcow2.c \
	src/block/block.c src/block/file.c src/block/raw.c src/block/qcow2*.c \
	-pthread -lz -lzstd
# The virtqueue parsers (split and packed), on guest RAM filled from the input.
"$CLANG" -std=gnu11 -D_GNU_SOURCE -Isrc -O1 -g -fno-omit-frame-pointer \
	-Wall -Wextra -Werror \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-o "$out/fuzz_virtq" tests/fuzz/fuzz_virtq.c src/virtio/virtq.c src/virtio/virtq_packed.c \
	src/machine/memory.c src/machine/mem_code.c
