/* Fraud reports: configuration, per-user state, events, effects, keypad. */
#include "mfa_test.h"

static const uint64_t T = 1700000000ULL;
static const uint64_t DAYS90 = 90ULL * 24 * 60 * 60;

/* Index of the first effect of `kind`, or -1. */
static long find_effect(const mfa_fraud_effects *fx, uint32_t kind, mfa_fraud_effect *out) {
  for (size_t i = 0; i < mfa_fraud_effects_len(fx); i++) {
    mfa_fraud_effect e;
    if (mfa_fraud_effects_get(fx, i, &e) == MFA_RESULT_OK && e.kind == kind) {
      if (out) *out = e;
      return (long)i;
    }
  }
  return -1;
}

TEST(config_setters_validate) {
  mfa_fraud_config *c = NULL;
  CHECK_RC(mfa_fraud_config_new(NULL), MFA_RESULT_NULL_PARAMETER);
  CHECK_OK(mfa_fraud_config_new(&c));
  CHECK_RC(mfa_fraud_config_set_block_period(c, 0), MFA_RESULT_FRAUD_INVALID_CONFIG);
  CHECK_OK(mfa_fraud_config_set_block_period(c, 3600));
  CHECK_RC(mfa_fraud_config_set_fraud_code(c, S("")), MFA_RESULT_FRAUD_INVALID_CONFIG);
  CHECK_RC(mfa_fraud_config_set_fraud_code(c, S("12a")), MFA_RESULT_FRAUD_INVALID_CONFIG);
  CHECK_RC(mfa_fraud_config_set_fraud_code(c, S("123456789")), MFA_RESULT_FRAUD_INVALID_CONFIG);
  const char bad[] = {'1', (char)0xff};
  CHECK_RC(mfa_fraud_config_set_fraud_code(c, bad, sizeof bad), MFA_RESULT_INVALID_UTF8);
  CHECK_RC(mfa_fraud_config_set_suspicious_activity_code(c, S("x")), MFA_RESULT_FRAUD_INVALID_CONFIG);
  CHECK_RC(mfa_fraud_config_set_suspicious_activity_code(c, bad, sizeof bad), MFA_RESULT_INVALID_UTF8);
  CHECK_RC(mfa_fraud_config_add_recipient(c, S("")), MFA_RESULT_FRAUD_INVALID_CONFIG);
  CHECK_RC(mfa_fraud_config_add_recipient(c, S("a\nb@example.com")), MFA_RESULT_FRAUD_INVALID_CONFIG);
  CHECK_RC(mfa_fraud_config_add_recipient(c, bad, sizeof bad), MFA_RESULT_INVALID_UTF8);
  CHECK_OK(mfa_fraud_config_add_recipient(c, S("secops@contoso.com")));
  CHECK_RC(mfa_fraud_config_set_fraud_alert(NULL, true), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_fraud_config_set_auto_block(NULL, true), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_fraud_config_set_block_period(NULL, 5), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_fraud_config_set_fraud_code(NULL, S("1")), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_fraud_config_set_fraud_code(c, NULL, 1), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_fraud_config_set_custom_greetings(NULL, true), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_fraud_config_set_suspicious_activity(NULL, true), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_fraud_config_set_suspicious_activity_code(NULL, S("1")), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_fraud_config_set_suspicious_activity_code(c, NULL, 1), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_fraud_config_add_recipient(NULL, S("a@b")), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_fraud_config_add_recipient(c, NULL, 3), MFA_RESULT_NULL_PARAMETER);
  mfa_fraud_config_free(c);
  mfa_fraud_config_free(NULL);
}

