"""Data quality: the gaps each referral arrived with, kept for feedback to its sender."""
