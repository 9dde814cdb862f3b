"""Service use before and after a referral: GP appointments, A&E attendances, admissions."""