TEST(app_report_blocks_and_raises_risk) {
  mfa_fraud_config *c = NULL;
  mfa_fraud_state *s = NULL;
  mfa_fraud_effects *fx = NULL;
  CHECK_OK(mfa_fraud_config_new(&c));
  CHECK_OK(mfa_fraud_config_add_recipient(c, S("secops@contoso.com")));
  CHECK_OK(mfa_fraud_state_new(&s));
  CHECK_OK(mfa_fraud_state_ensure_can_approve(s, T));
  CHECK_OK(mfa_fraud_state_user_report(s, c, MFA_FRAUD_CHANNEL_APP, false, false, T, &fx));
  mfa_fraud_effect e;
  CHECK(find_effect(fx, MFA_FRAUD_EFFECT_KIND_SIGN_IN, &e) >= 0);
  CHECK_EQ_U(e.sign_in_result, 1);
  CHECK_EQ_U(e.at, T);
  CHECK(find_effect(fx, MFA_FRAUD_EFFECT_KIND_RISK_DETECTED, &e) >= 0);
  CHECK_EQ_U(e.risk_level, 1);
  CHECK_EQ_U(e.risk_event_type, 1);
  CHECK_EQ_U(e.channel, MFA_FRAUD_CHANNEL_APP);
  long ai = find_effect(fx, MFA_FRAUD_EFFECT_KIND_AUDIT, &e);
  CHECK(ai >= 0);
  CHECK_STR(mfa_fraud_audit_activity_name(e.activity), "Fraud reported – user is blocked for MFA");
  long ni = find_effect(fx, MFA_FRAUD_EFFECT_KIND_NOTIFY_ADMINISTRATORS, &e);
  CHECK(ni >= 0);
  CHECK_EQ_U(e.recipients, 1);
  CHECK(e.user_blocked);
  char buf[64];
  size_t n;
  CHECK_OK(mfa_fraud_effects_recipient(fx, (size_t)ni, 0, buf, sizeof buf, &n));
  CHECK_STR(buf, "secops@contoso.com");
  CHECK_RC(mfa_fraud_effects_recipient(fx, (size_t)ni, 1, buf, sizeof buf, &n), MFA_RESULT_NOT_FOUND);
  CHECK_RC(mfa_fraud_effects_recipient(fx, (size_t)ni, 0, buf, 5, &n), MFA_RESULT_BUFFER_TOO_SMALL);
  CHECK_EQ_U(n, 18);
  CHECK_RC(mfa_fraud_effects_recipient(fx, (size_t)ai, 0, buf, sizeof buf, &n), MFA_RESULT_NOT_FOUND);
  mfa_fraud_effects_free(fx);

  mfa_fraud_info info;
  CHECK_OK(mfa_fraud_state_info(s, T + 1, &info));
  CHECK(info.blocked);
  CHECK_EQ_U(info.block_cause, MFA_FRAUD_BLOCK_CAUSE_FRAUD_REPORT_APP);
  CHECK_EQ_U(info.block_since, T);
  CHECK_EQ_U(info.block_until, T + DAYS90);
  CHECK(info.high_risk);
  CHECK_EQ_U(info.detections, 1);
  CHECK_RC(mfa_fraud_state_ensure_can_approve(s, T + 1), MFA_RESULT_BLOCKED_BY_FRAUD);
  uint64_t deadline = 0;
  CHECK_OK(mfa_fraud_state_next_deadline(s, T + 1, &deadline));
  CHECK_EQ_U(deadline, T + DAYS90);

  /* Unblocking is not enough: the risk must be remediated too. */
  CHECK_OK(mfa_fraud_state_admin_unblock(s, c, S("user confirmed a mistake"), T + 100, &fx));
  CHECK(find_effect(fx, MFA_FRAUD_EFFECT_KIND_AUDIT, &e) == 0);
  CHECK_STR(mfa_fraud_audit_activity_name(e.activity), "User unblocked for MFA");
  CHECK(e.has_comment);
  CHECK_OK(mfa_fraud_effects_comment(fx, 0, buf, sizeof buf, &n));
  CHECK_STR(buf, "user confirmed a mistake");
  mfa_fraud_effects_free(fx);
  CHECK_RC(mfa_fraud_state_ensure_can_approve(s, T + 101), MFA_RESULT_HIGH_RISK);
  CHECK_RC(mfa_fraud_state_next_deadline(s, T + 101, &deadline), MFA_RESULT_NOT_FOUND);
  fx = (mfa_fraud_effects *)(void *)&deadline;
  CHECK_RC(mfa_fraud_state_admin_unblock(s, c, S("again"), T + 102, &fx), MFA_RESULT_NOT_BLOCKED);
  CHECK(fx == (mfa_fraud_effects *)(void *)&deadline);
  CHECK_OK(mfa_fraud_state_risk_remediated(s, c, MFA_FRAUD_REMEDIATION_PASSWORD_RESET, T + 200, &fx));
  mfa_fraud_effects_free(fx);
  CHECK_OK(mfa_fraud_state_ensure_can_approve(s, T + 201));
  CHECK_RC(mfa_fraud_state_risk_remediated(s, c, MFA_FRAUD_REMEDIATION_ADMIN_DISMISSAL, T + 202, &fx),
           MFA_RESULT_NO_RISK);
  mfa_fraud_state_free(s);
  mfa_fraud_config_free(c);
}

