"""Process metrics of the screening pathway, with small-number disclosure control."""
