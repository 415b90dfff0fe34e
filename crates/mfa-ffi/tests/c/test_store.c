/* The store through the C ABI: open an embedded SQLite store with a master
 * key, import, assign, activate, verify (denials as distinct codes:
 * not activated, replayed, locked, blocked by fraud), unblock, report. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <unistd.h>

#include "mfa_test.h"

static const uint64_t T = 1700000000ULL;
static const uint8_t KEY[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                                17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
static const char B32[] = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
static char url[1200];

static void make_url(const char *name) {
  const char *dir = getenv("MFA_TEST_TMPDIR");
  snprintf(url, sizeof url, "sqlite:%s/%s-%ld.db", dir ? dir : "/tmp", name, (long)getpid());
}

static mfa_store *open_store(void) {
  mfa_store *s = NULL;
  mfa_result rc = mfa_store_open(url, strlen(url), KEY, sizeof KEY, 1, S("radius-1"), S("192.0.2.1"), &s);
  if (rc != MFA_RESULT_OK) MT_FAIL("mfa_store_open(%s): %s", url, mfa_result_message(rc));
  return s;
}

/* The code the shared test secret shows at `now`. */
static void code_at(uint64_t now, char code[10]) {
  mfa_secret *sec = NULL;
  mfa_totp *t = NULL;
  size_t n;
  code[0] = 0;
  if (mfa_secret_from_base32(B32, strlen(B32), &sec) == MFA_RESULT_OK &&
      mfa_totp_new(sec, MFA_ALGORITHM_SHA1, 6, 30, 0, &t) == MFA_RESULT_OK) {
    mfa_totp_generate(t, now, code, 10, &n);
  }
  mfa_totp_free(t);
  mfa_secret_free(sec);
}

static mfa_result import_csv(mfa_store *s, uint32_t format, const char *csv, uint32_t mode,
                             mfa_store_import_result *out) {
  mfa_import *imp = NULL;
  mfa_result rc = mfa_import_new(format, (const uint8_t *)csv, strlen(csv), NULL, 0, NULL, 0, &imp);
  if (rc == MFA_RESULT_OK) rc = mfa_store_import(s, imp, mode, T, out);
  mfa_import_free(imp);
  return rc;
}

static mfa_result verify(mfa_store *s, const char *user, const char *code, uint64_t now, uint64_t *step) {
  return mfa_store_verify(s, user, strlen(user), code, strlen(code), S("198.51.100.7"), now, step);
}

TEST(open_errors) {
  make_url("open");
  mfa_store *s = (mfa_store *)(void *)&url;
  CHECK_RC(mfa_store_open(S("mysql://db/x"), KEY, sizeof KEY, 1, S("r"), S("192.0.2.1"), &s), MFA_RESULT_STORE_URL);
  CHECK_RC(mfa_store_open(url, strlen(url), KEY, 16, 1, S("r"), S("192.0.2.1"), &s), MFA_RESULT_MASTER_KEY_LENGTH);
  CHECK_RC(mfa_store_open(url, strlen(url), KEY, sizeof KEY, 1, S("r"), S("not an ip"), &s), MFA_RESULT_INVALID_PARAMETER);
  CHECK_RC(mfa_store_open(url, strlen(url), KEY, sizeof KEY, 1, S(""), S("192.0.2.1"), &s), MFA_RESULT_INVALID_PARAMETER);
  CHECK_RC(mfa_store_open(NULL, 3, KEY, sizeof KEY, 1, S("r"), S("192.0.2.1"), &s), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_store_open(url, strlen(url), NULL, 32, 1, S("r"), S("192.0.2.1"), &s), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_store_open(url, strlen(url), KEY, sizeof KEY, 1, NULL, 1, S("192.0.2.1"), &s), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_store_open(url, strlen(url), KEY, sizeof KEY, 1, S("r"), NULL, 3, &s), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_store_open(url, strlen(url), KEY, sizeof KEY, 1, S("r"), S("192.0.2.1"), NULL), MFA_RESULT_NULL_PARAMETER);
  const char bad[] = {'s', 'q', (char)0xff};
  CHECK_RC(mfa_store_open(bad, sizeof bad, KEY, sizeof KEY, 1, S("r"), S("192.0.2.1"), &s), MFA_RESULT_INVALID_UTF8);
  CHECK(s == (mfa_store *)(void *)&url);
  /* A file that is not a database. */
  const char *dir = getenv("MFA_TEST_TMPDIR");
  char path[1100];
  snprintf(path, sizeof path, "%s/garbage-%ld.db", dir ? dir : "/tmp", (long)getpid());
  FILE *f = fopen(path, "wb");
  CHECK(f != NULL);
  if (f) {
    for (int i = 0; i < 200; i++) fputs("this is not an SQLite database ", f);
    fclose(f);
  }
  char gurl[1200];
  snprintf(gurl, sizeof gurl, "sqlite:%s", path);
  CHECK_RC(mfa_store_open(gurl, strlen(gurl), KEY, sizeof KEY, 1, S("r"), S("192.0.2.1"), &s), MFA_RESULT_STORE_NOT_A_DATABASE);
  /* Created with one key, reopened with another: refused. */
  mfa_store *ok = open_store();
  CHECK(ok != NULL);
  mfa_store_free(ok);
  uint8_t other[32];
  memcpy(other, KEY, sizeof other);
  other[0] ^= 0xff;
  CHECK_RC(mfa_store_open(url, strlen(url), other, sizeof other, 1, S("r"), S("192.0.2.1"), &s), MFA_RESULT_WRONG_MASTER_KEY);
  CHECK_RC(mfa_store_open(url, strlen(url), other, sizeof other, 2, S("r"), S("192.0.2.1"), &s), MFA_RESULT_WRONG_MASTER_KEY);
  CHECK(s == (mfa_store *)(void *)&url);
  mfa_store_free(NULL);
}