TEST(admin_block_expiry_and_reasons) {
  mfa_fraud_config *c = NULL;
  mfa_fraud_state *s = NULL;
  mfa_fraud_effects *fx = NULL;
  CHECK_OK(mfa_fraud_config_new(&c));
  CHECK_OK(mfa_fraud_config_set_block_period(c, 600));
  CHECK_OK(mfa_fraud_state_new(&s));
  CHECK_RC(mfa_fraud_state_admin_block(s, c, S(""), T, &fx), MFA_RESULT_REASON_EMPTY);
  CHECK_RC(mfa_fraud_state_admin_block(s, c, S("bad\x01reason"), T, &fx), MFA_RESULT_REASON_CONTROL_CHAR);
  static char long_reason[1100];
  memset(long_reason, 'x', sizeof long_reason);
  CHECK_RC(mfa_fraud_state_admin_block(s, c, long_reason, sizeof long_reason, T, &fx), MFA_RESULT_REASON_TOO_LONG);
  const char bad[] = {'x', (char)0xfe};
  CHECK_RC(mfa_fraud_state_admin_block(s, c, bad, sizeof bad, T, &fx), MFA_RESULT_INVALID_UTF8);
  CHECK_RC(mfa_fraud_state_admin_unblock(s, c, bad, sizeof bad, T, &fx), MFA_RESULT_INVALID_UTF8);
  CHECK(fx == NULL);
  CHECK_RC(mfa_fraud_state_block_expired(s, c, T, &fx), MFA_RESULT_NOT_BLOCKED);
  CHECK_OK(mfa_fraud_state_admin_block(s, c, S("stolen phone"), T, &fx));
  mfa_fraud_effect e;
  CHECK_OK(mfa_fraud_effects_get(fx, 0, &e));
  CHECK_EQ_U(e.kind, MFA_FRAUD_EFFECT_KIND_AUDIT);
  CHECK_EQ_U(e.activity, MFA_FRAUD_AUDIT_ACTIVITY_USER_BLOCKED);
  mfa_fraud_effects_free(fx);
  mfa_fraud_info info;
  CHECK_OK(mfa_fraud_state_info(s, T, &info));
  CHECK_EQ_U(info.block_cause, MFA_FRAUD_BLOCK_CAUSE_ADMINISTRATOR);
  CHECK(!info.high_risk);
  CHECK_RC(mfa_fraud_state_admin_block(s, c, S("again"), T + 1, &fx), MFA_RESULT_ALREADY_BLOCKED);
  CHECK_RC(mfa_fraud_state_block_expired(s, c, T + 599, &fx), MFA_RESULT_BLOCK_NOT_EXPIRED);
  /* Time alone lifts the block... */
  CHECK_OK(mfa_fraud_state_ensure_can_approve(s, T + 600));
  CHECK_OK(mfa_fraud_state_info(s, T + 600, &info));
  CHECK(!info.blocked);
  CHECK_EQ_U(info.block_cause, MFA_FRAUD_BLOCK_CAUSE_NONE);
  /* ...and the expiry event clears and logs it. */
  CHECK_OK(mfa_fraud_state_block_expired(s, c, T + 600, &fx));
  CHECK_OK(mfa_fraud_effects_get(fx, 0, &e));
  CHECK_EQ_U(e.activity, MFA_FRAUD_AUDIT_ACTIVITY_BLOCK_EXPIRED);
  CHECK(!e.has_comment);
  char buf[8];
  size_t n = 3;
  CHECK_RC(mfa_fraud_effects_comment(fx, 0, buf, sizeof buf, &n), MFA_RESULT_NOT_FOUND);
  CHECK_RC(mfa_fraud_effects_comment(fx, 5, buf, sizeof buf, &n), MFA_RESULT_NOT_FOUND);
  CHECK_RC(mfa_fraud_effects_get(fx, 5, &e), MFA_RESULT_NOT_FOUND);
  CHECK_EQ_U(n, 3);
  mfa_fraud_effects_free(fx);
  CHECK_RC(mfa_fraud_state_block_expired(s, c, T + 700, &fx), MFA_RESULT_NOT_BLOCKED);
  mfa_fraud_state_free(s);
  mfa_fraud_config_free(c);
}

