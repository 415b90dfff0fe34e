/* mfa_hotp and mfa_totp: RFC vectors, verification windows, replay,
 * resynchronisation, and every error path. */
#include "mfa_test.h"

static int sentinel_storage;
#define SENTINEL_H ((mfa_hotp *)(void *)&sentinel_storage)
#define SENTINEL_T ((mfa_totp *)(void *)&sentinel_storage)

static mfa_secret *secret_ascii(const char *ascii, size_t len) {
  mfa_secret *s = NULL;
  if (mfa_secret_from_bytes((const uint8_t *)ascii, len, &s) != MFA_RESULT_OK) return NULL;
  return s;
}

static mfa_hotp *rfc4226(void) {
  mfa_secret *s = secret_ascii(S("12345678901234567890"));
  mfa_hotp *h = NULL;
  if (mfa_hotp_new(s, MFA_ALGORITHM_SHA1, 6, &h) != MFA_RESULT_OK) h = NULL;
  mfa_secret_free(s);
  return h;
}

/* RFC 4226 Appendix D. */
static const char *HOTP_VECTORS[10] = {"755224", "287082", "359152", "969429", "338314",
                                       "254676", "287922", "162583", "399871", "520489"};

TEST(hotp_rfc4226_vectors) {
  mfa_hotp *h = rfc4226();
  CHECK(h != NULL);
  for (uint64_t c = 0; c < 10; c++) {
    char buf[10];
    size_t n = 0;
    CHECK_OK(mfa_hotp_generate(h, c, buf, sizeof buf, &n));
    CHECK_EQ_U(n, 6);
    CHECK_STR(buf, HOTP_VECTORS[c]);
  }
  mfa_hotp_free(h);
}

TEST(hotp_new_errors) {
  mfa_secret *s = secret_ascii(S("12345678901234567890"));
  mfa_hotp *h = SENTINEL_H;
  CHECK_RC(mfa_hotp_new(NULL, MFA_ALGORITHM_SHA1, 6, &h), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_hotp_new(s, MFA_ALGORITHM_SHA1, 6, NULL), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_hotp_new(s, 0, 6, &h), MFA_RESULT_UNKNOWN_ALGORITHM);
  CHECK_RC(mfa_hotp_new(s, MFA_ALGORITHM_SHA1, 5, &h), MFA_RESULT_INVALID_DIGITS);
  CHECK_RC(mfa_hotp_new(s, MFA_ALGORITHM_SHA1, 10, &h), MFA_RESULT_INVALID_DIGITS);
  CHECK(h == SENTINEL_H);
  /* The token holds its own copy: freeing the secret first is fine. */
  CHECK_OK(mfa_hotp_new(s, MFA_ALGORITHM_SHA256, 8, &h));
  mfa_secret_free(s);
  char buf[10];
  size_t n;
  CHECK_OK(mfa_hotp_generate(h, 0, buf, sizeof buf, &n));
  CHECK_EQ_U(n, 8);
  mfa_hotp_free(h);
  mfa_hotp_free(NULL);
}

TEST(hotp_generate_buffer_and_null_errors) {
  mfa_hotp *h = rfc4226();
  char buf[7];
  size_t n = 0;
  memset(buf, 'x', sizeof buf);
  CHECK_RC(mfa_hotp_generate(h, 1, buf, 6, &n), MFA_RESULT_BUFFER_TOO_SMALL);
  CHECK_EQ_U(n, 6);
  CHECK(buf[0] == 'x');
  CHECK_RC(mfa_hotp_generate(h, 1, NULL, 0, &n), MFA_RESULT_BUFFER_TOO_SMALL);
  CHECK_RC(mfa_hotp_generate(NULL, 1, buf, sizeof buf, &n), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_hotp_generate(h, 1, NULL, 7, &n), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_hotp_generate(h, 1, buf, sizeof buf, NULL), MFA_RESULT_NULL_PARAMETER);
  CHECK_OK(mfa_hotp_generate(h, 1, buf, sizeof buf, &n));
  CHECK_STR(buf, "287082");
  mfa_hotp_free(h);
}

