/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMON_UTIL_LOG_H
#define VMON_UTIL_LOG_H

/*
 * One-line diagnostics on stderr, each prefixed "vmon: ".  The console may be
 * in raw mode, so every line ends in "\r\n" when stderr is a terminal.
 */
#include <stddef.h>

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

void log_set_level(enum log_level level);
enum log_level log_get_level(void);
void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * For functions that hand their error back instead of logging it: formats
 * it into err (errlen bytes) and returns -1.
 */
int log_to_buf(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define log_err(...)   log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
