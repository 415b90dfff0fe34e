/* The store's one sign-in entry point through the C ABI
 * (mfa_store_authenticate) and the administration calls around it: a
 * challenge flow, app passwords with their own lockout, one-time codes the
 * store issues, trusted IP ranges, remembered devices, an administrator
 * block that beats a trusted IP, risk remediation, unassign, stored
 * settings (all or nothing), backup to a 0600 file and restore into a fresh
 * store. Secrets the store issues go into MFA_CREDENTIAL_MAX buffers that
 * are checked before anything is done. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mfa_test.h"

static const uint64_t T = 1700000000ULL;
static const uint8_t KEY[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                                17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
static const char B32[] = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
static const char CLIENT[] = "198.51.100.7";
static char url[1200];

static const char *tmpdir(void) {
  const char *dir = getenv("MFA_TEST_TMPDIR");
  return dir ? dir : "/tmp";
}

static void make_url(const char *name) {
  snprintf(url, sizeof url, "sqlite:%s/auth-%s-%ld.db", tmpdir(), name, (long)getpid());
}

static void make_path(char *path, size_t n, const char *name) {
  snprintf(path, n, "%s/auth-%s-%ld.bak", tmpdir(), name, (long)getpid());
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

/* Imports a TOTP token `serial` for `user` and activates it at T. */
static void enroll(mfa_store *s, const char *user, const char *serial) {
  char csv[512];
  snprintf(csv, sizeof csv,
           "upn,serial number,secret key,time interval,manufacturer,model\n"
           "%s,%s,%s,30,Contoso,HardwareKey\n", user, serial, B32);
  mfa_import *imp = NULL;
  mfa_store_import_result r;
  CHECK_OK(mfa_import_new(MFA_IMPORT_FORMAT_CSV_CLOUD, (const uint8_t *)csv, strlen(csv), NULL, 0, NULL, 0, &imp));
  CHECK_OK(mfa_store_import(s, imp, MFA_STORE_IMPORT_MODE_ALL_OR_NOTHING, T, &r));
  mfa_import_free(imp);
  char code[10];
  uint64_t step;
  code_at(T, code);
  CHECK_OK(mfa_store_activate(s, serial, strlen(serial), code, strlen(code), T, &step));
}

/* mfa_store_authenticate without a device token. */
static mfa_result auth(mfa_store *s, const char *user, uint32_t method, const char *secret, const char *ip,
                       uint64_t now, mfa_auth_outcome *out) {
  return mfa_store_authenticate(s, user, strlen(user), method, secret, secret ? strlen(secret) : 0, ip,
                                ip ? strlen(ip) : 0, NULL, 0, 0, now, out, NULL, 0);
}

static const mfa_auth_outcome UNTOUCHED = {77, 77, 77, 77, 77};

static int untouched(const mfa_auth_outcome *o) {
  return o->approved_by == 77 && o->oath_tokens == 77 && o->step == 77 && o->phone == 77 &&
         o->device_token_issued == 77;
}

TEST(challenge_flow_then_code_then_replay) {
  make_url("challenge");
  mfa_store *s = open_store();
  enroll(s, "ann@contoso.com", "8000001");
  mfa_auth_outcome o = UNTOUCHED;
  /* Nothing presented: a challenge, listing one OATH token and no phone. */
  CHECK_RC(auth(s, "ann@contoso.com", MFA_AUTH_METHOD_NOTHING, NULL, CLIENT, T + 30, &o),
           MFA_RESULT_SECOND_FACTOR_NEEDED);
  CHECK_EQ_U(o.approved_by, MFA_APPROVED_BY_NONE);
  CHECK_EQ_U(o.oath_tokens, 1);
  CHECK_EQ_U(o.phone, 0);
  CHECK_EQ_U(o.device_token_issued, 0);
  /* With a phone on record, the challenge offers codes too. */
  CHECK_OK(mfa_store_put_user(s, S("ann@contoso.com"), S("Ann"), S("Berg"), NULL, 0, S("+1 555 0100"), T));
  CHECK_RC(auth(s, "ann@contoso.com", MFA_AUTH_METHOD_NOTHING, "ignored", CLIENT, T + 30, &o),
           MFA_RESULT_SECOND_FACTOR_NEEDED);
  CHECK_EQ_U(o.phone, 1);
  /* The OATH code answers it. */
  char code[10];
  code_at(T + 30, code);
  o = UNTOUCHED;
  CHECK_OK(auth(s, "ann@contoso.com", MFA_AUTH_METHOD_OATH_CODE, code, CLIENT, T + 30, &o));
  CHECK_EQ_U(o.approved_by, MFA_APPROVED_BY_OATH_CODE);
  CHECK_EQ_U(o.step, T / 30 + 1);
  CHECK_EQ_U(o.device_token_issued, 0);
  /* The same code again is a replay, and a denial leaves *out alone. */
  o = UNTOUCHED;
  CHECK_RC(auth(s, "ann@contoso.com", MFA_AUTH_METHOD_OATH_CODE, code, CLIENT, T + 31, &o), MFA_RESULT_CODE_REPLAYED);
  CHECK(untouched(&o));
  /* ...and through the older entry point too (the same pipeline). */
  uint64_t step = 5;
  CHECK_RC(mfa_store_verify(s, S("ann@contoso.com"), code, strlen(code), NULL, 0, T + 31, &step),
           MFA_RESULT_CODE_REPLAYED);
  CHECK_EQ_U(step, 5);
  CHECK_RC(auth(s, "ann@contoso.com", MFA_AUTH_METHOD_OATH_CODE, "000000", NULL, T + 32, &o),
           MFA_RESULT_CODE_NOT_IN_WINDOW);
  CHECK_RC(auth(s, "nobody@contoso.com", MFA_AUTH_METHOD_NOTHING, NULL, NULL, T + 32, &o), MFA_RESULT_UNKNOWN_USER);
  CHECK(untouched(&o));
  /* Every decision is one log event: approval, replay (twice), wrong code, unknown user. */
  mfa_store_stats st;
  CHECK_OK(mfa_store_stats_get(s, &st));
  CHECK_EQ_U(st.auth_events, 5);
  mfa_store_free(s);
}

