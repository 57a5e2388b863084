#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The command-line contract of build/vmon: --version and --help succeed; every
# usage or configuration error (bad options, bad kernel or initrd files,
# unusable /dev/kvm) ends with status 2 and exactly one stderr line
# "vmon: ..." that names the problem, never a crash.  Every run has stdin
# from /dev/null, so none of this may depend on a terminal.
# Prints PASS/FAIL/SKIP lines for tests/run.sh; exits 1 on any FAIL.
set -u
cd "$(dirname "$0")/../.." || exit 1

VMON=${VMON:-build/vmon}
G=build/guests
LINUX=${LINUX:-build/linux/vmlinuz}
T=${RUN_TIMEOUT:-10}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0
ulimit -c 0         # a crash must show in the status, not litter core files

pass() { echo "PASS $1"; }
fail() {
	echo "FAIL $1: $2"
	[ -s "$tmp/err" ] && head -n 3 "$tmp/err" | sed 's/^/    /'
	failed=1
}

# vmon ARGS...: runs vmon with no terminal; status in $rc, output in $tmp/out, $tmp/err.
vmon() {
	timeout "$T" "$VMON" "$@" </dev/null >"$tmp/out" 2>"$tmp/err"
	rc=$?
}

# Why the last run is not a clean usage error mentioning KEYWORD (an
# extended regexp, case-insensitive), or nothing when it is.
usage_why() {
	local keyword=$1 lines
	if [ "$rc" = 124 ]; then
		echo "timed out after ${T}s"; return
	elif [ "$rc" -ge 128 ]; then
		echo "killed by signal $((rc - 128))"; return
	elif [ "$rc" != 2 ]; then
		echo "exit status $rc, expected 2"; return
	fi
	lines=$(wc -l <"$tmp/err")
	if ! grep -q '^vmon: ' "$tmp/err"; then
		echo "no stderr line starts with 'vmon: '"
	elif ! grep '^vmon: ' "$tmp/err" | tail -n 1 | grep -qiE -- "$keyword"; then
		echo "the last 'vmon: ' line does not mention '$keyword'"
	elif [ "$lines" != 1 ] || [ -n "$(tail -c 1 "$tmp/err")" ]; then
		echo "$lines lines on stderr (or no final newline), expected exactly one; the first: '$(head -n 1 "$tmp/err")'"
	fi
}

# usage NAME KEYWORD ARGS...: vmon ARGS must fail with a usage error.
usage() {
	local name=$1 keyword=$2 why
	shift 2
	vmon "$@"
	why=$(usage_why "$keyword")
	if [ -z "$why" ]; then pass "$name"; else fail "$name" "$why"; fi
}

if [ ! -x "$VMON" ]; then
	echo "FAIL cli: $VMON not built (run 'make')"
	exit 1
fi

# ---- what succeeds ----------------------------------------------------
vmon --version
if [ "$rc" = 0 ] && grep -qE '^vmon [0-9]+\.[0-9]+\.[0-9]+$' "$tmp/out" && [ "$(wc -l <"$tmp/out")" = 1 ]; then
	pass version
else
	fail version "status $rc, stdout '$(head -c 80 "$tmp/out")'"
fi
for args in "--help" "run --help" "run -h"; do
	# shellcheck disable=SC2086
	vmon $args
	if [ "$rc" = 0 ] && grep -q '^usage: vmon run' "$tmp/out" && [ ! -s "$tmp/err" ]; then
		pass "help/${args// /-}"
	else
		fail "help/${args// /-}" "status $rc, or no usage text on stdout, or stderr not empty"
	fi
done
if vmon run --help && [ "$rc" = 0 ] && grep -q -- '--kernel' "$tmp/out" && grep -q -- '--mem' "$tmp/out"; then
	pass help-lists-options
else
	fail help-lists-options "'vmon run --help' does not list --kernel and --mem"
fi

