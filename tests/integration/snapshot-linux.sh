#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Debian's kernel saved and restored (docs/snapshot.md), in one boot:
#   a counter loop prints once a second on the serial console; the VM is
#   saved through QMP (migrate file:) with an ext4 on a qcow2 virtio disk
#   mounted and a file on it, and vmon is killed;
#   two clones restore the one snapshot at the same time, each on its own
#   qcow2 overlay of the disk: both counters continue from the snapshot's
#   value, both find the file intact, each writes its own file, which the
#   other never sees; the overlays pass qemu-img check and the base image
#   is unchanged.  The disk is on a packed virtqueue (packed=on): the
#   clones, not told so, carry on on it from the restored wrap counters.
# Needs build/linux/ (scripts/linux-guest.sh).
set -u
cd "$(dirname "$0")/../.."
VMON=$PWD/build/vmon
L=build/linux
T=${LINUX_TIMEOUT:-600}
ACCEL=${SNAPSHOT_ACCEL:-emu}
tmp=$(mktemp -d)
failed=0
pids=
cleanup() {
	for p in ${VM_PID:-} $pids; do kill -9 "$p" 2>/dev/null; done
	if [ "$failed" != 0 ] && [ -n "${KEEP_TMP:-}" ]; then echo "kept $tmp" >&2; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
. tests/integration/lib/vm.sh
. tests/integration/lib/qmp.sh

pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; failed=1; }
skip() { echo "SKIP $1: $2"; }

if [ ! -x "$VMON" ] || [ ! -e "$L/vmlinuz" ]; then
	skip snapshot-linux "build/vmon or build/linux/ missing"
	exit 0
fi

qemu-img create -q -f qcow2 "$tmp/base.qcow2" 64M
vm_start orig "$VMON" run --accel "$ACCEL" --cpus 2 --mem 256M \
	--kernel "$L/vmlinuz" --initrd "$L/initramfs.cpio.gz" \
	--cmdline "console=ttyS0 quiet" --qmp "unix:$tmp/orig.sock" \
	--disk "$tmp/base.qcow2,format=qcow2,packed=on"
out=$tmp/orig.out
if ! vm_wait "$out" 'vmon# ' "$T"; then
	fail snapshot-linux/boot "no shell prompt: $(tail -3 "$out" | tr '\n' '|') $(tail -2 "$tmp/orig.err" | tr '\n' '|')"
	exit 1
fi
vm_send 'stty -echo'
vm_send 'mkfs.ext4 -q /dev/vda && mkdir -p /mnt && mount /dev/vda /mnt && echo snapshot-data-42 >/mnt/before && sync && echo "MOUNTED=yes"'
vm_wait "$out" 'MOUNTED=yes' 120 || fail snapshot-linux/mount "$(tail -3 "$out" | tr '\n' '|')"
vm_send 'i=0; while :; do echo "tick=$i"; i=$((i+1)); sleep 1; done &'
vm_wait "$out" '^tick=3$' 60 || fail snapshot-linux/counter "$(tail -3 "$out" | tr '\n' '|')"
r=$(qmp "$tmp/orig.sock" "{\"execute\": \"migrate\", \"arguments\": {\"uri\": \"file:$tmp/vm.snap\"}}")
if [ "$r" != '{"return": {}}' ]; then
	fail snapshot-linux/migrate "$r"
	exit 1
fi
last=$(tr -d '\r' <"$out" | sed -n 's/^tick=\([0-9]*\)$/\1/p' | tail -1)
kill -9 "$VM_PID"
vm_finish
VM_PID=
pass snapshot-linux/saved
base_sum=$(sha256sum <"$tmp/base.qcow2")

