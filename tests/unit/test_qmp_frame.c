/* SPDX-License-Identifier: Apache-2.0 */
#include <stdlib.h>
#include <string.h>

#include "control/qmp_frame.h"
#include "test.h"

#define MAX_MSGS 16

/* What the framer handed over: "T" for too long, "D" for too deep, else the text. */
static char *msgs[MAX_MSGS];
static int nmsgs;

static void collect(void *opaque, enum qmp_frame_kind kind, const char *msg, size_t len)
{
	(void)opaque;
	if (nmsgs == MAX_MSGS)
		return;
	if (kind == QMP_FRAME_TOO_LONG)
		msgs[nmsgs++] = strdup("T");
	else if (kind == QMP_FRAME_TOO_DEEP)
		msgs[nmsgs++] = strdup("D");
	else
		msgs[nmsgs++] = strndup(msg, len);
}

static void clear(void)
{
	for (int i = 0; i < nmsgs; i++)
		free(msgs[i]);
	nmsgs = 0;
}

/* Feeds s in pieces of chunk bytes (0: all at once) to a fresh framer. */
static int feed(const char *s, size_t chunk, size_t max_len, int max_depth)
{
	struct qmp_frame f;
	size_t len = strlen(s);
	int rc = 0;

	clear();
	qmp_frame_init(&f, max_len, max_depth);
	if (!chunk)
		chunk = len ? len : 1;
	for (size_t off = 0; off < len && !rc; off += chunk)
		rc = qmp_frame_feed(&f, s + off, len - off < chunk ? len - off : chunk, collect, NULL);
	qmp_frame_free(&f);
	return rc;
}

static int got(int i, const char *want)
{
	return i < nmsgs && !strcmp(msgs[i], want);
}

static void whole_and_split(void)
{
	const char *cmd = "{\"execute\": \"query-status\", \"id\": [1, {\"a\": 2}]}";

	for (size_t chunk = 0; chunk < 8; chunk++) {
		CHECK_EQ(feed(cmd, chunk, 1024, 8), 0);
		CHECK_EQ(nmsgs, 1);
		CHECK(got(0, cmd));
	}
}

static void several_per_read(void)
{
	CHECK_EQ(feed("{\"a\":1}{\"b\":2}\n  [3]\r\n", 0, 1024, 8), 0);
	CHECK_EQ(nmsgs, 3);
	CHECK(got(0, "{\"a\":1}"));
	CHECK(got(1, "{\"b\":2}"));
	CHECK(got(2, "[3]"));
	/* Objects may span lines. */
	CHECK_EQ(feed("{\n \"a\":\n 1\n}\n", 1, 1024, 8), 0);
	CHECK_EQ(nmsgs, 1);
	CHECK(got(0, "{\n \"a\":\n 1\n}"));
	CHECK_EQ(feed(" \r\n\t\n", 0, 1024, 8), 0);
	CHECK_EQ(nmsgs, 0);
}

static void brackets_in_strings(void)
{
	CHECK_EQ(feed("{\"a\":\"}{][\",\"b\":\"x\\\"}\"}", 0, 1024, 8), 0);
	CHECK_EQ(nmsgs, 1);
	CHECK(got(0, "{\"a\":\"}{][\",\"b\":\"x\\\"}\"}"));
}

static void single_quotes(void)
{
	CHECK_EQ(feed("{'execute':'a\"b\\'c', \"x\": \"it\\'s\"}", 3, 1024, 8), 0);
	CHECK_EQ(nmsgs, 1);
	CHECK(got(0, "{\"execute\":\"a\\\"b'c\", \"x\": \"it's\"}"));
}

/* Garbage costs the rest of its line, never the next line. */
static void line_recovery(void)
{
	CHECK_EQ(feed("foo bar {\"x\":1}\n{\"y\":2}", 0, 1024, 8), 0);
	CHECK_EQ(nmsgs, 2);
	CHECK(got(0, "foo bar {\"x\":1}"));
	CHECK(got(1, "{\"y\":2}"));
	/* A string broken by a newline. */
	CHECK_EQ(feed("{\"a\":\"b\n{\"c\":1}", 0, 1024, 8), 0);
	CHECK_EQ(nmsgs, 2);
	CHECK(got(0, "{\"a\":\"b"));
	CHECK(got(1, "{\"c\":1}"));
	/* A byte JSON cannot have outside a string ends the object at once. */
	CHECK_EQ(feed("{\"a\":\x01 {{{ junk\n{\"c\":1}", 2, 1024, 8), 0);
	CHECK_EQ(nmsgs, 2);
	CHECK(got(0, "{\"a\":\x01"));
	CHECK(got(1, "{\"c\":1}"));
	CHECK_EQ(feed("\xff\xfe\n[{\x80}]\n[1]", 0, 1024, 8), 0);
	CHECK_EQ(nmsgs, 3);
	CHECK(got(0, "\xff\xfe"));
	CHECK(got(1, "[{\x80"));
	CHECK(got(2, "[1]"));
}

static void limits(void)
{
	char *big = malloc((4 << 20) + 64);

	CHECK_EQ(feed("{\"a\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"} tail\n{\"b\":1}", 5, 16, 8), 0);
	CHECK_EQ(nmsgs, 2);
	CHECK(got(0, "T"));
	CHECK(got(1, "{\"b\":1}"));
	CHECK_EQ(feed("[[[[1]]]] ]]\n[1]", 0, 1024, 3), 0);
	CHECK_EQ(nmsgs, 2);
	CHECK(got(0, "D"));
	CHECK(got(1, "[1]"));
	/* 4 MiB without a newline: one report, memory bounded by max_len. */
	CHECK(big);
	memset(big, 'a', 4 << 20);
	strcpy(big + (4 << 20), "\n{}");
	CHECK_EQ(feed(big, 65536, 1024, 8), 0);
	free(big);
	CHECK_EQ(nmsgs, 2);
	CHECK(got(0, "T"));
	CHECK(got(1, "{}"));
}

static void reset_drops_partial(void)
{
	struct qmp_frame f;

	clear();
	qmp_frame_init(&f, 1024, 8);
	CHECK_EQ(qmp_frame_feed(&f, "{\"execute\": \"qu", 15, collect, NULL), 0);
	qmp_frame_reset(&f);
	CHECK_EQ(qmp_frame_feed(&f, "{}", 2, collect, NULL), 0);
	qmp_frame_free(&f);
	CHECK_EQ(nmsgs, 1);
	CHECK(got(0, "{}"));
}

int main(void)
{
	RUN(whole_and_split);
	RUN(several_per_read);
	RUN(brackets_in_strings);
	RUN(single_quotes);
	RUN(line_recovery);
	RUN(limits);
	RUN(reset_drops_partial);
	clear();
	return TEST_EXIT();
}
