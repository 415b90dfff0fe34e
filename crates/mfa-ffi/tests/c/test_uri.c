/* mfa_otpauth_uri: parse, inspect, generate, round trip, every error. */
#include "mfa_test.h"

static int sentinel_storage;
#define SENTINEL_U ((mfa_otpauth_uri *)(void *)&sentinel_storage)

static const char EXAMPLE[] =
    "otpauth://totp/Contoso:helga%40contoso.com?secret=JBSWY3DPEHPK3PXP&issuer=Contoso&digits=8";
static const char CANONICAL[] =
    "otpauth://totp/Contoso:helga%40contoso.com?secret=JBSWY3DPEHPK3PXP&issuer=Contoso"
    "&algorithm=SHA1&digits=8&period=30";

TEST(parse_and_inspect_totp_uri) {
  mfa_otpauth_uri *u = NULL;
  CHECK_OK(mfa_otpauth_uri_parse(S(EXAMPLE), &u));
  mfa_otpauth_info info;
  memset(&info, 0xab, sizeof info);
  CHECK_OK(mfa_otpauth_uri_info(u, &info));
  CHECK_EQ_U(info.kind, MFA_OTP_KIND_TOTP);
  CHECK_EQ_U(info.algorithm, MFA_ALGORITHM_SHA1);
  CHECK_EQ_U(info.digits, 8);
  CHECK_EQ_U(info.period, 30);
  CHECK_EQ_U(info.counter, 0);
  CHECK(info.has_issuer);
  char buf[256];
  size_t n;
  CHECK_OK(mfa_otpauth_uri_issuer(u, buf, sizeof buf, &n));
  CHECK_STR(buf, "Contoso");
  CHECK_EQ_U(n, 7);
  CHECK_OK(mfa_otpauth_uri_account(u, buf, sizeof buf, &n));
  CHECK_STR(buf, "helga@contoso.com");
  CHECK_OK(mfa_otpauth_uri_to_string(u, buf, sizeof buf, &n));
  CHECK_STR(buf, CANONICAL);
  CHECK_EQ_U(n, strlen(CANONICAL));
  mfa_secret *s = NULL, *want = NULL;
  CHECK_OK(mfa_otpauth_uri_secret(u, &s));
  CHECK_OK(mfa_secret_from_base32(S("JBSWY3DPEHPK3PXP"), &want));
  CHECK(mfa_secret_equal(s, want));
  /* The TOTP token it describes generates what a token from the parts does. */
  mfa_totp *t = NULL, *t2 = NULL;
  CHECK_OK(mfa_otpauth_uri_to_totp(u, &t));
  CHECK_OK(mfa_totp_new(want, MFA_ALGORITHM_SHA1, 8, 30, 0, &t2));
  char a[10], b[10];
  CHECK_OK(mfa_totp_generate(t, 1700000000ULL, a, sizeof a, &n));
  CHECK_OK(mfa_totp_generate(t2, 1700000000ULL, b, sizeof b, &n));
  CHECK_STR(a, b);
  mfa_hotp *h = (mfa_hotp *)(void *)&sentinel_storage;
  mfa_hotp_state hs = {true, 5};
  CHECK_RC(mfa_otpauth_uri_to_hotp(u, &h, &hs), MFA_RESULT_URI_WRONG_KIND);
  CHECK(h == (mfa_hotp *)(void *)&sentinel_storage);
  CHECK_EQ_U(hs.last_counter, 5);
  mfa_totp_free(t);
  mfa_totp_free(t2);
  mfa_secret_free(s);
  mfa_secret_free(want);
  mfa_otpauth_uri_free(u);
}

