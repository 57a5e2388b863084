#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Debian's own kernel on vmon, one shared list of scenarios run under each
# accelerator in ACCELS: a scripted shell session (uname -r, nproc, MemTotal,
# INTx interrupts from a virtio disk and rng with pci=nomsi, poweroff), a
# reboot, and a panic (the same kernel as an ELF vmlinux, booted through
# PVH).  Boots are few and the console quiet.
# Needs build/linux/ (scripts/linux-guest.sh, which make test runs).
set -u
cd "$(dirname "$0")/../.."
VMON=build/vmon
L=build/linux
T=${LINUX_TIMEOUT:-600}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0

pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; failed=1; }
skip() { echo "SKIP $1: $2"; }

# Under the software KVM of this project's machines (kvm_pvm) a boot takes
# about 90 s (vmon runs the guest's kernel code on emu there,
# docs/linux-boot.md), on hardware KVM a few seconds.
default_accels() {
	local a=emu
	if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
		a="kvm emu"
	fi
	echo "$a"
}
ACCELS=${ACCELS:-$(default_accels)}

. tests/integration/lib/vm.sh

# session NAME ACCEL CPUS MEM COMMANDS: boots $KERNEL (default: the bzImage),
# waits for the shell's prompt, types COMMANDS; the serial log ends in
# $tmp/NAME.out, the status in $rc.
session() {
	local name=$1 accel=$2 cpus=$3 mem=$4 cmds=$5
	shift 5
	vm_start "$name" timeout "$T" "$VMON" run --accel "$accel" --cpus "$cpus" --mem "$mem" \
		--kernel "${KERNEL:-$L/vmlinuz}" --initrd "$L/initramfs.cpio.gz" \
		--cmdline "console=ttyS0 quiet" --serial stdio "$@"
	vm_wait "$tmp/$name.out" 'vmon# ' "$T" && vm_send "$cmds"
	vm_finish
}

value() { vm_value "$tmp/$1.out" "$2"; }

why_failed() {
	echo "status $rc; serial: $(tr -d '\r' <"$tmp/$1.out" | tail -3 | tr '\n' '|' | cut -c1-300)" \
	     "stderr: $(tail -2 "$tmp/$1.err" | tr '\n' '|')"
}

# INTx (pci=nomsi): the disk's 1024 reads and the rng's 64 bytes came
# through, on IOAPIC lines; under KVM through irqfds that KVM resamples at
# the EOI (KVM_CAP_IRQFD_RESAMPLE), none through KVM_IRQ_LINE for them.
intx_verdict() {
	local a=$1 name=$2 v line n
	v=$(value "$name" INTX)
	case "$v" in
	"0 64 "[1-9]*) pass "$a/intx-pci-nomsi" ;;
	*) fail "$a/intx-pci-nomsi" "dd status, rng bytes, IO-APIC virtio lines: '$v', want '0 64 N>0'"; return ;;
	esac
	[ "$a" = kvm ] || return
	line=$(grep -m 1 'stats: INTx through' "$tmp/$name.err")
	case "$line" in
	*"through irqfds with resampling:"*)
		n=$(sed -E 's/.*resampling: ([0-9]+) raised.*/\1/' <<<"$line")
		if [ "$n" -gt 0 ]; then
			echo "$a/intx-irqfd: ${line#*stats: }"
			pass "$a/intx-irqfd"
		else
			fail "$a/intx-irqfd" "$line"
		fi ;;
	*"through KVM_IRQ_LINE"*) skip "$a/intx-irqfd" "${line#*stats: INTx through }" ;;
	*) fail "$a/intx-irqfd" "no INTx line from --stats: $(tail -2 "$tmp/$name.err" | tr '\n' '|')" ;;
	esac
}

