"""Open Referral UK plumbing: query parameters, the paginated envelope, CORS and `GET /`."""
