"""What referral-api serves that is derived rather than stored as sent: the served
ServiceRequest (`service_request`) and when a referral ended (`ended`), each defined once.

Features (referrals, messages, linkage) call it; it reads through repositories and never calls a
feature's service or router (import contracts check both).
"""
