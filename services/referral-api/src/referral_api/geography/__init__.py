"""Postcode to LSOA: a loadable lookup table (the shipped sample, or the full ONS file)."""
