"""Signpost's shared schema package.

FHIR-shaped Pydantic v2 models of Signpost's profiles and the code systems and value sets they
are bound to. Free of web-framework and database imports so any service, script or test can use it.
"""