TEST(app_password_sign_in_lockout_and_delete) {
  make_url("apppw");
  mfa_store *s = open_store();
  enroll(s, "bo@contoso.com", "8000002");
  mfa_store_stats before, after;
  CHECK_OK(mfa_store_stats_get(s, &before));
  /* A buffer too small: refused before the store creates anything. */
  char small[MFA_CREDENTIAL_MAX - 1];
  memset(small, 'x', sizeof small);
  CHECK_RC(mfa_store_add_app_password(s, S("bo@contoso.com"), S("mail"), T, small, sizeof small),
           MFA_RESULT_BUFFER_TOO_SMALL);
  CHECK(small[0] == 'x');
  CHECK_OK(mfa_store_stats_get(s, &after));
  CHECK_EQ_U(after.audit_entries, before.audit_entries);
  char pw[MFA_CREDENTIAL_MAX];
  /* Nothing was created, so the same name is free. */
  CHECK_OK(mfa_store_add_app_password(s, S("bo@contoso.com"), S("mail"), T, pw, sizeof pw));
  CHECK_EQ_U(strlen(pw), 26);
  char pw2[MFA_CREDENTIAL_MAX];
  CHECK_RC(mfa_store_add_app_password(s, S("bo@contoso.com"), S("mail"), T, pw2, sizeof pw2),
           MFA_RESULT_APP_PASSWORD_EXISTS);
  CHECK_RC(mfa_store_add_app_password(s, S("ghost@contoso.com"), S("mail"), T, pw2, sizeof pw2),
           MFA_RESULT_UNKNOWN_USER);
  CHECK_RC(mfa_store_add_app_password(s, S("bo@contoso.com"), S(""), T, pw2, sizeof pw2), MFA_RESULT_FIELD_LENGTH);
  mfa_auth_outcome o = UNTOUCHED;
  CHECK_OK(auth(s, "bo@contoso.com", MFA_AUTH_METHOD_APP_PASSWORD, pw, CLIENT, T + 10, &o));
  CHECK_EQ_U(o.approved_by, MFA_APPROVED_BY_APP_PASSWORD);
  CHECK_EQ_U(o.step, 0);
  /* Wrong app passwords lock the app-password class... */
  mfa_result rc = MFA_RESULT_OK;
  int tries = 0;
  for (; tries < 50; tries++) {
    rc = auth(s, "bo@contoso.com", MFA_AUTH_METHOD_APP_PASSWORD, "wrongwrongwrongwrongwrongw", CLIENT,
              T + 20 + (uint64_t)tries, &o);
    if (rc != MFA_RESULT_CODE_NOT_IN_WINDOW) break;
  }
  CHECK_RC(rc, MFA_RESULT_LOCKED);
  CHECK(tries > 0);
  CHECK_RC(auth(s, "bo@contoso.com", MFA_AUTH_METHOD_APP_PASSWORD, pw, CLIENT, T + 80, &o), MFA_RESULT_LOCKED);
  /* ...not the OATH class, which is a class of its own. */
  char code[10];
  code_at(T + 90, code);
  CHECK_OK(auth(s, "bo@contoso.com", MFA_AUTH_METHOD_OATH_CODE, code, CLIENT, T + 90, &o));
  CHECK_OK(mfa_store_lockout_unblock(s, S("bo@contoso.com"), MFA_FACTOR_CLASS_APP_PASSWORD, S("admin"),
                                     S("user called"), T + 100));
  CHECK_OK(auth(s, "bo@contoso.com", MFA_AUTH_METHOD_APP_PASSWORD, pw, CLIENT, T + 101, &o));
  /* Deleted all at once: the password no longer signs in. */
  uint64_t deleted = 99;
  CHECK_OK(mfa_store_delete_app_passwords(s, S("bo@contoso.com"), S("admin"), S("phone lost"), T + 110, &deleted));
  CHECK_EQ_U(deleted, 1);
  CHECK_RC(auth(s, "bo@contoso.com", MFA_AUTH_METHOD_APP_PASSWORD, pw, CLIENT, T + 111, &o), MFA_RESULT_NOT_ACTIVATED);
  CHECK_RC(mfa_store_delete_app_passwords(s, S("ghost@contoso.com"), S("admin"), S("x"), T, &deleted),
           MFA_RESULT_UNKNOWN_USER);
  mfa_store_free(s);
}

