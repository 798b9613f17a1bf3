"""Complete small models next to the framework (the explorer is generic over them)."""
