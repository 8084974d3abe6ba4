/*
 * Unit tests for src/core/log.c: line format (time, role, pid, thread,
 * level), errno handling, escaping of hostile bytes, levels, the line
 * rate limiter, fatal().  The process log goes to a capture file
 * (log_set_output), so cmocka's own messages stay on stderr.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/log.h"

static int cap_fd = -1;
static char cap_path[] = "/tmp/sw_test_log_XXXXXX";
static char cap_buf[65536];

static int
setup(void **state)
{
	(void)state;
	cap_fd = mkstemp(cap_path);
	if (cap_fd < 0)
		return -1;
	log_set_output(cap_fd);
	log_init("tlog", LOG_INFO, LOG_TO_STDERR);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	log_set_output(-1);
	close(cap_fd);
	unlink(cap_path);
	return 0;
}

/* Everything logged since the last call. */
static const char *
captured(void)
{
	static off_t off;
	ssize_t n = pread(cap_fd, cap_buf, sizeof(cap_buf) - 1, off);

	assert_true(n >= 0);
	cap_buf[n] = '\0';
	off += n;
	return cap_buf;
}

static int
count_lines(const char *s)
{
	int n = 0;

	for (; *s != '\0'; s++)
		n += *s == '\n';
	return n;
}

static void
assert_match(const char *s, const char *pattern)
{
	regex_t re;

	assert_int_equal(regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB), 0);
	if (regexec(&re, s, 0, NULL, 0) != 0)
		fail_msg("'%s' does not match '%s'", s, pattern);
	regfree(&re);
}

static void
test_line_format(void **state)
{
	char pat[256];

	(void)state;
	captured();
	log_set_thread("tester");
	log_info("hello %d", 5);
	snprintf(pat, sizeof(pat), "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:"
	    "[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z tlog\\[%ld\\] tester info: hello 5\n$",
	    (long)getpid());
	assert_match(captured(), pat);
	log_warnx("w");
	assert_match(captured(), " tester warning: w\n$");
}

static void
test_errno(void **state)
{
	(void)state;
	captured();
	errno = ENOENT;
	log_warn("open %s", "/x");
	assert_int_equal(errno, ENOENT);	/* preserved */
	assert_match(captured(), "warning: open /x: No such file or directory\n$");
	errno = EACCES;
	log_info("x");
	log_debug("y");
	log_warnx("z");
	assert_int_equal(errno, EACCES);
}

static void
test_escaping(void **state)
{
	const char *s;

	(void)state;
	captured();
	log_info("ua=%s", "a\nb\r\x1b[31m\xff\xc3\xa9\xc2\x9b");
	s = captured();
	assert_int_equal(count_lines(s), 1);
	assert_match(s, "ua=a\\\\x0ab\\\\x0d\\\\x1b\\[31m\\\\xff\xc3\xa9"
	    "\\\\xc2\\\\x9b\n$");
}

static void
test_long_line_cut(void **state)
{
	static char big[10000];
	const char *s;

	(void)state;
	captured();
	memset(big, 'x', sizeof(big) - 1);
	log_info("%s", big);
	s = captured();
	assert_int_equal(count_lines(s), 1);
	assert_true(strlen(s) < LOG_LINE_MAX + 128);
	/* a line of escapes is cut too, never split */
	memset(big, '\n', sizeof(big) - 1);
	log_info("%s", big);
	s = captured();
	assert_int_equal(count_lines(s), 1);
}

static void
test_levels(void **state)
{
	(void)state;
	captured();
	log_set_level(LOG_INFO);
	log_debug("hidden");
	assert_string_equal(captured(), "");
	assert_false(log_enabled(LOG_DEBUG));
	assert_true(log_enabled(LOG_WARNING));
	log_set_level(LOG_DEBUG);
	log_debug("shown");
	assert_match(captured(), "debug: shown\n$");
	log_set_level(LOG_WARNING);
	log_info("hidden");
	assert_string_equal(captured(), "");
	log_set_level(99);
	assert_int_equal(log_get_level(), LOG_DEBUG);
	log_set_level(LOG_INFO);
}

static void *
unnamed_thread(void *arg)
{
	(void)arg;
	log_info("from thread");
	return NULL;
}

static void
test_thread_names(void **state)
{
	pthread_t th;
	const char *s;

	(void)state;
	captured();
	pthread_create(&th, NULL, unnamed_thread, NULL);
	pthread_join(th, NULL);
	s = captured();
	assert_match(s, "\\] t[0-9]+ info: from thread\n$");
	log_set_thread("a-very-long-thread-name");
	assert_string_equal(log_thread_name(), "a-very-long-thr");
}

static void
wait_second_start(void)
{
	struct timespec ts;
	time_t s0;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	s0 = ts.tv_sec;
	do {
		usleep(1000);
		clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	} while (ts.tv_sec == s0);
}

static void
test_rate_limited(void **state)
{
	static struct log_ratelimit rl = LOG_RATELIMIT_INIT(3);
	const char *s;

	(void)state;
	captured();
	wait_second_start();
	for (int i = 0; i < 1000; i++)
		LOG_LIMITED(LOG_INFO, &rl, "packet %d", i);
	s = captured();
	assert_int_equal(count_lines(s), 3);
	assert_non_null(strstr(s, "packet 2\n"));
	assert_null(strstr(s, "packet 3\n"));

	wait_second_start();
	LOG_LIMITED(LOG_INFO, &rl, "later");
	s = captured();
	assert_int_equal(count_lines(s), 2);
	assert_non_null(strstr(s, "suppressed 997 similar messages\n"));
	assert_non_null(strstr(s, "later\n"));

	/* disabled levels do not consume the budget */
	static struct log_ratelimit rl2 = LOG_RATELIMIT_INIT(1);
	for (int i = 0; i < 10; i++)
		LOG_LIMITED(LOG_DEBUG, &rl2, "debug %d", i);
	assert_string_equal(captured(), "");
	assert_int_equal(atomic_load(&rl2.suppressed), 0);
}

static void
test_fatal(void **state)
{
	pid_t pid;
	int st;

	(void)state;
	captured();
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		errno = EPERM;
		fatal("setresuid %d", 7);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 1);
	assert_match(captured(), "crit: setresuid 7: Operation not permitted\n$");

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		fatalx("broken invariant");
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_int_equal(WEXITSTATUS(st), 1);
	assert_match(captured(), "crit: broken invariant\n$");
}

static void
test_time_iso(void **state)
{
	struct timespec ts = { .tv_sec = 1795713933, .tv_nsec = 123999999 };
	char b[LOG_TIME_LEN];

	(void)state;
	assert_string_equal(log_time_iso(&ts, b, sizeof(b)),
	    "2026-11-26T17:25:33.123Z");
	ts.tv_nsec = -5;	/* nonsense is not trusted */
	assert_string_equal(log_time_iso(&ts, b, sizeof(b)),
	    "2026-11-26T17:25:33.000Z");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_line_format),
		cmocka_unit_test(test_errno),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_long_line_cut),
		cmocka_unit_test(test_levels),
		cmocka_unit_test(test_thread_names),
		cmocka_unit_test(test_rate_limited),
		cmocka_unit_test(test_fatal),
		cmocka_unit_test(test_time_iso),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