TEST(one_time_codes_issued_by_the_store) {
  make_url("otc");
  mfa_store *s = open_store();
  CHECK_OK(mfa_store_put_user(s, S("cy@contoso.com"), NULL, 0, NULL, 0, NULL, 0, S("+44 20 7946 0000"), T));
  char code[MFA_CREDENTIAL_MAX];
  uint64_t expires = 0;
  uint8_t is_new = 9;
  /* A short buffer: refused before a code is made (the next call still issues a new one). */
  char small[8] = "xxxxxxx";
  CHECK_RC(mfa_store_issue_code(s, S("cy@contoso.com"), MFA_CODE_CHANNEL_SMS, 6, T, small, sizeof small, &expires,
                                &is_new),
           MFA_RESULT_BUFFER_TOO_SMALL);
  CHECK_EQ_U(is_new, 9);
  CHECK(small[0] == 'x');
  CHECK_OK(mfa_store_issue_code(s, S("cy@contoso.com"), MFA_CODE_CHANNEL_SMS, 6, T, code, sizeof code, &expires,
                                &is_new));
  CHECK_EQ_U(is_new, 1);
  CHECK_EQ_U(strlen(code), 6);
  CHECK_EQ_U(strspn(code, "0123456789"), 6);
  CHECK_EQ_U(expires, T + 300);
  /* Asked again while pending: nothing new to send. */
  char again[MFA_CREDENTIAL_MAX] = "stale";
  CHECK_OK(mfa_store_issue_code(s, S("cy@contoso.com"), MFA_CODE_CHANNEL_SMS, 6, T + 5, again, sizeof again,
                                &expires, &is_new));
  CHECK_EQ_U(is_new, 0);
  CHECK_STR(again, "");
  CHECK_EQ_U(expires, T + 300);
  mfa_auth_outcome o = UNTOUCHED;
  CHECK_RC(auth(s, "cy@contoso.com", MFA_AUTH_METHOD_VOICE_CODE, code, NULL, T + 10, &o),
           MFA_RESULT_CODE_NOT_IN_WINDOW);
  CHECK_OK(auth(s, "cy@contoso.com", MFA_AUTH_METHOD_SMS_CODE, code, NULL, T + 10, &o));
  CHECK_EQ_U(o.approved_by, MFA_APPROVED_BY_SMS_CODE);
  CHECK_RC(auth(s, "cy@contoso.com", MFA_AUTH_METHOD_SMS_CODE, code, NULL, T + 11, &o), MFA_RESULT_CODE_REPLAYED);
  /* A voice code of 9 digits. */
  CHECK_OK(mfa_store_issue_code(s, S("cy@contoso.com"), MFA_CODE_CHANNEL_VOICE, 9, T + 20, code, sizeof code,
                                &expires, &is_new));
  CHECK_EQ_U(strlen(code), 9);
  CHECK_OK(auth(s, "cy@contoso.com", MFA_AUTH_METHOD_VOICE_CODE, code, NULL, T + 21, &o));
  CHECK_EQ_U(o.approved_by, MFA_APPROVED_BY_VOICE_CODE);
  /* Arguments. */
  CHECK_RC(mfa_store_issue_code(s, S("cy@contoso.com"), MFA_CODE_CHANNEL_SMS, 5, T, code, sizeof code, &expires,
                                &is_new),
           MFA_RESULT_FIELD_LENGTH);
  CHECK_RC(mfa_store_issue_code(s, S("cy@contoso.com"), 3, 6, T, code, sizeof code, &expires, &is_new),
           MFA_RESULT_INVALID_PARAMETER);
  CHECK_RC(mfa_store_issue_code(s, S("ghost@contoso.com"), 1, 6, T, code, sizeof code, &expires, &is_new),
           MFA_RESULT_UNKNOWN_USER);
  CHECK_RC(mfa_store_issue_code(NULL, S("u"), 1, 6, T, code, sizeof code, &expires, &is_new),
           MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_store_issue_code(s, NULL, 1, 1, 6, T, code, sizeof code, &expires, &is_new),
           MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_store_issue_code(s, S("u"), 1, 6, T, NULL, sizeof code, &expires, &is_new), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_store_issue_code(s, S("u"), 1, 6, T, code, sizeof code, NULL, &is_new), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_store_issue_code(s, S("u"), 1, 6, T, code, sizeof code, &expires, NULL), MFA_RESULT_NULL_PARAMETER);
  const char bad[] = {'c', (char)0xc3};
  CHECK_RC(mfa_store_issue_code(s, bad, sizeof bad, 1, 6, T, code, sizeof code, &expires, &is_new),
           MFA_RESULT_INVALID_UTF8);
  mfa_store_free(s);
}

TEST(trusted_range_bypass_and_removal) {
  make_url("trusted");
  mfa_store *s = open_store();
  enroll(s, "di@contoso.com", "8000003");
  CHECK_OK(mfa_store_add_trusted_range(s, S("198.51.100.0/24"), S("root"), T));
  CHECK_OK(mfa_store_add_trusted_range(s, S("198.51.100.0/24"), S("root"), T)); /* again: nothing to do */
  CHECK_RC(mfa_store_add_trusted_range(s, S("198.51.100.0/33"), S("root"), T), MFA_RESULT_INVALID_PARAMETER);
  CHECK_RC(mfa_store_add_trusted_range(s, S("not a range"), S("root"), T), MFA_RESULT_INVALID_PARAMETER);
  mfa_auth_outcome o = UNTOUCHED;
  CHECK_OK(auth(s, "di@contoso.com", MFA_AUTH_METHOD_NOTHING, NULL, CLIENT, T + 30, &o));
  CHECK_EQ_U(o.approved_by, MFA_APPROVED_BY_TRUSTED_IP);
  CHECK_EQ_U(o.step, 0);
  CHECK_RC(auth(s, "di@contoso.com", MFA_AUTH_METHOD_NOTHING, NULL, "203.0.113.9", T + 30, &o),
           MFA_RESULT_SECOND_FACTOR_NEEDED);
  CHECK_RC(auth(s, "di@contoso.com", MFA_AUTH_METHOD_NOTHING, NULL, NULL, T + 30, &o), MFA_RESULT_SECOND_FACTOR_NEEDED);
  /* The older entry point decides the same way: the code is not looked at. */
  uint64_t step = 99;
  CHECK_OK(mfa_store_verify(s, S("di@contoso.com"), S("000000"), S(CLIENT), T + 30, &step));
  CHECK_EQ_U(step, 0);
  uint8_t removed = 9;
  CHECK_OK(mfa_store_remove_trusted_range(s, S("198.51.100.0/24"), S("root"), T, &removed));
  CHECK_EQ_U(removed, 1);
  CHECK_OK(mfa_store_remove_trusted_range(s, S("198.51.100.0/24"), S("root"), T, &removed));
  CHECK_EQ_U(removed, 0);
  removed = 9;
  CHECK_RC(mfa_store_remove_trusted_range(s, S("nope"), S("root"), T, &removed), MFA_RESULT_INVALID_PARAMETER);
  CHECK_EQ_U(removed, 9);
  CHECK_RC(auth(s, "di@contoso.com", MFA_AUTH_METHOD_NOTHING, NULL, CLIENT, T + 31, &o),
           MFA_RESULT_SECOND_FACTOR_NEEDED);
  mfa_store_free(s);
}

