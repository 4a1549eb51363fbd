"""Weirsøe Party Protocol server."""
