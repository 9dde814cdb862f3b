"""The person referred: the minimum dataset kept per referral (no names, no address)."""
