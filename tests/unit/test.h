/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMON_TESTS_TEST_H
#define VMON_TESTS_TEST_H

/*
 * A unit test program is a list of test functions.  Each prints one line,
 * "PASS name" or "FAIL name: why", which tests/run.sh counts.
 */
#include <stdio.h>
#include <stdlib.h>

static int test_failed;
static const char *test_current;

#define CHECK(cond) do { \
	if (!(cond)) { \
		printf("FAIL %s: %s:%d: %s\n", test_current, __FILE__, __LINE__, #cond); \
		test_failed = 1; \
		return; \
	} \
} while (0)

#define CHECK_EQ(a, b) do { \
	unsigned long long a_ = (unsigned long long)(a), b_ = (unsigned long long)(b); \
	if (a_ != b_) { \
		printf("FAIL %s: %s:%d: %s == %#llx, expected %#llx\n", test_current, \
		       __FILE__, __LINE__, #a, a_, b_); \
		test_failed = 1; \
		return; \
	} \
} while (0)

#define RUN(fn) do { \
	int before_ = test_failed; \
	test_failed = 0; \
	test_current = #fn; \
	fn(); \
	if (!test_failed) \
		printf("PASS %s\n", #fn); \
	test_failed |= before_; \
} while (0)

#define TEST_EXIT() (fflush(stdout), test_failed ? 1 : 0)

#endif
