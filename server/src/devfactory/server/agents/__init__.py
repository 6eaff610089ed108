"""Agents: roles, the tool loop, and the model providers that drive it."""