# ---- usage errors -----------------------------------------------------
K=$tmp/k                 # never read: these fail before the kernel is opened
: >"$K"
usage no-args 'vmon'
usage unknown-command 'frobnicate' frobnicate
usage unknown-option 'bogus' run --bogus --kernel "$K"
usage unknown-short-option '-x|option' run -x --kernel "$K"
usage missing-kernel 'kernel' run
usage missing-kernel-with-options 'kernel' run --mem 64M --cpus 2
usage option-needs-arg/kernel 'kernel' run --kernel
usage option-needs-arg/mem 'mem' run --kernel "$K" --mem
usage unexpected-argument 'stray' run --kernel "$K" stray
for m in 0 1K 5T junk 1.5G -1 4097 ''; do
	usage "mem/'$m'" 'mem' run --kernel "$K" --mem "$m"
done
for c in 0 65 -1 junk 1.5 ''; do
	usage "cpus/'$c'" 'cpus' run --kernel "$K" --cpus "$c"
done
usage serial/bogus 'serial' run --kernel "$K" --serial bogus
usage serial/empty-file 'serial' run --kernel "$K" --serial file:
usage accel/bogus 'accel' run --kernel "$K" --accel bogus
usage flat/0x10 'flat' run --kernel "$K" --flat=0x10
usage flat/junk 'flat' run --kernel "$K" --flat=junk
# Devices: bad options, and files or taps that cannot be had, one line each.
usage disk/no-path 'disk' run --kernel "$K" --disk ,readonly=on
usage disk/bad-option 'disk.*bogus' run --kernel "$K" --disk "$tmp/d,bogus=1"
usage disk/bad-format 'disk.*format' run --kernel "$K" --disk "$tmp/d,format=vmdk"
usage disk/no-value 'disk.*readonly' run --kernel "$K" --disk "$tmp/d,readonly"
usage disk/missing-file "disk.*no such file" run --accel emu --kernel "$G/protmode.elf" --disk /nonexistent/disk.img
usage disk/long-serial 'disk.*serial' run --kernel "$K" --disk "$tmp/d,serial=123456789012345678901"
usage net/no-tap 'net' run --kernel "$K" --net mac=52:54:00:00:00:01
usage net/long-tap 'net' run --kernel "$K" --net tap=abcdefghijklmnopq
usage net/bad-mac 'net' run --kernel "$K" --net tap=t0,mac=01:02:03:04:05:06
usage virtio-console/bogus 'virtio-console' run --kernel "$K" --virtio-console bogus
usage virtio-console/two-stdio 'virtio-console' run --kernel "$K" --virtio-console stdio

# ---- bad kernel and initrd files ----------------------------------------
# The accelerator is chosen before the kernel is read: without a usable
# /dev/kvm every case below ends in the accelerator's error instead.
kvm_ok=1
{ [ -r /dev/kvm ] && [ -w /dev/kvm ]; } || kvm_ok=0

kernel_case() {
	local name=$1
	if [ "$kvm_ok" = 0 ]; then
		echo "SKIP $name: /dev/kvm cannot be opened, and vmon picks the accelerator before it reads the kernel"
		return 1
	fi
	return 0
}

kernel_case kernel/missing && usage kernel/missing 'no such file' run --kernel "$tmp/does-not-exist"
kernel_case kernel/directory && usage kernel/directory 'regular file' run --kernel "$tmp"
: >"$tmp/empty"
kernel_case kernel/empty && usage kernel/empty 'empty' run --kernel "$tmp/empty"
head -c 65536 /dev/urandom >"$tmp/random"
kernel_case kernel/random && usage kernel/random 'bootable|bzimage|multiboot' run --kernel "$tmp/random"

