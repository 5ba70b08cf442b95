"""Data set adapters, all returning plain Python objects (no torch): gsm8k, the other training
families (formats: alpaca, chat messages, custom columns), local files, seeded sampling and
the synthetic GSM8K-format generator."""