TEST(parse_hotp_uri_gives_token_and_state) {
  mfa_otpauth_uri *u = NULL;
  CHECK_OK(mfa_otpauth_uri_parse(
      S("otpauth://hotp/alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&counter=42&algorithm=SHA256&digits=6"), &u));
  mfa_otpauth_info info;
  CHECK_OK(mfa_otpauth_uri_info(u, &info));
  CHECK_EQ_U(info.kind, MFA_OTP_KIND_HOTP);
  CHECK_EQ_U(info.algorithm, MFA_ALGORITHM_SHA256);
  CHECK_EQ_U(info.counter, 42);
  CHECK_EQ_U(info.period, 0);
  CHECK(!info.has_issuer);
  char buf[16];
  size_t n = 99;
  CHECK_RC(mfa_otpauth_uri_issuer(u, buf, sizeof buf, &n), MFA_RESULT_NOT_FOUND);
  CHECK_EQ_U(n, 99);
  mfa_hotp *h = NULL;
  mfa_hotp_state st = {false, 0};
  CHECK_OK(mfa_otpauth_uri_to_hotp(u, &h, &st));
  CHECK(st.has_last_counter);
  CHECK_EQ_U(st.last_counter, 41);
  mfa_totp *t = (mfa_totp *)(void *)&sentinel_storage;
  CHECK_RC(mfa_otpauth_uri_to_totp(u, &t), MFA_RESULT_URI_WRONG_KIND);
  CHECK(t == (mfa_totp *)(void *)&sentinel_storage);
  /* Code 42 verifies with the state from the URI; then it is used. */
  char code[10];
  CHECK_OK(mfa_hotp_generate(h, 42, code, sizeof code, &n));
  uint64_t counter = 0;
  CHECK_OK(mfa_hotp_verify(h, code, n, &st, 1, 10, &counter, &st));
  CHECK_EQ_U(counter, 42);
  CHECK_RC(mfa_hotp_verify(h, code, n, &st, 1, 10, &counter, &st), MFA_RESULT_CODE_REPLAYED);
  mfa_hotp_free(h);
  mfa_otpauth_uri_free(u);
}

TEST(generate_from_tokens_and_round_trip) {
  mfa_secret *s = NULL;
  CHECK_OK(mfa_secret_from_base32(S("JBSWY3DPEHPK3PXP"), &s));
  mfa_totp *t = NULL;
  CHECK_OK(mfa_totp_new(s, MFA_ALGORITHM_SHA512, 6, 60, 0, &t));
  mfa_otpauth_uri *u = NULL;
  CHECK_OK(mfa_otpauth_uri_from_totp(t, NULL, 0, S("alice smith"), &u));
  char buf[256];
  size_t n;
  CHECK_OK(mfa_otpauth_uri_to_string(u, buf, sizeof buf, &n));
  CHECK_STR(buf, "otpauth://totp/alice%20smith?secret=JBSWY3DPEHPK3PXP&algorithm=SHA512&digits=6&period=60");
  mfa_otpauth_uri *back = NULL;
  CHECK_OK(mfa_otpauth_uri_parse(buf, n, &back));
  char buf2[256];
  CHECK_OK(mfa_otpauth_uri_to_string(back, buf2, sizeof buf2, &n));
  CHECK_STR(buf2, buf);
  mfa_otpauth_uri_free(back);
  mfa_otpauth_uri_free(u);

  CHECK_OK(mfa_otpauth_uri_from_totp(t, S("Example Co"), S("bob@example.com"), &u));
  CHECK_OK(mfa_otpauth_uri_to_string(u, buf, sizeof buf, &n));
  CHECK_STR(buf, "otpauth://totp/Example%20Co:bob%40example.com?secret=JBSWY3DPEHPK3PXP"
                 "&issuer=Example%20Co&algorithm=SHA512&digits=6&period=60");
  mfa_otpauth_uri_free(u);

  mfa_hotp *h = NULL;
  CHECK_OK(mfa_hotp_new(s, MFA_ALGORITHM_SHA1, 6, &h));
  mfa_hotp_state st = {true, 9};
  CHECK_OK(mfa_otpauth_uri_from_hotp(h, &st, S("ACME"), S("carol"), &u));
  CHECK_OK(mfa_otpauth_uri_to_string(u, buf, sizeof buf, &n));
  CHECK_STR(buf, "otpauth://hotp/ACME:carol?secret=JBSWY3DPEHPK3PXP&issuer=ACME&algorithm=SHA1&digits=6&counter=10");
  mfa_otpauth_uri_free(u);

  /* Errors of the generators. */
  u = SENTINEL_U;
  CHECK_RC(mfa_otpauth_uri_from_totp(t, NULL, 0, S(""), &u), MFA_RESULT_URI_MISSING_LABEL);
  CHECK_RC(mfa_otpauth_uri_from_totp(t, NULL, 0, NULL, 3, &u), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_otpauth_uri_from_totp(NULL, NULL, 0, S("a"), &u), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_otpauth_uri_from_totp(t, NULL, 0, S("a"), NULL), MFA_RESULT_NULL_PARAMETER);
  const char bad[] = {'a', (char)0xff};
  CHECK_RC(mfa_otpauth_uri_from_totp(t, bad, sizeof bad, S("a"), &u), MFA_RESULT_INVALID_UTF8);
  CHECK_RC(mfa_otpauth_uri_from_totp(t, NULL, 0, bad, sizeof bad, &u), MFA_RESULT_INVALID_UTF8);
  CHECK_RC(mfa_otpauth_uri_from_hotp(h, &st, NULL, 0, S("  "), &u), MFA_RESULT_URI_MISSING_LABEL);
  mfa_hotp_state bad_flag = {2, 9};
  CHECK_RC(mfa_otpauth_uri_from_hotp(h, &bad_flag, NULL, 0, S("a"), &u), MFA_RESULT_INVALID_FLAG);
  CHECK_RC(mfa_otpauth_uri_from_hotp(NULL, &st, NULL, 0, S("a"), &u), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_otpauth_uri_from_hotp(h, NULL, NULL, 0, S("a"), &u), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_otpauth_uri_from_hotp(h, &st, NULL, 0, NULL, 1, &u), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_otpauth_uri_from_hotp(h, &st, NULL, 0, S("a"), NULL), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_otpauth_uri_from_hotp(h, &st, bad, sizeof bad, S("a"), &u), MFA_RESULT_INVALID_UTF8);
  CHECK(u == SENTINEL_U);
  mfa_hotp_free(h);
  mfa_totp_free(t);
  mfa_secret_free(s);
}

