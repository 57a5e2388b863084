/* SPDX-License-Identifier: Apache-2.0 */
#include "chardev/term.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "util/log.h"

/* The justified global: the signal handler and atexit hook need it. */
static struct {
	struct termios saved;
	int fd;
	volatile sig_atomic_t active;
	int hooks_installed;
} term;

/*
 * Every signal whose default action ends the process.  SIGPIPE is not in
 * the usual list but a console on a pipe can die of it just as well.
 */
static const int term_fatal_signals[] = {
	SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGSEGV, SIGBUS, SIGABRT, SIGFPE,
	SIGILL, SIGPIPE,
};

static void term_restore(void)
{
	if (!term.active)
		return;
	term.active = 0;
	/* TCSANOW: a stuck output queue must not keep a dying process alive. */
	tcsetattr(term.fd, TCSANOW, &term.saved);
}

static void term_on_signal(int sig)
{
	int saved_errno = errno;

	term_restore();
	/* SA_RESETHAND put the default action back; SA_NODEFER lets it fire now. */
	raise(sig);
	errno = saved_errno;
}

/*
 * Signals someone else already handles are left alone: that handler decides
 * how the process ends, and an exit() path still runs the atexit hook.
 */
static void term_install_hooks(void)
{
	struct sigaction sa, old;
	size_t i;

	if (term.hooks_installed)
		return;
	term.hooks_installed = 1;
	atexit(term_restore);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = term_on_signal;
	sa.sa_flags = SA_RESETHAND | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(term_fatal_signals) / sizeof(term_fatal_signals[0]); i++) {
		int sig = term_fatal_signals[i];

		if (sigaction(sig, NULL, &old) == 0 && old.sa_handler == SIG_DFL &&
		    !(old.sa_flags & SA_SIGINFO))
			sigaction(sig, &sa, NULL);
	}
}

int term_raw_enter(int fd)
{
	struct termios raw;

	if (!isatty(fd))
		return 0;
	if (term.active) {
		log_err("the terminal is already used by another console");
		return -1;
	}
	if (tcgetattr(fd, &term.saved)) {
		log_err("cannot read terminal settings: %s", strerror(errno));
		return -1;
	}
	term_install_hooks();
	raw = term.saved;
	/* cfmakeraw(), spelled out: OPOST off too, the guest sends its own \r\n. */
	raw.c_iflag &= ~(tcflag_t)(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
	raw.c_oflag &= ~(tcflag_t)OPOST;
	raw.c_lflag &= ~(tcflag_t)(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
	raw.c_cflag &= ~(tcflag_t)(CSIZE | PARENB);
	raw.c_cflag |= CS8;
	raw.c_cc[VMIN] = 1;
	raw.c_cc[VTIME] = 0;
	term.fd = fd;
	term.active = 1;   /* before the switch, so a signal in between restores */
	if (tcsetattr(fd, TCSANOW, &raw)) {
		term.active = 0;
		log_err("cannot put the terminal in raw mode: %s", strerror(errno));
		return -1;
	}
	return 1;
}

void term_raw_leave(void)
{
	term_restore();
}