TEST(import_activate_verify_replay) {
  make_url("flow");
  mfa_store *s = open_store();
  mfa_store_import_result r = {0, 0};
  char csv[512];
  snprintf(csv, sizeof csv,
           "upn,serial number,secret key,time interval,manufacturer,model\n"
           "helga@contoso.com,1234567,%s,30,Contoso,HardwareKey\n", B32);
  CHECK_OK(import_csv(s, MFA_IMPORT_FORMAT_CSV_CLOUD, csv, MFA_STORE_IMPORT_MODE_ALL_OR_NOTHING, &r));
  CHECK_EQ_U(r.imported, 1);
  CHECK_EQ_U(r.refused, 0);
  /* The same serial again: refused whole, or skipped. */
  mfa_store_import_result keep = {77, 77};
  CHECK_RC(import_csv(s, MFA_IMPORT_FORMAT_CSV_CLOUD, csv, MFA_STORE_IMPORT_MODE_ALL_OR_NOTHING, &keep),
           MFA_RESULT_IMPORT_REFUSED);
  CHECK_EQ_U(keep.imported, 77);
  CHECK_OK(import_csv(s, MFA_IMPORT_FORMAT_CSV_CLOUD, csv, MFA_STORE_IMPORT_MODE_ACCEPTED_ONLY, &r));
  CHECK_EQ_U(r.imported, 0);
  CHECK_EQ_U(r.refused, 1);

  mfa_store_token_info info;
  CHECK_OK(mfa_store_token_info_get(s, S("1234567"), &info));
  CHECK_EQ_U(info.kind, MFA_OTP_KIND_TOTP);
  CHECK(info.assigned);
  CHECK(!info.active);
  CHECK_RC(mfa_store_token_info_get(s, S("nope"), &info), MFA_RESULT_UNKNOWN_TOKEN);

  char code[10];
  uint64_t step = 0;
  code_at(T, code);
  /* Not activated yet: the reference's "not for an activated account". */
  CHECK_RC(verify(s, "helga@contoso.com", code, T, &step), MFA_RESULT_NOT_ACTIVATED);
  CHECK_RC(mfa_store_activate(s, S("1234567"), S("12345"), T, &step), MFA_RESULT_CODE_MALFORMED);
  CHECK_OK(mfa_store_activate(s, S("1234567"), code, strlen(code), T, &step));
  CHECK_EQ_U(step, T / 30);
  CHECK_OK(mfa_store_token_info_get(s, S("1234567"), &info));
  CHECK(info.active);
  CHECK(info.has_last_step);
  CHECK_EQ_U(info.last_step, T / 30);
  /* The activation code cannot sign in: it is used. */
  CHECK_RC(verify(s, "helga@contoso.com", code, T, &step), MFA_RESULT_CODE_REPLAYED);
  code_at(T + 30, code);
  step = 0;
  CHECK_OK(verify(s, "helga@contoso.com", code, T + 30, &step));
  CHECK_EQ_U(step, T / 30 + 1);
  CHECK_RC(verify(s, "helga@contoso.com", code, T + 31, &step), MFA_RESULT_CODE_REPLAYED);
  CHECK_RC(verify(s, "helga@contoso.com", "12345", T + 31, &step), MFA_RESULT_CODE_MALFORMED);
  CHECK_RC(verify(s, "nobody@contoso.com", code, T + 31, &step), MFA_RESULT_UNKNOWN_USER);
  CHECK_RC(mfa_store_activate(s, S("nope"), code, strlen(code), T, &step), MFA_RESULT_UNKNOWN_TOKEN);
  mfa_store_free(s);
}

