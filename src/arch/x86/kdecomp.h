/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMON_ARCH_X86_KDECOMP_H
#define VMON_ARCH_X86_KDECOMP_H

#include <stddef.h>
#include <stdint.h>

/*
 * Unpacks a Linux kernel payload (the compressed vmlinux inside a bzImage),
 * recognised by its magic: gzip, xz, lzma, bzip2, LZ4 (legacy frames, as the
 * kernel's build writes them) and zstd.  At most max bytes come out.
 * 0 and a malloc'ed *out, or -1 with a reason in why (no log line: the caller
 * decides whether this is an error or a reason to fall back).
 */
int kdecomp(const uint8_t *in, size_t len, size_t max, uint8_t **out, size_t *out_len,
	    char *why, size_t why_len);

/* The format's name if in starts with a known magic, else NULL. */
const char *kdecomp_format(const uint8_t *in, size_t len);

#endif
