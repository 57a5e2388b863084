#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs the virtio test guest (guests/virtio/, `make guests`) under each
# accelerator in ACCELS (default "kvm emu") with a writable disk, a
# readonly=on disk, a third read-only disk on a packed virtqueue
# (packed=on) and --rng.  The guest uses both disks legitimately, then
# feeds garbage to the virtqueues; this checks its output, that vmon exits
# with the guest's status, and afterwards the disk files: sector 1 holds
# what the guest wrote and not one other byte changed.  As root, vmon also
# gets --net on a tap in a network namespace made here, where a sender
# broadcasts a frame every 20 ms for the guest's receive-queue cases.
# The guest also takes MSI-X interrupts from the disk (masked, unmasked,
# rerouted); under KVM, vmon's --stats must show them raised through irqfds
# and none through KVM_SIGNAL_MSI.  It takes INTx too (intx.c): a line left
# up at the EOI must interrupt again; under KVM with resampling irqfds,
# --stats must show INTx raised through them, and raised again on a resample.
# Prints PASS/FAIL/SKIP lines for tests/run.sh; exits 1 on any FAIL.
set -u
cd "$(dirname "$0")/../.."

VMON=${VMON:-build/vmon}
GUEST=build/guests/virtio.elf
ACCELS=${ACCELS:-kvm emu}
RUN_TIMEOUT=${RUN_TIMEOUT:-60}
SERIAL=vmon-virtio-0001
SECTORS=128
MIN_CASES=76