TEST(report_rules_disabled_passwordless_confirmation) {
  mfa_fraud_config *c = NULL;
  mfa_fraud_state *s = NULL;
  mfa_fraud_effects *fx = NULL;
  CHECK_OK(mfa_fraud_config_new(&c));
  CHECK_OK(mfa_fraud_state_new(&s));
  /* Passwordless: no high risk; phone without the confirming 1: no block. */
  CHECK_OK(mfa_fraud_state_user_report(s, c, MFA_FRAUD_CHANNEL_PHONE, false, true, T, &fx));
  CHECK(find_effect(fx, MFA_FRAUD_EFFECT_KIND_RISK_DETECTED, NULL) < 0);
  CHECK(find_effect(fx, MFA_FRAUD_EFFECT_KIND_SIGN_IN, NULL) >= 0);
  mfa_fraud_effects_free(fx);
  mfa_fraud_info info;
  CHECK_OK(mfa_fraud_state_info(s, T, &info));
  CHECK(!info.blocked);
  CHECK(!info.high_risk);
  /* Confirmed on the phone: blocked, cause phone. */
  CHECK_OK(mfa_fraud_state_user_report(s, c, MFA_FRAUD_CHANNEL_PHONE, true, true, T, &fx));
  mfa_fraud_effects_free(fx);
  CHECK_OK(mfa_fraud_state_info(s, T, &info));
  CHECK_EQ_U(info.block_cause, MFA_FRAUD_BLOCK_CAUSE_FRAUD_REPORT_PHONE);
  mfa_fraud_state_free(s);
  /* A confirmation with auto-block off is refused. */
  CHECK_OK(mfa_fraud_state_new(&s));
  CHECK_OK(mfa_fraud_config_set_auto_block(c, false));
  fx = NULL;
  CHECK_RC(mfa_fraud_state_user_report(s, c, MFA_FRAUD_CHANNEL_PHONE, true, false, T, &fx),
           MFA_RESULT_FRAUD_UNEXPECTED_CONFIRMATION);
  /* Both features off: reports are refused. */
  CHECK_OK(mfa_fraud_config_set_fraud_alert(c, false));
  CHECK_OK(mfa_fraud_config_set_suspicious_activity(c, false));
  CHECK_RC(mfa_fraud_state_user_report(s, c, MFA_FRAUD_CHANNEL_APP, false, false, T, &fx),
           MFA_RESULT_FRAUD_REPORTING_DISABLED);
  CHECK(fx == NULL);
  /* Bad enum numbers and NULL pointers. */
  CHECK_RC(mfa_fraud_state_user_report(s, c, 0, false, false, T, &fx), MFA_RESULT_INVALID_PARAMETER);
  CHECK_RC(mfa_fraud_state_risk_remediated(s, c, 9, T, &fx), MFA_RESULT_INVALID_PARAMETER);
  CHECK_RC(mfa_fraud_state_user_report(NULL, c, 1, false, false, T, &fx), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_fraud_state_user_report(s, NULL, 1, false, false, T, &fx), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_fraud_state_user_report(s, c, 1, false, false, T, NULL), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_fraud_state_admin_block(NULL, c, S("r"), T, &fx), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_fraud_state_admin_block(s, NULL, S("r"), T, &fx), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_fraud_state_admin_block(s, c, NULL, 1, T, &fx), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_fraud_state_admin_block(s, c, S("r"), T, NULL), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_fraud_state_admin_unblock(NULL, c, S("r"), T, &fx), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_fraud_state_admin_unblock(s, NULL, S("r"), T, &fx), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_fraud_state_admin_unblock(s, c, NULL, 1, T, &fx), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_fraud_state_admin_unblock(s, c, S("r"), T, NULL), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_fraud_state_block_expired(NULL, c, T, &fx), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_fraud_state_block_expired(s, NULL, T, &fx), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_fraud_state_block_expired(s, c, T, NULL), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_fraud_state_risk_remediated(NULL, c, 1, T, &fx), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_fraud_state_risk_remediated(s, NULL, 1, T, &fx), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_fraud_state_risk_remediated(s, c, 1, T, NULL), MFA_RESULT_NULL_PARAMETER);
  CHECK(fx == NULL);
  mfa_fraud_info info2;
  uint64_t deadline;
  CHECK_RC(mfa_fraud_state_new(NULL), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_fraud_state_info(NULL, T, &info2), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_fraud_state_info(s, T, NULL), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_fraud_state_ensure_can_approve(NULL, T), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_fraud_state_next_deadline(NULL, T, &deadline), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_fraud_state_next_deadline(s, T, NULL), MFA_RESULT_NULL_PARAMETER);
  mfa_fraud_state_free(s);
  mfa_fraud_state_free(NULL);
  mfa_fraud_config_free(c);
}

