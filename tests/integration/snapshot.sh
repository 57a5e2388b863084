#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Snapshots through QMP's migrate "file:" and vmon run --restore.
#   uart-echo (8259 and IOAPIC routes) under each accelerator: saved while
#     waiting for input, restored in a new process, it echoes what is typed
#     there and counts every byte and interrupt since its boot; a snapshot
#     taken of a restored VM restores too.
#   Bad snapshots: truncated, corrupted, of another format, restored onto a
#     different machine: one error line, status 2.
#   Debian's kernel (tests/integration/snapshot-linux.sh).
set -u
cd "$(dirname "$0")/../.."
VMON=$PWD/build/vmon
G=build/guests
ACCELS=${ACCELS:-kvm emu}
tmp=$(mktemp -d)
failed=0
cleanup() {
	[ -n "${VM_PID:-}" ] && kill -9 "$VM_PID" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
. tests/integration/lib/vm.sh
. tests/integration/lib/qmp.sh

pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; failed=1; }
skip() { echo "SKIP $1: $2"; }

if [ ! -x "$VMON" ] || [ ! -e "$G/uart-echo.elf" ]; then
	skip snapshot "build/vmon or the test guests missing"
	exit 0
fi

# save NAME ACCEL SNAP ARGS...: runs uart-echo, types "abc", snapshots it.
save() {
	local name=$1 accel=$2 snap=$3 r
	shift 3
	vm_start "$name" "$VMON" run --accel "$accel" --qmp "unix:$tmp/$name.sock" "$@"
	if ! vm_wait "$tmp/$name.out" 'ready' 30; then
		fail "$name/boot" "$(tail -2 "$tmp/$name.err" | tr '\n' '|')"
		return 1
	fi
	vm_send abc
	vm_wait "$tmp/$name.out" '^ABC$' 30
	r=$(qmp "$tmp/$name.sock" "{\"execute\": \"migrate\", \"arguments\": {\"uri\": \"file:$snap\"}}")
	[ "$r" = '{"return": {}}' ] || { fail "$name/migrate" "$r"; return 1; }
	r=$(qmp "$tmp/$name.sock" '{"execute": "query-status"}')
	case $r in
	*'"status": "postmigrate"'*) pass "$name/postmigrate" ;;
	*) fail "$name/postmigrate" "$r" ;;
	esac
	kill -9 "$VM_PID"
	vm_finish
	VM_PID=
}

# restore NAME SNAP ARGS...: continues uart-echo from SNAP; types "def" and q.
restore() {
	local name=$1 snap=$2 out
	shift 2
	vm_start "$name" "$VMON" run --restore "$snap" "$@"
	vm_send def
	vm_wait "$tmp/$name.out" '^DEF$' 30
	printf q >&3 2>/dev/null
	vm_finish
	VM_PID=
	out=$(tr -d '\r' <"$tmp/$name.out")
	# 4 bytes before the snapshot, 5 after it (q counts too).
	if [ "$rc" = 33 ] && printf '%s\n' "$out" | grep -q '^DEF$' &&
	   printf '%s\n' "$out" | grep -qE '^uart-echo: bye after 9 bytes in [1-9][0-9]* interrupts$'; then
		pass "$name"
	else
		fail "$name" "status $rc, output $(printf '%s' "$out" | tail -3 | tr '\n' '|') $(tail -2 "$tmp/$name.err" | tr '\n' '|')"
	fi
}

for accel in $ACCELS; do
	if [ "$accel" = kvm ] && ! { : <>/dev/kvm; } 2>/dev/null; then
		skip "kvm/snapshot" "/dev/kvm cannot be opened"
		continue
	fi
	for route in pic ioapic; do
		cmdline=
		[ $route = ioapic ] && cmdline=ioapic
		snap=$tmp/${accel}-$route.snap
		save "$accel-$route" "$accel" "$snap" --kernel "$G/uart-echo.elf" --cmdline "$cmdline" ||
			continue
		restore "$accel-$route-restored" "$snap"
		restore "$accel-$route-clone" "$snap"
	done
done

# bad NAME WANT ARGS...: vmon run ARGS must fail with status 2 and one line
# on stderr holding WANT.
bad() {
	local name=$1 want=$2 err
	shift 2
	"$VMON" run "$@" </dev/null >/dev/null 2>"$tmp/bad.err"
	rc=$?
	err=$(cat "$tmp/bad.err")
	if [ $rc = 2 ] && [ "$(wc -l <"$tmp/bad.err")" = 1 ] && printf '%s' "$err" | grep -q -- "$want"; then
		pass "bad/$name"
	else
		fail "bad/$name" "status $rc, stderr: $(tr '\n' '|' <"$tmp/bad.err")"
	fi
}

# edit_header SNAP OUT FIELD VALUE: a copy with a header field changed and the
# header checksum made right again, so only the field's meaning is wrong.
edit_header() {
	python3 - "$@" <<'PY'
import struct, sys, zlib
src, dst, field, value = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
data = bytearray(open(src, "rb").read())
offs = {"format": (8, "<I"), "state_len": (24, "<Q"), "ram_size": (40, "<Q")}
off, fmt = offs[field]
struct.pack_into(fmt, data, off, value)
struct.pack_into("<I", data, 48, zlib.crc32(bytes(data[:48])))
open(dst, "wb").write(data)
PY
}

good=
for f in "$tmp"/*.snap; do [ -e "$f" ] && good=$f && break; done
if [ -z "$good" ]; then
	skip bad "no snapshot was taken"
	exit $failed
fi
accel=$(basename "$good" | cut -d- -f1)
other=emu
[ "$accel" = emu ] && other=kvm
head -c 100 "$good" >"$tmp/short.snap"
bad truncated-header 'truncated\|not a vmon' --restore "$tmp/short.snap"
size=$(stat -c %s "$good")
cp --sparse=always "$good" "$tmp/cut.snap"
truncate -s $((size / 2)) "$tmp/cut.snap"
bad truncated-ram 'truncated' --restore "$tmp/cut.snap"
cp --sparse=always "$good" "$tmp/flip.snap"
printf '\x5a' | dd of="$tmp/flip.snap" bs=1 seek=4200 conv=notrunc status=none
bad corrupt-state 'checksum' --restore "$tmp/flip.snap"
cp --sparse=always "$good" "$tmp/flip2.snap"
printf '\x5a' | dd of="$tmp/flip2.snap" bs=1 seek=20 conv=notrunc status=none
bad corrupt-header 'checksum' --restore "$tmp/flip2.snap"
edit_header "$good" "$tmp/fmt.snap" format 99
bad other-format 'format 99' --restore "$tmp/fmt.snap"
edit_header "$good" "$tmp/len.snap" state_len 99999999999
bad state-length 'inconsistent' --restore "$tmp/len.snap"
bad not-a-snapshot 'not a vmon snapshot' --restore "$G/uart-echo.elf"
bad missing 'No such file' --restore "$tmp/nonexistent.snap"
bad other-mem 'different machine' --restore "$good" --mem 64M
bad other-cpus 'different machine' --restore "$good" --cpus 3
bad other-accel "taken under --accel $accel" --restore "$good" --accel "$other"
bad extra-disk 'disks' --restore "$good" --disk "$tmp/short.snap"
bad with-kernel 'no --kernel' --restore "$good" --kernel "$G/uart-echo.elf"
exit $failed
