/* Token import: PSKC (plain, pre-shared key, passphrase) and both CSV
 * formats, the report, the errors CSV, and every error path. The RFC 6030
 * examples are read from ../shared/corpus (MFA_TEST_CORPUS, set by
 * .ci/tests.d/ffi-c.sh). */
#include "mfa_test.h"

static unsigned char *read_corpus(const char *rel, size_t *len) {
  const char *dir = getenv("MFA_TEST_CORPUS");
  char path[1024];
  if (dir == NULL) {
    MT_FAIL("MFA_TEST_CORPUS is not set");
    return NULL;
  }
  snprintf(path, sizeof path, "%s/%s", dir, rel);
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    MT_FAIL("cannot open %s", path);
    return NULL;
  }
  unsigned char *buf = malloc(1 << 20);
  *len = buf ? fread(buf, 1, 1 << 20, f) : 0;
  fclose(f);
  return buf;
}

static mfa_import *import_file(const char *rel, const uint8_t *key, size_t key_len, const char *pass) {
  size_t len = 0;
  unsigned char *data = read_corpus(rel, &len);
  mfa_import *imp = NULL;
  if (data != NULL) {
    mfa_result rc = mfa_import_new(MFA_IMPORT_FORMAT_PSKC, data, len, key, key_len, pass,
                                   pass ? strlen(pass) : 0, &imp);
    if (rc != MFA_RESULT_OK) MT_FAIL("mfa_import_new(%s): %s", rel, mfa_result_message(rc));
  }
  free(data);
  return imp;
}

static const uint8_t FIG6_KEY[16] = {0x12, 0x34, 0x56, 0x78, 0x90, 0x12, 0x34, 0x56,
                                     0x78, 0x90, 0x12, 0x34, 0x56, 0x78, 0x90, 0x12};

TEST(pskc_figure7_passphrase_decrypts) {
  mfa_import *imp = import_file("pskc/rfc6030/figure7.pskcxml", NULL, 0, "qwerty");
  mfa_import_summary sum;
  CHECK_OK(mfa_import_summary_get(imp, &sum));
  CHECK_EQ_U(sum.accepted, 1);
  CHECK_EQ_U(sum.rejected, 0);
  CHECK(!sum.incomplete);
  CHECK_EQ_U(sum.fatal_error, MFA_RESULT_OK);
  mfa_import_token *tok = NULL;
  CHECK_OK(mfa_import_token_get(imp, 0, &tok));
  mfa_import_free(imp); /* the token copy outlives the import */
  mfa_import_token_info info;
  CHECK_OK(mfa_import_token_info_get(tok, &info));
  CHECK_EQ_U(info.kind, MFA_OTP_KIND_HOTP);
  CHECK_EQ_U(info.algorithm, MFA_ALGORITHM_SHA1);
  CHECK_EQ_U(info.digits, 8);
  CHECK(info.line > 0);
  char buf[64];
  size_t n;
  CHECK_OK(mfa_import_token_field(tok, MFA_IMPORT_FIELD_SERIAL, buf, sizeof buf, &n));
  CHECK_STR(buf, "987654321");
  CHECK_OK(mfa_import_token_field(tok, MFA_IMPORT_FIELD_MANUFACTURER, buf, sizeof buf, &n));
  CHECK_STR(buf, "TokenVendorAcme");
  CHECK_OK(mfa_import_token_field(tok, MFA_IMPORT_FIELD_ISSUER, buf, sizeof buf, &n));
  CHECK_STR(buf, "Example-Issuer");
  CHECK_OK(mfa_import_token_field(tok, MFA_IMPORT_FIELD_KEY_ID, buf, sizeof buf, &n));
  CHECK_STR(buf, "123456");
  CHECK_RC(mfa_import_token_field(tok, MFA_IMPORT_FIELD_MODEL, buf, sizeof buf, &n), MFA_RESULT_NOT_FOUND);
  CHECK_RC(mfa_import_token_field(tok, 99, buf, sizeof buf, &n), MFA_RESULT_INVALID_PARAMETER);
  CHECK_RC(mfa_import_token_field(tok, MFA_IMPORT_FIELD_SERIAL, buf, 9, &n), MFA_RESULT_BUFFER_TOO_SMALL);
  CHECK_EQ_U(n, 9);
  mfa_secret *s = NULL;
  CHECK_OK(mfa_import_token_secret(tok, &s));
  char hex[64];
  CHECK_OK(mfa_secret_to_hex(s, hex, sizeof hex, &n));
  CHECK_STR(hex, "3132333435363738393031323334353637383930");
  mfa_secret_free(s);
  /* The imported HOTP token verifies its next code, once. */
  mfa_hotp *h = NULL;
  mfa_hotp_state st;
  CHECK_OK(mfa_import_token_to_hotp(tok, &h, &st));
  char code[10];
  CHECK_OK(mfa_hotp_generate(h, info.next_counter, code, sizeof code, &n));
  uint64_t counter;
  CHECK_OK(mfa_hotp_verify(h, code, n, &st, 1, 10, &counter, &st));
  CHECK_EQ_U(counter, info.next_counter);
  CHECK_RC(mfa_hotp_verify(h, code, n, &st, 1, 10, &counter, &st), MFA_RESULT_CODE_REPLAYED);
  mfa_hotp_free(h);
  mfa_totp *t = (mfa_totp *)(void *)&n;
  mfa_totp_state ts;
  CHECK_RC(mfa_import_token_to_totp(tok, &t, &ts), MFA_RESULT_WRONG_TOKEN_KIND);
  CHECK(t == (mfa_totp *)(void *)&n);
  mfa_import_token_free(tok);
}