TEST(hotp_verify_accepts_then_refuses_replay) {
  mfa_hotp *h = rfc4226();
  mfa_hotp_state st = {false, 0};
  uint64_t counter = 999;
  CHECK_OK(mfa_hotp_verify(h, S("287082"), &st, 1, 10, &counter, &st)); /* in place */
  CHECK_EQ_U(counter, 1);
  CHECK(st.has_last_counter);
  CHECK_EQ_U(st.last_counter, 1);
  /* The same code again, with the stored state: replay. */
  mfa_hotp_state after = st;
  counter = 999;
  CHECK_RC(mfa_hotp_verify(h, S("287082"), &st, 1, 10, &counter, &after), MFA_RESULT_CODE_REPLAYED);
  /* An older one, recognised as used when the window looks back far enough. */
  CHECK_RC(mfa_hotp_verify(h, S("755224"), &st, 2, 10, &counter, &after), MFA_RESULT_CODE_REPLAYED);
  CHECK_RC(mfa_hotp_verify(h, S("755224"), &st, 1, 10, &counter, &after), MFA_RESULT_CODE_NOT_IN_WINDOW);
  CHECK_EQ_U(counter, 999);
  CHECK_EQ_U(after.last_counter, 1);
  /* Look-ahead: counter 5 is within 10 of the next expected (2). */
  CHECK_OK(mfa_hotp_verify(h, S("254676"), &st, 1, 10, &counter, &after));
  CHECK_EQ_U(counter, 5);
  CHECK_EQ_U(after.last_counter, 5);
  /* Codes with spaces, as apps show them. */
  mfa_hotp_state fresh = {false, 0};
  CHECK_OK(mfa_hotp_verify(h, S("969 429"), &fresh, 1, 10, &counter, &after));
  CHECK_EQ_U(counter, 3);
  mfa_hotp_free(h);
}

TEST(hotp_verify_errors) {
  mfa_hotp *h = rfc4226();
  mfa_hotp_state st = {false, 0}, out = {true, 77};
  uint64_t counter = 999;
  /* Counter 9 is beyond a look-ahead of 5 from a fresh token. */
  CHECK_RC(mfa_hotp_verify(h, S("520489"), &st, 1, 5, &counter, &out), MFA_RESULT_CODE_NOT_IN_WINDOW);
  CHECK_RC(mfa_hotp_verify(h, S("12345"), &st, 1, 10, &counter, &out), MFA_RESULT_CODE_MALFORMED);
  CHECK_RC(mfa_hotp_verify(h, S("1234567"), &st, 1, 10, &counter, &out), MFA_RESULT_CODE_MALFORMED);
  CHECK_RC(mfa_hotp_verify(h, S("28708a"), &st, 1, 10, &counter, &out), MFA_RESULT_CODE_MALFORMED);
  CHECK_RC(mfa_hotp_verify(h, S(""), &st, 1, 10, &counter, &out), MFA_RESULT_CODE_MALFORMED);
  const char bad[] = {'2', '8', (char)0xff, '0', '8', '2'};
  CHECK_RC(mfa_hotp_verify(h, bad, sizeof bad, &st, 1, 10, &counter, &out), MFA_RESULT_INVALID_UTF8);
  CHECK_RC(mfa_hotp_verify(h, S("287082"), &st, 1001, 10, &counter, &out), MFA_RESULT_WINDOW_TOO_LARGE);
  CHECK_RC(mfa_hotp_verify(h, S("287082"), &st, 1, 1001, &counter, &out), MFA_RESULT_WINDOW_TOO_LARGE);
  CHECK_RC(mfa_hotp_verify(NULL, S("287082"), &st, 1, 10, &counter, &out), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_hotp_verify(h, NULL, 6, &st, 1, 10, &counter, &out), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_hotp_verify(h, S("287082"), NULL, 1, 10, &counter, &out), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_hotp_verify(h, S("287082"), &st, 1, 10, NULL, &out), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_hotp_verify(h, S("287082"), &st, 1, 10, &counter, NULL), MFA_RESULT_NULL_PARAMETER);
  /* Out-parameters untouched by every failure above. */
  CHECK_EQ_U(counter, 999);
  CHECK(out.has_last_counter);
  CHECK_EQ_U(out.last_counter, 77);
  mfa_hotp_free(h);
}

