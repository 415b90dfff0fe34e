/* Verifies a TOTP code the way an authentication server does: the verifier
 * state (last accepted step) comes in and the new one goes out, so a replayed
 * code is refused. Build: see docs/c-abi.md. */
#include <stdio.h>
#include <string.h>

#include "mfa.h"

static int fail(const char *what, mfa_result rc) {
  fprintf(stderr, "%s: %s (%u)\n", what, mfa_result_message(rc), (unsigned)rc);
  return 1;
}

int main(void) {
  const char b32[] = "JBSWY3DPEHPK3PXP";
  const unsigned long long now = 1700000000ULL;
  mfa_secret *secret = NULL;
  mfa_result rc = mfa_secret_from_base32(b32, strlen(b32), &secret);
  if (rc != MFA_RESULT_OK) return fail("secret", rc);
  mfa_totp *totp = NULL;
  rc = mfa_totp_new(secret, MFA_ALGORITHM_SHA1, 6, 30, 0, &totp);
  mfa_secret_free(secret);
  if (rc != MFA_RESULT_OK) return fail("totp", rc);

  char code[10];
  size_t len = 0;
  rc = mfa_totp_generate(totp, now, code, sizeof code, &len);
  if (rc != MFA_RESULT_OK) return fail("generate", rc);

  mfa_totp_state state = {false, 0, 0};
  uint64_t step = 0;
  rc = mfa_totp_verify(totp, code, len, now, &state, 1, 0, &step, &state);
  if (rc != MFA_RESULT_OK) return fail("verify", rc);
  printf("%s: code %s accepted at step %llu\n", mfa_version(), code, (unsigned long long)step);
  rc = mfa_totp_verify(totp, code, len, now, &state, 1, 0, &step, &state);
  printf("the same code again: %s\n", mfa_result_message(rc));
  mfa_totp_free(totp);
  return rc == MFA_RESULT_CODE_REPLAYED ? 0 : 1;
}
