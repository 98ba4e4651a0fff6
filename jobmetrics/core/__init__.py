"""Shared basics every layer may use: errors, settings, number formats and labels, the raw data
contract, locks. They import nothing else from the project."""
