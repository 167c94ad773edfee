"""Identity QR codes from the citizen's phone: tokens signed by the back office, verified
offline with its public key."""
