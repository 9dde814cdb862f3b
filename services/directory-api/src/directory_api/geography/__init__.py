"""Postcode centroids: the lookup table behind postcode, proximity and coverage searches."""