TEST(hotp_resync) {
  mfa_hotp *h = rfc4226();
  mfa_hotp_state st = {false, 0}, out = {false, 0};
  uint64_t counter = 999;
  const char *codes[3] = {"969429", "338314", "254676"};
  size_t lens[3] = {6, 6, 6};
  CHECK_OK(mfa_hotp_resync(h, codes, lens, 2, &st, 100, &counter, &out));
  CHECK_EQ_U(counter, 4);
  CHECK(out.has_last_counter);
  CHECK_EQ_U(out.last_counter, 4);
  CHECK_OK(mfa_hotp_resync(h, codes, lens, 3, &st, 100, &counter, &out));
  CHECK_EQ_U(counter, 5);
  counter = 999;
  CHECK_RC(mfa_hotp_resync(h, codes, lens, 1, &st, 100, &counter, &out), MFA_RESULT_RESYNC_CODE_COUNT);
  CHECK_RC(mfa_hotp_resync(h, codes, lens, 4, &st, 100, &counter, &out), MFA_RESULT_RESYNC_CODE_COUNT);
  CHECK_RC(mfa_hotp_resync(h, codes, lens, 2, &st, 100001, &counter, &out), MFA_RESULT_WINDOW_TOO_LARGE);
  const char *wrong[2] = {"338314", "969429"}; /* not consecutive in this order */
  CHECK_RC(mfa_hotp_resync(h, wrong, lens, 2, &st, 100, &counter, &out), MFA_RESULT_RESYNC_FAILED);
  const char *malformed[2] = {"96942", "338314"};
  size_t mlens[2] = {5, 6};
  CHECK_RC(mfa_hotp_resync(h, malformed, mlens, 2, &st, 100, &counter, &out), MFA_RESULT_CODE_MALFORMED);
  /* After the resync state, the same codes are in the past. */
  mfa_hotp_state used = {true, 4};
  CHECK_RC(mfa_hotp_resync(h, codes, lens, 2, &used, 100, &counter, &out), MFA_RESULT_RESYNC_FAILED);
  mfa_hotp_state exhausted = {true, UINT64_MAX};
  CHECK_RC(mfa_hotp_resync(h, codes, lens, 2, &exhausted, 100, &counter, &out), MFA_RESULT_COUNTER_OVERFLOW);
  const char *with_null[2] = {"969429", NULL};
  CHECK_RC(mfa_hotp_resync(h, with_null, lens, 2, &st, 100, &counter, &out), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_hotp_resync(NULL, codes, lens, 2, &st, 100, &counter, &out), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_hotp_resync(h, NULL, lens, 2, &st, 100, &counter, &out), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_hotp_resync(h, codes, NULL, 2, &st, 100, &counter, &out), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_hotp_resync(h, codes, lens, 2, NULL, 100, &counter, &out), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_hotp_resync(h, codes, lens, 2, &st, 100, NULL, &out), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_hotp_resync(h, codes, lens, 2, &st, 100, &counter, NULL), MFA_RESULT_NULL_PARAMETER);
  CHECK_EQ_U(counter, 999);
  CHECK_EQ_U(out.last_counter, 5);
  mfa_hotp_free(h);
}

/* RFC 6238 Appendix B, with the seeds of its Appendix A code. */
static const uint64_t TIMES[6] = {59ULL, 1111111109ULL, 1111111111ULL,
                                  1234567890ULL, 2000000000ULL, 20000000000ULL};
static const char *TOTP_VECTORS[3][6] = {
    {"94287082", "07081804", "14050471", "89005924", "69279037", "65353130"},
    {"46119246", "68084774", "67062674", "91819424", "90698825", "77737706"},
    {"90693936", "25091201", "99943326", "93441116", "38618901", "47863826"},
};

static mfa_totp *rfc6238(uint32_t algorithm, uint64_t t0) {
  static const char seed[] =
      "1234567890123456789012345678901234567890123456789012345678901234";
  size_t len = algorithm == MFA_ALGORITHM_SHA1 ? 20 : algorithm == MFA_ALGORITHM_SHA256 ? 32 : 64;
  mfa_secret *s = secret_ascii(seed, len);
  mfa_totp *t = NULL;
  if (mfa_totp_new(s, algorithm, 8, 30, t0, &t) != MFA_RESULT_OK) t = NULL;
  mfa_secret_free(s);
  return t;
}

