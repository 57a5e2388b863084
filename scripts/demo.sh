#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The README's main command: boots the SMP test guest on 2 vCPUs, which
# reports each vCPU's APIC ID on the serial console and ends through the
# debug-exit port (status (0x10 << 1) | 1 = 33 means the guest passed).
set -u
cd "$(dirname "$0")/.."
build/vmon run --kernel build/guests/smp.elf --cpus 2
rc=$?
if [ $rc -eq 33 ]; then
	echo "demo: the guest passed (vmon exit status 33 = debug-exit 0x10)"
	exit 0
fi
echo "demo: vmon exited with status $rc" >&2
exit 1
