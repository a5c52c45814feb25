"""Benchmarks: each prints its figures beside a naive baseline. Run: python -m benchmarks.NAME"""