TEST(keypad_entries) {
  mfa_fraud_config *c = NULL;
  CHECK_OK(mfa_fraud_config_new(&c));
  uint32_t kind = 0;
  bool confirmed = true;
  CHECK_OK(mfa_fraud_parse_keypad(c, S("#"), &kind, &confirmed));
  CHECK_EQ_U(kind, MFA_FRAUD_KEYPAD_APPROVE);
  CHECK(!confirmed);
  CHECK_OK(mfa_fraud_parse_keypad(c, S("0#"), &kind, &confirmed));
  CHECK_EQ_U(kind, MFA_FRAUD_KEYPAD_REPORT);
  CHECK(!confirmed);
  CHECK_OK(mfa_fraud_parse_keypad(c, S("0#1"), &kind, &confirmed));
  CHECK(confirmed);
  kind = 77;
  CHECK_RC(mfa_fraud_parse_keypad(c, S("5#"), &kind, &confirmed), MFA_RESULT_KEYPAD_UNRECOGNIZED);
  CHECK_RC(mfa_fraud_parse_keypad(c, S("0"), &kind, &confirmed), MFA_RESULT_KEYPAD_UNRECOGNIZED);
  CHECK_RC(mfa_fraud_parse_keypad(c, S("0#a"), &kind, &confirmed), MFA_RESULT_KEYPAD_INVALID_KEY);
  CHECK_RC(mfa_fraud_parse_keypad(c, S("000000000000000000000000000000000#"), &kind, &confirmed),
           MFA_RESULT_KEYPAD_TOO_LONG);
  const char bad[] = {'0', (char)0x80};
  CHECK_RC(mfa_fraud_parse_keypad(c, bad, sizeof bad, &kind, &confirmed), MFA_RESULT_INVALID_UTF8);
  CHECK_RC(mfa_fraud_parse_keypad(NULL, S("#"), &kind, &confirmed), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_fraud_parse_keypad(c, NULL, 1, &kind, &confirmed), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_fraud_parse_keypad(c, S("#"), NULL, &confirmed), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_fraud_parse_keypad(c, S("#"), &kind, NULL), MFA_RESULT_NULL_PARAMETER);
  CHECK_EQ_U(kind, 77);
  /* A custom fraud code only counts with custom greetings uploaded. */
  CHECK_OK(mfa_fraud_config_set_fraud_code(c, S("7")));
  CHECK_OK(mfa_fraud_parse_keypad(c, S("0#"), &kind, &confirmed));
  CHECK_OK(mfa_fraud_config_set_custom_greetings(c, true));
  CHECK_RC(mfa_fraud_parse_keypad(c, S("0#"), &kind, &confirmed), MFA_RESULT_KEYPAD_UNRECOGNIZED);
  CHECK_OK(mfa_fraud_parse_keypad(c, S("7#"), &kind, &confirmed));
  CHECK_EQ_U(kind, MFA_FRAUD_KEYPAD_REPORT);
  /* The suspicious-activity code wins when both define one. */
  CHECK_OK(mfa_fraud_config_set_suspicious_activity_code(c, S("99")));
  CHECK_OK(mfa_fraud_parse_keypad(c, S("99#"), &kind, &confirmed));
  CHECK_RC(mfa_fraud_parse_keypad(c, S("7#"), &kind, &confirmed), MFA_RESULT_KEYPAD_UNRECOGNIZED);
  mfa_fraud_config_free(c);
}