TEST(totp_rfc6238_vectors) {
  const uint32_t algs[3] = {MFA_ALGORITHM_SHA1, MFA_ALGORITHM_SHA256, MFA_ALGORITHM_SHA512};
  for (int a = 0; a < 3; a++) {
    mfa_totp *t = rfc6238(algs[a], 0);
    CHECK(t != NULL);
    for (int i = 0; i < 6; i++) {
      char buf[10];
      size_t n = 0;
      CHECK_OK(mfa_totp_generate(t, TIMES[i], buf, sizeof buf, &n));
      CHECK_EQ_U(n, 8);
      CHECK_STR(buf, TOTP_VECTORS[a][i]);
      uint64_t step = 0;
      CHECK_OK(mfa_totp_step_at(t, TIMES[i], &step));
      CHECK_EQ_U(step, TIMES[i] / 30);
      char buf2[10];
      CHECK_OK(mfa_totp_generate_at_step(t, step, buf2, sizeof buf2, &n));
      CHECK_STR(buf2, TOTP_VECTORS[a][i]);
      /* Each vector verifies at its own time on a fresh token. */
      mfa_totp_state st = {false, 0, 0};
      uint64_t got = 0;
      CHECK_OK(mfa_totp_verify(t, TOTP_VECTORS[a][i], 8, TIMES[i], &st, 1, 0, &got, &st));
      CHECK_EQ_U(got, step);
    }
    mfa_totp_free(t);
  }
}

TEST(totp_new_and_time_errors) {
  mfa_secret *s = secret_ascii(S("12345678901234567890"));
  mfa_totp *t = SENTINEL_T;
  CHECK_RC(mfa_totp_new(NULL, MFA_ALGORITHM_SHA1, 6, 30, 0, &t), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_totp_new(s, MFA_ALGORITHM_SHA1, 6, 30, 0, NULL), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_totp_new(s, 7, 6, 30, 0, &t), MFA_RESULT_UNKNOWN_ALGORITHM);
  CHECK_RC(mfa_totp_new(s, MFA_ALGORITHM_SHA1, 4, 30, 0, &t), MFA_RESULT_INVALID_DIGITS);
  CHECK_RC(mfa_totp_new(s, MFA_ALGORITHM_SHA1, 6, 0, 0, &t), MFA_RESULT_INVALID_PERIOD);
  CHECK(t == SENTINEL_T);
  CHECK_OK(mfa_totp_new(s, MFA_ALGORITHM_SHA1, 6, 60, 1000, &t));
  mfa_secret_free(s);
  uint64_t step = 42;
  CHECK_RC(mfa_totp_step_at(t, 999, &step), MFA_RESULT_TIME_BEFORE_T0);
  CHECK_EQ_U(step, 42);
  CHECK_OK(mfa_totp_step_at(t, 1000 + 125, &step));
  CHECK_EQ_U(step, 2);
  CHECK_RC(mfa_totp_step_at(NULL, 2000, &step), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_totp_step_at(t, 2000, NULL), MFA_RESULT_NULL_PARAMETER);
  char buf[10];
  size_t n = 77;
  CHECK_RC(mfa_totp_generate(t, 999, buf, sizeof buf, &n), MFA_RESULT_TIME_BEFORE_T0);
  CHECK_EQ_U(n, 77);
  CHECK_RC(mfa_totp_generate(t, 2000, buf, 6, &n), MFA_RESULT_BUFFER_TOO_SMALL);
  CHECK_EQ_U(n, 6);
  CHECK_RC(mfa_totp_generate(NULL, 2000, buf, sizeof buf, &n), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_totp_generate(t, 2000, NULL, 10, &n), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_totp_generate(t, 2000, buf, sizeof buf, NULL), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_totp_generate_at_step(t, 1, buf, 3, &n), MFA_RESULT_BUFFER_TOO_SMALL);
  CHECK_RC(mfa_totp_generate_at_step(NULL, 1, buf, sizeof buf, &n), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_totp_generate_at_step(t, 1, NULL, 10, &n), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_totp_generate_at_step(t, 1, buf, sizeof buf, NULL), MFA_RESULT_NULL_PARAMETER);
  /* T0 shifts the steps: at T0 + 60 s we are at step 1. */
  char a[10], b[10];
  CHECK_OK(mfa_totp_generate(t, 1060, a, sizeof a, &n));
  CHECK_OK(mfa_totp_generate_at_step(t, 1, b, sizeof b, &n));
  CHECK_STR(a, b);
  mfa_totp_free(t);
  mfa_totp_free(NULL);
}