run_accel() {
	local a=$1 name release cpus memtotal want_kib
	release=$(cat "$L/version")

	# pci=nomsi: the disk and the rng interrupt through INTx (IOAPIC pins
	# 16-19); the direct reads are a thousand interrupts.
	name=$a-session
	truncate -s 8M "$tmp/intx.raw"
	session "$name" "$a" 2 512M \
		'echo "R=$(uname -r)"; echo "N=$(nproc)"; echo "M=$(grep MemTotal /proc/meminfo)"; dd if=/dev/vda of=/dev/null bs=4k count=1024 iflag=direct 2>/dev/null; echo "INTX=$? $(dd if=/dev/hwrng bs=16 count=4 2>/dev/null | wc -c) $(grep -c "IO-APIC.*virtio" /proc/interrupts)"; poweroff -f' \
		--cmdline "console=ttyS0 quiet pci=nomsi" --disk "$tmp/intx.raw" --rng --stats
	if ! grep -q VMON-INIT-OK "$tmp/$name.out"; then
		fail "$a/boot-to-init" "$(why_failed "$name")"
		return
	fi
	pass "$a/boot-to-init"
	[ "$(value "$name" R)" = "$release" ] && pass "$a/uname-r" ||
		fail "$a/uname-r" "got '$(value "$name" R)', want '$release'"
	cpus=$(value "$name" N)
	[ "$cpus" = 2 ] && pass "$a/nproc-2" || fail "$a/nproc-2" "got '$cpus'"
	memtotal=$(value "$name" M | awk '{print $2}')
	want_kib=$((512 * 1024))
	# The kernel's own image and reservations come off the top: 10% at most.
	if [ -n "$memtotal" ] && [ "$memtotal" -le "$want_kib" ] &&
	   [ "$memtotal" -ge $((want_kib * 9 / 10)) ]; then
		pass "$a/memtotal"
	else
		fail "$a/memtotal" "MemTotal '$memtotal' kB for --mem 512M"
	fi
	[ "$rc" = 0 ] && pass "$a/poweroff" || fail "$a/poweroff" "$(why_failed "$name")"
	intx_verdict "$a" "$name"

	# Also the virtio-mmio transport, found through ACPI: a disk on a packed
	# ring (feature bit 34 taken) and the rng on a split one.
	name=$a-reboot
	truncate -s 8M "$tmp/mmio.raw"
	session "$name" "$a" 1 256M \
		'echo "MMIO=$(ls /sys/bus/virtio/devices | wc -l) $(cat /sys/block/vda/size) $(dd if=/dev/hwrng bs=16 count=1 2>/dev/null | wc -c) $(cut -c35 /sys/block/vda/device/features)"; reboot -f' \
		--transport mmio --disk "$tmp/mmio.raw,packed=on" --rng
	[ "$rc" = 0 ] && grep -q VMON-INIT-OK "$tmp/$name.out" && pass "$a/reboot" ||
		fail "$a/reboot" "$(why_failed "$name")"
	[ "$(value "$name" MMIO)" = "2 16384 16 1" ] && pass "$a/virtio-mmio" ||
		fail "$a/virtio-mmio" "devices, disk sectors, rng bytes, packed ring: '$(value "$name" MMIO)', want '2 16384 16 1'"

	# The same kernel as an ELF vmlinux, booted through PVH.
	name=$a-panic
	KERNEL=$tmp/vmlinux session "$name" "$a" 1 256M 'echo c > /proc/sysrq-trigger'
	grep -q VMON-INIT-OK "$tmp/$name.out" && pass "$a/pvh-boot" ||
		fail "$a/pvh-boot" "$(why_failed "$name")"
	if [ "$rc" != 0 ] && [ "$rc" != 124 ] && grep -q 'guest panicked' "$tmp/$name.err"; then
		pass "$a/panic"
	else
		fail "$a/panic" "$(why_failed "$name")"
	fi
}

if [ ! -x "$VMON" ] || [ ! -e "$L/vmlinuz" ] || [ ! -e "$L/initramfs.cpio.gz" ]; then
	skip linux "build/vmon or build/linux/ missing (make; scripts/linux-guest.sh)"
	exit 0
fi
if [ ! -x build/tests/extract-vmlinux ]; then
	fail linux/extract-vmlinux "build/tests/extract-vmlinux not built (make tools)"
	exit 1
fi
if ! build/tests/extract-vmlinux "$L/vmlinuz" "$tmp/vmlinux"; then
	fail linux/extract-vmlinux "no ELF vmlinux from $L/vmlinuz"
	exit 1
fi
kvm_skip_reason() {
	if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
		echo "/dev/kvm cannot be opened"
	else
		echo "not in ACCELS"
	fi
}
for a in kvm emu; do
	case " $ACCELS " in
	*" $a "*) run_accel "$a" ;;
	*) [ $a = kvm ] && skip kvm/linux "$(kvm_skip_reason)" ;;
	esac
done
exit $failed