TEST(admin_block_beats_a_trusted_ip_and_risk_is_remediated) {
  make_url("block");
  mfa_store *s = open_store();
  enroll(s, "ed@contoso.com", "8000004");
  CHECK_OK(mfa_store_add_trusted_range(s, S("198.51.100.0/24"), S("root"), T));
  mfa_auth_outcome o = UNTOUCHED;
  CHECK_OK(auth(s, "ed@contoso.com", MFA_AUTH_METHOD_NOTHING, NULL, CLIENT, T + 30, &o));
  CHECK_RC(mfa_store_fraud_block(s, S("ed@contoso.com"), S("admin"), S(""), T + 40), MFA_RESULT_REASON_EMPTY);
  CHECK_OK(mfa_store_fraud_block(s, S("ed@contoso.com"), S("admin"), S("stolen laptop"), T + 40));
  CHECK_RC(mfa_store_fraud_block(s, S("ed@contoso.com"), S("admin"), S("again"), T + 41), MFA_RESULT_ALREADY_BLOCKED);
  CHECK_RC(mfa_store_fraud_block(s, S("ghost@contoso.com"), S("admin"), S("x"), T + 41), MFA_RESULT_UNKNOWN_USER);
  /* Blocked: the trusted IP does not help, nor does a right code. */
  o = UNTOUCHED;
  CHECK_RC(auth(s, "ed@contoso.com", MFA_AUTH_METHOD_NOTHING, NULL, CLIENT, T + 50, &o), MFA_RESULT_BLOCKED_BY_ADMIN);
  CHECK(untouched(&o));
  char code[10];
  code_at(T + 60, code);
  CHECK_RC(auth(s, "ed@contoso.com", MFA_AUTH_METHOD_OATH_CODE, code, CLIENT, T + 60, &o), MFA_RESULT_BLOCKED_BY_ADMIN);
  CHECK_OK(mfa_store_fraud_unblock(s, S("ed@contoso.com"), S("admin"), S("laptop found"), T + 70));
  CHECK_OK(auth(s, "ed@contoso.com", MFA_AUTH_METHOD_NOTHING, NULL, CLIENT, T + 71, &o));
  CHECK_EQ_U(o.approved_by, MFA_APPROVED_BY_TRUSTED_IP);
  /* A fraud report: blocked, then at risk after the unblock, until remediated. */
  CHECK_OK(mfa_store_report_fraud(s, S("ed@contoso.com"), MFA_FRAUD_CHANNEL_APP, 0, T + 80));
  CHECK_RC(auth(s, "ed@contoso.com", MFA_AUTH_METHOD_NOTHING, NULL, CLIENT, T + 81, &o), MFA_RESULT_BLOCKED_BY_FRAUD);
  CHECK_OK(mfa_store_fraud_unblock(s, S("ed@contoso.com"), S("admin"), S("confirmed"), T + 90));
  CHECK_RC(auth(s, "ed@contoso.com", MFA_AUTH_METHOD_NOTHING, NULL, CLIENT, T + 91, &o), MFA_RESULT_HIGH_RISK);
  CHECK_RC(mfa_store_remediate_risk(s, S("ed@contoso.com"), 0, S("admin"), T + 95), MFA_RESULT_INVALID_PARAMETER);
  CHECK_OK(mfa_store_remediate_risk(s, S("ed@contoso.com"), MFA_FRAUD_REMEDIATION_ADMIN_DISMISSAL, S("admin"), T + 95));
  CHECK_RC(mfa_store_remediate_risk(s, S("ed@contoso.com"), MFA_FRAUD_REMEDIATION_PASSWORD_RESET, S("admin"), T + 96),
           MFA_RESULT_NO_RISK);
  CHECK_RC(mfa_store_remediate_risk(s, S("ghost@contoso.com"), MFA_FRAUD_REMEDIATION_PASSWORD_RESET, S("admin"), T),
           MFA_RESULT_UNKNOWN_USER);
  CHECK_OK(auth(s, "ed@contoso.com", MFA_AUTH_METHOD_NOTHING, NULL, CLIENT, T + 97, &o));
  mfa_store_free(s);
}

TEST(remembered_device_issued_then_honoured_then_revoked) {
  make_url("device");
  mfa_store *s = open_store();
  enroll(s, "flo@contoso.com", "8000005");
  char token[MFA_CREDENTIAL_MAX];
  mfa_auth_outcome o = UNTOUCHED;
  char code[10];
  /* remember_device.days is 0 by default: an approval issues no token. */
  code_at(T + 30, code);
  memset(token, 'x', sizeof token);
  CHECK_OK(mfa_store_authenticate(s, S("flo@contoso.com"), MFA_AUTH_METHOD_OATH_CODE, code, strlen(code), S(CLIENT),
                                  NULL, 0, 1, T + 30, &o, token, sizeof token));
  CHECK_EQ_U(o.device_token_issued, 0);
  CHECK_STR(token, "");
  CHECK_OK(mfa_store_set_settings(s, S("# from the C test\nremember_device.days=30\n"), S("admin"), T + 40));
  /* A too-small buffer: refused before the code is looked at (it still works after). */
  code_at(T + 60, code);
  char small[26];
  o = UNTOUCHED;
  CHECK_RC(mfa_store_authenticate(s, S("flo@contoso.com"), MFA_AUTH_METHOD_OATH_CODE, code, strlen(code), S(CLIENT),
                                  NULL, 0, 1, T + 60, &o, small, sizeof small),
           MFA_RESULT_BUFFER_TOO_SMALL);
  CHECK_RC(mfa_store_authenticate(s, S("flo@contoso.com"), MFA_AUTH_METHOD_OATH_CODE, code, strlen(code), S(CLIENT),
                                  NULL, 0, 1, T + 60, &o, NULL, 0),
           MFA_RESULT_NULL_PARAMETER);
  CHECK(untouched(&o));
  CHECK_OK(mfa_store_authenticate(s, S("flo@contoso.com"), MFA_AUTH_METHOD_OATH_CODE, code, strlen(code), S(CLIENT),
                                  NULL, 0, 1, T + 60, &o, token, sizeof token));
  CHECK_EQ_U(o.approved_by, MFA_APPROVED_BY_OATH_CODE);
  CHECK_EQ_U(o.device_token_issued, 1);
  CHECK_EQ_U(strlen(token), 26);
  /* The device token alone signs in now... */
  o = UNTOUCHED;
  CHECK_OK(mfa_store_authenticate(s, S("flo@contoso.com"), MFA_AUTH_METHOD_NOTHING, NULL, 0, S(CLIENT), token,
                                  strlen(token), 0, T + 3600, &o, NULL, 0));
  CHECK_EQ_U(o.approved_by, MFA_APPROVED_BY_REMEMBERED_DEVICE);
  /* ...a different token does not, nor the same token for another user. */
  char other[MFA_CREDENTIAL_MAX];
  memcpy(other, token, sizeof other);
  other[0] = other[0] == 'a' ? 'b' : 'a';
  CHECK_RC(mfa_store_authenticate(s, S("flo@contoso.com"), MFA_AUTH_METHOD_NOTHING, NULL, 0, S(CLIENT), other,
                                  strlen(other), 0, T + 3600, &o, NULL, 0),
           MFA_RESULT_SECOND_FACTOR_NEEDED);
  enroll(s, "gil@contoso.com", "8000006");
  CHECK_RC(mfa_store_authenticate(s, S("gil@contoso.com"), MFA_AUTH_METHOD_NOTHING, NULL, 0, S(CLIENT), token,
                                  strlen(token), 0, T + 3600, &o, NULL, 0),
           MFA_RESULT_SECOND_FACTOR_NEEDED);
  /* After 30 days it is forgotten. */
  CHECK_RC(mfa_store_authenticate(s, S("flo@contoso.com"), MFA_AUTH_METHOD_NOTHING, NULL, 0, S(CLIENT), token,
                                  strlen(token), 0, T + 60 + 30 * 86400, &o, NULL, 0),
           MFA_RESULT_SECOND_FACTOR_NEEDED);
  /* Revoked: no longer honoured. */
  uint64_t revoked = 0;
  CHECK_OK(mfa_store_revoke_devices(s, S("flo@contoso.com"), S("admin"), T + 3700, &revoked));
  CHECK_EQ_U(revoked, 1);
  CHECK_RC(mfa_store_authenticate(s, S("flo@contoso.com"), MFA_AUTH_METHOD_NOTHING, NULL, 0, S(CLIENT), token,
                                  strlen(token), 0, T + 3800, &o, NULL, 0),
           MFA_RESULT_SECOND_FACTOR_NEEDED);
  CHECK_OK(mfa_store_revoke_devices(s, S("flo@contoso.com"), S("admin"), T + 3900, &revoked));
  CHECK_EQ_U(revoked, 0);
  mfa_store_free(s);
}