TEST(totp_verify_window_and_replay) {
  mfa_totp *t = rfc6238(MFA_ALGORITHM_SHA1, 0);
  const uint64_t now = 1111111111ULL; /* step 37037037 */
  char prev[10], cur[10], next[10];
  size_t n;
  CHECK_OK(mfa_totp_generate_at_step(t, 37037036ULL, prev, sizeof prev, &n));
  CHECK_OK(mfa_totp_generate_at_step(t, 37037037ULL, cur, sizeof cur, &n));
  CHECK_OK(mfa_totp_generate_at_step(t, 37037038ULL, next, sizeof next, &n));
  mfa_totp_state st = {false, 0, 0}, out = {false, 0, 0};
  uint64_t step = 0;
  /* One step back is allowed by the RFC default window (1, 0). */
  CHECK_OK(mfa_totp_verify(t, prev, 8, now, &st, 1, 0, &step, &out));
  CHECK_EQ_U(step, 37037036ULL);
  /* A fast clock needs ahead >= 1. */
  CHECK_RC(mfa_totp_verify(t, next, 8, now, &st, 1, 0, &step, &out), MFA_RESULT_CODE_NOT_IN_WINDOW);
  CHECK_OK(mfa_totp_verify(t, next, 8, now, &st, 1, 1, &step, &out));
  CHECK_EQ_U(step, 37037038ULL);
  /* Accept the current code and store the state... */
  CHECK_OK(mfa_totp_verify(t, cur, 8, now, &st, 1, 0, &step, &st));
  CHECK(st.has_last_step);
  CHECK_EQ_U(st.last_step, 37037037ULL);
  /* ...then the same code is a replay, and so is the older one. */
  step = 5;
  out = st;
  CHECK_RC(mfa_totp_verify(t, cur, 8, now, &st, 1, 0, &step, &out), MFA_RESULT_CODE_REPLAYED);
  CHECK_RC(mfa_totp_verify(t, cur, 8, now + 29, &st, 1, 0, &step, &out), MFA_RESULT_CODE_REPLAYED);
  CHECK_RC(mfa_totp_verify(t, prev, 8, now, &st, 1, 0, &step, &out), MFA_RESULT_CODE_REPLAYED);
  CHECK_EQ_U(step, 5);
  CHECK_EQ_U(out.last_step, 37037037ULL);
  /* The next step's code is still fine later. */
  CHECK_OK(mfa_totp_verify(t, next, 8, now + 30, &st, 1, 0, &step, &out));
  CHECK_EQ_U(step, 37037038ULL);
  mfa_totp_free(t);
}

TEST(totp_verify_errors) {
  mfa_totp *t = rfc6238(MFA_ALGORITHM_SHA1, 100);
  mfa_totp_state st = {false, 0, 0}, out = {true, 7, 3};
  uint64_t step = 999;
  CHECK_RC(mfa_totp_verify(t, S("94287082"), 50, &st, 1, 0, &step, &out), MFA_RESULT_TIME_BEFORE_T0);
  CHECK_RC(mfa_totp_verify(t, S("9428708"), 1000, &st, 1, 0, &step, &out), MFA_RESULT_CODE_MALFORMED);
  CHECK_RC(mfa_totp_verify(t, S("9428708x"), 1000, &st, 1, 0, &step, &out), MFA_RESULT_CODE_MALFORMED);
  CHECK_RC(mfa_totp_verify(t, S("00000000"), 1000, &st, 1, 1, &step, &out), MFA_RESULT_CODE_NOT_IN_WINDOW);
  CHECK_RC(mfa_totp_verify(t, S("94287082"), 1000, &st, 5000, 0, &step, &out), MFA_RESULT_WINDOW_TOO_LARGE);
  const char bad[] = {(char)0xe2, (char)0x82, '1', '2', '3', '4', '5', '6'};
  CHECK_RC(mfa_totp_verify(t, bad, sizeof bad, 1000, &st, 1, 0, &step, &out), MFA_RESULT_INVALID_UTF8);
  CHECK_RC(mfa_totp_verify(NULL, S("94287082"), 1000, &st, 1, 0, &step, &out), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_totp_verify(t, NULL, 8, 1000, &st, 1, 0, &step, &out), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_totp_verify(t, S("94287082"), 1000, NULL, 1, 0, &step, &out), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_totp_verify(t, S("94287082"), 1000, &st, 1, 0, NULL, &out), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_totp_verify(t, S("94287082"), 1000, &st, 1, 0, &step, NULL), MFA_RESULT_NULL_PARAMETER);
  CHECK_EQ_U(step, 999);
  CHECK(out.has_last_step);
  CHECK_EQ_U(out.last_step, 7);
  CHECK_EQ_U(out.drift, 3);
  mfa_totp_free(t);
}

