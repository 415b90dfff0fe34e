/* Lockout counters: policy handles, caller-stored state, every transition
 * and error. */
#include "mfa_test.h"

static const uint64_t T = 1700000000ULL;

static mfa_lockout_policy *policy(uint32_t threshold, uint64_t reset, uint64_t unblock) {
  mfa_lockout_policy *p = NULL;
  if (mfa_lockout_policy_new(threshold, reset, unblock, &p) != MFA_RESULT_OK) return NULL;
  return p;
}

TEST(policy_validation) {
  mfa_lockout_policy *p = (mfa_lockout_policy *)(void *)&T;
  CHECK_RC(mfa_lockout_policy_new(0, 300, 900, &p), MFA_RESULT_LOCKOUT_INVALID_POLICY);
  CHECK_RC(mfa_lockout_policy_new(3, 0, 900, &p), MFA_RESULT_LOCKOUT_INVALID_POLICY);
  CHECK_RC(mfa_lockout_policy_new(3, 300, 900, NULL), MFA_RESULT_NULL_PARAMETER);
  CHECK(p == (mfa_lockout_policy *)(void *)&T);
  p = policy(3, 300, 900);
  CHECK(p != NULL);
  CHECK_RC(mfa_lockout_policy_set_escalation(p, 1, 3600), MFA_RESULT_LOCKOUT_INVALID_POLICY);
  CHECK_RC(mfa_lockout_policy_set_escalation(p, 2, 60), MFA_RESULT_LOCKOUT_INVALID_POLICY);
  CHECK_RC(mfa_lockout_policy_set_hard_cap(p, 0), MFA_RESULT_LOCKOUT_INVALID_POLICY);
  CHECK_RC(mfa_lockout_policy_set_hard_cap(p, 101), MFA_RESULT_LOCKOUT_INVALID_POLICY);
  CHECK_RC(mfa_lockout_policy_set_escalation(NULL, 2, 3600), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_lockout_policy_set_hard_cap(NULL, 10), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_lockout_policy_set_extend_while_locked(NULL, true), MFA_RESULT_NULL_PARAMETER);
  CHECK_OK(mfa_lockout_policy_set_escalation(p, 2, 3600));
  CHECK_OK(mfa_lockout_policy_set_hard_cap(p, 100));
  CHECK_OK(mfa_lockout_policy_set_extend_while_locked(p, false));
  mfa_lockout_policy_free(p);
  mfa_lockout_policy_free(NULL);
  /* Escalation needs an automatic unblock. */
  p = policy(3, 300, 0);
  CHECK_RC(mfa_lockout_policy_set_escalation(p, 2, 3600), MFA_RESULT_LOCKOUT_INVALID_POLICY);
  mfa_lockout_policy_free(p);
}

TEST(threshold_locks_and_time_unlocks) {
  mfa_lockout_policy *p = policy(3, 300, 900);
  mfa_lockout_state st;
  memset(&st, 0, sizeof st); /* all zeros: a fresh state */
  mfa_lockout_decision d;
  CHECK_OK(mfa_lockout_check(p, &st, T, &d));
  CHECK_EQ_U(d.kind, MFA_LOCKOUT_DECISION_KIND_ALLOWED);
  CHECK_EQ_U(d.remaining, 3);
  CHECK_OK(mfa_lockout_record_failure(p, &st, T, &st, &d));
  CHECK_OK(mfa_lockout_record_failure(p, &st, T + 10, &st, &d));
  CHECK_EQ_U(d.kind, MFA_LOCKOUT_DECISION_KIND_ALLOWED);
  CHECK_EQ_U(d.failures, 2);
  CHECK_EQ_U(d.remaining, 1);
  CHECK_OK(mfa_lockout_record_failure(p, &st, T + 20, &st, &d));
  CHECK_EQ_U(d.kind, MFA_LOCKOUT_DECISION_KIND_LOCKED);
  CHECK_EQ_U(d.until, T + 20 + 900);
  CHECK_EQ_U(d.lockouts, 1);
  CHECK_EQ_U(st.lock, MFA_LOCK_KIND_UNTIL);
  CHECK_EQ_U(st.lock_until, T + 920);
  CHECK(st.has_last_failure);
  CHECK_EQ_U(st.last_failure, T + 20);
  /* Locked: every attempt is denied without being verified. */
  mfa_lockout_decision keep = {99, 0, 0, 0, 0, 0, 0};
  CHECK_RC(mfa_lockout_ensure_allowed(p, &st, T + 919, &keep), MFA_RESULT_LOCKED);
  mfa_lockout_state st2 = st;
  CHECK_RC(mfa_lockout_record_failure(p, &st, T + 30, &st2, &keep), MFA_RESULT_LOCKED);
  CHECK_RC(mfa_lockout_record_success(p, &st, T + 30, &st2, &keep), MFA_RESULT_LOCKED);
  CHECK_EQ_U(keep.kind, 99);
  CHECK_EQ_U(st2.lock_until, st.lock_until);
  uint64_t deadline = 0;
  CHECK_OK(mfa_lockout_next_deadline(p, &st, T + 30, &deadline));
  CHECK_EQ_U(deadline, T + 920);
  /* Exactly at `until`, time alone unlocks. */
  CHECK_OK(mfa_lockout_ensure_allowed(p, &st, T + 920, &d));
  CHECK_EQ_U(d.kind, MFA_LOCKOUT_DECISION_KIND_ALLOWED);
  CHECK_OK(mfa_lockout_record_success(p, &st, T + 925, &st, &d));
  CHECK_EQ_U(st.failures, 0);
  CHECK_EQ_U(st.lock, MFA_LOCK_KIND_NONE);
  CHECK_RC(mfa_lockout_next_deadline(p, &st, T + 925, &deadline), MFA_RESULT_NOT_FOUND);
  CHECK_EQ_U(deadline, T + 920);
  mfa_lockout_policy_free(p);
}

