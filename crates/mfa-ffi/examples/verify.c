/* examples/verify.c — what a RADIUS or PAM module does with mfa-kit:
 * open the embedded store, enrol a token, then verify codes; every denial is
 * a distinct mfa_result the server can log and act on.
 *
 * Build (from the repository root):
 *   cargo build -p mfa-ffi --release
 *   cc -std=c11 -I crates/mfa-ffi/include crates/mfa-ffi/examples/verify.c \
 *      target/release/libmfa_ffi.a -lpthread -ldl -lm -lrt -o verify
 *   ./verify [sqlite:path/to/store.db]
 */
#include <stdio.h>
#include <string.h>

#include "mfa.h"

static int fail(const char *what, mfa_result rc) {
  fprintf(stderr, "%s: %s (%u)\n", what, mfa_result_message(rc), (unsigned)rc);
  return 1;
}

/* The code the user's hardware token shows at `now` (here we have its
 * secret, so we compute it; a real server receives it from the user). */
static mfa_result token_code(const char *b32, uint64_t now, char code[10], size_t *len) {
  mfa_secret *secret = NULL;
  mfa_totp *totp = NULL;
  mfa_result rc = mfa_secret_from_base32(b32, strlen(b32), &secret);
  if (rc == MFA_RESULT_OK) rc = mfa_totp_new(secret, MFA_ALGORITHM_SHA1, 6, 30, 0, &totp);
  if (rc == MFA_RESULT_OK) rc = mfa_totp_generate(totp, now, code, 10, len);
  mfa_totp_free(totp);
  mfa_secret_free(secret);
  return rc;
}

int main(int argc, char **argv) {
  const char *url = argc > 1 ? argv[1] : "sqlite:mfa-example.db";
  /* In production the 32-byte master key comes from a key file or an HSM. */
  static const uint8_t master_key[32] = {
      0x6d, 0x66, 0x61, 0x2d, 0x6b, 0x69, 0x74, 0x20, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x20,
      0x6b, 0x65, 0x79, 0x20, 0x6e, 0x6f, 0x74, 0x20, 0x66, 0x6f, 0x72, 0x20, 0x75, 0x73, 0x65, 0x21};
  static const char secret_b32[] = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
  static const char user[] = "helga@contoso.com";
  const uint64_t now = 1700000000ULL; /* a real server passes time(NULL) */
  printf("%s\n", mfa_version());

  mfa_store *store = NULL;
  mfa_result rc = mfa_store_open(url, strlen(url), master_key, sizeof master_key, 1, "radius-1", 8,
                                 "192.0.2.10", 10, &store);
  if (rc != MFA_RESULT_OK) return fail("open store", rc);

  /* Enrol: import the token from the vendor's CSV (cloud layout, the upn
   * assigns it), then activate it with the code it shows now. */
  char csv[256];
  snprintf(csv, sizeof csv,
           "upn,serial number,secret key,time interval,manufacturer,model\n"
           "%s,1234567,%s,30,Contoso,HardwareKey\n", user, secret_b32);
  mfa_import *import = NULL;
  rc = mfa_import_new(MFA_IMPORT_FORMAT_CSV_CLOUD, (const uint8_t *)csv, strlen(csv), NULL, 0, NULL, 0,
                      &import);
  if (rc != MFA_RESULT_OK) return fail("read CSV", rc);
  mfa_store_import_result imported = {0, 0};
  rc = mfa_store_import(store, import, MFA_STORE_IMPORT_MODE_ACCEPTED_ONLY, now, &imported);
  mfa_import_free(import);
  if (rc != MFA_RESULT_OK) return fail("import", rc);
  printf("imported %llu token(s), %zu already present\n", (unsigned long long)imported.imported,
         imported.refused);

  char code[10];
  size_t len = 0;
  uint64_t step = 0;
  if ((rc = token_code(secret_b32, now, code, &len)) != MFA_RESULT_OK) return fail("code", rc);
  rc = mfa_store_activate(store, "1234567", 7, code, len, now, &step);
  if (rc != MFA_RESULT_OK && rc != MFA_RESULT_CODE_REPLAYED) return fail("activate", rc);
  printf("token 1234567 activated\n");

  /* Sign-in 30 seconds later: the code is checked against fraud blocks,
   * lockout, the user's tokens and replay, and logged. */
  if ((rc = token_code(secret_b32, now + 30, code, &len)) != MFA_RESULT_OK) return fail("code", rc);
  rc = mfa_store_verify(store, user, strlen(user), code, len, "198.51.100.7", 12, now + 30, &step);
  printf("verify %s: %s\n", code, rc == MFA_RESULT_OK ? "approved" : mfa_result_message(rc));
  int ok = rc == MFA_RESULT_OK;

  /* The same code again is refused as a replay, on any server sharing the store. */
  rc = mfa_store_verify(store, user, strlen(user), code, len, NULL, 0, now + 31, &step);
  printf("verify %s again: %s\n", code, rc == MFA_RESULT_OK ? "approved" : mfa_result_message(rc));
  ok = ok && rc == MFA_RESULT_CODE_REPLAYED;

  mfa_store_free(store);
  return ok ? 0 : 1;
}
