"""The staff's screens: the hidden entry, sign-in and the console (kiosk/staff/ does the work)."""