TEST(effects_accessors_and_names) {
  CHECK_EQ_U(mfa_fraud_effects_len(NULL), 0);
  mfa_fraud_effect e;
  char buf[8];
  size_t n;
  CHECK_RC(mfa_fraud_effects_get(NULL, 0, &e), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_fraud_effects_comment(NULL, 0, buf, sizeof buf, &n), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_fraud_effects_recipient(NULL, 0, 0, buf, sizeof buf, &n), MFA_RESULT_NULL_PARAMETER);
  mfa_fraud_config *c = NULL;
  mfa_fraud_state *s = NULL;
  mfa_fraud_effects *fx = NULL;
  CHECK_OK(mfa_fraud_config_new(&c));
  CHECK_OK(mfa_fraud_state_new(&s));
  CHECK_OK(mfa_fraud_state_admin_block(s, c, S("a long enough reason"), T, &fx));
  CHECK_EQ_U(mfa_fraud_effects_len(fx), 1);
  CHECK_RC(mfa_fraud_effects_get(fx, 0, NULL), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_fraud_effects_comment(fx, 0, buf, sizeof buf, NULL), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_fraud_effects_comment(fx, 0, NULL, 4, &n), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_fraud_effects_comment(fx, 0, buf, sizeof buf, &n), MFA_RESULT_BUFFER_TOO_SMALL);
  CHECK_EQ_U(n, 20);
  CHECK_RC(mfa_fraud_effects_recipient(fx, 0, 0, buf, sizeof buf, NULL), MFA_RESULT_NULL_PARAMETER);
  mfa_fraud_effects_free(fx);
  mfa_fraud_effects_free(NULL);
  mfa_fraud_state_free(s);
  mfa_fraud_config_free(c);
  CHECK_STR(mfa_fraud_audit_activity_name(MFA_FRAUD_AUDIT_ACTIVITY_FRAUD_REPORTED), "Fraud reported");
  CHECK_STR(mfa_fraud_audit_activity_name(MFA_FRAUD_AUDIT_ACTIVITY_RISK_REMEDIATED), "User risk remediated");
  CHECK(mfa_fraud_audit_activity_name(0) == NULL);
  CHECK(mfa_fraud_audit_activity_name(8) == NULL);
}

int main(void) {
  RUN(config_setters_validate);
  RUN(app_report_blocks_and_raises_risk);
  RUN(admin_block_expiry_and_reasons);
  RUN(report_rules_disabled_passwordless_confirmation);
  RUN(keypad_entries);
  RUN(effects_accessors_and_names);
  TEST_MAIN_END();
}
