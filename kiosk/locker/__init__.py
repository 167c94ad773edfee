"""The certificate locker's records and routines beyond one citizen's session: reconciling
door intents with the sensors, staff loading and retrieval, pickup codes from the back
office."""