kernel_case kernel/char-device && usage kernel/char-device 'regular file' run --kernel /dev/zero
truncate -s 2G "$tmp/huge"          # sparse, beyond what vmon reads into memory
kernel_case kernel/too-large && usage kernel/too-large 'too large' run --kernel "$tmp/huge"
head -c 700000 /dev/zero >"$tmp/flat-700k"
kernel_case flat/too-large && usage flat/too-large 'fit' run --flat --kernel "$tmp/flat-700k"
head -c 512 /dev/zero >"$tmp/flat-512"     # loads fine; the serial file then fails
kernel_case serial/unwritable && usage serial/unwritable '/no/such/dir/serial' \
	run --serial file:/no/such/dir/serial --flat --kernel "$tmp/flat-512"

# Root reads anything: take away the capabilities that let it.
if kernel_case kernel/unreadable; then
	echo "not a kernel" >"$tmp/unreadable"
	chmod 000 "$tmp/unreadable"
	# shellcheck disable=SC2054  # the commas belong to one setpriv option
	drop=(setpriv --inh-caps=-all --bounding-set=-dac_override,-dac_read_search)
	if [ "$(id -u)" != 0 ]; then
		usage kernel/unreadable 'permission denied' run --kernel "$tmp/unreadable"
	elif ! command -v setpriv >/dev/null || ! "${drop[@]}" true 2>/dev/null; then
		echo "SKIP kernel/unreadable: running as root and setpriv cannot drop CAP_DAC_OVERRIDE"
	elif "${drop[@]}" cat "$tmp/unreadable" >/dev/null 2>&1; then
		echo "SKIP kernel/unreadable: the file stays readable without CAP_DAC_OVERRIDE"
	else
		timeout "$T" "${drop[@]}" "$VMON" run --kernel "$tmp/unreadable" \
			</dev/null >"$tmp/out" 2>"$tmp/err"
		rc=$?
		why=$(usage_why 'permission denied')
		if [ -z "$why" ]; then pass kernel/unreadable; else fail kernel/unreadable "$why"; fi
	fi
fi

# A multiboot guest with initrds that do not fit or do not exist.
truncate -s 64M "$tmp/initrd-64M"
if [ ! -e "$G/protmode.elf" ]; then
	for n in multiboot/initrd-too-large multiboot/initrd-missing multiboot/initrd-empty-name; do
		echo "SKIP $n: $G/protmode.elf not built (make guests)"
	done
elif kernel_case multiboot/initrd; then
	usage multiboot/initrd-too-large 'initrd-64M' run --kernel "$G/protmode.elf" --mem 32M \
		--initrd "$tmp/initrd-64M"
	usage multiboot/initrd-missing 'no-such-initrd.*no such file|no such file.*no-such-initrd' \
		run --kernel "$G/protmode.elf" --initrd "$tmp/no-such-initrd"
	usage multiboot/initrd-empty-name 'module|initrd' run --kernel "$G/protmode.elf" \
		--initrd "$G/protmode.elf,"
fi

# Debian's bzImage, built by scripts/linux-guest.sh: broken copies of it.
BZ_CASES="truncated version-2.09 too-large-for-16M initrd-too-large initrd-missing cmdline-too-long"
if [ ! -s "$LINUX" ]; then
	for n in $BZ_CASES; do
		echo "SKIP bzimage/$n: $LINUX not built (scripts/linux-guest.sh builds it)"
	done
elif [ "$kvm_ok" = 0 ]; then
	for n in $BZ_CASES; do
		echo "SKIP bzimage/$n: /dev/kvm cannot be opened, and vmon picks the accelerator before it reads the kernel"
	done
else
	head -c 4096 "$LINUX" >"$tmp/bz-4k"
	usage bzimage/truncated 'truncated' run --kernel "$tmp/bz-4k"

	cp "$LINUX" "$tmp/bz-209"
	printf '\x09\x02' | dd of="$tmp/bz-209" bs=1 seek=$((0x206)) conv=notrunc status=none
	usage bzimage/version-2.09 '2\.09' run --kernel "$tmp/bz-209"

	usage bzimage/too-large-for-16M 'RAM|MiB' run --kernel "$LINUX" --mem 16M
	# 64M holds the kernel (relocated low) but not 64 MiB of initrd besides.
	usage bzimage/initrd-too-large 'initrd' run --kernel "$LINUX" --mem 64M \
		--initrd "$tmp/initrd-64M"
	usage bzimage/initrd-missing 'no-such-initrd.*no such file|no such file.*no-such-initrd' \
		run --kernel "$LINUX" --initrd "$tmp/no-such-initrd"
	# Debian's cmdline_size is 2047; the header says what this kernel takes.
	max=$(od -An -tu4 -j $((0x238)) -N 4 "$LINUX" | tr -d ' ')
	long=$(head -c $((max + 1)) /dev/zero | tr '\0' 'x')
	usage bzimage/cmdline-too-long 'cmdline' run --kernel "$LINUX" --cmdline "$long"