TEST(reset_window_and_success_clear_the_counter) {
  mfa_lockout_policy *p = policy(3, 300, 900);
  mfa_lockout_state st = {0, false, 0, 0, 0, 0, 0, 0};
  mfa_lockout_decision d;
  CHECK_OK(mfa_lockout_record_failure(p, &st, T, &st, &d));
  CHECK_OK(mfa_lockout_record_failure(p, &st, T + 100, &st, &d));
  uint64_t deadline = 0;
  CHECK_OK(mfa_lockout_next_deadline(p, &st, T + 100, &deadline));
  CHECK_EQ_U(deadline, T + 100 + 300 + 1);
  /* A gap longer than the reset window restarts the count. */
  CHECK_OK(mfa_lockout_record_failure(p, &st, T + 100 + 301, &st, &d));
  CHECK_EQ_U(d.kind, MFA_LOCKOUT_DECISION_KIND_ALLOWED);
  CHECK_EQ_U(d.failures, 1);
  CHECK_EQ_U(d.consecutive, 3);
  /* A success before the threshold clears it. */
  CHECK_OK(mfa_lockout_record_failure(p, &st, T + 410, &st, &d));
  CHECK_EQ_U(d.failures, 2);
  CHECK_OK(mfa_lockout_record_success(p, &st, T + 420, &st, &d));
  CHECK_EQ_U(d.failures, 0);
  CHECK_EQ_U(d.remaining, 3);
  CHECK_EQ_U(st.consecutive, 0);
  mfa_lockout_policy_free(p);
}

TEST(admin_unblock_needs_a_reason_and_a_lock) {
  mfa_lockout_policy *p = policy(2, 300, 0); /* 0: only an administrator unblocks */
  mfa_lockout_state st = {0, false, 0, 0, 0, 0, 0, 0}, out;
  mfa_lockout_decision d, prev;
  memset(&out, 0x5a, sizeof out);
  CHECK_RC(mfa_lockout_admin_unblock(p, &st, T, S("help desk ticket 42"), &out, &prev), MFA_RESULT_NOT_LOCKED);
  CHECK_OK(mfa_lockout_record_failure(p, &st, T, &st, &d));
  CHECK_OK(mfa_lockout_record_failure(p, &st, T + 1, &st, &d));
  CHECK_EQ_U(d.kind, MFA_LOCKOUT_DECISION_KIND_LOCKED_UNTIL_ADMIN);
  CHECK_EQ_U(d.admin_cause, MFA_ADMIN_LOCK_CAUSE_NO_AUTO_UNBLOCK);
  CHECK_EQ_U(st.lock, MFA_LOCK_KIND_ADMIN);
  uint64_t deadline = 7;
  CHECK_RC(mfa_lockout_next_deadline(p, &st, T + 1000000, &deadline), MFA_RESULT_NOT_FOUND);
  CHECK_RC(mfa_lockout_ensure_allowed(p, &st, T + 1000000, &d), MFA_RESULT_LOCKED_UNTIL_ADMIN);
  CHECK_RC(mfa_lockout_admin_unblock(p, &st, T + 5, S(""), &out, &prev), MFA_RESULT_REASON_EMPTY);
  CHECK_RC(mfa_lockout_admin_unblock(p, &st, T + 5, S("   "), &out, &prev), MFA_RESULT_REASON_EMPTY);
  static char long_reason[1100];
  memset(long_reason, 'r', sizeof long_reason);
  CHECK_RC(mfa_lockout_admin_unblock(p, &st, T + 5, long_reason, sizeof long_reason, &out, &prev),
           MFA_RESULT_REASON_TOO_LONG);
  const char bad[] = {'o', 'k', (char)0xff};
  CHECK_RC(mfa_lockout_admin_unblock(p, &st, T + 5, bad, sizeof bad, &out, &prev), MFA_RESULT_INVALID_UTF8);
  CHECK_RC(mfa_lockout_admin_unblock(NULL, &st, T + 5, S("x"), &out, &prev), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_lockout_admin_unblock(p, NULL, T + 5, S("x"), &out, &prev), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_lockout_admin_unblock(p, &st, T + 5, NULL, 1, &out, &prev), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_lockout_admin_unblock(p, &st, T + 5, S("x"), NULL, &prev), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_lockout_admin_unblock(p, &st, T + 5, S("x"), &out, NULL), MFA_RESULT_NULL_PARAMETER);
  CHECK_EQ_U(out.failures, 0x5a5a5a5aU);
  CHECK_OK(mfa_lockout_admin_unblock(p, &st, T + 5, S("verified by phone"), &out, &prev));
  CHECK_EQ_U(prev.kind, MFA_LOCKOUT_DECISION_KIND_LOCKED_UNTIL_ADMIN);
  CHECK_EQ_U(out.lock, MFA_LOCK_KIND_NONE);
  CHECK_EQ_U(out.failures, 0);
  CHECK_OK(mfa_lockout_ensure_allowed(p, &out, T + 6, &d));
  mfa_lockout_policy_free(p);
}

