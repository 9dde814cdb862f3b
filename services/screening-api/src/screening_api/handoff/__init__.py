"""The referral hand-off: an outbox of referrals to raise in referral-api, and its delivery."""
