/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMON_UTIL_IOTHREAD_H
#define VMON_UTIL_IOTHREAD_H

#include <stdint.h>

/*
 * An I/O thread: one epoll loop calling a handler for each ready file
 * descriptor.  Devices do their data-path work here, never on vCPU threads.
 * Descriptors are added before iothread_start(); iothread_free() stops the
 * loop (handlers in progress finish first) and joins the thread.
 */
struct iothread;
typedef void (*iothread_fn)(void *opaque, uint32_t events);

struct iothread *iothread_new(const char *name);
/* events: EPOLLIN, EPOLLOUT, ...; level-triggered. */
int iothread_add(struct iothread *t, int fd, uint32_t events, iothread_fn fn, void *opaque);
int iothread_modify(struct iothread *t, int fd, uint32_t events);
int iothread_start(struct iothread *t);
void iothread_free(struct iothread *t);

/* Reads an eventfd to zero; the count it had. */
uint64_t eventfd_drain(int fd);
/* Adds one to an eventfd. */
void eventfd_signal(int fd);

#endif