TEST(hard_cap_escalation_and_extension) {
  /* Hard cap: 4 consecutive denials lock until an administrator acts, even
   * across timed lockouts. */
  mfa_lockout_policy *p = policy(3, 300, 60);
  CHECK_OK(mfa_lockout_policy_set_hard_cap(p, 4));
  mfa_lockout_state st = {0, false, 0, 0, 0, 0, 0, 0};
  mfa_lockout_decision d;
  for (int i = 0; i < 3; i++) CHECK_OK(mfa_lockout_record_failure(p, &st, T + (uint64_t)i, &st, &d));
  CHECK_EQ_U(d.kind, MFA_LOCKOUT_DECISION_KIND_LOCKED);
  CHECK_OK(mfa_lockout_record_failure(p, &st, T + 2 + 60, &st, &d));
  CHECK_EQ_U(d.kind, MFA_LOCKOUT_DECISION_KIND_LOCKED_UNTIL_ADMIN);
  CHECK_EQ_U(d.admin_cause, MFA_ADMIN_LOCK_CAUSE_HARD_CAP);
  CHECK_EQ_U(st.admin_cause, MFA_ADMIN_LOCK_CAUSE_HARD_CAP);
  mfa_lockout_policy_free(p);

  /* Escalation: the second lockout lasts twice as long. */
  p = policy(2, 300, 60);
  CHECK_OK(mfa_lockout_policy_set_escalation(p, 2, 3600));
  mfa_lockout_state e = {0, false, 0, 0, 0, 0, 0, 0};
  CHECK_OK(mfa_lockout_record_failure(p, &e, T, &e, &d));
  CHECK_OK(mfa_lockout_record_failure(p, &e, T, &e, &d));
  CHECK_EQ_U(d.until, T + 60);
  CHECK_OK(mfa_lockout_record_failure(p, &e, T + 60, &e, &d));
  CHECK_OK(mfa_lockout_record_failure(p, &e, T + 60, &e, &d));
  CHECK_EQ_U(d.kind, MFA_LOCKOUT_DECISION_KIND_LOCKED);
  CHECK_EQ_U(d.lockouts, 2);
  CHECK_EQ_U(d.until, T + 60 + 120);
  /* Extension: a denial while locked pushes the end out instead of being refused. */
  CHECK_OK(mfa_lockout_policy_set_extend_while_locked(p, true));
  CHECK_OK(mfa_lockout_record_failure(p, &e, T + 150, &e, &d));
  CHECK_EQ_U(d.kind, MFA_LOCKOUT_DECISION_KIND_LOCKED);
  CHECK(d.until > T + 180);
  mfa_lockout_policy_free(p);
}