TEST(lockout_and_fraud_denials_and_unblocks) {
  make_url("deny");
  mfa_store *s = open_store();
  mfa_store_import_result r;
  char csv[512];
  snprintf(csv, sizeof csv, "upn,serial number,secret key,time interval,manufacturer,model\n"
                            "erik@contoso.com,2000001,%s,30,Contoso,HardwareKey\n", B32);
  CHECK_OK(import_csv(s, MFA_IMPORT_FORMAT_CSV_CLOUD, csv, MFA_STORE_IMPORT_MODE_ALL_OR_NOTHING, &r));
  char code[10];
  uint64_t step;
  code_at(T, code);
  CHECK_OK(mfa_store_activate(s, S("2000001"), code, strlen(code), T, &step));
  /* Wrong codes until the account locks. */
  mfa_result rc = MFA_RESULT_OK;
  int tries = 0;
  for (; tries < 50; tries++) {
    rc = verify(s, "erik@contoso.com", "000000", T + 60 + (uint64_t)tries, &step);
    if (rc != MFA_RESULT_CODE_NOT_IN_WINDOW) break;
  }
  CHECK_RC(rc, MFA_RESULT_LOCKED);
  CHECK(tries > 0);
  /* Locked: even the right code is denied. */
  code_at(T + 120, code);
  CHECK_RC(verify(s, "erik@contoso.com", code, T + 120, &step), MFA_RESULT_LOCKED);
  CHECK_RC(mfa_store_lockout_unblock(s, S("erik@contoso.com"), MFA_FACTOR_CLASS_OTP, S("admin"), S(""), T + 121),
           MFA_RESULT_REASON_EMPTY);
  CHECK_RC(mfa_store_lockout_unblock(s, S("erik@contoso.com"), 0, S("admin"), S("ok"), T + 121),
           MFA_RESULT_INVALID_PARAMETER);
  CHECK_RC(mfa_store_lockout_unblock(s, S("ghost@contoso.com"), MFA_FACTOR_CLASS_OTP, S("admin"), S("ok"), T + 121),
           MFA_RESULT_UNKNOWN_USER);
  CHECK_OK(mfa_store_lockout_unblock(s, S("erik@contoso.com"), MFA_FACTOR_CLASS_OTP, S("admin"), S("called the user"), T + 121));
  CHECK_RC(mfa_store_lockout_unblock(s, S("erik@contoso.com"), MFA_FACTOR_CLASS_OTP, S("admin"), S("again"), T + 122),
           MFA_RESULT_NOT_LOCKED);
  CHECK_OK(verify(s, "erik@contoso.com", code, T + 122, &step));
  /* A fraud report blocks the user... */
  CHECK_RC(mfa_store_report_fraud(s, S("erik@contoso.com"), 9, false, T + 130), MFA_RESULT_INVALID_PARAMETER);
  CHECK_OK(mfa_store_report_fraud(s, S("erik@contoso.com"), MFA_FRAUD_CHANNEL_APP, false, T + 130));
  code_at(T + 150, code);
  CHECK_RC(verify(s, "erik@contoso.com", code, T + 150, &step), MFA_RESULT_BLOCKED_BY_FRAUD);
  /* ...an administrator lifts the block; the high risk still denies. */
  CHECK_OK(mfa_store_fraud_unblock(s, S("erik@contoso.com"), S("admin"), S("user confirmed"), T + 160));
  CHECK_RC(mfa_store_fraud_unblock(s, S("erik@contoso.com"), S("admin"), S("again"), T + 161), MFA_RESULT_NOT_BLOCKED);
  CHECK_RC(mfa_store_fraud_unblock(s, S("erik@contoso.com"), S("admin"), S(""), T + 161), MFA_RESULT_REASON_EMPTY);
  code_at(T + 180, code);
  CHECK_RC(verify(s, "erik@contoso.com", code, T + 180, &step), MFA_RESULT_HIGH_RISK);
  mfa_store_free(s);
}