# Two clones at once, each on its own overlay.
declare -A pid
for c in a b; do
	qemu-img create -q -f qcow2 -b "$tmp/base.qcow2" -F qcow2 "$tmp/$c.qcow2"
	mkfifo "$tmp/$c.in"
	"$VMON" run --restore "$tmp/vm.snap" --disk "$tmp/$c.qcow2,format=qcow2" \
		--qmp "unix:$tmp/$c.sock" <"$tmp/$c.in" >"$tmp/$c.out" 2>"$tmp/$c.err" &
	pids="$pids $!"
	pid[$c]=$!
done
exec 4>"$tmp/a.in" 5>"$tmp/b.in"

fd=4
for c in a b; do
	# The first tick after the restore follows the last one before it.
	# vm_wait watches VM_PID: this clone's.
	if VM_PID=${pid[$c]} vm_wait "$tmp/$c.out" '^tick=[0-9]+$' 60; then
		first=$(tr -d '\r' <"$tmp/$c.out" | sed -n 's/^tick=\([0-9]*\)$/\1/p' | head -1)
		if [ "$first" -gt "$last" ] && [ "$first" -le $((last + 2)) ]; then
			pass "snapshot-linux/clone-$c/counter-continues"
		else
			fail "snapshot-linux/clone-$c/counter-continues" "last tick before $last, first after $first"
		fi
	else
		fail "snapshot-linux/clone-$c/counter-continues" "no tick: $(tail -3 "$tmp/$c.out" | tr '\n' '|') $(tail -2 "$tmp/$c.err" | tr '\n' '|')"
	fi
	printf '%s\n' "echo \"BEFORE_$c=\$(cat /mnt/before)\"; echo \"PACKED_$c=\$(cut -c35 /sys/block/vda/device/features)\"; echo clone-$c >/mnt/mine-$c; sync; ls /mnt | tr '\\n' ' ' | sed 's/^/FILES_$c=/'; echo" >&$fd
	fd=$((fd + 1))
done
for c in a b; do
	VM_PID=${pid[$c]} vm_wait "$tmp/$c.out" "^FILES_$c=" 60
	v=$(tr -d '\r' <"$tmp/$c.out" | sed -n "s/^BEFORE_$c=//p" | head -1)
	[ "$v" = snapshot-data-42 ] && pass "snapshot-linux/clone-$c/file-intact" ||
		fail "snapshot-linux/clone-$c/file-intact" "got '$v'"
	v=$(tr -d '\r' <"$tmp/$c.out" | sed -n "s/^PACKED_$c=//p" | head -1)
	[ "$v" = 1 ] && pass "snapshot-linux/clone-$c/packed-ring" ||
		fail "snapshot-linux/clone-$c/packed-ring" "feature bit 34 of vda: '$v'"
	files=$(tr -d '\r' <"$tmp/$c.out" | sed -n "s/^FILES_$c=//p" | head -1)
	o=b
	[ $c = b ] && o=a
	case " $files " in
	*" mine-$c "*" mine-$o "* | *" mine-$o "*) fail "snapshot-linux/clone-$c/own-disk" "sees the other clone's file: $files" ;;
	*" mine-$c "*) pass "snapshot-linux/clone-$c/own-disk" ;;
	*) fail "snapshot-linux/clone-$c/own-disk" "files: $files" ;;
	esac
	r=$(qmp "$tmp/$c.sock" '{"execute": "quit"}')
	[ "$r" = '{"return": {}}' ] || fail "snapshot-linux/clone-$c/quit" "$r"
done
exec 4>&- 5>&-
for p in $pids; do wait "$p"; done
pids=
for c in a b; do
	if qemu-img check -q "$tmp/$c.qcow2" >"$tmp/check.log" 2>&1; then
		pass "snapshot-linux/clone-$c/qemu-img-check"
	else
		fail "snapshot-linux/clone-$c/qemu-img-check" "$(head -2 "$tmp/check.log" | tr '\n' '|')"
	fi
done
[ "$(sha256sum <"$tmp/base.qcow2")" = "$base_sum" ] && pass snapshot-linux/base-unchanged ||
	fail snapshot-linux/base-unchanged "the clones wrote to the base image"
exit $failed