TEST(invalid_stored_state_and_null_pointers) {
  mfa_lockout_policy *p = policy(3, 300, 900);
  mfa_lockout_decision d = {99, 0, 0, 0, 0, 0, 0};
  mfa_lockout_state bad_time = {2, false, 0, 2, 0, 0, 0, 0}; /* denials without a time */
  mfa_lockout_state bad_kind = {0, false, 0, 0, 0, 7, 0, 0};
  mfa_lockout_state bad_cause = {0, false, 0, 0, 0, 2, 0, 9};
  mfa_lockout_state ok = {0, false, 0, 0, 0, 0, 0, 0}, out = ok;
  /* has_last_failure is a uint8_t: a byte from a database other than 0 or 1
   * is refused, never read as a bool. */
  mfa_lockout_state bad_flag = {1, 2, T, 1, 0, 0, 0, 0};
  uint64_t deadline = 0;
  CHECK_RC(mfa_lockout_check(p, &bad_flag, T, &d), MFA_RESULT_INVALID_FLAG);
  CHECK_RC(mfa_lockout_record_failure(p, &bad_flag, T, &out, &d), MFA_RESULT_INVALID_FLAG);
  CHECK_RC(mfa_lockout_record_success(p, &bad_flag, T, &out, &d), MFA_RESULT_INVALID_FLAG);
  CHECK_RC(mfa_lockout_next_deadline(p, &bad_flag, T, &deadline), MFA_RESULT_INVALID_FLAG);
  bad_flag.has_last_failure = 255;
  CHECK_RC(mfa_lockout_admin_unblock(p, &bad_flag, T, S("x"), &out, &d), MFA_RESULT_INVALID_FLAG);
  CHECK_EQ_U(d.kind, 99);
  CHECK_EQ_U(out.failures, 0);
  CHECK_RC(mfa_lockout_check(p, &bad_time, T, &d), MFA_RESULT_LOCKOUT_INVALID_STATE);
  CHECK_RC(mfa_lockout_check(p, &bad_kind, T, &d), MFA_RESULT_LOCKOUT_INVALID_STATE);
  CHECK_RC(mfa_lockout_check(p, &bad_cause, T, &d), MFA_RESULT_LOCKOUT_INVALID_STATE);
  CHECK_RC(mfa_lockout_ensure_allowed(p, &bad_kind, T, &d), MFA_RESULT_LOCKOUT_INVALID_STATE);
  CHECK_RC(mfa_lockout_record_failure(p, &bad_time, T, &out, &d), MFA_RESULT_LOCKOUT_INVALID_STATE);
  CHECK_RC(mfa_lockout_record_success(p, &bad_time, T, &out, &d), MFA_RESULT_LOCKOUT_INVALID_STATE);
  CHECK_RC(mfa_lockout_admin_unblock(p, &bad_time, T, S("x"), &out, &d), MFA_RESULT_LOCKOUT_INVALID_STATE);
  CHECK_RC(mfa_lockout_next_deadline(p, &bad_time, T, &deadline), MFA_RESULT_LOCKOUT_INVALID_STATE);
  CHECK_RC(mfa_lockout_check(NULL, &ok, T, &d), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_lockout_check(p, NULL, T, &d), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_lockout_check(p, &ok, T, NULL), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_lockout_ensure_allowed(NULL, &ok, T, &d), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_lockout_ensure_allowed(p, NULL, T, &d), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_lockout_ensure_allowed(p, &ok, T, NULL), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_lockout_record_failure(NULL, &ok, T, &out, &d), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_lockout_record_failure(p, NULL, T, &out, &d), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_lockout_record_failure(p, &ok, T, NULL, &d), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_lockout_record_failure(p, &ok, T, &out, NULL), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_lockout_record_success(NULL, &ok, T, &out, &d), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_lockout_record_success(p, NULL, T, &out, &d), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_lockout_record_success(p, &ok, T, NULL, &d), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_lockout_record_success(p, &ok, T, &out, NULL), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_lockout_next_deadline(NULL, &ok, T, &deadline), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_lockout_next_deadline(p, NULL, T, &deadline), MFA_RESULT_NULL_PARAMETER);
  CHECK_RC(mfa_lockout_next_deadline(p, &ok, T, NULL), MFA_RESULT_NULL_PARAMETER);
  CHECK_EQ_U(d.kind, 99);
  CHECK_EQ_U(out.failures, 0);
  CHECK_EQ_U(deadline, 0);
  mfa_lockout_policy_free(p);
}

int main(void) {
  RUN(policy_validation);
  RUN(threshold_locks_and_time_unlocks);
  RUN(reset_window_and_success_clear_the_counter);
  RUN(admin_unblock_needs_a_reason_and_a_lock);
  RUN(hard_cap_escalation_and_extension);
  RUN(invalid_stored_state_and_null_pointers);
  TEST_MAIN_END();
}