TEST(settings_are_all_or_nothing) {
  make_url("settings");
  mfa_store *s = open_store();
  enroll(s, "hal@contoso.com", "8000007");
  /* One bad line stores none: remember_device.days stays 0. */
  CHECK_RC(mfa_store_set_settings(s, S("remember_device.days=30\nno.such.setting=1\n"), S("admin"), T),
           MFA_RESULT_UNKNOWN_SETTING);
  CHECK_RC(mfa_store_set_settings(s, S("remember_device.days=30\nlockout.denials=0\n"), S("admin"), T),
           MFA_RESULT_INVALID_SETTING);
  CHECK_RC(mfa_store_set_settings(s, S("remember_device.days=30\nthis line has no equals sign\n"), S("admin"), T),
           MFA_RESULT_INVALID_SETTING);
  char code[10], token[MFA_CREDENTIAL_MAX];
  mfa_auth_outcome o = UNTOUCHED;
  code_at(T + 30, code);
  CHECK_OK(mfa_store_authenticate(s, S("hal@contoso.com"), MFA_AUTH_METHOD_OATH_CODE, code, strlen(code), NULL, 0,
                                  NULL, 0, 1, T + 30, &o, token, sizeof token));
  CHECK_EQ_U(o.device_token_issued, 0);
  /* Good settings apply to this handle at once (CRLF lines are fine). */
  CHECK_OK(mfa_store_set_settings(s, S("remember_device.days=7\r\nlockout.denials=3\r\n"), S("admin"), T + 40));
  mfa_result rc = MFA_RESULT_OK;
  int tries = 0;
  for (; tries < 10; tries++) {
    rc = auth(s, "hal@contoso.com", MFA_AUTH_METHOD_OATH_CODE, "000000", NULL, T + 50 + (uint64_t)tries, &o);
    if (rc != MFA_RESULT_CODE_NOT_IN_WINDOW) break;
  }
  CHECK_RC(rc, MFA_RESULT_LOCKED);
  CHECK_EQ_U(tries, 3); /* the third denial locks: the fourth attempt is refused unchecked */
  /* An empty value returns to the default. */
  CHECK_OK(mfa_store_set_settings(s, S("lockout.denials=\n"), S("admin"), T + 60));
  CHECK_OK(mfa_store_set_settings(s, S(""), S("admin"), T + 60));
  CHECK_RC(mfa_store_set_settings(NULL, S("a=1"), S("admin"), T), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_store_set_settings(s, NULL, 3, S("admin"), T), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_store_set_settings(s, S("a=1"), NULL, 5, T), MFA_RESULT_NULL_PARAMETER);
  const char bad[] = {'a', '=', (char)0xff};
  CHECK_RC(mfa_store_set_settings(s, bad, sizeof bad, S("admin"), T), MFA_RESULT_INVALID_UTF8);
  mfa_store_free(s);
}

TEST(unassign_deactivates_the_token) {
  make_url("unassign");
  mfa_store *s = open_store();
  enroll(s, "ivy@contoso.com", "8000008");
  CHECK_OK(mfa_store_unassign(s, S("8000008"), T + 10));
  char code[10];
  code_at(T + 30, code);
  mfa_auth_outcome o = UNTOUCHED;
  CHECK_RC(auth(s, "ivy@contoso.com", MFA_AUTH_METHOD_OATH_CODE, code, NULL, T + 30, &o), MFA_RESULT_NOT_ACTIVATED);
  /* No factor left: a challenge is not possible either. */
  CHECK_RC(auth(s, "ivy@contoso.com", MFA_AUTH_METHOD_NOTHING, NULL, NULL, T + 30, &o), MFA_RESULT_NOT_ACTIVATED);
  mfa_store_token_info info;
  CHECK_OK(mfa_store_token_info_get(s, S("8000008"), &info));
  CHECK(!info.assigned);
  CHECK(!info.active);
  CHECK_RC(mfa_store_unassign(s, S("nope"), T), MFA_RESULT_UNKNOWN_TOKEN);
  CHECK_RC(mfa_store_unassign(NULL, S("8000008"), T), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_store_unassign(s, NULL, 1, T), MFA_RESULT_NULL_PARAMETER);
  mfa_store_free(s);
}

