/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The stdio console on a real pseudo-terminal: raw while open, and the
 * terminal put back by chardev_close, by exit() and by fatal signals.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "chardev/chardev.h"
#include "test.h"

static int pty_master = -1, pty_slave = -1;

static int open_pty(void)
{
	pty_master = posix_openpt(O_RDWR | O_NOCTTY);
	if (pty_master < 0 || grantpt(pty_master) || unlockpt(pty_master))
		return -1;
	pty_slave = open(ptsname(pty_master), O_RDWR | O_NOCTTY);
	return pty_slave < 0 ? -1 : 0;
}

static void close_pty(void)
{
	close(pty_slave);
	close(pty_master);
	pty_slave = pty_master = -1;
}

static int is_cooked(int fd)
{
	struct termios t;

	if (tcgetattr(fd, &t))
		return 0;
	return (t.c_lflag & ICANON) && (t.c_lflag & ECHO) && (t.c_lflag & ISIG) &&
	       (t.c_oflag & OPOST) && (t.c_iflag & ICRNL);
}

static int is_raw(int fd)
{
	struct termios t;

	if (tcgetattr(fd, &t))
		return 0;
	return !(t.c_lflag & (ICANON | ECHO | ISIG | IEXTEN)) && !(t.c_oflag & OPOST) &&
	       !(t.c_iflag & (ICRNL | IXON)) && (t.c_cflag & CSIZE) == CS8 && t.c_cc[VMIN] == 1;
}

static atomic_int quits;

static void on_quit(void *opaque)
{
	(void)opaque;
	atomic_fetch_add(&quits, 1);
}

static void test_raw_until_close(void)
{
	int saved = dup(0);
	struct chardev *c;

	CHECK(open_pty() == 0);
	CHECK(is_cooked(pty_slave));
	dup2(pty_slave, 0);
	c = chardev_open("stdio", on_quit, NULL);
	CHECK(c != NULL);
	CHECK(is_raw(pty_slave));
	CHECK(chardev_open("stdio", NULL, NULL) == NULL);   /* one owner of the terminal */
	/* Typed on the terminal: Ctrl-A x reaches on_quit, no line editing in between. */
	CHECK_EQ(write(pty_master, "\x01x", 2), 2);
	for (int i = 0; i < 2000 && !atomic_load(&quits); i++)
		nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	CHECK_EQ(atomic_load(&quits), 1);
	chardev_close(c);
	CHECK(is_cooked(pty_slave));
	dup2(saved, 0);
	close(saved);
	close_pty();
}

/* A child opens the console on the pty, then dies as told; the parent looks. */
static int child_dies(int how)
{
	int ready[2], status;
	char b;
	pid_t pid;

	if (pipe(ready))
		return -1;
	fflush(NULL);   /* the child must not print our buffered lines again */
	pid = fork();
	if (pid == 0) {
		dup2(pty_slave, 0);
		if (!chardev_open("stdio", NULL, NULL))
			_exit(100);
		if (write(ready[1], "r", 1) != 1)
			_exit(101);
		if (how)
			raise(how);
		exit(7);    /* no chardev_close: the atexit hook must do it */
	}
	close(ready[1]);
	if (read(ready[0], &b, 1) != 1)
		b = 0;
	close(ready[0]);
	waitpid(pid, &status, 0);
	if (b != 'r')
		return -2;
	if (how)
		return WIFSIGNALED(status) && WTERMSIG(status) == how ? 0 : -3;
	return WIFEXITED(status) && WEXITSTATUS(status) == 7 ? 0 : -4;
}

static void test_restored_on_exit(void)
{
	CHECK(open_pty() == 0);
	CHECK_EQ(child_dies(0), 0);
	CHECK(is_cooked(pty_slave));
	close_pty();
}

static void test_restored_on_signals(void)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGPIPE };

	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		CHECK(open_pty() == 0);
		CHECK_EQ(child_dies(sigs[i]), 0);
		CHECK(is_cooked(pty_slave));
		close_pty();
	}
}

int main(void)
{
	if (open_pty()) {
		puts("SKIP test_chardev: no pseudo-terminal available (posix_openpt)");
		return 0;
	}
	close_pty();
	RUN(test_raw_until_close);
	RUN(test_restored_on_exit);
	RUN(test_restored_on_signals);
	return TEST_EXIT();
}
