"""Adapters that implement the domain ports: storage, providers, scheduling."""
