"""Care and support plans: one CarePlan per referral (issue 16)."""
