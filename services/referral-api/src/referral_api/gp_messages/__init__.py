"""Messages back to the GP and referrer: the outcome of a referral, through an outbox."""