TEST(pskc_wrong_or_missing_passphrase_is_reported) {
  mfa_import *imp = import_file("pskc/rfc6030/figure7.pskcxml", NULL, 0, "azerty");
  mfa_import_summary sum;
  CHECK_OK(mfa_import_summary_get(imp, &sum));
  CHECK_EQ_U(sum.accepted, 0);
  CHECK_EQ_U(sum.rejected, 1);
  mfa_import_rejection r;
  CHECK_OK(mfa_import_rejection_get(imp, 0, &r));
  CHECK_EQ_U(r.error, MFA_RESULT_IMPORT_WRONG_PASSPHRASE);
  CHECK(r.has_package);
  CHECK(r.line > 0);
  CHECK(!r.fatal);
  char msg[512];
  size_t n;
  CHECK_OK(mfa_import_rejection_message(imp, 0, msg, sizeof msg, &n));
  CHECK(strstr(msg, "987654321") != NULL);
  CHECK(strstr(msg, "passphrase") != NULL);
  char csv[1024];
  CHECK_OK(mfa_import_errors_csv(imp, csv, sizeof csv, &n));
  static const char head[] = "line,package,serial,key_id,error\n";
  CHECK(strncmp(csv, head, sizeof head - 1) == 0);
  CHECK(strstr(csv, "987654321") != NULL);
  mfa_import_token *tok = NULL;
  CHECK_RC(mfa_import_token_get(imp, 0, &tok), MFA_RESULT_NOT_FOUND);
  CHECK(tok == NULL);
  mfa_import_free(imp);

  imp = import_file("pskc/rfc6030/figure7.pskcxml", NULL, 0, NULL);
  CHECK_OK(mfa_import_rejection_get(imp, 0, &r));
  CHECK_EQ_U(r.error, MFA_RESULT_IMPORT_KEY_REQUIRED);
  mfa_import_free(imp);
}

TEST(pskc_figure6_pre_shared_key) {
  mfa_import *imp = import_file("pskc/rfc6030/figure6.pskcxml", FIG6_KEY, sizeof FIG6_KEY, NULL);
  mfa_import_summary sum;
  CHECK_OK(mfa_import_summary_get(imp, &sum));
  CHECK_EQ_U(sum.accepted, 1);
  mfa_import_token *tok = NULL;
  CHECK_OK(mfa_import_token_get(imp, 0, &tok));
  mfa_secret *s = NULL, *want = NULL;
  CHECK_OK(mfa_import_token_secret(tok, &s));
  CHECK_OK(mfa_secret_from_bytes((const uint8_t *)"12345678901234567890", 20, &want));
  CHECK(mfa_secret_equal(s, want));
  mfa_secret_free(s);
  mfa_secret_free(want);
  mfa_import_token_free(tok);
  mfa_import_free(imp);

  const uint8_t wrong[16] = {0};
  imp = import_file("pskc/rfc6030/figure6.pskcxml", wrong, sizeof wrong, NULL);
  mfa_import_rejection r;
  CHECK_OK(mfa_import_rejection_get(imp, 0, &r));
  CHECK_EQ_U(r.error, MFA_RESULT_IMPORT_WRONG_PASSPHRASE);
  mfa_import_free(imp);

  imp = import_file("pskc/rfc6030/figure6.pskcxml", FIG6_KEY, 5, NULL);
  CHECK_OK(mfa_import_rejection_get(imp, 0, &r));
  CHECK_EQ_U(r.error, MFA_RESULT_IMPORT_KEY_LENGTH);
  mfa_import_free(imp);
}