/* Alters one hex digit or number in the first data row of a backup file. */
static int tamper(const char *from, const char *to) {
  FILE *f = fopen(from, "rb");
  if (!f) return 0;
  static char buf[1 << 20];
  size_t n = fread(buf, 1, sizeof buf, f);
  fclose(f);
  /* The last data row (the first is the wrapped data key, whose change
   * would be refused as a wrong master key instead). */
  char *row = NULL;
  for (size_t i = 0; i + 2 < n; i++) {
    if (buf[i] == '\n' && buf[i + 1] == 'r' && buf[i + 2] == '\t') {
      row = buf + i + 1;
    }
  }
  if (!row) return 0;
  char *end = memchr(row, '\n', (size_t)(buf + n - row));
  if (!end) return 0;
  char *p = NULL;
  for (char *q = row + 2; q < end; q++)
    if ((*q >= '0' && *q <= '9') || (*q >= 'a' && *q <= 'f')) p = q;
  if (!p) return 0;
  *p = *p == '0' ? '1' : '0';
  f = fopen(to, "wb");
  if (!f) return 0;
  fwrite(buf, 1, n, f);
  fclose(f);
  return 1;
}

/* Backs `s` up to `path` (checking mode 0600 and no overwrite) and restores
 * the file into a fresh SQLite store, where the app password and a code sign in. */
static void backup_restore_sign_in(mfa_store *s, const char *label, const char *user, const char *pw) {
  char path[1100];
  make_path(path, sizeof path, label);
  unlink(path);
  CHECK_OK(mfa_store_backup_to_file(s, path, strlen(path)));
  struct stat st;
  CHECK(stat(path, &st) == 0);
  CHECK_EQ_U(st.st_mode & 0777, 0600);
  /* Never over an existing file (and the file is left as it was). */
  off_t size = st.st_size;
  CHECK_RC(mfa_store_backup_to_file(s, path, strlen(path)), MFA_RESULT_FILE_EXISTS);
  CHECK(stat(path, &st) == 0 && st.st_size == size);

  char fresh_label[64];
  snprintf(fresh_label, sizeof fresh_label, "%s-restored", label);
  make_url(fresh_label);
  mfa_store *r = open_store();
  if (r == NULL) return;
  /* An altered copy is refused and nothing is restored. */
  char bad[1200];
  snprintf(bad, sizeof bad, "%s.altered", path);
  CHECK(tamper(path, bad));
  mfa_result rc = mfa_store_restore_from_file(r, bad, strlen(bad));
  CHECK(rc == MFA_RESULT_BACKUP_CHECKSUM || rc == MFA_RESULT_BACKUP_FORMAT);
  mfa_store_stats stats;
  CHECK_OK(mfa_store_stats_get(r, &stats));
  CHECK_EQ_U(stats.users, 0);
  CHECK_EQ_U(stats.tokens, 0);
  unlink(bad);

  CHECK_OK(mfa_store_restore_from_file(r, path, strlen(path)));
  CHECK_RC(mfa_store_restore_from_file(r, path, strlen(path)), MFA_RESULT_RESTORE_TARGET_NOT_EMPTY);
  mfa_auth_outcome o = UNTOUCHED;
  CHECK_OK(auth(r, user, MFA_AUTH_METHOD_APP_PASSWORD, pw, "203.0.113.1", T + 500, &o));
  CHECK_EQ_U(o.approved_by, MFA_APPROVED_BY_APP_PASSWORD);
  char code[10];
  code_at(T + 600, code);
  CHECK_OK(auth(r, user, MFA_AUTH_METHOD_OATH_CODE, code, "203.0.113.1", T + 600, &o));
  /* The trusted range came along. */
  CHECK_OK(auth(r, user, MFA_AUTH_METHOD_NOTHING, NULL, CLIENT, T + 601, &o));
  CHECK_EQ_U(o.approved_by, MFA_APPROVED_BY_TRUSTED_IP);
  mfa_store_free(r);
  unlink(path);
}

TEST(backup_then_restore_into_a_fresh_store_then_sign_in) {
  make_url("backup");
  mfa_store *s = open_store();
  enroll(s, "jan@contoso.com", "8000009");
  char pw[MFA_CREDENTIAL_MAX];
  CHECK_OK(mfa_store_add_app_password(s, S("jan@contoso.com"), S("mail"), T, pw, sizeof pw));
  CHECK_OK(mfa_store_add_trusted_range(s, S("198.51.100.0/24"), S("root"), T));
  backup_restore_sign_in(s, "backup", "jan@contoso.com", pw);
  /* Paths: missing, empty, embedded NUL, no such file. */
  char missing[1100];
  snprintf(missing, sizeof missing, "%s/no-such-dir-%ld/x.bak", tmpdir(), (long)getpid());
  CHECK_RC(mfa_store_backup_to_file(s, missing, strlen(missing)), MFA_RESULT_NOT_FOUND);
  CHECK_RC(mfa_store_restore_from_file(s, missing, strlen(missing)), MFA_RESULT_NOT_FOUND);
  CHECK_RC(mfa_store_backup_to_file(s, "", 0), MFA_RESULT_INVALID_PARAMETER);
  CHECK_RC(mfa_store_backup_to_file(s, "a\0b", 3), MFA_RESULT_INVALID_PARAMETER);
  CHECK_RC(mfa_store_restore_from_file(s, "", 0), MFA_RESULT_INVALID_PARAMETER);
  CHECK_RC(mfa_store_backup_to_file(NULL, S("/tmp/x")), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_store_backup_to_file(s, NULL, 3), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_store_restore_from_file(NULL, S("/tmp/x")), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_store_restore_from_file(s, NULL, 3), MFA_RESULT_NULL_PARAMETER);
  /* A file that is not a backup. */
  char junk[1100];
  make_path(junk, sizeof junk, "junk");
  FILE *f = fopen(junk, "wb");
  CHECK(f != NULL);
  if (f) {
    fputs("not a backup\n", f);
    fclose(f);
  }
  make_url("backup-junk");
  mfa_store *r = open_store();
  CHECK_RC(mfa_store_restore_from_file(r, junk, strlen(junk)), MFA_RESULT_BACKUP_FORMAT);
  mfa_store_free(r);
  unlink(junk);
  mfa_store_free(s);
}