TEST(parse_errors_name_the_problem) {
  struct {
    const char *uri;
    mfa_result want;
  } cases[] = {
      {"http://totp/a?secret=JBSWY3DPEHPK3PXP", MFA_RESULT_URI_SCHEME},
      {"otpauth://motp/a?secret=JBSWY3DPEHPK3PXP", MFA_RESULT_URI_TYPE},
      {"otpauth://totp/?secret=JBSWY3DPEHPK3PXP", MFA_RESULT_URI_MISSING_LABEL},
      {"otpauth://totp", MFA_RESULT_URI_MISSING_LABEL},
      {"otpauth://totp/a?digits=6", MFA_RESULT_URI_MISSING_PARAMETER},
      {"otpauth://hotp/a?secret=JBSWY3DPEHPK3PXP", MFA_RESULT_URI_MISSING_PARAMETER},
      {"otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&secret=JBSWY3DPEHPK3PXP", MFA_RESULT_URI_DUPLICATE_PARAMETER},
      {"otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&digits=5", MFA_RESULT_URI_INVALID_PARAMETER},
      {"otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&period=0", MFA_RESULT_URI_INVALID_PARAMETER},
      {"otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&algorithm=MD5", MFA_RESULT_URI_INVALID_PARAMETER},
      {"otpauth://totp/a%FF?secret=JBSWY3DPEHPK3PXP", MFA_RESULT_URI_ENCODING},
      /* An issuer parameter that differs from the label's prefix is no
         longer refused: the parameter wins, with a warning (issue 12). */
      {"otpauth://totp/a?secret=1234567abcdef1234567abcdef", MFA_RESULT_URI_INVALID_SECRET},
      {"otpauth://totp/a?secret=JBSWY3DP", MFA_RESULT_URI_INVALID_SECRET},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    mfa_otpauth_uri *u = SENTINEL_U;
    mfa_result rc = mfa_otpauth_uri_parse(cases[i].uri, strlen(cases[i].uri), &u);
    if (rc != cases[i].want) {
      MT_FAIL("parse(%s) returned %u (%s), expected %u", cases[i].uri, (unsigned)rc,
              mfa_result_message(rc), (unsigned)cases[i].want);
    }
    CHECK(u == SENTINEL_U);
  }
  mfa_otpauth_uri *u = SENTINEL_U;
  static char long_uri[5000];
  memset(long_uri, 'a', sizeof long_uri);
  memcpy(long_uri, "otpauth://totp/", 15);
  CHECK_RC(mfa_otpauth_uri_parse(long_uri, sizeof long_uri, &u), MFA_RESULT_URI_INVALID_PARAMETER);
  const char bad[] = {'o', 't', 'p', (char)0xc0};
  CHECK_RC(mfa_otpauth_uri_parse(bad, sizeof bad, &u), MFA_RESULT_INVALID_UTF8);
  CHECK_RC(mfa_otpauth_uri_parse(NULL, 10, &u), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_otpauth_uri_parse(S(EXAMPLE), NULL), MFA_RESULT_NULL_PARAMETER);
  CHECK(u == SENTINEL_U);
}