static mfa_import *import_text(uint32_t format, const char *text) {
  mfa_import *imp = NULL;
  mfa_result rc = mfa_import_new(format, (const uint8_t *)text, strlen(text), NULL, 0, NULL, 0, &imp);
  if (rc != MFA_RESULT_OK) MT_FAIL("mfa_import_new: %s", mfa_result_message(rc));
  return imp;
}

static uint32_t fatal_of(uint32_t format, const char *text) {
  mfa_import *imp = import_text(format, text);
  mfa_import_summary sum = {0, 0, 0, false, 12345};
  mfa_import_summary_get(imp, &sum);
  if (!sum.incomplete) MT_FAIL("not incomplete: %s", text);
  mfa_import_free(imp);
  return sum.fatal_error;
}

TEST(malformed_files_are_fatal_with_a_reason) {
  CHECK_EQ_U(fatal_of(MFA_IMPORT_FORMAT_PSKC, "this is not XML"), MFA_RESULT_IMPORT_MALFORMED_FILE);
  CHECK_EQ_U(fatal_of(MFA_IMPORT_FORMAT_PSKC,
                      "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY a \"b\">]>"
                      "<KeyContainer Version=\"1.0\" xmlns=\"urn:ietf:params:xml:ns:keyprov:pskc\"/>"),
             MFA_RESULT_IMPORT_FORBIDDEN_DOCTYPE);
  CHECK_EQ_U(fatal_of(MFA_IMPORT_FORMAT_PSKC,
                      "<KeyContainer Version=\"1.0\" xmlns=\"urn:ietf:params:xml:ns:keyprov:pskc\">"
                      "<KeyPackage>"),
             MFA_RESULT_IMPORT_TRUNCATED);
  CHECK_EQ_U(fatal_of(MFA_IMPORT_FORMAT_CSV_CLOUD, "Helga@contoso.com,1234567,JBSWY3DPEHPK3PXP,60,Contoso,HardwareKey\n"),
             MFA_RESULT_IMPORT_BAD_HEADER);
}

