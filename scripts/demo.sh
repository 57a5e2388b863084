#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The README's main command: boots Debian's own kernel (fetched and packed by
# scripts/linux-guest.sh) to a busybox shell.  On a terminal the shell is
# yours (Ctrl-A x quits, `poweroff -f` ends the guest); otherwise a scripted
# session runs a few commands and powers off.
#   DEMO_ACCEL=kvm|emu|auto  overrides the accelerator
#   DEMO_CPUS, DEMO_MEM      the machine (default 2 vCPUs, 512M)
set -u
cd "$(dirname "$0")/.."
scripts/linux-guest.sh || exit 1

accel=${DEMO_ACCEL:-auto}
if [ "$accel" = auto ] && [ -e /sys/module/kvm_pvm ]; then
	# This host's KVM runs guest kernel code many times slower than vmon's
	# own CPU does; even with that code moved to emu (docs/linux-boot.md)
	# a boot is slower under KVM than on emu alone.
	echo "demo: the host's KVM is kvm_pvm; booting on vmon's software CPU (DEMO_ACCEL=kvm to use KVM)"
	accel=emu
fi
args=(run --accel "$accel" --cpus "${DEMO_CPUS:-2}" --mem "${DEMO_MEM:-512M}"
      --kernel build/linux/vmlinuz --initrd build/linux/initramfs.cpio.gz
      --cmdline "console=ttyS0 quiet")

if [ -t 0 ]; then
	echo "demo: booting Debian $(cat build/linux/version); type 'poweroff -f' or Ctrl-A x to leave"
	exec build/vmon "${args[@]}"
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkfifo "$tmp/in"
echo "demo: booting Debian $(cat build/linux/version) for a scripted session"
timeout 1800 build/vmon "${args[@]}" --serial stdio <"$tmp/in" > >(tee "$tmp/out") &
pid=$!
exec 3>"$tmp/in"
# Typed only once the shell prompts: Linux clears the UART's FIFO when it
# opens the console, so earlier input would be lost.
while kill -0 "$pid" 2>/dev/null && ! grep -q 'vmon# ' "$tmp/out" 2>/dev/null; do
	sleep 0.5
done
printf '%s\n' 'uname -a' 'nproc' 'grep MemTotal /proc/meminfo' 'poweroff -f' >&3 2>/dev/null
wait "$pid"
rc=$?
exec 3>&-
[ "$rc" = 0 ] && echo "demo: the guest powered off" || echo "demo: vmon exited with status $rc" >&2
exit "$rc"
