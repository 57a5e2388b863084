/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMON_UTIL_PARSE_H
#define VMON_UTIL_PARSE_H

#include <stdbool.h>
#include <stdint.h>

/* "256M", "2G", "4096", "1T", "512k": bytes.  False on junk or overflow. */
bool parse_size(const char *s, uint64_t *out);
/* Decimal, or hex with 0x: false on junk, empty string or overflow. */
bool parse_u64(const char *s, uint64_t *out);

#endif
