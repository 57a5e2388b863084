/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMON_CHARDEV_TERM_H
#define VMON_CHARDEV_TERM_H

/*
 * Raw mode for the controlling terminal, restored on every way out of the
 * process.  Only one terminal can be raw at a time: the saved settings live in
 * the one piece of global state vmon allows itself, because a signal handler
 * and an atexit hook must find them.
 */

/* 1 if fd is a terminal now in raw mode, 0 if fd is not a terminal, -1 on error (one log line). */
int term_raw_enter(int fd);
/* Puts the terminal back as term_raw_enter found it; harmless if not raw. */
void term_raw_leave(void);

#endif
