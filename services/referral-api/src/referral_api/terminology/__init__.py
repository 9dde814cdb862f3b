"""SNOMED CT: a loaded release's hierarchy, and the groups it gives codes the shipped lists lack."""