TEST(assignment_rules) {
  make_url("assign");
  mfa_store *s = open_store();
  mfa_store_import_result r;
  char csv[1024];
  snprintf(csv, sizeof csv, "100,%s,30\n101,%s,30\n102,%s,30\n103,%s,30\n104,%s,30\n105,%s,30\n",
           B32, B32, B32, B32, B32, B32);
  CHECK_OK(import_csv(s, MFA_IMPORT_FORMAT_CSV_SERVER, csv, MFA_STORE_IMPORT_MODE_ALL_OR_NOTHING, &r));
  CHECK_EQ_U(r.imported, 6);
  uint64_t step = 99;
  char code[10];
  code_at(T, code);
  CHECK_RC(mfa_store_activate(s, S("100"), code, strlen(code), T, &step), MFA_RESULT_TOKEN_NOT_ASSIGNED);
  CHECK_EQ_U(step, 99);
  const char *serials[5] = {"100", "101", "102", "103", "104"};
  for (int i = 0; i < 5; i++) CHECK_OK(mfa_store_assign(s, serials[i], 3, S("dave"), T));
  CHECK_OK(mfa_store_assign(s, S("100"), S("dave"), T)); /* again: nothing to do */
  CHECK_RC(mfa_store_assign(s, S("105"), S("dave"), T), MFA_RESULT_TOO_MANY_TOKENS);
  CHECK_RC(mfa_store_assign(s, S("100"), S("carol"), T), MFA_RESULT_TOKEN_ASSIGNED);
  CHECK_RC(mfa_store_assign(s, S("999"), S("carol"), T), MFA_RESULT_UNKNOWN_TOKEN);
  CHECK_RC(mfa_store_assign(s, S("105"), S(""), T), MFA_RESULT_FIELD_LENGTH);
  /* The store's one user-id rule (mfa-record's UserId): a control character
     is refused, so no user exists who could be given a token but never
     sign in. */
  CHECK_RC(mfa_store_assign(s, S("105"), S("eve\nadmin"), T), MFA_RESULT_INVALID_PARAMETER);
  CHECK_RC(mfa_store_assign(s, S("105"), S("eve\x7f"), T), MFA_RESULT_INVALID_PARAMETER);
  CHECK_OK(mfa_store_assign(s, S("105"), S("carol"), T));
  mfa_store_stats st;
  CHECK_OK(mfa_store_stats_get(s, &st));
  CHECK_EQ_U(st.tokens, 6);
  CHECK_EQ_U(st.users, 2);
  mfa_store_free(s);
}

