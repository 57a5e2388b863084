#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Debian's kernel with vmon's virtio devices, in one boot: the shell is a
# login shell on hvc0 (virtio-console), the serial console goes to a file.
#   virtio-blk: mkfs.ext4, a file written, remounted and read back by checksum;
#     a read-only disk refuses writes and reads back as the host file; its
#     serial; data written and synced before vmon is killed with SIGKILL is in
#     the host file (read with debugfs, no mount).
#   qcow2 through virtio-blk: an ext4 written by the guest passes qemu-img
#     check and holds the guest's file.
#   virtio-net: a tap in a network namespace made here: ping, and an HTTP
#     transfer each way (busybox httpd/wget in the guest, python on the host)
#     compared by checksum.
#   virtio-rng: /dev/hwrng reads, backed by virtio_rng.
#   Packed virtqueues: the console, the NIC, the first and the qcow2 disk
#     have packed=on, the rng and the read-only disk keep the split ring;
#     the guest's feature bits say which ring each driver took.
# Needs build/linux/ (scripts/linux-guest.sh) and root for the namespace.
set -u
cd "$(dirname "$0")/../.."
VMON=$PWD/build/vmon
L=build/linux
T=${LINUX_TIMEOUT:-600}
ACCEL=${VIRTIO_ACCEL:-emu}
tmp=$(mktemp -d)
ns=vmon-vt-$$
failed=0
cleanup() {
	[ -n "${VM_PID:-}" ] && kill -9 "$VM_PID" 2>/dev/null
	[ -n "${srv:-}" ] && kill "$srv" 2>/dev/null
	ip netns del "$ns" 2>/dev/null
	if [ "$failed" != 0 ] && [ -n "${KEEP_TMP:-}" ]; then echo "kept $tmp" >&2; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
. tests/integration/lib/vm.sh

pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; failed=1; }
skip() { echo "SKIP $1: $2"; }
check() { if [ -n "$3" ] && [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "got '$2', want '$3'"; fi; }

if [ ! -x "$VMON" ] || [ ! -e "$L/vmlinuz" ]; then
	skip virtio-linux "build/vmon or build/linux/ missing"
	exit 0
fi
if ! ip netns add "$ns" 2>"$tmp/ns.err"; then
	skip virtio-linux "cannot create a network namespace: $(head -1 "$tmp/ns.err")"
	exit 0
fi
ip netns exec "$ns" ip link set lo up

truncate -s 64M "$tmp/rw.raw"
qemu-img create -q -f qcow2 "$tmp/q.qcow2" 64M
head -c 4M /dev/urandom >"$tmp/ro.raw"
ro_sum=$(sha256sum <"$tmp/ro.raw" | cut -c1-64)
mkdir "$tmp/www"
head -c 3M /dev/urandom >"$tmp/www/to-guest"
to_guest_sum=$(sha256sum <"$tmp/www/to-guest" | cut -c1-64)

# The host's side of the link, once vmon has made the tap, and a web server.
(
	for _ in $(seq 600); do ip netns exec "$ns" ip link show vt0 >/dev/null 2>&1 && break; sleep 0.5; done
	ip netns exec "$ns" ip addr add 10.0.2.1/24 dev vt0
	ip netns exec "$ns" ip link set vt0 up
	exec ip netns exec "$ns" python3 -m http.server -b 10.0.2.1 -d "$tmp/www" 8000 \
		>"$tmp/http.log" 2>&1
) &
srv=$!

vm_start vt ip netns exec "$ns" "$VMON" run --accel "$ACCEL" --cpus 2 --mem 512M \
	--kernel "$L/vmlinuz" --initrd "$L/initramfs.cpio.gz" \
	--cmdline "console=ttyS0 quiet" --serial "file:$tmp/serial.log" \
	--virtio-console stdio,packed=on --rng --net tap=vt0,packed=on \
	--disk "$tmp/rw.raw,packed=on" --disk "$tmp/ro.raw,readonly=on,serial=VMON-RO-1" \
	--disk "$tmp/q.qcow2,format=qcow2,packed=on"
out=$tmp/vt.out
if ! vm_wait "$out" 'vmon# ' "$T"; then
	fail virtio-linux/hvc0-shell "no shell prompt on hvc0; serial: $(tail -3 "$tmp/serial.log" | tr '\n' '|') stderr: $(tail -2 "$tmp/vt.err" | tr '\n' '|')"
	exit 1
fi
# No echo, before anything is typed ahead: echoed commands would mingle with
# the KEY=value answers.
vm_send 'stty -echo; echo "TTY=$(tty)"'
vm_wait "$out" 'TTY=/dev/[a-z0-9]+$' 60
# Feature bit 34 (VIRTIO_F_RING_PACKED) of each device, as the driver accepted it.
vm_send 'echo RINGS=$(for d in /sys/bus/virtio/devices/*; do n=$(ls $d/block 2>/dev/null); case $(cat $d/device) in 0x0001) n=net;; 0x0003) n=con;; 0x0004) n=rng;; esac; echo $n:$(cut -c35 $d/features); done | sort)'
vm_send 'mkfs.ext4 -q /dev/vda && mkdir -p /mnt && mount /dev/vda /mnt && echo MKFS=ok'
vm_send 'dd if=/dev/urandom of=/mnt/f bs=1M count=4 2>/dev/null; echo "W=$(sha256sum </mnt/f | cut -c1-64)"'
vm_send 'umount /mnt && echo 3 >/proc/sys/vm/drop_caches && mount /dev/vda /mnt && echo "R=$(sha256sum </mnt/f | cut -c1-64)"'
vm_send 'echo "ROSUM=$(sha256sum </dev/vdb | cut -c1-64)"; echo "ROSERIAL=$(cat /sys/block/vdb/serial)"'
vm_send 'dd if=/dev/zero of=/dev/vdb bs=4k count=1 oflag=direct 2>/dev/null; echo "ROWRITE=$?"'
vm_send 'mkfs.ext4 -q /dev/vdc && mkdir -p /q && mount /dev/vdc /q && cp /mnt/f /q/f && umount /q && sync && echo QCOW=done'
vm_send 'echo "RNG=$(cat /sys/class/misc/hw_random/rng_current) $(dd if=/dev/hwrng bs=32 count=4 2>/dev/null | wc -c)"'
vm_send 'ip addr add 10.0.2.15/24 dev eth0 && ip link set eth0 up && ping -c 3 -W 5 10.0.2.1 >/dev/null; echo "PING=$?"'
vm_send 'wget -q -O /mnt/g http://10.0.2.1:8000/to-guest; echo "FROMHOST=$(sha256sum </mnt/g | cut -c1-64)"'
vm_send 'httpd -p 8080 -h /mnt && echo HTTPD=up'
if vm_wait "$out" 'HTTPD=up$' 300; then
	ip netns exec "$ns" python3 - "$tmp/from-guest" <<'PY' >"$tmp/fetch.log" 2>&1
import sys, urllib.request
with urllib.request.urlopen("http://10.0.2.15:8080/f", timeout=120) as r, open(sys.argv[1], "wb") as o:
    o.write(r.read())
PY
fi
vm_send 'dd if=/dev/urandom of=/mnt/durable bs=1M count=2 2>/dev/null; sync; echo "D=$(sha256sum </mnt/durable | cut -c1-64)"; echo SYNCED'
vm_wait "$out" 'SYNCED$' 300
kill -9 "$VM_PID" 2>/dev/null
vm_finish

check virtio-linux/hvc0-shell "$(vm_value "$out" TTY)" /dev/hvc0
check virtio-linux/packed-rings-negotiated "$(vm_value "$out" RINGS)" "con:1 net:1 rng:0 vda:1 vdb:0 vdc:1"
check virtio-linux/blk-mkfs-ext4 "$(vm_value "$out" MKFS)" ok
w=$(vm_value "$out" W)
[ ${#w} = 64 ] && check virtio-linux/blk-readback "$(vm_value "$out" R)" "$w" ||
	fail virtio-linux/blk-readback "no checksum of the written file"
check virtio-linux/blk-readonly-data "$(vm_value "$out" ROSUM)" "$ro_sum"
check virtio-linux/blk-serial "$(vm_value "$out" ROSERIAL)" VMON-RO-1
rw=$(vm_value "$out" ROWRITE)
[ -n "$rw" ] && [ "$rw" != 0 ] && pass virtio-linux/blk-readonly-refuses ||
	fail virtio-linux/blk-readonly-refuses "write to the read-only disk: status '$rw'"
check virtio-linux/blk-readonly-intact "$(sha256sum <"$tmp/ro.raw" | cut -c1-64)" "$ro_sum"
check virtio-linux/rng "$(vm_value "$out" RNG)" "virtio_rng.0 128"
check virtio-linux/net-ping "$(vm_value "$out" PING)" 0
check virtio-linux/net-tcp-host-to-guest "$(vm_value "$out" FROMHOST)" "$to_guest_sum"
check virtio-linux/net-tcp-guest-to-host "$(sha256sum <"$tmp/from-guest" 2>/dev/null | cut -c1-64)" "$w"
check virtio-linux/qcow2-guest-write "$(vm_value "$out" QCOW)" done
qemu-img check -q "$tmp/q.qcow2" >"$tmp/qcheck.log" 2>&1
check virtio-linux/qcow2-qemu-img-check "$?" 0
qemu-img convert -O raw "$tmp/q.qcow2" "$tmp/q.raw" &&
	debugfs -R "dump /f $tmp/qf" "$tmp/q.raw" >/dev/null 2>&1
check virtio-linux/qcow2-holds-file "$(sha256sum <"$tmp/qf" 2>/dev/null | cut -c1-64)" "$w"
d=$(vm_value "$out" D)
# The file may still be in ext4's journal only: replay it (on a copy), then read.
cp "$tmp/rw.raw" "$tmp/after-kill.raw"
e2fsck -fy "$tmp/after-kill.raw" >"$tmp/fsck.log" 2>&1
debugfs -R "dump /durable $tmp/durable" "$tmp/after-kill.raw" >/dev/null 2>&1
[ ${#d} = 64 ] && check virtio-linux/blk-synced-survives-sigkill \
	"$(sha256sum <"$tmp/durable" 2>/dev/null | cut -c1-64)" "$d" ||
	fail virtio-linux/blk-synced-survives-sigkill "the guest never synced; hvc0: $(tail -3 "$out" | tr '\n' '|')"
exit $failed