TEST(cloud_csv_report_warnings_and_errors_csv) {
  mfa_import *imp = import_text(
      MFA_IMPORT_FORMAT_CSV_CLOUD,
      "upn,serial number,secret key,time interval,manufacturer,model,Enabled\n"
      "Helga@contoso.com,1234567,JBSWY3DPEHPK3PXP,60,Contoso,HardwareKey,true\n"
      "Bob@contoso.com,7654321,1234567abcdef1234567abcdef,30,Contoso,HardwareKey,true\n"
      "Eve@contoso.com,1234567,JBSWY3DPEHPK3PXP,30,Contoso,HardwareKey,true\n");
  mfa_import_summary sum;
  CHECK_OK(mfa_import_summary_get(imp, &sum));
  CHECK_EQ_U(sum.accepted, 1);
  CHECK_EQ_U(sum.rejected, 2);
  CHECK(!sum.incomplete);
  mfa_import_rejection r;
  CHECK_OK(mfa_import_rejection_get(imp, 0, &r));
  CHECK_EQ_U(r.error, MFA_RESULT_INVALID_BASE32_CHAR);
  CHECK_EQ_U(r.line, 3);
  CHECK(!r.has_package);
  CHECK_OK(mfa_import_rejection_get(imp, 1, &r));
  CHECK_EQ_U(r.error, MFA_RESULT_IMPORT_DUPLICATE_SERIAL);
  CHECK_EQ_U(r.line, 4);
  CHECK_RC(mfa_import_rejection_get(imp, 2, &r), MFA_RESULT_NOT_FOUND);
  /* Warnings: the ignored Enabled column and the 80-bit secret. */
  int ignored = 0, weak = 0;
  for (size_t i = 0; i < sum.warnings; i++) {
    mfa_import_warning w;
    CHECK_OK(mfa_import_warning_get(imp, i, &w));
    if (w.kind == MFA_IMPORT_WARNING_KIND_IGNORED_COLUMN) ignored++;
    if (w.kind == MFA_IMPORT_WARNING_KIND_WEAK_SECRET) {
      weak++;
      CHECK_EQ_U(w.line, 2);
    }
  }
  CHECK(ignored == 1 && weak == 1);
  mfa_import_warning w;
  CHECK_RC(mfa_import_warning_get(imp, sum.warnings, &w), MFA_RESULT_NOT_FOUND);
  /* The errors CSV: the upload's columns plus line and error. */
  size_t n = 0;
  CHECK_RC(mfa_import_errors_csv(imp, NULL, 0, &n), MFA_RESULT_BUFFER_TOO_SMALL);
  char *csv = malloc(n + 1);
  CHECK_OK(mfa_import_errors_csv(imp, csv, n + 1, &n));
  static const char head[] = "upn,serial number,secret key,time interval,manufacturer,model,Enabled,line,error\n";
  CHECK(strncmp(csv, head, sizeof head - 1) == 0);
  CHECK(strstr(csv, "Bob@contoso.com,7654321") != NULL);
  CHECK(strstr(csv, ",3,") != NULL);
  memset(csv, 0, n + 1); /* it holds rejected secrets */
  free(csv);
  mfa_import_token *tok = NULL;
  CHECK_OK(mfa_import_token_get(imp, 0, &tok));
  mfa_import_token_info info;
  CHECK_OK(mfa_import_token_info_get(tok, &info));
  CHECK_EQ_U(info.kind, MFA_OTP_KIND_TOTP);
  CHECK_EQ_U(info.period, 60);
  CHECK(info.weak_secret);
  char buf[64];
  CHECK_OK(mfa_import_token_field(tok, MFA_IMPORT_FIELD_USER, buf, sizeof buf, &n));
  CHECK_STR(buf, "Helga@contoso.com");
  CHECK_OK(mfa_import_token_field(tok, MFA_IMPORT_FIELD_MODEL, buf, sizeof buf, &n));
  CHECK_STR(buf, "HardwareKey");
  mfa_totp *t = NULL;
  mfa_totp_state ts;
  CHECK_OK(mfa_import_token_to_totp(tok, &t, &ts));
  CHECK(!ts.has_last_step);
  char code[10];
  CHECK_OK(mfa_totp_generate(t, 1700000000ULL, code, sizeof code, &n));
  uint64_t step;
  CHECK_OK(mfa_totp_verify(t, code, n, 1700000000ULL, &ts, 1, 0, &step, &ts));
  mfa_totp_free(t);
  mfa_hotp *h = (mfa_hotp *)(void *)&n;
  mfa_hotp_state hs;
  CHECK_RC(mfa_import_token_to_hotp(tok, &h, &hs), MFA_RESULT_WRONG_TOKEN_KIND);
  CHECK(h == (mfa_hotp *)(void *)&n);
  mfa_import_token_free(tok);
  mfa_import_free(imp);
}

TEST(server_csv_rejects_the_old_reference_example) {
  mfa_import *imp = import_text(MFA_IMPORT_FORMAT_CSV_SERVER,
                                "1234567,JBSWY3DPEHPK3PXP,30\n"
                                "7654321,1234567abcdef1234567abcdef,30\n");
  mfa_import_summary sum;
  CHECK_OK(mfa_import_summary_get(imp, &sum));
  CHECK_EQ_U(sum.accepted, 1);
  CHECK_EQ_U(sum.rejected, 1);
  char msg[256];
  size_t n;
  CHECK_OK(mfa_import_rejection_message(imp, 0, msg, sizeof msg, &n));
  CHECK_STR(msg, "line 2 (serial \"7654321\"): invalid secret: invalid base32 encoding due to "
                 "illegal character '1' at position 1");
  CHECK_RC(mfa_import_rejection_message(imp, 0, msg, 10, &n), MFA_RESULT_BUFFER_TOO_SMALL);
  CHECK_EQ_U(n, strlen(msg));
  CHECK_RC(mfa_import_rejection_message(imp, 1, msg, sizeof msg, &n), MFA_RESULT_NOT_FOUND);
  CHECK_RC(mfa_import_errors_csv(imp, msg, 4, &n), MFA_RESULT_BUFFER_TOO_SMALL);
  mfa_import_free(imp);
}

