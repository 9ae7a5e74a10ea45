"""Policy levers, one module each."""