tmp=$(mktemp -d)
ns=vmon-vg-$$
sender=
cleanup() {
	[ -n "$sender" ] && kill "$sender" 2>/dev/null
	ip netns del "$ns" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
failed=0

# One 512-byte sector as the guest expects it: a 16-byte tag, then k ^ seed.
sector() {
	local tag=$1 seed=$2 k s=
	for ((k = 16; k < 512; k++)); do
		s+=$(printf '\\x%02x' $(((k ^ seed) & 255)))
	done
	printf '%s%b' "$tag" "$s"
}

sector VMON-VIRTIO-DISK 0 >"$tmp/sector0"
sector WRITTEN-BY-GUEST 255 >"$tmp/sector1"
{ cat "$tmp/sector0"; head -c $(((SECTORS - 1) * 512)) /dev/zero | tr '\0' 'z'; } >"$tmp/disk.orig"
{ cat "$tmp/sector0" "$tmp/sector1"; tail -c +1025 "$tmp/disk.orig"; } >"$tmp/disk.want"

PATTERNS=(
	"^virtio: blk: $SECTORS sectors"
	'^virtio: read sector 0: ok$'
	'^virtio: write sector 1: ok$'
	'^virtio: read back sector 1: ok$'
	"^virtio: serial '$SERIAL'$"
	'^virtio: flush: ok$'
	'^virtio: indirect read: ok$'
	'^virtio: msix completion interrupt: ok$'
	'^virtio: msix masked entry pends, fires on unmask: ok$'
	'^virtio: msix function mask pends, fires on unmask: ok$'
	'^virtio: msix message rewritten: ok$'
	'^virtio: intx: line left up at the EOI interrupts again: ok'
	'^virtio: intx: a completion interrupts, reading ISR ends it: ok'
	'^virtio: readonly write: ioerr$'
	'^virtio: case data-in-own-bar: (needs-reset|ioerr|dropped)$'
	'^virtio: case chain-longer-than-queue: (needs-reset|ioerr|dropped)$'
	'^virtio: case sector-beyond-end: ioerr$'
	'^virtio: case unknown-type: unsupp$'
	'^virtio: case ring-used-misaligned: needs-reset$'
	'^virtio: case rng-indirect-nested: (needs-reset|dropped)$'
	'^virtio: packed reads over 3 laps: ok$'
	'^virtio: packed ring of 12: ok$'
	'^virtio: case packed-chain-partly-available: needs-reset$'
	'^virtio: case packed-id-0xffff: ok$'
	'^virtio: case packed-indirect-read: ok$'
	'^virtio: case packed-used-looking: ignored$'
	'^virtio: case packed-other-lap: ignored$'
	'^virtio: case packed-device-area-beyond-ram: needs-reset$'
	'^virtio: packed hammer: [0-9]+ rounds: '
	'^virtio: rng hammer: [0-9]+ rounds: '
	'^virtio: pci hammer: [0-9]+ accesses'
	'^virtio: PASS$'
)

NET_PATTERNS=(
	'^virtio: net: [0-9]+-byte frame received'
	'^virtio: case net-rx-short-buffer: ok$'
	'^virtio: case net-rx-ring-of-short-buffers: dropped$'
	'^virtio: net: [0-9]+-byte frame after the resets'
)

# Broadcasts a frame every 20 ms on the tap TAP inside the namespace, once
# vmon has made it.
SENDER='
import socket, sys, time
while True:
    try:
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
        s.bind((sys.argv[1], 0))
        break
    except OSError:
        time.sleep(0.02)
frame = b"\xff" * 6 + b"\x02\x00\x00\x00\x00\x01" + b"\x88\xb5" + b"vmon virtio-guest".ljust(46, b".")
while True:
    try:
        s.send(frame)
    except OSError:
        pass
    time.sleep(0.02)
'

# Why there is no network namespace with a tap for the guest, or nothing.
net_reason() {
	[ "$(id -u)" = 0 ] || { echo "not root"; return; }
	[ -c /dev/net/tun ] || { echo "no /dev/net/tun"; return; }
	command -v python3 >/dev/null || { echo "no python3"; return; }
	ip netns add "$ns" 2>"$tmp/ns.err" || { echo "ip netns add: $(head -n 1 "$tmp/ns.err")"; return; }
	ip netns exec "$ns" ip link set lo up
}

# Why ACCEL cannot be tested here, or nothing when it can.
skip_reason() {
	local accel=$1
	[ -x "$VMON" ] || { echo "$VMON not built"; return; }
	[ -e "$GUEST" ] || { echo "$GUEST not built (make guests)"; return; }
	if [ "$accel" = kvm ] && ! { [ -r /dev/kvm ] && [ -w /dev/kvm ]; }; then
		echo "/dev/kvm cannot be opened for reading and writing"
		return
	fi
	# A configuration error (status 2) means the accelerator is unavailable.
	timeout "$RUN_TIMEOUT" "$VMON" run -q --accel "$accel" --flat \
		--kernel build/guests/realmode.bin --serial none </dev/null >/dev/null 2>"$tmp/probe.err"
	if [ $? = 2 ]; then
		echo "vmon --accel $accel unavailable: $(head -n 1 "$tmp/probe.err" | sed 's/^vmon: //')"
	fi
}

# Why the run in OUT with status RC failed, or nothing.
verdict() {
	local out=$1 rc=$2 pat n
	case $rc in 124 | 137) echo "timed out after ${RUN_TIMEOUT}s"; return ;; esac
	[ "$rc" = 33 ] || { echo "exit status $rc, expected 33"; return; }
	for pat in "${PATTERNS[@]}"; do
		grep -qE -- "$pat" "$out" || { echo "no output line matches '$pat'"; return; }
	done
	if [ -z "$no_net" ]; then
		for pat in "${NET_PATTERNS[@]}"; do
			grep -qE -- "$pat" "$out" || { echo "no output line matches '$pat'"; return; }
		done
	fi
	n=$(grep -cE '^virtio: case [^ ]+: (needs-reset|ioerr|unsupp|dropped|ok)$' "$out")
	[ "$n" -ge $MIN_CASES ] || { echo "$n garbage cases reported, expected $MIN_CASES"; return; }
	cmp -s "$tmp/disk.img" "$tmp/disk.want" ||
		{ echo "disk.img differs from the expected contents: $(cmp "$tmp/disk.img" "$tmp/disk.want" 2>&1)"; return; }
	cmp -s "$tmp/ro.img" "$tmp/disk.orig" || { echo "the readonly=on disk changed"; return; }
	cmp -s "$tmp/pk.img" "$tmp/disk.orig" || { echo "the packed readonly=on disk changed"; return; }
	[ "$accel" = kvm ] && irqfd_verdict "$out.err"
}

