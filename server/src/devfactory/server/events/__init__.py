"""The event stream: persisted first, then sent to the client."""
