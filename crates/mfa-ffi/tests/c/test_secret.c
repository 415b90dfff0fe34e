/* mfa_secret: decoding, generation, encoding into caller buffers, freeing. */
#include "mfa_test.h"

/* A pointer value that no constructor returns: out-parameters must keep it
 * whenever a call fails. */
#define SENTINEL ((mfa_secret *)(void *)&sentinel_storage)
static int sentinel_storage;

static const char RFC_B32[] = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"; /* "12345678901234567890" */
static const char RFC_HEX[] = "3132333435363738393031323334353637383930";

TEST(base32_decodes_rfc_seed) {
  mfa_secret *s = NULL;
  CHECK_OK(mfa_secret_from_base32(S(RFC_B32), &s));
  CHECK(s != NULL);
  CHECK_EQ_U(mfa_secret_len(s), 20);
  CHECK(!mfa_secret_is_weak(s));
  char hex[64];
  size_t n = 0;
  CHECK_OK(mfa_secret_to_hex(s, hex, sizeof hex, &n));
  CHECK_EQ_U(n, 40);
  CHECK_STR(hex, RFC_HEX);
  char b32[64];
  CHECK_OK(mfa_secret_to_base32(s, b32, sizeof b32, &n));
  CHECK_EQ_U(n, 32);
  CHECK_STR(b32, RFC_B32);
  mfa_secret_free(s);
}

TEST(base32_is_lenient_as_documented) {
  mfa_secret *a = NULL, *b = NULL, *c = NULL;
  CHECK_OK(mfa_secret_from_base32(S("gezd-gnbv gy3t-qojq gezd gnbv gy3t qojq"), &a));
  CHECK_OK(mfa_secret_from_base32(S(RFC_B32), &b));
  CHECK(mfa_secret_equal(a, b));
  /* The newer reference example: non-zero leftover bits are accepted. */
  CHECK_OK(mfa_secret_from_base32(S("2234567abcdef2234567abcdef"), &c));
  CHECK_EQ_U(mfa_secret_len(c), 16);
  CHECK(!mfa_secret_equal(a, c));
  mfa_secret_free(a);
  mfa_secret_free(b);
  mfa_secret_free(c);
}

TEST(base32_errors_leave_out_untouched) {
  mfa_secret *s = SENTINEL;
  /* The older reference example contains a '1': not base32. */
  CHECK_RC(mfa_secret_from_base32(S("1234567abcdef1234567abcdef"), &s), MFA_RESULT_INVALID_BASE32_CHAR);
  CHECK_RC(mfa_secret_from_base32(S("ABCDEFG8ABCDEFGH"), &s), MFA_RESULT_INVALID_BASE32_CHAR);
  CHECK_RC(mfa_secret_from_base32(S("JBSWY3DPEHPK3PXPA"), &s), MFA_RESULT_INVALID_BASE32_LENGTH);
  CHECK_RC(mfa_secret_from_base32(S(""), &s), MFA_RESULT_SECRET_EMPTY);
  CHECK_RC(mfa_secret_from_base32(S(" - "), &s), MFA_RESULT_SECRET_EMPTY);
  CHECK_RC(mfa_secret_from_base32(S("JBSWY3DP"), &s), MFA_RESULT_SECRET_TOO_SHORT);
  static char huge[4000];
  memset(huge, 'A', sizeof huge);
  CHECK_RC(mfa_secret_from_base32(huge, sizeof huge, &s), MFA_RESULT_SECRET_TOO_LONG);
  const char bad_utf8[] = {'J', 'B', (char)0xff, (char)0xfe};
  CHECK_RC(mfa_secret_from_base32(bad_utf8, sizeof bad_utf8, &s), MFA_RESULT_INVALID_UTF8);
  CHECK_RC(mfa_secret_from_base32(NULL, 16, &s), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_secret_from_base32(S(RFC_B32), NULL), MFA_RESULT_NULL_PARAMETER);
  CHECK(s == SENTINEL);
}

TEST(hex_decodes_and_rejects) {
  mfa_secret *s = SENTINEL;
  CHECK_RC(mfa_secret_from_hex(S("31323334353637383930313233343536373839zz"), &s), MFA_RESULT_INVALID_HEX_CHAR);
  CHECK_RC(mfa_secret_from_hex(S("313233343536373839303"), &s), MFA_RESULT_INVALID_HEX_LENGTH);
  CHECK_RC(mfa_secret_from_hex(S(""), &s), MFA_RESULT_SECRET_EMPTY);
  CHECK_RC(mfa_secret_from_hex(S("31323334"), &s), MFA_RESULT_SECRET_TOO_SHORT);
  CHECK_RC(mfa_secret_from_hex(NULL, 4, &s), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_secret_from_hex(S(RFC_HEX), NULL), MFA_RESULT_NULL_PARAMETER);
  const char bad_utf8[] = {(char)0xc3, (char)0x28};
  CHECK_RC(mfa_secret_from_hex(bad_utf8, sizeof bad_utf8, &s), MFA_RESULT_INVALID_UTF8);
  CHECK(s == SENTINEL);
  CHECK_OK(mfa_secret_from_hex(S("3132 3334 3536 3738 3930 3132 3334 3536 3738 3930"), &s));
  CHECK(s != SENTINEL);
  mfa_secret *b = NULL;
  CHECK_OK(mfa_secret_from_base32(S(RFC_B32), &b));
  CHECK(mfa_secret_equal(s, b));
  mfa_secret_free(b);
  if (s != SENTINEL) mfa_secret_free(s);
}

