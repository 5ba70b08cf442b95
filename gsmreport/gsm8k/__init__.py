"""gsm8k"""
