"""Session, replay and lock stores: memory, encrypted cookie, Redis."""
