/* mfa_version, mfa_result_message and the mfa_result numbering. */
#include "mfa_test.h"

static const unsigned ALL_CODES[] = {
    MFA_RESULT_OK, MFA_RESULT_NULL_PARAMETER, MFA_RESULT_BUFFER_TOO_SMALL,
    MFA_RESULT_INVALID_UTF8, MFA_RESULT_PANIC, MFA_RESULT_INVALID_PARAMETER,
    MFA_RESULT_IO, MFA_RESULT_UNKNOWN, MFA_RESULT_RNG, MFA_RESULT_NOT_FOUND,
    MFA_RESULT_INVALID_BASE32_CHAR, MFA_RESULT_INVALID_BASE32_LENGTH,
    MFA_RESULT_INVALID_HEX_CHAR, MFA_RESULT_INVALID_HEX_LENGTH,
    MFA_RESULT_SECRET_EMPTY, MFA_RESULT_SECRET_TOO_SHORT,
    MFA_RESULT_SECRET_TOO_LONG, MFA_RESULT_INVALID_DIGITS,
    MFA_RESULT_INVALID_PERIOD, MFA_RESULT_WINDOW_TOO_LARGE,
    MFA_RESULT_UNKNOWN_ALGORITHM, MFA_RESULT_TIME_BEFORE_T0,
    MFA_RESULT_COUNTER_OVERFLOW, MFA_RESULT_UNSUPPORTED_ALGORITHM,
    MFA_RESULT_RESYNC_CODE_COUNT, MFA_RESULT_RESYNC_FAILED,
    MFA_RESULT_CODE_MALFORMED, MFA_RESULT_CODE_NOT_IN_WINDOW,
    MFA_RESULT_CODE_REPLAYED, MFA_RESULT_CODE_EXPIRED, MFA_RESULT_NOT_ACTIVATED,
    MFA_RESULT_LOCKED, MFA_RESULT_BLOCKED_BY_FRAUD, MFA_RESULT_UNKNOWN_TOKEN,
    MFA_RESULT_UNKNOWN_USER, MFA_RESULT_URI_SCHEME, MFA_RESULT_URI_TYPE,
    MFA_RESULT_URI_MISSING_LABEL, MFA_RESULT_URI_MISSING_PARAMETER,
    MFA_RESULT_URI_DUPLICATE_PARAMETER, MFA_RESULT_URI_INVALID_PARAMETER,
    MFA_RESULT_URI_ENCODING, MFA_RESULT_URI_ISSUER_MISMATCH,
    MFA_RESULT_URI_INVALID_SECRET, MFA_RESULT_URI_WRONG_KIND,
};
#define N_CODES (sizeof(ALL_CODES) / sizeof(ALL_CODES[0]))

TEST(version_is_a_static_string) {
  const char *v = mfa_version();
  CHECK(v != NULL);
  CHECK(strncmp(v, "mfa-ffi/", 8) == 0);
  CHECK(strlen(v) > 8);
  CHECK(mfa_version() == v); /* the same static string every time */
}

TEST(every_code_has_its_own_static_message) {
  const char *unknown = mfa_result_message(99999u);
  CHECK_STR(unknown, "unknown mfa_result code");
  for (size_t i = 0; i < N_CODES; i++) {
    const char *m = mfa_result_message(ALL_CODES[i]);
    CHECK(m != NULL);
    if (m == NULL) continue;
    CHECK(strlen(m) > 0);
    CHECK(strcmp(m, unknown) != 0);
    for (size_t j = 0; j < i; j++) {
      CHECK(ALL_CODES[i] != ALL_CODES[j]);
      CHECK(strcmp(m, mfa_result_message(ALL_CODES[j])) != 0);
    }
  }
}

TEST(published_numbers_are_stable) {
  CHECK_EQ_U(MFA_RESULT_OK, 0);
  CHECK_EQ_U(MFA_RESULT_NULL_PARAMETER, 1);
  CHECK_EQ_U(MFA_RESULT_BUFFER_TOO_SMALL, 2);
  CHECK_EQ_U(MFA_RESULT_PANIC, 4);
  CHECK_EQ_U(MFA_RESULT_CODE_REPLAYED, 202);
  CHECK_EQ_U(MFA_RESULT_NOT_ACTIVATED, 204);
  CHECK_EQ_U(MFA_RESULT_LOCKED, 205);
  CHECK_EQ_U(MFA_RESULT_BLOCKED_BY_FRAUD, 206);
  CHECK_EQ_U(MFA_ALGORITHM_SHA1, 1);
  CHECK_EQ_U(MFA_ALGORITHM_SHA256, 2);
  CHECK_EQ_U(MFA_ALGORITHM_SHA512, 3);
  CHECK_EQ_U(MFA_OTP_KIND_TOTP, 1);
  CHECK_EQ_U(MFA_OTP_KIND_HOTP, 2);
  CHECK_STR(mfa_result_message(MFA_RESULT_NOT_ACTIVATED),
            "authentication request is not for an activated account");
  CHECK_STR(mfa_result_message(MFA_RESULT_CODE_REPLAYED), "the code was already used");
}

int main(void) {
  RUN(version_is_a_static_string);
  RUN(every_code_has_its_own_static_message);
  RUN(published_numbers_are_stable);
  TEST_MAIN_END();
}