TEST(reports_and_null_checks) {
  make_url("report");
  mfa_store *s = open_store();
  mfa_store_import_result r;
  char csv[512];
  snprintf(csv, sizeof csv, "upn,serial number,secret key,time interval,manufacturer,model\n"
                            "fay@contoso.com,3000001,%s,30,Contoso,HardwareKey\n", B32);
  CHECK_OK(import_csv(s, MFA_IMPORT_FORMAT_CSV_CLOUD, csv, MFA_STORE_IMPORT_MODE_ALL_OR_NOTHING, &r));
  char code[10];
  uint64_t step;
  code_at(T, code);
  CHECK_RC(verify(s, "fay@contoso.com", code, T, &step), MFA_RESULT_NOT_ACTIVATED);
  CHECK_OK(mfa_store_activate(s, S("3000001"), code, strlen(code), T, &step));
  code_at(T + 30, code);
  CHECK_OK(verify(s, "fay@contoso.com", code, T + 30, &step));
  mfa_store_stats st;
  CHECK_OK(mfa_store_stats_get(s, &st));
  CHECK_EQ_U(st.auth_events, 2);
  CHECK(st.audit_entries > 0);
  size_t n = 0;
  CHECK_RC(mfa_store_auth_log_csv(s, T - 10, T + 100, NULL, 0, &n), MFA_RESULT_BUFFER_TOO_SMALL);
  CHECK(n > 0);
  char *buf = malloc(n + 1);
  CHECK_RC(mfa_store_auth_log_csv(s, T - 10, T + 100, buf, n, &n), MFA_RESULT_BUFFER_TOO_SMALL);
  CHECK_OK(mfa_store_auth_log_csv(s, T - 10, T + 100, buf, n + 1, &n));
  CHECK(strstr(buf, "fay@contoso.com") != NULL);
  CHECK(strstr(buf, "radius-1") != NULL);
  CHECK(strstr(buf, "198.51.100.7") != NULL);
  free(buf);
  CHECK_RC(mfa_store_auth_log_csv(s, T + 100, T, NULL, 0, &n), MFA_RESULT_INVALID_PARAMETER);

  /* NULL pointers, bad enum numbers, bad text. */
  mfa_import *imp = NULL;
  CHECK_OK(mfa_import_new(MFA_IMPORT_FORMAT_CSV_CLOUD, (const uint8_t *)csv, strlen(csv), NULL, 0, NULL, 0, &imp));
  CHECK_RC(mfa_store_import(NULL, imp, 1, T, &r), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_store_import(s, NULL, 1, T, &r), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_store_import(s, imp, 1, T, NULL), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_store_import(s, imp, 0, T, &r), MFA_RESULT_INVALID_PARAMETER);
  mfa_import_free(imp);
  CHECK_RC(mfa_store_assign(NULL, S("1"), S("u"), T), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_store_assign(s, NULL, 1, S("u"), T), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_store_assign(s, S("1"), NULL, 1, T), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_store_activate(NULL, S("1"), S("123456"), T, &step), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_store_activate(s, NULL, 1, S("123456"), T, &step), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_store_activate(s, S("1"), NULL, 6, T, &step), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_store_activate(s, S("1"), S("123456"), T, NULL), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_store_verify(NULL, S("u"), S("123456"), NULL, 0, T, &step), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_store_verify(s, NULL, 1, S("123456"), NULL, 0, T, &step), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_store_verify(s, S("u"), NULL, 6, NULL, 0, T, &step), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_store_verify(s, S("u"), S("123456"), NULL, 0, T, NULL), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_store_verify(s, S("fay@contoso.com"), S("123456"), S("999.1.1.1"), T, &step), MFA_RESULT_INVALID_PARAMETER);
  const char bad[] = {'u', (char)0xff};
  CHECK_RC(mfa_store_verify(s, bad, sizeof bad, S("123456"), NULL, 0, T, &step), MFA_RESULT_INVALID_UTF8);
  CHECK_RC(mfa_store_report_fraud(NULL, S("u"), 1, false, T), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_store_report_fraud(s, NULL, 1, 1, false, T), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_store_report_fraud(s, S("ghost@contoso.com"), 1, false, T), MFA_RESULT_UNKNOWN_USER);
  CHECK_RC(mfa_store_fraud_unblock(NULL, S("u"), S("a"), S("r"), T), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_store_fraud_unblock(s, NULL, 1, S("a"), S("r"), T), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_store_fraud_unblock(s, S("u"), NULL, 1, S("r"), T), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_store_fraud_unblock(s, S("u"), S("a"), NULL, 1, T), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_store_lockout_unblock(NULL, S("u"), 2, S("a"), S("r"), T), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_store_lockout_unblock(s, NULL, 1, 2, S("a"), S("r"), T), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_store_lockout_unblock(s, S("u"), 2, NULL, 1, S("r"), T), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_store_lockout_unblock(s, S("u"), 2, S("a"), NULL, 1, T), MFA_RESULT_NULL_PARAMETER);
  mfa_store_token_info info;
  CHECK_RC(mfa_store_token_info_get(NULL, S("1"), &info), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_store_token_info_get(s, NULL, 1, &info), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_store_token_info_get(s, S("1"), NULL), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_store_stats_get(NULL, &st), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_store_stats_get(s, NULL), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_store_auth_log_csv(NULL, 0, 1, NULL, 0, &n), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_store_auth_log_csv(s, 0, 1, NULL, 0, NULL), MFA_RESULT_NULL_PARAMETER);
  mfa_store_free(s);
}