TEST(bad_arguments_do_nothing) {
  make_url("args");
  mfa_store *s = open_store();
  enroll(s, "kim@contoso.com", "8000010");
  char code[10], token[MFA_CREDENTIAL_MAX];
  code_at(T + 30, code);
  mfa_auth_outcome o = UNTOUCHED;
  const char bad[] = {'k', (char)0xff};
  CHECK_RC(mfa_store_authenticate(NULL, S("kim@contoso.com"), 2, S("123456"), NULL, 0, NULL, 0, 0, T, &o, NULL, 0),
           MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_store_authenticate(s, NULL, 3, 2, S("123456"), NULL, 0, NULL, 0, 0, T, &o, NULL, 0),
           MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_store_authenticate(s, S("kim@contoso.com"), 2, NULL, 6, NULL, 0, NULL, 0, 0, T, &o, NULL, 0),
           MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_store_authenticate(s, S("kim@contoso.com"), 3, NULL, 0, NULL, 0, NULL, 0, 0, T, &o, NULL, 0),
           MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_store_authenticate(s, S("kim@contoso.com"), 2, code, 6, NULL, 0, NULL, 0, 0, T + 30, NULL, NULL, 0),
           MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_store_authenticate(s, bad, sizeof bad, 2, code, 6, NULL, 0, NULL, 0, 0, T + 30, &o, NULL, 0),
           MFA_RESULT_INVALID_UTF8);
  CHECK_RC(mfa_store_authenticate(s, S("kim@contoso.com"), 2, bad, sizeof bad, NULL, 0, NULL, 0, 0, T + 30, &o, NULL, 0),
           MFA_RESULT_INVALID_UTF8);
  CHECK_RC(mfa_store_authenticate(s, S("kim@contoso.com"), 1, NULL, 0, bad, sizeof bad, NULL, 0, 0, T + 30, &o, NULL, 0),
           MFA_RESULT_INVALID_UTF8);
  CHECK_RC(mfa_store_authenticate(s, S("kim@contoso.com"), 1, NULL, 0, NULL, 0, bad, sizeof bad, 0, T + 30, &o, NULL, 0),
           MFA_RESULT_INVALID_UTF8);
  CHECK_RC(mfa_store_authenticate(s, S("kim@contoso.com"), 0, code, 6, NULL, 0, NULL, 0, 0, T + 30, &o, NULL, 0),
           MFA_RESULT_INVALID_PARAMETER);
  CHECK_RC(mfa_store_authenticate(s, S("kim@contoso.com"), 6, code, 6, NULL, 0, NULL, 0, 0, T + 30, &o, NULL, 0),
           MFA_RESULT_INVALID_PARAMETER);
  CHECK_RC(mfa_store_authenticate(s, S("kim@contoso.com"), 2, code, 6, S("300.1.1.1"), NULL, 0, 0, T + 30, &o, NULL, 0),
           MFA_RESULT_INVALID_PARAMETER);
  CHECK_RC(mfa_store_authenticate(s, S("kim@contoso.com"), 2, code, 6, NULL, 0, NULL, 0, 2, T + 30, &o, token,
                                  sizeof token),
           MFA_RESULT_INVALID_PARAMETER);
  CHECK(untouched(&o));
  /* None of that consumed the code or counted a denial. */
  CHECK_OK(mfa_store_authenticate(s, S("kim@contoso.com"), 2, code, 6, NULL, 0, NULL, 0, 0, T + 30, &o, NULL, 0));
  mfa_store_stats st;
  CHECK_OK(mfa_store_stats_get(s, &st));
  CHECK_EQ_U(st.auth_events, 1);

  /* NULLs and bad text of the administration calls. */
  char pw[MFA_CREDENTIAL_MAX];
  uint64_t n = 0;
  uint8_t removed = 0;
  CHECK_RC(mfa_store_put_user(NULL, S("u"), NULL, 0, NULL, 0, NULL, 0, NULL, 0, T), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_store_put_user(s, NULL, 1, NULL, 0, NULL, 0, NULL, 0, NULL, 0, T), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_store_put_user(s, S(""), NULL, 0, NULL, 0, NULL, 0, NULL, 0, T), MFA_RESULT_FIELD_LENGTH);
  CHECK_RC(mfa_store_put_user(s, S("u"), bad, sizeof bad, NULL, 0, NULL, 0, NULL, 0, T), MFA_RESULT_INVALID_UTF8);
  CHECK_RC(mfa_store_add_app_password(NULL, S("u"), S("n"), T, pw, sizeof pw), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_store_add_app_password(s, NULL, 1, S("n"), T, pw, sizeof pw), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_store_add_app_password(s, S("u"), NULL, 1, T, pw, sizeof pw), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_store_add_app_password(s, S("u"), S("n"), T, NULL, sizeof pw), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_store_add_app_password(s, bad, sizeof bad, S("n"), T, pw, sizeof pw), MFA_RESULT_INVALID_UTF8);
  CHECK_RC(mfa_store_delete_app_passwords(NULL, S("u"), S("a"), S("r"), T, &n), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_store_delete_app_passwords(s, NULL, 1, S("a"), S("r"), T, &n), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_store_delete_app_passwords(s, S("u"), NULL, 1, S("r"), T, &n), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_store_delete_app_passwords(s, S("u"), S("a"), NULL, 1, T, &n), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_store_delete_app_passwords(s, S("u"), S("a"), S("r"), T, NULL), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_store_delete_app_passwords(s, S("u"), bad, sizeof bad, S("r"), T, &n), MFA_RESULT_INVALID_UTF8);
  CHECK_RC(mfa_store_revoke_devices(NULL, S("u"), S("a"), T, &n), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_store_revoke_devices(s, NULL, 1, S("a"), T, &n), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_store_revoke_devices(s, S("u"), NULL, 1, T, &n), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_store_revoke_devices(s, S("u"), S("a"), T, NULL), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_store_revoke_devices(s, bad, sizeof bad, S("a"), T, &n), MFA_RESULT_INVALID_UTF8);
  CHECK_RC(mfa_store_add_trusted_range(NULL, S("10.0.0.0/8"), S("root"), T), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_store_add_trusted_range(s, NULL, 3, S("root"), T), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_store_add_trusted_range(s, S("10.0.0.0/8"), NULL, 3, T), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_store_add_trusted_range(s, bad, sizeof bad, S("root"), T), MFA_RESULT_INVALID_UTF8);
  CHECK_RC(mfa_store_add_trusted_range(s, S("10.0.0.0/8"), bad, sizeof bad, T), MFA_RESULT_INVALID_UTF8);
  CHECK_RC(mfa_store_remove_trusted_range(NULL, S("10.0.0.0/8"), S("root"), T, &removed), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_store_remove_trusted_range(s, NULL, 3, S("root"), T, &removed), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_store_remove_trusted_range(s, S("10.0.0.0/8"), NULL, 3, T, &removed), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_store_remove_trusted_range(s, S("10.0.0.0/8"), S("root"), T, NULL), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_store_fraud_block(NULL, S("u"), S("a"), S("r"), T), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_store_fraud_block(s, NULL, 1, S("a"), S("r"), T), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_store_fraud_block(s, S("u"), NULL, 1, S("r"), T), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_store_fraud_block(s, S("u"), S("a"), NULL, 1, T), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_store_fraud_block(s, S("u"), S("a"), bad, sizeof bad, T), MFA_RESULT_INVALID_UTF8);
  CHECK_RC(mfa_store_remediate_risk(NULL, S("u"), 1, S("a"), T), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_store_remediate_risk(s, NULL, 1, 1, S("a"), T), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_store_remediate_risk(s, S("u"), 1, NULL, 1, T), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_store_remediate_risk(s, S("u"), 3, S("a"), T), MFA_RESULT_INVALID_PARAMETER);
  CHECK_RC(mfa_store_unassign(s, bad, sizeof bad, T), MFA_RESULT_INVALID_UTF8);
  mfa_store_free(s);
}