TEST(totp_resync_learns_drift) {
  mfa_totp *t = rfc6238(MFA_ALGORITHM_SHA1, 0);
  const uint64_t now = 1000000000ULL;
  uint64_t cur = 0;
  CHECK_OK(mfa_totp_step_at(t, now, &cur));
  /* The token's clock runs 5 steps ahead. */
  char a[10], b[10], c[10];
  size_t n;
  CHECK_OK(mfa_totp_generate_at_step(t, cur + 4, a, sizeof a, &n));
  CHECK_OK(mfa_totp_generate_at_step(t, cur + 5, b, sizeof b, &n));
  CHECK_OK(mfa_totp_generate_at_step(t, cur + 6, c, sizeof c, &n));
  const char *codes[2] = {a, b};
  size_t lens[2] = {8, 8};
  mfa_totp_state st = {false, 0, 0}, out = {false, 0, 0};
  uint64_t step = 0;
  /* Without the drift, the normal window does not find it. */
  CHECK_RC(mfa_totp_verify(t, c, 8, now + 30, &st, 1, 0, &step, &out), MFA_RESULT_CODE_NOT_IN_WINDOW);
  CHECK_OK(mfa_totp_resync(t, codes, lens, 2, now, &st, 20, &step, &out));
  CHECK_EQ_U(step, cur + 5);
  CHECK_EQ_U(out.drift, 5);
  CHECK(out.has_last_step);
  /* With the learned drift, the next code verifies in the normal window. */
  mfa_totp_state st2 = out;
  CHECK_OK(mfa_totp_verify(t, c, 8, now + 30, &st2, 1, 0, &step, &st2));
  CHECK_EQ_U(step, cur + 6);
  /* Errors. */
  mfa_totp_state keep = {true, 1, 2};
  step = 999;
  const char *three[3] = {a, b, c};
  size_t lens3[3] = {8, 8, 8};
  CHECK_RC(mfa_totp_resync(t, three, lens3, 3, now, &st, 20, &step, &keep), MFA_RESULT_RESYNC_CODE_COUNT);
  CHECK_RC(mfa_totp_resync(t, codes, lens, 1, now, &st, 20, &step, &keep), MFA_RESULT_RESYNC_CODE_COUNT);
  CHECK_RC(mfa_totp_resync(t, codes, lens, 2, now, &st, 100001, &step, &keep), MFA_RESULT_WINDOW_TOO_LARGE);
  CHECK_RC(mfa_totp_resync(t, codes, lens, 2, now, &st, 2, &step, &keep), MFA_RESULT_RESYNC_FAILED);
  CHECK_RC(mfa_totp_resync(t, codes, lens, 2, 10, &st, 20, &step, &keep), MFA_RESULT_RESYNC_FAILED);
  mfa_totp *late = rfc6238(MFA_ALGORITHM_SHA1, 2000000000ULL);
  CHECK_RC(mfa_totp_resync(late, codes, lens, 2, now, &st, 20, &step, &keep), MFA_RESULT_TIME_BEFORE_T0);
  mfa_totp_free(late);
  size_t short_lens[2] = {7, 8};
  CHECK_RC(mfa_totp_resync(t, codes, short_lens, 2, now, &st, 20, &step, &keep), MFA_RESULT_CODE_MALFORMED);
  CHECK_RC(mfa_totp_resync(NULL, codes, lens, 2, now, &st, 20, &step, &keep), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_totp_resync(t, NULL, lens, 2, now, &st, 20, &step, &keep), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_totp_resync(t, codes, NULL, 2, now, &st, 20, &step, &keep), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_totp_resync(t, codes, lens, 2, now, NULL, 20, &step, &keep), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_totp_resync(t, codes, lens, 2, now, &st, 20, NULL, &keep), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_totp_resync(t, codes, lens, 2, now, &st, 20, &step, NULL), MFA_RESULT_NULL_PARAMETER);
  CHECK_EQ_U(step, 999);
  CHECK_EQ_U(keep.last_step, 1);
  CHECK_EQ_U(keep.drift, 2);
  mfa_totp_free(t);
}

