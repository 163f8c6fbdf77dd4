"""Spiders: navigation only. One generic spider serves every configured source."""