TEST(one_time_codes_expire_and_are_used_once) {
  make_url("otc");
  mfa_store *s = open_store();
  /* The user exists once a token is imported for them. */
  mfa_store_import_result r;
  char csv[512];
  snprintf(csv, sizeof csv, "upn,serial number,secret key,time interval,manufacturer,model\n"
                            "ida@contoso.com,5000001,%s,30,Contoso,HardwareKey\n", B32);
  CHECK_OK(import_csv(s, MFA_IMPORT_FORMAT_CSV_CLOUD, csv, MFA_STORE_IMPORT_MODE_ALL_OR_NOTHING, &r));
  uint64_t expires = 0;
  CHECK_OK(mfa_store_create_code(s, S("ida@contoso.com"), MFA_CODE_CHANNEL_SMS, S("482913"), T, &expires));
  CHECK_EQ_U(expires, T + 300);
  /* Past its lifetime: the reference's "code expired". */
  CHECK_RC(mfa_store_verify_code(s, S("ida@contoso.com"), MFA_CODE_CHANNEL_SMS, S("482913"), NULL, 0, T + 301),
           MFA_RESULT_CODE_EXPIRED);
  CHECK_OK(mfa_store_create_code(s, S("ida@contoso.com"), MFA_CODE_CHANNEL_SMS, S("771204"), T + 400, &expires));
  CHECK_RC(mfa_store_verify_code(s, S("ida@contoso.com"), MFA_CODE_CHANNEL_VOICE, S("771204"), NULL, 0, T + 410),
           MFA_RESULT_CODE_NOT_IN_WINDOW);
  CHECK_OK(mfa_store_verify_code(s, S("ida@contoso.com"), MFA_CODE_CHANNEL_SMS, S("771204"), S("203.0.113.5"), T + 410));
  CHECK_RC(mfa_store_verify_code(s, S("ida@contoso.com"), MFA_CODE_CHANNEL_SMS, S("771204"), NULL, 0, T + 411),
           MFA_RESULT_CODE_REPLAYED);
  /* Arguments. */
  expires = 5;
  CHECK_RC(mfa_store_create_code(s, S("ida@contoso.com"), 0, S("1"), T, &expires), MFA_RESULT_INVALID_PARAMETER);
  CHECK_RC(mfa_store_create_code(s, S("ida@contoso.com"), 1, S(""), T, &expires), MFA_RESULT_FIELD_LENGTH);
  CHECK_RC(mfa_store_create_code(NULL, S("u"), 1, S("1"), T, &expires), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_store_create_code(s, NULL, 1, 1, S("1"), T, &expires), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_store_create_code(s, S("u"), 1, NULL, 1, T, &expires), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_store_create_code(s, S("u"), 1, S("1"), T, NULL), MFA_RESULT_NULL_PARAMETER);
  CHECK_EQ_U(expires, 5);
  CHECK_RC(mfa_store_verify_code(s, S("u"), 3, S("1"), NULL, 0, T), MFA_RESULT_INVALID_PARAMETER);
  CHECK_RC(mfa_store_verify_code(s, S("u"), 1, S("1"), S("bad ip"), T), MFA_RESULT_INVALID_PARAMETER);
  CHECK_RC(mfa_store_verify_code(NULL, S("u"), 1, S("1"), NULL, 0, T), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_store_verify_code(s, NULL, 1, 1, S("1"), NULL, 0, T), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_store_verify_code(s, S("u"), 1, NULL, 1, NULL, 0, T), MFA_RESULT_NULL_PARAMETER);
  mfa_store_free(s);
}

TEST(resync_learns_the_drift) {
  make_url("resync");
  mfa_store *s = open_store();
  mfa_store_import_result r;
  char csv[512];
  snprintf(csv, sizeof csv, "upn,serial number,secret key,time interval,manufacturer,model\n"
                            "jo@contoso.com,7000001,%s,30,Contoso,HardwareKey\n", B32);
  CHECK_OK(import_csv(s, MFA_IMPORT_FORMAT_CSV_CLOUD, csv, MFA_STORE_IMPORT_MODE_ALL_OR_NOTHING, &r));
  char code[10];
  uint64_t step;
  code_at(T, code);
  CHECK_OK(mfa_store_activate(s, S("7000001"), code, strlen(code), T, &step));
  /* The token's clock runs 10 steps (5 minutes) ahead. */
  const uint64_t now = T + 3000;
  char a[10], b[10], c[10];
  code_at(now + 9 * 30, a);
  code_at(now + 10 * 30, b);
  code_at(now + 11 * 30, c);
  CHECK_RC(verify(s, "jo@contoso.com", c, now + 30, &step), MFA_RESULT_CODE_NOT_IN_WINDOW);
  const char *codes[2] = {a, b};
  size_t lens[2] = {strlen(a), strlen(b)};
  step = 0;
  CHECK_RC(mfa_store_resync(s, S("7000001"), codes, lens, 2, 5, now, &step), MFA_RESULT_RESYNC_FAILED);
  CHECK_RC(mfa_store_resync(s, S("7000001"), codes, lens, 1, 50, now, &step), MFA_RESULT_RESYNC_CODE_COUNT);
  CHECK_RC(mfa_store_resync(s, S("7000001"), codes, lens, 2, 100001, now, &step), MFA_RESULT_WINDOW_TOO_LARGE);
  CHECK_RC(mfa_store_resync(s, S("nope"), codes, lens, 2, 50, now, &step), MFA_RESULT_UNKNOWN_TOKEN);
  CHECK_RC(mfa_store_resync(NULL, S("7000001"), codes, lens, 2, 50, now, &step), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_store_resync(s, NULL, 1, codes, lens, 2, 50, now, &step), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_store_resync(s, S("7000001"), NULL, lens, 2, 50, now, &step), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_store_resync(s, S("7000001"), codes, NULL, 2, 50, now, &step), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_store_resync(s, S("7000001"), codes, lens, 2, 50, now, NULL), MFA_RESULT_NULL_PARAMETER);
  CHECK_EQ_U(step, 0);
  CHECK_OK(mfa_store_resync(s, S("7000001"), codes, lens, 2, 50, now, &step));
  CHECK_EQ_U(step, now / 30 + 10);
  mfa_store_token_info info;
  CHECK_OK(mfa_store_token_info_get(s, S("7000001"), &info));
  CHECK_EQ_U(info.drift, 10);
  /* With the learned drift the next code verifies in the normal window. */
  CHECK_OK(verify(s, "jo@contoso.com", c, now + 30, &step));
  CHECK_EQ_U(step, now / 30 + 11);
  mfa_store_free(s);
}

