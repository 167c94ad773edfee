"""Passports and bank cards through PC/SC readers (the adapter comes with its issue)."""
