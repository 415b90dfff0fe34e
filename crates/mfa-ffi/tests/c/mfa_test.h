/* A tiny assertion framework for the mfa-ffi C tests.
 *
 * A test case is a function declared with TEST(name) and run with RUN(name).
 * Inside it, CHECK* macros record failures (with file, line and the failing
 * expression) without stopping the case, so one run shows every problem.
 * A case passes when none of its checks failed. TEST_MAIN_END() prints
 *   # <file>: N passed, N failed
 * and makes the process exit non-zero if any case failed; .ci/tests.d/ffi-c.sh
 * adds these up. */
#ifndef MFA_TEST_H
#define MFA_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mfa.h"

static int mt_passed;
static int mt_failed;
static int mt_case_failed;
static const char *mt_case = "";

#define MT_FAIL(...)                                                      \
  do {                                                                    \
    fprintf(stderr, "  FAIL %s:%d in %s: ", __FILE__, __LINE__, mt_case); \
    fprintf(stderr, __VA_ARGS__);                                         \
    fputc('\n', stderr);                                                  \
    mt_case_failed = 1;                                                   \
  } while (0)

/* A condition that must hold. */
#define CHECK(cond)                          \
  do {                                       \
    if (!(cond)) {                           \
      MT_FAIL("CHECK(%s)", #cond);           \
    }                                        \
  } while (0)

/* A call that must return exactly the given mfa_result. */
#define CHECK_RC(expr, want)                                                   \
  do {                                                                         \
    mfa_result mt_rc_ = (expr);                                                \
    if (mt_rc_ != (mfa_result)(want)) {                                        \
      MT_FAIL("%s returned %u (%s), expected %s (%u)", #expr, (unsigned)mt_rc_, \
              mfa_result_message(mt_rc_), #want, (unsigned)(want));            \
    }                                                                          \
  } while (0)

/* A call that must succeed. */
#define CHECK_OK(expr) CHECK_RC(expr, MFA_RESULT_OK)

/* Two NUL-terminated strings that must be equal. */
#define CHECK_STR(got, want)                                      \
  do {                                                            \
    const char *mt_g_ = (got);                                    \
    const char *mt_w_ = (want);                                   \
    if (mt_g_ == NULL || strcmp(mt_g_, mt_w_) != 0) {             \
      MT_FAIL("%s is \"%s\", expected \"%s\"", #got,              \
              mt_g_ ? mt_g_ : "(null)", mt_w_);                   \
    }                                                             \
  } while (0)

/* Two unsigned integers that must be equal. */
#define CHECK_EQ_U(got, want)                                               \
  do {                                                                      \
    unsigned long long mt_g_ = (unsigned long long)(got);                   \
    unsigned long long mt_w_ = (unsigned long long)(want);                  \
    if (mt_g_ != mt_w_) {                                                   \
      MT_FAIL("%s is %llu, expected %llu", #got, mt_g_, mt_w_);             \
    }                                                                       \
  } while (0)

#define TEST(name) static void name(void)

#define RUN(name)                                  \
  do {                                             \
    mt_case = #name;                               \
    mt_case_failed = 0;                            \
    name();                                        \
    if (mt_case_failed) {                          \
      mt_failed++;                                 \
      printf("not ok - %s\n", #name);              \
    } else {                                       \
      mt_passed++;                                 \
      printf("ok - %s\n", #name);                  \
    }                                              \
    fflush(stdout);                                \
  } while (0)

#define TEST_MAIN_END()                                                 \
  do {                                                                  \
    printf("# %s: %d passed, %d failed\n", __FILE__, mt_passed, mt_failed); \
    fflush(stdout); /* before LeakSanitizer's exit-time report */       \
    return mt_failed == 0 ? 0 : 1;                                      \
  } while (0)

/* strlen for string literals passed as pointer + length. */
#define S(lit) (lit), (sizeof(lit) - 1)

#endif /* MFA_TEST_H */
