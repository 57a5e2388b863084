/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMON_CHARDEV_CHARDEV_H
#define VMON_CHARDEV_CHARDEV_H

#include <stddef.h>
#include <stdint.h>

/*
 * A character backend for a serial port: bytes out to the host, bytes in
 * from the host through one input thread.
 *
 * spec is "stdio", "file:PATH" (output appended to PATH, created if needed,
 * no input) or "none" (output discarded, no input).
 *
 * On stdio, Ctrl-A x calls on_quit(quit_opaque) from the input thread and
 * Ctrl-A Ctrl-A sends one Ctrl-A, as in QEMU.  When stdin is a terminal it is
 * switched to raw mode and restored by chardev_close(), at exit() and on
 * fatal signals (the signal is then re-raised with its default action).
 * on_quit must not call chardev_close() itself.
 *
 * NULL after one log_err() line.
 */
struct chardev;

struct chardev *chardev_open(const char *spec, void (*on_quit)(void *), void *quit_opaque);

/*
 * Registers the consumer of input.  can_rx says how many bytes the consumer
 * takes now; rx is only ever given at most that many.  Both are called from
 * the input thread without any chardev lock held, so they may take the
 * consumer's own lock.  While can_rx is 0 the input thread sleeps until
 * chardev_rx_ready() is called.  Once this returns, the previous consumer
 * is never called again (so NULLs detach a consumer about to be freed); it
 * must not be called with the consumer's lock held.
 */
void chardev_set_input(struct chardev *c, size_t (*can_rx)(void *opaque),
		       void (*rx)(void *opaque, const uint8_t *buf, size_t n), void *opaque);

/* The consumer has room again.  Async-signal and lock safe: callable with device locks held. */
void chardev_rx_ready(struct chardev *c);

/* Writes the whole buffer, blocking; safe against EINTR and EAGAIN. */
void chardev_write(struct chardev *c, const uint8_t *buf, size_t n);

/* Stops the input thread, restores the terminal, frees c.  NULL is fine. */
void chardev_close(struct chardev *c);

#endif
