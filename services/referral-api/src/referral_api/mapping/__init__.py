"""Native codes from EMIS and Rio normalised to Signpost's model (mapping tables are CSV data)."""