struct worker {
  mfa_store *store;
  int unexpected;
};

static void *sign_in_loop(void *arg) {
  struct worker *w = arg;
  mfa_auth_outcome o;
  for (int i = 0; i < 20; i++) {
    mfa_result rc = auth(w->store, "lea@contoso.com", MFA_AUTH_METHOD_NOTHING, NULL, NULL, T + 100, &o);
    if (rc != MFA_RESULT_SECOND_FACTOR_NEEDED) w->unexpected++;
  }
  return NULL;
}

TEST(settings_change_while_other_threads_sign_in) {
  make_url("threads");
  mfa_store *s = open_store();
  enroll(s, "lea@contoso.com", "8000011");
  struct worker a = {s, 0}, b = {s, 0};
  pthread_t ta, tb;
  CHECK(pthread_create(&ta, NULL, sign_in_loop, &a) == 0);
  CHECK(pthread_create(&tb, NULL, sign_in_loop, &b) == 0);
  for (int i = 0; i < 5; i++) {
    const char *set = i % 2 ? "remember_device.days=5" : "remember_device.days=";
    CHECK_OK(mfa_store_set_settings(s, set, strlen(set), S("admin"), T + 100));
  }
  pthread_join(ta, NULL);
  pthread_join(tb, NULL);
  CHECK_EQ_U(a.unexpected, 0);
  CHECK_EQ_U(b.unexpected, 0);
  mfa_store_free(s);
}

/* The entry point and a backup on PostgreSQL, restored into a fresh SQLite
 * store, when .ci/tests.d/ffi-c.sh gives a fresh schema
 * (MFA_TEST_STORE_PG_URL, from MFA_TEST_POSTGRES_URL). */
TEST(postgres_backend) {
  const char *pg = getenv("MFA_TEST_STORE_PG_URL");
  if (pg == NULL || pg[0] == 0) {
    fprintf(stderr, "SKIPPED: postgres_backend: MFA_TEST_STORE_PG_URL is not set (no PostgreSQL)\n");
    return;
  }
  snprintf(url, sizeof url, "%s", pg);
  mfa_store *s = open_store();
  if (s == NULL) return;
  enroll(s, "pg@contoso.com", "8100001");
  mfa_auth_outcome o = UNTOUCHED;
  CHECK_RC(auth(s, "pg@contoso.com", MFA_AUTH_METHOD_NOTHING, NULL, CLIENT, T + 30, &o), MFA_RESULT_SECOND_FACTOR_NEEDED);
  CHECK_EQ_U(o.oath_tokens, 1);
  char code[10];
  code_at(T + 30, code);
  CHECK_OK(auth(s, "pg@contoso.com", MFA_AUTH_METHOD_OATH_CODE, code, CLIENT, T + 30, &o));
  CHECK_RC(auth(s, "pg@contoso.com", MFA_AUTH_METHOD_OATH_CODE, code, CLIENT, T + 31, &o), MFA_RESULT_CODE_REPLAYED);
  char pw[MFA_CREDENTIAL_MAX];
  CHECK_OK(mfa_store_add_app_password(s, S("pg@contoso.com"), S("mail"), T, pw, sizeof pw));
  CHECK_OK(auth(s, "pg@contoso.com", MFA_AUTH_METHOD_APP_PASSWORD, pw, CLIENT, T + 40, &o));
  CHECK_OK(mfa_store_add_trusted_range(s, S("198.51.100.0/24"), S("root"), T));
  CHECK_OK(mfa_store_fraud_block(s, S("pg@contoso.com"), S("admin"), S("test"), T + 50));
  CHECK_RC(auth(s, "pg@contoso.com", MFA_AUTH_METHOD_NOTHING, NULL, CLIENT, T + 51, &o), MFA_RESULT_BLOCKED_BY_ADMIN);
  CHECK_OK(mfa_store_fraud_unblock(s, S("pg@contoso.com"), S("admin"), S("test over"), T + 52));
  CHECK_OK(mfa_store_set_settings(s, S("remember_device.days=30"), S("admin"), T + 53));
  backup_restore_sign_in(s, "pg", "pg@contoso.com", pw);
  mfa_store_free(s);
}

int main(void) {
  RUN(challenge_flow_then_code_then_replay);
  RUN(app_password_sign_in_lockout_and_delete);
  RUN(one_time_codes_issued_by_the_store);
  RUN(trusted_range_bypass_and_removal);
  RUN(admin_block_beats_a_trusted_ip_and_risk_is_remediated);
  RUN(remembered_device_issued_then_honoured_then_revoked);
  RUN(settings_are_all_or_nothing);
  RUN(unassign_deactivates_the_token);
  RUN(backup_then_restore_into_a_fresh_store_then_sign_in);
  RUN(bad_arguments_do_nothing);
  RUN(settings_change_while_other_threads_sign_in);
  RUN(postgres_backend);
  TEST_MAIN_END();
}