struct race {
  mfa_store *store;
  const char *code;
  mfa_result rc;
};

static void *race_verify(void *arg) {
  struct race *r = arg;
  uint64_t step;
  r->rc = verify(r->store, "gus@contoso.com", r->code, T + 60, &step);
  return NULL;
}

TEST(two_threads_one_code_one_approval) {
  make_url("race");
  mfa_store *s = open_store();
  mfa_store_import_result r;
  char csv[512];
  snprintf(csv, sizeof csv, "upn,serial number,secret key,time interval,manufacturer,model\n"
                            "gus@contoso.com,4000001,%s,30,Contoso,HardwareKey\n", B32);
  CHECK_OK(import_csv(s, MFA_IMPORT_FORMAT_CSV_CLOUD, csv, MFA_STORE_IMPORT_MODE_ALL_OR_NOTHING, &r));
  char code[10];
  uint64_t step;
  code_at(T, code);
  CHECK_OK(mfa_store_activate(s, S("4000001"), code, strlen(code), T, &step));
  code_at(T + 60, code);
  /* The same handle from two threads, the same code at the same time:
   * exactly one approval, the other is a replay. */
  struct race a = {s, code, MFA_RESULT_PANIC}, b = {s, code, MFA_RESULT_PANIC};
  pthread_t ta, tb;
  CHECK(pthread_create(&ta, NULL, race_verify, &a) == 0);
  CHECK(pthread_create(&tb, NULL, race_verify, &b) == 0);
  pthread_join(ta, NULL);
  pthread_join(tb, NULL);
  int approved = (a.rc == MFA_RESULT_OK) + (b.rc == MFA_RESULT_OK);
  int replayed = (a.rc == MFA_RESULT_CODE_REPLAYED) + (b.rc == MFA_RESULT_CODE_REPLAYED);
  if (approved != 1 || replayed != 1) {
    MT_FAIL("results %u (%s) and %u (%s)", (unsigned)a.rc, mfa_result_message(a.rc), (unsigned)b.rc,
            mfa_result_message(b.rc));
  }
  mfa_store_free(s);
}

/* The same flow on PostgreSQL, when .ci/tests.d/ffi-c.sh gives a fresh
 * schema (MFA_TEST_STORE_PG_URL, from MFA_TEST_POSTGRES_URL). */
TEST(postgres_backend) {
  const char *pg = getenv("MFA_TEST_STORE_PG_URL");
  if (pg == NULL || pg[0] == 0) {
    fprintf(stderr, "SKIPPED: postgres_backend: MFA_TEST_STORE_PG_URL is not set (no PostgreSQL)\n");
    return;
  }
  snprintf(url, sizeof url, "%s", pg);
  mfa_store *s = open_store();
  if (s == NULL) return;
  mfa_store_import_result r;
  char csv[512];
  snprintf(csv, sizeof csv, "upn,serial number,secret key,time interval,manufacturer,model\n"
                            "pg@contoso.com,6000001,%s,30,Contoso,HardwareKey\n", B32);
  CHECK_OK(import_csv(s, MFA_IMPORT_FORMAT_CSV_CLOUD, csv, MFA_STORE_IMPORT_MODE_ALL_OR_NOTHING, &r));
  CHECK_EQ_U(r.imported, 1);
  char code[10];
  uint64_t step;
  code_at(T, code);
  CHECK_RC(verify(s, "pg@contoso.com", code, T, &step), MFA_RESULT_NOT_ACTIVATED);
  CHECK_OK(mfa_store_activate(s, S("6000001"), code, strlen(code), T, &step));
  code_at(T + 30, code);
  CHECK_OK(verify(s, "pg@contoso.com", code, T + 30, &step));
  CHECK_RC(verify(s, "pg@contoso.com", code, T + 31, &step), MFA_RESULT_CODE_REPLAYED);
  mfa_store_stats st;
  CHECK_OK(mfa_store_stats_get(s, &st));
  CHECK_EQ_U(st.tokens, 1);
  mfa_store_free(s);
  /* Reopening with another key is refused on this backend too. */
  uint8_t other[32];
  memcpy(other, KEY, sizeof other);
  other[31] ^= 1;
  mfa_store *s2 = NULL;
  CHECK_RC(mfa_store_open(url, strlen(url), other, sizeof other, 1, S("r"), S("192.0.2.1"), &s2),
           MFA_RESULT_WRONG_MASTER_KEY);
}

