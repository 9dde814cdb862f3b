"""Linkage: the same person referred to several roles at once, and re-referrals."""
