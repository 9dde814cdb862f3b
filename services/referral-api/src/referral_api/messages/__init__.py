"""`$process-message`: BaRS-shaped referral messages from EMIS, Rio and other systems."""