TEST(accessors_check_buffers_and_pointers) {
  mfa_otpauth_uri *u = NULL;
  CHECK_OK(mfa_otpauth_uri_parse(S(EXAMPLE), &u));
  char buf[256];
  size_t n = 0;
  memset(buf, 'x', sizeof buf);
  CHECK_RC(mfa_otpauth_uri_to_string(u, buf, 10, &n), MFA_RESULT_BUFFER_TOO_SMALL);
  CHECK_EQ_U(n, strlen(CANONICAL));
  CHECK(buf[0] == 'x');
  CHECK_RC(mfa_otpauth_uri_to_string(u, NULL, 0, &n), MFA_RESULT_BUFFER_TOO_SMALL);
  CHECK_RC(mfa_otpauth_uri_to_string(u, buf, strlen(CANONICAL), &n), MFA_RESULT_BUFFER_TOO_SMALL);
  CHECK(buf[0] == 'x');
  CHECK_RC(mfa_otpauth_uri_issuer(u, buf, 7, &n), MFA_RESULT_BUFFER_TOO_SMALL);
  CHECK_EQ_U(n, 7);
  CHECK_RC(mfa_otpauth_uri_account(u, buf, 5, &n), MFA_RESULT_BUFFER_TOO_SMALL);
  CHECK_EQ_U(n, 17);
  CHECK(buf[0] == 'x');
  CHECK_RC(mfa_otpauth_uri_to_string(NULL, buf, sizeof buf, &n), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_otpauth_uri_to_string(u, NULL, 5, &n), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_otpauth_uri_to_string(u, buf, sizeof buf, NULL), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_otpauth_uri_issuer(NULL, buf, sizeof buf, &n), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_otpauth_uri_issuer(u, NULL, 5, &n), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_otpauth_uri_issuer(u, buf, sizeof buf, NULL), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_otpauth_uri_account(NULL, buf, sizeof buf, &n), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_otpauth_uri_account(u, NULL, 5, &n), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_otpauth_uri_account(u, buf, sizeof buf, NULL), MFA_RESULT_NULL_PARAMETER);
  mfa_otpauth_info info = {0, 0, 0, 0, 0, false};
  CHECK_RC(mfa_otpauth_uri_info(NULL, &info), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_otpauth_uri_info(u, NULL), MFA_RESULT_NULL_PARAMETER);
  CHECK_EQ_U(info.kind, 0);
  mfa_secret *s = (mfa_secret *)(void *)&sentinel_storage;
  CHECK_RC(mfa_otpauth_uri_secret(NULL, &s), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_otpauth_uri_secret(u, NULL), MFA_RESULT_NULL_PARAMETER);
  CHECK(s == (mfa_secret *)(void *)&sentinel_storage);
  mfa_totp *t = NULL;
  CHECK_RC(mfa_otpauth_uri_to_totp(NULL, &t), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_otpauth_uri_to_totp(u, NULL), MFA_RESULT_NULL_PARAMETER);
  mfa_hotp *h = NULL;
  mfa_hotp_state st;
  CHECK_RC(mfa_otpauth_uri_to_hotp(NULL, &h, &st), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_otpauth_uri_to_hotp(u, NULL, &st), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_otpauth_uri_to_hotp(u, &h, NULL), MFA_RESULT_NULL_PARAMETER);
  CHECK(t == NULL && h == NULL);
  mfa_otpauth_uri_free(u);
  mfa_otpauth_uri_free(NULL);
}

int main(void) {
  RUN(parse_and_inspect_totp_uri);
  RUN(parse_hotp_uri_gives_token_and_state);
  RUN(generate_from_tokens_and_round_trip);
  RUN(parse_errors_name_the_problem);
  RUN(accessors_check_buffers_and_pointers);
  TEST_MAIN_END();
}
