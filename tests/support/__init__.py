"""Test support shared by every service's tests: databases, clients, tokens, builders."""