/* RFC 6030 §5: a key is used only between its StartDate and ExpiryDate.
 * Outside them activation and sign-in give MFA_RESULT_KEY_OUTSIDE_VALIDITY. */
TEST(key_validity_period_is_enforced) {
  make_url("validity");
  mfa_store *s = open_store();
  static const char pskc[] =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<KeyContainer Version=\"1.0\" xmlns=\"urn:ietf:params:xml:ns:keyprov:pskc\">"
      "<KeyPackage><DeviceInfo><SerialNo>7000001</SerialNo></DeviceInfo>"
      "<Key Id=\"7000001\" Algorithm=\"urn:ietf:params:xml:ns:keyprov:pskc:totp\">"
      "<AlgorithmParameters><ResponseFormat Length=\"6\" Encoding=\"DECIMAL\"/></AlgorithmParameters>"
      "<Data><Secret><PlainValue>SGVsbG8h3q2+70hlbGxvId6tvu8=</PlainValue></Secret>"
      "<TimeInterval><PlainValue>30</PlainValue></TimeInterval></Data>"
      "<Policy><StartDate>2023-11-01T00:00:00Z</StartDate>"
      "<ExpiryDate>2023-12-01T00:00:00Z</ExpiryDate></Policy>"
      "</Key></KeyPackage></KeyContainer>\n";
  mfa_store_import_result r = {0, 0};
  CHECK_OK(import_csv(s, MFA_IMPORT_FORMAT_PSKC, pskc, MFA_STORE_IMPORT_MODE_ALL_OR_NOTHING, &r));
  CHECK_EQ_U(r.imported, 1);
  CHECK_OK(mfa_store_assign(s, S("7000001"), S("val@contoso.com"), T));
  const uint64_t late = 1704067200ULL; /* 2024-01-01, after ExpiryDate */
  const uint64_t early = 1696118400ULL; /* 2023-10-01, before StartDate */
  char code[10];
  uint64_t step = 0;
  code_at(late, code);
  CHECK_RC(mfa_store_activate(s, S("7000001"), code, strlen(code), late, &step),
           MFA_RESULT_KEY_OUTSIDE_VALIDITY);
  code_at(early, code);
  CHECK_RC(mfa_store_activate(s, S("7000001"), code, strlen(code), early, &step),
           MFA_RESULT_KEY_OUTSIDE_VALIDITY);
  code_at(T, code);
  CHECK_OK(mfa_store_activate(s, S("7000001"), code, strlen(code), T, &step));
  code_at(T + 30, code);
  CHECK_OK(verify(s, "val@contoso.com", code, T + 30, &step));
  code_at(late, code);
  CHECK_RC(verify(s, "val@contoso.com", code, late, &step), MFA_RESULT_KEY_OUTSIDE_VALIDITY);
  CHECK(strstr(mfa_result_message(MFA_RESULT_KEY_OUTSIDE_VALIDITY), "validity") != NULL);
  mfa_store_free(s);
}

int main(void) {
  RUN(open_errors);
  RUN(import_activate_verify_replay);
  RUN(lockout_and_fraud_denials_and_unblocks);
  RUN(assignment_rules);
  RUN(reports_and_null_checks);
  RUN(two_threads_one_code_one_approval);
  RUN(one_time_codes_expire_and_are_used_once);
  RUN(resync_learns_the_drift);
  RUN(key_validity_period_is_enforced);
  RUN(postgres_backend);
  TEST_MAIN_END();
}