TEST(import_argument_errors) {
  const char *csv = "1234567,JBSWY3DPEHPK3PXP,30\n";
  mfa_import *imp = (mfa_import *)(void *)&csv;
  CHECK_RC(mfa_import_new(0, (const uint8_t *)csv, strlen(csv), NULL, 0, NULL, 0, &imp), MFA_RESULT_INVALID_PARAMETER);
  CHECK_RC(mfa_import_new(4, (const uint8_t *)csv, strlen(csv), NULL, 0, NULL, 0, &imp), MFA_RESULT_INVALID_PARAMETER);
  CHECK_RC(mfa_import_new(MFA_IMPORT_FORMAT_CSV_SERVER, NULL, 5, NULL, 0, NULL, 0, &imp), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_import_new(MFA_IMPORT_FORMAT_CSV_SERVER, (const uint8_t *)csv, strlen(csv), NULL, 0, NULL, 0, NULL),
           MFA_RESULT_NULL_PARAMETER);
  const char bad[] = {'q', (char)0xff};
  CHECK_RC(mfa_import_new(MFA_IMPORT_FORMAT_PSKC, (const uint8_t *)csv, strlen(csv), NULL, 0, bad, sizeof bad, &imp),
           MFA_RESULT_INVALID_UTF8);
  CHECK(imp == (mfa_import *)(void *)&csv);
  imp = import_text(MFA_IMPORT_FORMAT_CSV_SERVER, csv);
  mfa_import_summary sum;
  mfa_import_rejection r;
  mfa_import_warning w;
  mfa_import_token *tok = NULL;
  char buf[64];
  size_t n;
  CHECK_RC(mfa_import_summary_get(NULL, &sum), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_import_summary_get(imp, NULL), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_import_token_get(NULL, 0, &tok), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_import_token_get(imp, 0, NULL), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_import_rejection_get(NULL, 0, &r), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_import_rejection_get(imp, 0, NULL), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_import_rejection_message(NULL, 0, buf, sizeof buf, &n), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_import_rejection_message(imp, 0, buf, sizeof buf, NULL), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_import_warning_get(NULL, 0, &w), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_import_warning_get(imp, 0, NULL), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_import_errors_csv(NULL, buf, sizeof buf, &n), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_import_errors_csv(imp, buf, sizeof buf, NULL), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_import_errors_csv(imp, NULL, 8, &n), MFA_RESULT_NULL_PARAMETER);
  CHECK_OK(mfa_import_token_get(imp, 0, &tok));
  mfa_import_token_info info;
  mfa_secret *s = NULL;
  mfa_totp *t = NULL;
  mfa_totp_state ts;
  mfa_hotp *h = NULL;
  mfa_hotp_state hs;
  CHECK_RC(mfa_import_token_info_get(NULL, &info), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_import_token_info_get(tok, NULL), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_import_token_field(NULL, 1, buf, sizeof buf, &n), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_import_token_field(tok, 1, buf, sizeof buf, NULL), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_import_token_field(tok, 1, NULL, 8, &n), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_import_token_secret(NULL, &s), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_import_token_secret(tok, NULL), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_import_token_to_totp(NULL, &t, &ts), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_import_token_to_totp(tok, NULL, &ts), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_import_token_to_totp(tok, &t, NULL), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_import_token_to_hotp(NULL, &h, &hs), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_import_token_to_hotp(tok, NULL, &hs), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_import_token_to_hotp(tok, &h, NULL), MFA_RESULT_NULL_PARAMETER);
  CHECK(s == NULL && t == NULL && h == NULL);
  mfa_import_token_free(tok);
  mfa_import_token_free(NULL);
  mfa_import_free(imp);
  mfa_import_free(NULL);
}

int main(void) {
  RUN(pskc_figure7_passphrase_decrypts);
  RUN(pskc_wrong_or_missing_passphrase_is_reported);
  RUN(pskc_figure6_pre_shared_key);
  RUN(malformed_files_are_fatal_with_a_reason);
  RUN(cloud_csv_report_warnings_and_errors_csv);
  RUN(server_csv_rejects_the_old_reference_example);
  RUN(import_argument_errors);
  TEST_MAIN_END();
}