/* The has_ flags are uint8_t so that a state rebuilt from a database can
 * hold any byte: 2 (or 255) is refused with MFA_RESULT_INVALID_FLAG before
 * anything is verified, and the out-parameters stay untouched. */
TEST(state_flags_other_than_0_or_1_are_refused) {
  mfa_hotp *h = rfc4226();
  mfa_totp *t = rfc6238(MFA_ALGORITHM_SHA1, 0);
  uint64_t n = 999;
  for (unsigned v = 2; v <= 255; v += 253) {
    mfa_hotp_state hs = {(uint8_t)v, 0}, hout = {1, 77};
    CHECK_RC(mfa_hotp_verify(h, S("755224"), &hs, 1, 10, &n, &hout), MFA_RESULT_INVALID_FLAG);
    const char *codes[2] = {"969429", "338314"};
    size_t lens[2] = {6, 6};
    CHECK_RC(mfa_hotp_resync(h, codes, lens, 2, &hs, 100, &n, &hout), MFA_RESULT_INVALID_FLAG);
    CHECK_EQ_U(hout.has_last_counter, 1);
    CHECK_EQ_U(hout.last_counter, 77);

    mfa_totp_state ts = {(uint8_t)v, 0, 0}, tout = {1, 77, 5};
    CHECK_RC(mfa_totp_verify(t, S("94287082"), 59, &ts, 1, 0, &n, &tout), MFA_RESULT_INVALID_FLAG);
    const char *tcodes[2] = {"94287082", "07081804"};
    size_t tlens[2] = {8, 8};
    CHECK_RC(mfa_totp_resync(t, tcodes, tlens, 2, 1111111109ULL, &ts, 20, &n, &tout), MFA_RESULT_INVALID_FLAG);
    CHECK_EQ_U(tout.has_last_step, 1);
    CHECK_EQ_U(tout.last_step, 77);
    CHECK_EQ_U(tout.drift, 5);
  }
  CHECK_EQ_U(n, 999);
  /* 0 and 1 still work: the RFC 4226 code for counter 0, then a replay. */
  mfa_hotp_state ok = {0, 0};
  CHECK_OK(mfa_hotp_verify(h, S("755224"), &ok, 1, 10, &n, &ok));
  CHECK_EQ_U(ok.has_last_counter, 1);
  CHECK_RC(mfa_hotp_verify(h, S("755224"), &ok, 1, 10, &n, &ok), MFA_RESULT_CODE_REPLAYED);
  CHECK_STR(mfa_result_message(MFA_RESULT_INVALID_FLAG),
            "a has_ flag of a stored state struct is neither 0 nor 1");
  mfa_totp_free(t);
  mfa_hotp_free(h);
}

int main(void) {
  RUN(hotp_rfc4226_vectors);
  RUN(hotp_new_errors);
  RUN(hotp_generate_buffer_and_null_errors);
  RUN(hotp_verify_accepts_then_refuses_replay);
  RUN(hotp_verify_errors);
  RUN(hotp_resync);
  RUN(totp_rfc6238_vectors);
  RUN(totp_new_and_time_errors);
  RUN(totp_verify_window_and_replay);
  RUN(totp_verify_errors);
  RUN(totp_resync_learns_drift);
  RUN(state_flags_other_than_0_or_1_are_refused);
  TEST_MAIN_END();
}
