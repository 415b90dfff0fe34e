// The header must be usable from C++ (g++ -std=c++17 -Werror): extern "C"
// linkage, enums with a fixed underlying type, no C-only constructs.
#include "mfa.h"

#include <cstdio>
#include <cstring>

static_assert(sizeof(mfa_result) == 4, "mfa_result is a 32-bit code");
static_assert(MFA_RESULT_OK == 0, "MFA_RESULT_OK is 0");

int main() {
  mfa_secret *secret = nullptr;
  const char b32[] = "JBSWY3DPEHPK3PXP";
  if (mfa_secret_from_base32(b32, std::strlen(b32), &secret) != MFA_RESULT_OK) return 1;
  mfa_totp *totp = nullptr;
  mfa_result rc = mfa_totp_new(secret, MFA_ALGORITHM_SHA1, 6, 30, 0, &totp);
  mfa_secret_free(secret);
  if (rc != MFA_RESULT_OK) return 1;
  char code[10];
  size_t len = 0;
  rc = mfa_totp_generate(totp, 59, code, sizeof code, &len);
  mfa_totp_free(totp);
  if (rc != MFA_RESULT_OK || len != 6) return 1;
  std::printf("C++: %s code at t=59: %s\n", mfa_version(), code);
  return 0;
}
