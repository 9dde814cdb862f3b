"""referral-api: referrals to the six personalised-care roles as FHIR R4 ServiceRequests."""

__version__ = "0.1.0"
