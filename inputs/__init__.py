"""The shipped default dataset: South Korea rare-earth chain, 2025 (see SOURCES.md)."""
