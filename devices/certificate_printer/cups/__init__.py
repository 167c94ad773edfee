"""A4 certificates as PDF through CUPS (the adapter comes with its issue)."""