fi

# ---- /dev/kvm unusable ------------------------------------------------
# A private mount namespace where /dev/kvm is /dev/null: it opens, but is no KVM.
kvm_null() {
	unshare -m bash -c 'mount --bind /dev/null /dev/kvm && exec "$@"' kvm-null "$@"
}
if [ ! -e "$G/protmode.elf" ]; then
	echo "SKIP kvm/not-kvm: $G/protmode.elf not built (make guests)"
elif ! unshare -m bash -c 'mount --bind /dev/null /dev/kvm' 2>/dev/null; then
	echo "SKIP kvm/not-kvm: cannot bind-mount over /dev/kvm in a private mount namespace (unshare -m not permitted)"
else
	kvm_null timeout "$T" "$VMON" run --accel kvm --kernel "$G/protmode.elf" \
		</dev/null >"$tmp/out" 2>"$tmp/err"
	rc=$?
	why=$(usage_why '/dev/kvm')
	if [ -z "$why" ]; then pass kvm/not-kvm; else fail kvm/not-kvm "$why"; fi
	# auto falls back to the software CPU, says so and why, and runs the guest.
	kvm_null timeout "$T" "$VMON" run --kernel "$G/protmode.elf" \
		</dev/null >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ $rc -eq 33 ] && grep -q 'accelerator: emu.*/dev/kvm' "$tmp/err" &&
	   grep -q 'protmode: ok' "$tmp/out"; then
		pass kvm/not-kvm-auto-falls-back
	else
		fail kvm/not-kvm-auto-falls-back "status $rc, stderr: $(head -c 300 "$tmp/err")"
	fi
	# No /dev/kvm at all: an empty directory hides it.
	unshare -m bash -c 'mount -t tmpfs none /dev && exec "$@"' no-dev \
		timeout "$T" "$VMON" run --accel kvm --kernel "$G/protmode.elf" \
		</dev/null >"$tmp/out" 2>"$tmp/err"
	rc=$?
	why=$(usage_why '/dev/kvm')
	if [ -z "$why" ]; then pass kvm/missing; else fail kvm/missing "$why"; fi
fi

# ---- no terminal needed -------------------------------------------------
# --serial stdio with stdin from /dev/null, and with stdin closed (the next
# open() then returns fd 0): the guest still runs to its debug-exit.
if [ ! -e "$G/protmode.elf" ]; then
	echo "SKIP no-terminal: $G/protmode.elf not built (make guests)"
elif [ "$kvm_ok" = 0 ]; then
	echo "SKIP no-terminal: /dev/kvm cannot be opened"
else
	vmon run -q --serial stdio --kernel "$G/protmode.elf"
	if [ "$rc" = 33 ] && grep -q '^protmode: ok$' "$tmp/out"; then
		pass no-terminal/stdin-null
	else
		fail no-terminal/stdin-null "status $rc (expected 33) or no 'protmode: ok' on stdout"
	fi
	timeout "$T" "$VMON" run -q --serial stdio --kernel "$G/protmode.elf" <&- >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ "$rc" = 33 ] && grep -q '^protmode: ok$' "$tmp/out"; then
		pass no-terminal/stdin-closed
	else
		fail no-terminal/stdin-closed "status $rc (expected 33) or no 'protmode: ok' on stdout"
	fi
fi

exit $failed