# Why the --stats line in ERR does not show MSIs through irqfd only, or nothing.
irqfd_verdict() {
	local line fd msi
	line=$(grep -m 1 'stats: interrupts raised:' "$1")
	[ -n "$line" ] || { echo "no 'interrupts raised' line from --stats"; return; }
	fd=$(sed -E 's/.*raised: ([0-9]+) MSIs through irqfd.*/\1/' <<<"$line")
	msi=$(sed -E 's/.*, ([0-9]+) KVM_SIGNAL_MSI.*/\1/' <<<"$line")
	[ "$fd" -ge 4 ] && [ "$msi" = 0 ] || { echo "under KVM MSIs must go through irqfd: $line"; return; }
	# INTx: through irqfds when KVM resamples them, and then only there.
	line=$(grep -m 1 'stats: INTx through irqfds with resampling' "$1")
	[ -z "$line" ] && return
	fd=$(sed -E 's/.*resampling: ([0-9]+) raised.*/\1/' <<<"$line")
	[ "$fd" -gt 0 ] || { echo "INTx raised through no irqfd: $line"; return; }
	# intx.c leaves the line up at an EOI once: raised again on the resample.
	fd=$(sed -E 's/.*, ([0-9]+) raised again.*/\1/' <<<"$line")
	[ "$fd" -gt 0 ] || echo "INTx never raised again on a resample: $line"
}

no_net=$(net_reason)
[ -n "$no_net" ] && echo "SKIP virtio-guest/net: $no_net"
in_ns=() net_args=()
if [ -z "$no_net" ]; then
	in_ns=(ip netns exec "$ns")
	net_args=(--net tap=vg0)
fi

for accel in $ACCELS; do
	label="virtio-guest/$accel"
	reason=$(skip_reason "$accel")
	if [ -n "$reason" ]; then
		echo "SKIP $label: $reason"
		continue
	fi
	cp "$tmp/disk.orig" "$tmp/disk.img"
	cp "$tmp/disk.orig" "$tmp/ro.img"
	cp "$tmp/disk.orig" "$tmp/pk.img"
	out=$tmp/$accel.out
	if [ -z "$no_net" ]; then
		"${in_ns[@]}" python3 -c "$SENDER" vg0 >/dev/null 2>&1 &
		sender=$!
	fi
	# -k: a vmon stuck on a device thread may not end on SIGTERM.
	timeout -k 5 "$RUN_TIMEOUT" "${in_ns[@]}" "$VMON" run --stats --accel "$accel" --mem 64M \
		--kernel "$GUEST" --cmdline "serial=$SERIAL" --disk "$tmp/disk.img,serial=$SERIAL" \
		--disk "$tmp/ro.img,readonly=on" --disk "$tmp/pk.img,readonly=on,packed=on" \
		--rng "${net_args[@]}" --serial "file:$out" \
		</dev/null >/dev/null 2>"$out.err"
	rc=$?
	[ -n "$sender" ] && kill "$sender" 2>/dev/null
	sender=
	why=$(verdict "$out" "$rc")
	if [ -z "$why" ]; then
		echo "$label: $(grep -c '^virtio: case ' "$out") garbage cases, $(grep -o '[0-9]* rounds' "$out" | tr '\n' ' ')"
		grep -o 'interrupts raised: .*\|INTx through .*' "$out.err"
		echo "PASS $label"
		continue
	fi
	echo "FAIL $label: $why"
	{ tail -n 5 "$out"; grep -v '^vmon: \(stats\|accelerator\|warning\)' "$out.err" | head -n 5; } 2>/dev/null | sed 's/^/    /'
	failed=1
done
exit $failed
