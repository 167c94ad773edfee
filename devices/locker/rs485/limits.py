"""What a board is, for the frames and the settings alike (the settings must not need the
frame codec, construct, to be validated)."""

LOCKS_PER_BOARD = 24  # the 24 outputs of an 8A/80 or Kerong-style board, one bit each
