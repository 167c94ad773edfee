"""Certificate locker boards on an RS-485 bus (the adapters come with their issue)."""
