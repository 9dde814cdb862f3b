"""screening-api: social-welfare screening questionnaires, their responses, and the hand-off of
positive screens to referral-api."""

__version__ = "0.1.0"