TEST(bytes_copy_and_limits) {
  mfa_secret *s = SENTINEL;
  const uint8_t ten[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  CHECK_RC(mfa_secret_from_bytes(ten, 9, &s), MFA_RESULT_SECRET_TOO_SHORT);
  CHECK_RC(mfa_secret_from_bytes(ten, 0, &s), MFA_RESULT_SECRET_EMPTY);
  CHECK_RC(mfa_secret_from_bytes(NULL, 10, &s), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_secret_from_bytes(ten, 10, NULL), MFA_RESULT_NULL_PARAMETER);
  static uint8_t big[1025];
  CHECK_RC(mfa_secret_from_bytes(big, sizeof big, &s), MFA_RESULT_SECRET_TOO_LONG);
  CHECK(s == SENTINEL);
  CHECK_OK(mfa_secret_from_bytes(ten, 10, &s));
  CHECK_EQ_U(mfa_secret_len(s), 10);
  CHECK(mfa_secret_is_weak(s)); /* 80 bits: accepted, flagged weak */
  char hex[32];
  size_t n;
  CHECK_OK(mfa_secret_to_hex(s, hex, sizeof hex, &n));
  CHECK_STR(hex, "0102030405060708090a");
  mfa_secret_free(s);
}

TEST(generate_uses_hash_size_and_is_random) {
  mfa_secret *a = NULL, *b = NULL, *c = NULL, *d = SENTINEL;
  CHECK_OK(mfa_secret_generate(MFA_ALGORITHM_SHA1, &a));
  CHECK_OK(mfa_secret_generate(MFA_ALGORITHM_SHA256, &b));
  CHECK_OK(mfa_secret_generate(MFA_ALGORITHM_SHA512, &c));
  CHECK_EQ_U(mfa_secret_len(a), 20);
  CHECK_EQ_U(mfa_secret_len(b), 32);
  CHECK_EQ_U(mfa_secret_len(c), 64);
  mfa_secret *a2 = NULL;
  CHECK_OK(mfa_secret_generate(MFA_ALGORITHM_SHA1, &a2));
  CHECK(!mfa_secret_equal(a, a2));
  CHECK_RC(mfa_secret_generate(0, &d), MFA_RESULT_UNKNOWN_ALGORITHM);
  CHECK_RC(mfa_secret_generate(4, &d), MFA_RESULT_UNKNOWN_ALGORITHM);
  CHECK_RC(mfa_secret_generate(MFA_ALGORITHM_SHA1, NULL), MFA_RESULT_NULL_PARAMETER);
  CHECK(d == SENTINEL);
  mfa_secret_free(a);
  mfa_secret_free(a2);
  mfa_secret_free(b);
  mfa_secret_free(c);
}

TEST(encoding_into_short_buffers) {
  mfa_secret *s = NULL;
  CHECK_OK(mfa_secret_from_base32(S(RFC_B32), &s));
  size_t n = 12345;
  /* Size query: NULL buffer of length 0. */
  CHECK_RC(mfa_secret_to_base32(s, NULL, 0, &n), MFA_RESULT_BUFFER_TOO_SMALL);
  CHECK_EQ_U(n, 32);
  /* Exactly the text length: no room for the NUL, nothing written. */
  char buf[33];
  memset(buf, 'x', sizeof buf);
  n = 0;
  CHECK_RC(mfa_secret_to_base32(s, buf, 32, &n), MFA_RESULT_BUFFER_TOO_SMALL);
  CHECK_EQ_U(n, 32);
  for (size_t i = 0; i < sizeof buf; i++) CHECK(buf[i] == 'x');
  CHECK_OK(mfa_secret_to_base32(s, buf, 33, &n));
  CHECK_STR(buf, RFC_B32);
  char hex[41];
  CHECK_RC(mfa_secret_to_hex(s, hex, sizeof hex - 1, &n), MFA_RESULT_BUFFER_TOO_SMALL);
  CHECK_EQ_U(n, 40);
  CHECK_OK(mfa_secret_to_hex(s, hex, sizeof hex, &n));
  /* NULL checks. */
  CHECK_RC(mfa_secret_to_base32(NULL, buf, sizeof buf, &n), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_secret_to_base32(s, NULL, 8, &n), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_secret_to_base32(s, buf, sizeof buf, NULL), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_secret_to_hex(NULL, hex, sizeof hex, &n), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_secret_to_hex(s, NULL, 8, &n), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_secret_to_hex(s, hex, sizeof hex, NULL), MFA_RESULT_NULL_PARAMETER);
  mfa_secret_free(s);
}

TEST(null_handles_give_neutral_answers) {
  mfa_secret *s = NULL;
  CHECK_OK(mfa_secret_from_base32(S(RFC_B32), &s));
  CHECK_EQ_U(mfa_secret_len(NULL), 0);
  CHECK(!mfa_secret_is_weak(NULL));
  CHECK(!mfa_secret_equal(NULL, s));
  CHECK(!mfa_secret_equal(s, NULL));
  CHECK(mfa_secret_equal(s, s));
  mfa_secret_free(s);
  mfa_secret_free(NULL); /* a no-op */
}

int main(void) {
  RUN(base32_decodes_rfc_seed);
  RUN(base32_is_lenient_as_documented);
  RUN(base32_errors_leave_out_untouched);
  RUN(hex_decodes_and_rejects);
  RUN(bytes_copy_and_limits);
  RUN(generate_uses_hash_size_and_is_random);
  RUN(encoding_into_short_buffers);
  RUN(null_handles_give_neutral_answers);
  TEST_MAIN_END();
}
